// Runs Kalidokit (npm `kalidokit`, its ES build: the package's index.js breaks Node's ESM
// resolver) on landmark sets read as JSON from stdin and prints its rotations as JSON.
// Input: {"hands": [{"side": "Right"|"Left", "lm": [[x,y,z] x21]}], "poses": [[[x,y,z] x33]]}
// Output: {"hands": [{bone: {x,y,z}}], "elbows": [{"l": rad, "r": rad}]} (Kalidokit's names).
import { Hand, Pose } from "../node_modules/kalidokit/dist/kalidokit.es.js";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const inp = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const xyz = (a) => a.map(([x, y, z]) => ({ x, y, z, visibility: 1 }));
const hands = inp.hands.map((h) => Hand.solve(xyz(h.lm), h.side));
const elbows = inp.poses.map((p) => {
  // "Unscaled" shares its objects with the rigged result, which rigArm scaled in place by
  // 2.14 (y): undo that to get angleBetween3DCoords' normalized elbow angle, times pi = radians.
  const arms = Pose.calcArms(xyz(p));
  const k = Math.PI / 2.14;
  return { l: Math.abs(arms.Unscaled.LowerArm.l.y) * k, r: Math.abs(arms.Unscaled.LowerArm.r.y) * k };
});
process.stdout.write(JSON.stringify({ hands, elbows }));
