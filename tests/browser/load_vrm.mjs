// Load VRM files with three's GLTFLoader + @pixiv/three-vrm in Node (no browser) and print, as one
// JSON line per file, what three-vrm made of them: meta version, humanoid bones, expressions,
// lookAt type, spring joints. Used by tests/test_default_avatar.py.
// Usage: node tests/browser/load_vrm.mjs FILE.vrm [...]
import { readFileSync } from 'node:fs';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { VRMLoaderPlugin } from '@pixiv/three-vrm';

async function load(file) {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const loader = new GLTFLoader();
  loader.register((parser) => new VRMLoaderPlugin(parser));
  const gltf = await loader.parseAsync(ab, '');
  const vrm = gltf.userData.vrm;
  const bones = Object.keys(vrm.humanoid.humanBones).filter((k) => vrm.humanoid.getRawBoneNode(k));
  const morphs = [];
  gltf.scene.traverse((o) => { if (o.morphTargetDictionary) morphs.push(...Object.keys(o.morphTargetDictionary)); });
  return {
    file,
    metaVersion: vrm.meta.metaVersion,
    name: vrm.meta.name,
    bones,
    expressions: vrm.expressionManager.expressions.map((e) => e.expressionName),
    binds: Object.fromEntries(vrm.expressionManager.expressions.map((e) => [e.expressionName, e._binds.length])),
    lookAt: vrm.lookAt ? vrm.lookAt.applier.constructor.type || vrm.lookAt.applier.type || null : null,
    springJoints: vrm.springBoneManager ? vrm.springBoneManager.joints.size : 0,
    morphs: [...new Set(morphs)],
    skinned: (() => { let n = 0; gltf.scene.traverse((o) => { if (o.isSkinnedMesh) n++; }); return n; })(),
  };
}

for (const f of process.argv.slice(2)) {
  try {
    console.log(JSON.stringify(await load(f)));
  } catch (e) {
    console.log(JSON.stringify({ file: f, error: String(e && e.stack || e) }));
  }
}
