"""Built-in upper-body poses, as rules over normalised pose points (docs/gestures.md).

Poses (names; the hand in a name is the person's own):
- ``both_arms_up``: both wrists above the top of the head (eye line + 0.4 shoulder widths).
- ``arms_crossed``: each wrist past the body's midline toward the other side, between shoulder
  and hip height, the forearms crossing.
- ``hand_on_cheek_left`` / ``hand_on_cheek_right``: that hand's index knuckle within 0.45
  shoulder widths of the same side's cheek (between ear and mouth corner) in the image AND within
  0.45 shoulder widths of it in MediaPipe's 3D world points (a hand held up toward the camera in
  front of the face is not on the cheek).
- ``waving_left`` / ``waving_right``: a short motion, not a still pose: the hand above its elbow
  and at least 3 left-right reversals of the wrist, each swing >= 0.15 shoulder widths, within
  the last 1.5 s.

The rules use only points MediaPipe marks visible (visibility >= 0.5); a pose whose points are
not all visible is never reported. Shoulder width is the unit, so distance to the camera does not
matter; the image's aspect ratio is undone first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from vtuber.gestures.features import POSE_SIDE, Arr, pose_features

BODY_POSES = (
    "both_arms_up",
    "arms_crossed",
    "hand_on_cheek_left",
    "hand_on_cheek_right",
    "waving_left",
    "waving_right",
)
VISIBLE = 0.5
WAVE_WINDOW_S = 1.5
WAVE_REVERSALS = 3
WAVE_SWING = 0.15
CHEEK_RADIUS = 0.45


Points = Sequence[Sequence[float]]  # (33, 2) as nested lists (plain floats: the per-frame path)


def _vis(v: Sequence[float], *idx: int) -> bool:
    return all(v[i] >= VISIBLE for i in idx)


def still_poses(xy: Points, vis: Sequence[float]) -> set[str]:
    """The still poses in one normalised pose (see :func:`vtuber.gestures.features.pose_features`:
    origin between the shoulders, unit the shoulder width, y up)."""
    out: set[str] = set()
    L, R = POSE_SIDE["left"], POSE_SIDE["right"]
    if _vis(vis, L["wrist"], R["wrist"], L["eye"], R["eye"]):
        top = max(xy[L["eye"]][1], xy[R["eye"]][1]) + 0.4
        if xy[L["wrist"]][1] > top and xy[R["wrist"]][1] > top:
            out.add("both_arms_up")
    if _vis(vis, L["wrist"], R["wrist"], L["elbow"], R["elbow"], 23, 24):
        hip_y = 0.5 * (xy[23][1] + xy[24][1])
        # The person's left shoulder is at +x in an un-mirrored image (image right).
        lx, rx = xy[L["wrist"]][0], xy[R["wrist"]][0]
        side = 1.0 if xy[L["shoulder"]][0] >= xy[R["shoulder"]][0] else -1.0
        crossed = side * lx < -0.05 and side * rx > 0.05
        height = all(hip_y < xy[w][1] < 0.2 for w in (L["wrist"], R["wrist"]))
        if crossed and height:
            out.add("arms_crossed")
    for s, idx in POSE_SIDE.items():
        if _vis(vis, idx["index"], idx["ear"], idx["mouth"]):
            (ex, ey), (mx, my), (ix, iy) = xy[idx["ear"]], xy[idx["mouth"]], xy[idx["index"]]
            if math.hypot(ix - 0.5 * (ex + mx), iy - 0.5 * (ey + my)) < CHEEK_RADIUS:
                out.add(f"hand_on_cheek_{s}")
    return out


class PoseRecognizer:
    """Still poses per frame plus the waving motion (which needs the recent past)."""

    def __init__(self) -> None:
        self._wrist: dict[str, deque[tuple[float, float]]] = {s: deque() for s in POSE_SIDE}
        self._t = -math.inf  # the last frame's time

    def reset(self) -> None:
        for d in self._wrist.values():
            d.clear()

    def update(
        self, points: Arr, found: bool, aspect: float, t: float, world: Arr | None = None
    ) -> set[str]:
        """The poses in this frame (``points`` are MediaPipe's (33, 4) pose points, ``world``
        its (33, 3) world points in metres)."""
        norm = pose_features(points, aspect) if found else None
        if norm is None or t < self._t:  # no body, or time went back (a source restarted)
            self.reset()
        self._t = t
        if norm is None:
            return set()
        xy, vis = norm[0].tolist(), norm[1].tolist()
        out = still_poses(xy, vis)
        if world is not None:
            for s, idx in POSE_SIDE.items():
                name = f"hand_on_cheek_{s}"
                if name not in out:
                    continue
                w = np.asarray(world, dtype=np.float64)
                unit = max(float(np.linalg.norm(w[11] - w[12])), 1e-6)
                cheek = 0.5 * (w[idx["ear"]] + w[idx["mouth"]])
                if np.linalg.norm(w[idx["index"]] - cheek) / unit >= CHEEK_RADIUS:
                    out.discard(name)
        for s, idx in POSE_SIDE.items():
            hist = self._wrist[s]
            raised = (
                _vis(vis, idx["wrist"], idx["elbow"]) and xy[idx["wrist"]][1] > xy[idx["elbow"]][1]
            )
            if not raised:
                hist.clear()
                continue
            hist.append((t, float(xy[idx["wrist"]][0])))
            while hist and hist[0][0] < t - WAVE_WINDOW_S:
                hist.popleft()
            if _reversals(hist) >= WAVE_REVERSALS:
                out.add(f"waving_{s}")
        return out


def _reversals(hist: deque[tuple[float, float]]) -> int:
    """Left-right direction changes of a track, counting only swings >= WAVE_SWING."""
    n = 0
    direction = 0
    anchor = hist[0][1] if hist else 0.0
    for _, x in hist:
        d = x - anchor
        if abs(d) >= WAVE_SWING:
            s = 1 if d > 0 else -1
            if direction and s != direction:
                n += 1
            direction = s
            anchor = x
        elif direction and (x - anchor) * direction > 0:
            anchor = x  # still moving the same way: follow the extreme
    return n
