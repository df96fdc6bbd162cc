// Load a .vrma with three's GLTFLoader + @pixiv/three-vrm-animation in node and print, as JSON,
// the humanoid rotation (three-vrm-animation's humanoidTracks, glTF basis) of one bone at the
// requested times, the bone and expression names and the duration; when a VRM is given, also
// that bone's normalized node quaternion after createVRMAnimationClip + AnimationMixer.
// usage: node vrma_check.mjs FILE.vrma BONE T1,T2,... [AVATAR.vrm]
import { readFileSync } from 'node:fs';
import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { VRMAnimationLoaderPlugin, createVRMAnimationClip } from '@pixiv/three-vrm-animation';

const [file, bone, timesArg, avatar] = process.argv.slice(2);
const times = timesArg.split(',').map(Number);

function parse(path, plugins) {
  const loader = new GLTFLoader();
  for (const p of plugins) loader.register(p);
  const b = readFileSync(path);
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return new Promise((res, rej) => loader.parse(ab, '', res, rej));
}

const gltf = await parse(file, [(parser) => new VRMAnimationLoaderPlugin(parser)]);
const anim = gltf.userData.vrmAnimations[0];
const interp = anim.humanoidTracks.rotation.get(bone).createInterpolant();
const out = {
  duration: anim.duration,
  bones: [...anim.humanoidTracks.rotation.keys()],
  translations: [...anim.humanoidTracks.translation.keys()],
  presets: [...anim.expressionTracks.preset.keys()],
  custom: [...anim.expressionTracks.custom.keys()],
  track: times.map((t) => Array.from(interp.evaluate(t))),
};
if (avatar) {
  const { VRMLoaderPlugin } = await import('@pixiv/three-vrm');
  const vg = await parse(avatar, [(parser) => new VRMLoaderPlugin(parser)]);
  const vrm = vg.userData.vrm;
  const clip = createVRMAnimationClip(anim, vrm);
  const mixer = new THREE.AnimationMixer(vrm.scene);
  mixer.clipAction(clip).play();
  const node = vrm.humanoid.getNormalizedBoneNode(bone);
  out.clip = times.map((t) => {
    mixer.setTime(t);
    return node.quaternion.toArray();
  });
  out.metaVersion = vrm.meta.metaVersion;
}
console.log(JSON.stringify(out));
