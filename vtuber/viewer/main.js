// vtuber web viewer: shows a VRM avatar driven by the tracker's WebSocket stream.
// Message format: docs/websocket.md (version 1.x). Page options (query string): transparent=1
// (no background, no overlay: for OBS), ws=URL (another stream; same-origin by default),
// performers=1 (performer 1's avatar only; by default every performer the stream carries is
// shown side by side, performer 1 on the left: `vtuber track --performers 2`, docs/viewer.md).
//
// Conversion (docs/websocket.md, "Coordinates"): frames carry LOCAL rotations of the normalized
// humanoid in Unity's left-handed basis (avatar faces +Z, its right hand toward +X). three-vrm's
// normalized humanoid of a VRM 1.0 model is right-handed and faces +Z with its LEFT hand toward +X,
// so Unity -> three-vrm reverses X: q (x, y, z, w) -> (x, -y, -z, w), p (x, y, z) -> (-x, y, z).
// A VRM 0.x model's normalized rig faces -Z (VRMUtils.rotateVRM0 turns the scene, not the rig),
// so its rotations are further turned 180 degrees about Y: q -> (-x, -y, z, w) in total.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { VRMLoaderPlugin, VRMUtils } from '@pixiv/three-vrm';

const FORMAT = 'vtuber-avatar';
const SUPPORTED_MAJOR = 1;
const params = new URLSearchParams(location.search);
const transparent = params.get('transparent') === '1';
// Every performer's frames (tagged "performer": n) unless the page is for performer 1 only.
const everyPerformer = params.get('performers') !== '1' && !params.get('ws');
const wsUrl = params.get('ws')
  || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${everyPerformer ? '?performers=all' : ''}`;

// VRM 1.0 preset -> VRM 0.x preset (custom 0.x clips are matched by these names too).
const VRM0_NAMES = {
  neutral: 'Neutral', aa: 'A', ih: 'I', ou: 'U', ee: 'E', oh: 'O', blink: 'Blink',
  blinkLeft: 'Blink_L', blinkRight: 'Blink_R', happy: 'Joy', angry: 'Angry', sad: 'Sorrow',
  relaxed: 'Fun', surprised: 'Surprised', lookUp: 'LookUp', lookDown: 'LookDown',
  lookLeft: 'LookLeft', lookRight: 'LookRight',
};
const LOOK_KEYS = ['lookUp', 'lookDown', 'lookLeft', 'lookRight'];

/** Unity HumanBodyBones name -> three-vrm (VRM 1.0) humanoid name. */
export function vrmBoneName(unity) {
  const m = /^(Left|Right)Thumb(Proximal|Intermediate|Distal)$/.exec(unity);
  if (m) {
    const ph = { Proximal: 'Metacarpal', Intermediate: 'Proximal', Distal: 'Distal' }[m[2]];
    return `${m[1].toLowerCase()}Thumb${ph}`;
  }
  return unity[0].toLowerCase() + unity.slice(1);
}

// ------------------------------------------------------------------------------ renderer, scene
const canvas = document.getElementById('view');
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, alpha: true, preserveDrawingBuffer: true });
renderer.setPixelRatio(window.devicePixelRatio);
renderer.setClearColor(0x000000, 0);
renderer.outputColorSpace = THREE.SRGBColorSpace;
const scene = new THREE.Scene();
const camera = new THREE.PerspectiveCamera(30, 1, 0.05, 50);
camera.position.set(0, 1.2, 1.6);
const keyLight = new THREE.DirectionalLight(0xffffff, Math.PI * 0.8);
keyLight.position.set(0.6, 1.5, 2.0);
scene.add(keyLight, new THREE.AmbientLight(0xffffff, Math.PI * 0.3));
// One avatar per performer: `place` puts it side by side with the others, `root` carries the
// frame's root pose (three's basis). Performer 1's is also state.vrm (one avatar: the only one).
function makeSlot(number) {
  const place = new THREE.Group();
  const root = new THREE.Group();
  place.add(root);
  scene.add(place);
  return {
    number, place, root, vrm: null, restHeadWorld: null, exprCache: new Map(),
    lastExprKeys: new Set(), lastFrame: null, pending: null, loading: false, framesApplied: 0,
    lastIndex: -1,
  };
}
const slots = [makeSlot(1)];

if (transparent) document.documentElement.classList.add('transparent');
const overlay = document.getElementById('overlay');
overlay.hidden = transparent;
// Active gestures (`vtuber track --gestures`, docs/gestures.md) in the overlay.
const gestureEl = document.createElement('span');
gestureEl.id = 'gesture';
overlay.appendChild(gestureEl);

function resize() {
  const w = window.innerWidth, h = window.innerHeight;
  renderer.setSize(w, h, false);
  camera.aspect = w / h;
  camera.updateProjectionMatrix();
}
window.addEventListener('resize', resize);
resize();

// ------------------------------------------------------------------------------ state (also for tests)
const state = {
  connection: 'connecting',
  hello: null,
  vrm: null,
  avatarName: '',
  metaVersion: null,
  framesReceived: 0,
  gestures: [],
  framesApplied: 0,
  lastFrame: null,
  lastIndex: -1,
  rendered: 0,
  fps: 0,
  latencyMs: null,
  sentP95Ms: null, // the tracker's capture -> sent latency, p95 of the last 100 frames
  error: null,
  restHeadWorld: null,
  loads: 0,
  performers: 1, // how many performers the stream carries (hello.performers)
};
window.vtuberViewer = {
  state,
  loadAvatar: (url) => loadAvatar(url),
  /** The head bone's world rotation relative to its rest (xyzw, three's world basis), of
   * performer `performer`'s avatar (1-based; default 1). */
  headWorldDelta(performer = 1) {
    const slot = slots[performer - 1];
    const vrm = slot && slot.vrm;
    if (!vrm || !slot.restHeadWorld) return null;
    const q = new THREE.Quaternion();
    vrm.humanoid.getRawBoneNode('head').getWorldQuaternion(q);
    q.multiply(slot.restHeadWorld.clone().invert());
    return [q.x, q.y, q.z, q.w];
  },
  /** Every performer's avatar: loaded, frames applied, last frame index, world x of its head. */
  avatars() {
    return slots.map((s) => {
      const p = new THREE.Vector3();
      if (s.vrm) s.vrm.humanoid.getRawBoneNode('head').getWorldPosition(p);
      return { performer: s.number, loaded: !!s.vrm, framesApplied: s.framesApplied, lastIndex: s.lastIndex, headX: p.x };
    });
  },
  /** World position of a raw humanoid bone (or any named node). */
  nodeWorldPosition(name) {
    const vrm = state.vrm;
    if (!vrm) return null;
    const n = vrm.humanoid.getRawBoneNode(name) || vrm.scene.getObjectByName(name);
    if (!n) return null;
    const p = new THREE.Vector3();
    n.getWorldPosition(p);
    return [p.x, p.y, p.z];
  },
  expressionValue(name) {
    const em = state.vrm && state.vrm.expressionManager;
    return em ? em.getValue(name) : null;
  },
  info() {
    const vrm = state.vrm;
    if (!vrm) return null;
    return {
      metaVersion: vrm.meta.metaVersion,
      name: state.avatarName,
      bones: Object.keys(vrm.humanoid.humanBones).filter((k) => vrm.humanoid.getRawBoneNode(k)),
      expressions: vrm.expressionManager ? vrm.expressionManager.expressions.map((e) => e.expressionName) : [],
      lookAt: vrm.lookAt ? vrm.lookAt.applier.constructor.type || null : null,
      springJoints: vrm.springBoneManager ? vrm.springBoneManager.joints.size : 0,
    };
  },
};

function showError(msg) {
  state.error = msg;
  const el = document.getElementById('error');
  el.textContent = msg;
  el.hidden = transparent && !msg;
  if (!msg) el.hidden = true;
}

// ------------------------------------------------------------------------------ avatar loading
const loader = new GLTFLoader();
loader.register((parser) => new VRMLoaderPlugin(parser));

async function loadAvatar(source, slot = slots[0]) {
  // source: a URL or an ArrayBuffer (drag and drop); slot: the performer's avatar to replace
  const gltf = typeof source === 'string' ? await loader.loadAsync(source) : await loader.parseAsync(source, '');
  const vrm = gltf.userData.vrm;
  if (!vrm) throw new Error('not a VRM file (no VRM extension found)');
  VRMUtils.removeUnnecessaryVertices(gltf.scene);
  if (vrm.meta.metaVersion === '0') VRMUtils.rotateVRM0(vrm);
  vrm.scene.traverse((o) => { o.frustumCulled = false; });
  if (slot.vrm) {
    slot.root.remove(slot.vrm.scene);
    VRMUtils.deepDispose(slot.vrm.scene);
  }
  slot.root.add(vrm.scene);
  slot.vrm = vrm;
  slot.exprCache.clear();
  vrm.update(0);
  vrm.scene.updateMatrixWorld(true);
  slot.restHeadWorld = new THREE.Quaternion();
  vrm.humanoid.getRawBoneNode('head').getWorldQuaternion(slot.restHeadWorld);
  if (slot.number === 1) {
    state.vrm = vrm;
    state.metaVersion = vrm.meta.metaVersion;
    state.avatarName = vrm.meta.name || vrm.meta.title || 'avatar';
    state.restHeadWorld = slot.restHeadWorld;
    state.loads += 1;
    document.getElementById('avatar-name').textContent = state.avatarName;
  }
  layout();
  if (slot.lastFrame) applyFrame(slot.lastFrame, slot);
  return vrm;
}

function layout() {
  // Performers side by side (performer 1 on the left), framed together.
  const gap = slots.length > 1 ? 0.3 : 0;
  slots.forEach((s, k) => { s.place.position.x = (k - (slots.length - 1) / 2) * 2 * gap; });
  const first = slots.find((s) => s.vrm);
  if (first) frameCamera(first.vrm, slots.length);
}

function frameCamera(vrm, count = 1) {
  // A bust shot: the head near the top third, chest at the bottom (wider for several avatars).
  const head = new THREE.Vector3();
  vrm.humanoid.getRawBoneNode('head').getWorldPosition(head);
  const hips = new THREE.Vector3();
  vrm.humanoid.getRawBoneNode('hips').getWorldPosition(hips);
  const scale = Math.max(head.y - hips.y, 0.1) / 0.4; // 1 for the default avatar
  const target = new THREE.Vector3(count > 1 ? 0 : head.x, head.y + 0.02 * scale, head.z);
  const far = count > 1 ? 1.8 : 1;
  camera.position.set(target.x, target.y + 0.03 * scale, target.z + 1.55 * scale * far);
  camera.lookAt(target);
}

// ------------------------------------------------------------------------------ applying frames
function modelExpression(key, slot) {
  // frame key -> expression name in the slot's loaded model (or null), cached per avatar
  const exprCache = slot.exprCache;
  if (exprCache.has(key)) return exprCache.get(key);
  const em = slot.vrm.expressionManager;
  let found = null;
  if (em) {
    const names = em.expressions.map((e) => e.expressionName);
    const lower = new Map(names.map((n) => [n.toLowerCase(), n]));
    for (const cand of [key, VRM0_NAMES[key]]) {
      if (!cand) continue;
      if (em.getExpression(cand)) { found = cand; break; }
      if (lower.has(cand.toLowerCase())) { found = lower.get(cand.toLowerCase()); break; }
    }
  }
  exprCache.set(key, found);
  return found;
}

/** Unity-basis local rotation -> three-vrm normalized local rotation of the loaded model. */
export function toThree(q, metaVersion, out) {
  return metaVersion === '0' ? out.set(-q[0], -q[1], q[2], q[3]) : out.set(q[0], -q[1], -q[2], q[3]);
}

function applyFrame(msg, slot = slots[0]) {
  const vrm = slot.vrm;
  if (!vrm) return;
  const meta = vrm.meta.metaVersion;
  const ex = msg.expressions || {};
  const hasLook = vrm.lookAt && LOOK_KEYS.some((k) => k in ex);
  for (const [name, q] of Object.entries(msg.bones || {})) {
    if (!Array.isArray(q) || q.length !== 4) continue;
    if (hasLook && (name === 'LeftEye' || name === 'RightEye')) continue;
    const node = vrm.humanoid.getNormalizedBoneNode(vrmBoneName(name));
    if (node) toThree(q, meta, node.quaternion);
  }
  if (msg.root) {
    const { p, q } = msg.root;
    // The root is in the world, where both 0.x (after rotateVRM0) and 1.0 avatars face +Z.
    if (Array.isArray(q) && q.length === 4) slot.root.quaternion.set(q[0], -q[1], -q[2], q[3]);
    if (Array.isArray(p) && p.length === 3) slot.root.position.set(-p[0], p[1], p[2]);
  }
  const em = vrm.expressionManager;
  if (em) {
    const keys = new Set();
    for (const [key, v] of Object.entries(ex)) {
      if (typeof v !== 'number') continue;
      if (hasLook && LOOK_KEYS.includes(key)) continue;
      const name = modelExpression(key, slot);
      if (name) { em.setValue(name, Math.min(Math.max(v, 0), 1)); keys.add(name); }
    }
    for (const name of slot.lastExprKeys) if (!keys.has(name)) em.setValue(name, 0);
    slot.lastExprKeys = keys;
  }
  if (hasLook) {
    // lookLeft/Right/Up/Down weights -> yaw/pitch in degrees; three-vrm: yaw > 0 looks to the
    // avatar's left, pitch > 0 looks down. Full weight = the range map's input maximum.
    const a = vrm.lookAt.applier;
    const hMax = (a.rangeMapHorizontalOuter && a.rangeMapHorizontalOuter.inputMaxValue) || 90;
    const vMax = (a.rangeMapVerticalUp && a.rangeMapVerticalUp.inputMaxValue) || 90;
    vrm.lookAt.yaw = ((ex.lookLeft || 0) - (ex.lookRight || 0)) * hMax;
    vrm.lookAt.pitch = ((ex.lookDown || 0) - (ex.lookUp || 0)) * vMax;
  }
  slot.framesApplied += 1;
  if (slot.number === 1) state.framesApplied += 1;
}

// ------------------------------------------------------------------------------ the stream
let socket = null;
let retryMs = 500;

function setConnection(s) {
  state.connection = s;
  const el = document.getElementById('conn');
  el.textContent = s;
  el.className = `state-${s}`;
}

function connect() {
  setConnection('connecting');
  const ws = new WebSocket(wsUrl);
  socket = ws;
  ws.onopen = () => { retryMs = 500; };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg.type === 'hello') {
      const major = parseInt(String(msg.version).split('.')[0], 10);
      if (msg.format !== FORMAT || major !== SUPPORTED_MAJOR) {
        showError(`unsupported stream format ${msg.format} ${msg.version}`);
        ws.close();
        return;
      }
      state.hello = msg;
      state.performers = Math.max(1, Math.min(Number(msg.performers) || 1, 8));
      while (slots.length < state.performers) slots.push(makeSlot(slots.length + 1));
      setConnection('connected');
      for (const slot of slots) if (!slot.vrm && !slot.loading && msg.avatar) startLoad(msg.avatar, slot);
    } else if (msg.type === 'frame' && (msg.performer || 1) > 1) {
      // A further performer's frame (only on a stream of every performer): their own avatar.
      const slot = slots[msg.performer - 1];
      if (!slot) return;
      state.framesReceived += 1;
      slot.lastFrame = msg;
      slot.pending = msg;
    } else if (msg.type === 'frame') {
      // The first frame after (re)connecting may be an old one (the tracker's last pose): it
      // is shown but not counted in the latency.
      msg._fresh = state.framesReceived > 0 && ws.framesSeen > 0;
      ws.framesSeen = (ws.framesSeen || 0) + 1;
      state.framesReceived += 1;
      if (typeof msg.sent_ms === 'number') {
        sentMs.push(msg.sent_ms);
        if (sentMs.length > 100) sentMs.shift();
      }
      state.lastFrame = msg;
      slots[0].lastFrame = msg;
      pendingFrame = msg;
      onGestures(msg);
    }
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    setConnection('disconnected');
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 4000);
  };
}

// Gesture events (docs/websocket.md): `active` is the state (absent = nothing active), `events`
// this frame's start/end edges, re-dispatched as `vtuber-event` DOM events for page scripts (a
// client that skipped frames can miss an edge; `active` is always right).
function onGestures(msg) {
  const active = (msg.active && msg.active.gesture) || [];
  state.gestures = active;
  gestureEl.textContent = active.length ? `gesture ${active.join(', ')}` : '';
  for (const ev of msg.events || []) {
    window.dispatchEvent(new CustomEvent('vtuber-event', { detail: ev }));
  }
}

function startLoad(url, slot = slots[0]) {
  slot.loading = true;
  loadAvatar(url, slot)
    .then(() => showError(''))
    .catch((e) => showError(`cannot load the avatar: ${e.message || e}`))
    .finally(() => { slot.loading = false; });
}

// ------------------------------------------------------------------------------ drag and drop
window.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dragging'); });
window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
window.addEventListener('drop', async (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const file = e.dataTransfer.files[0];
  if (!file) return;
  try {
    const data = await file.arrayBuffer();
    for (const slot of slots) await loadAvatar(data.slice(0), slot); // every performer's avatar
    showError('');
  } catch (err) {
    showError(`cannot load ${file.name}: ${err.message || err}`);
  }
});

// ------------------------------------------------------------------------------ render loop
let pendingFrame = null;
const clock = new THREE.Clock();
let fpsCount = 0, fpsT0 = performance.now(), latSmooth = null;
const sentMs = []; // the tracker's capture -> sent ms of the recent frames (msg.sent_ms)

function p95(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * (s.length - 1) + 0.5))];
}

function tick() {
  requestAnimationFrame(tick);
  const dt = Math.min(clock.getDelta(), 0.1);
  let applied = null;
  if (pendingFrame) {
    applyFrame(pendingFrame);
    applied = pendingFrame;
    pendingFrame = null;
  }
  for (const slot of slots.slice(1)) {
    if (slot.pending) {
      applyFrame(slot.pending, slot);
      slot.lastIndex = slot.pending.index;
      slot.pending = null;
    }
  }
  for (const slot of slots) if (slot.vrm) slot.vrm.update(dt); // expressions, lookAt, springs
  renderer.render(scene, camera);
  state.rendered += 1;
  if (applied) {
    state.lastIndex = applied.index;
    slots[0].lastIndex = applied.index;
    if (typeof applied.captured === 'number' && applied._fresh) {
      const lat = (performance.timeOrigin + performance.now()) - applied.captured * 1000;
      latSmooth = latSmooth === null ? lat : latSmooth * 0.8 + lat * 0.2;
      state.latencyMs = latSmooth;
    }
  }
  fpsCount += 1;
  const now = performance.now();
  if (now - fpsT0 >= 500) {
    state.fps = (fpsCount * 1000) / (now - fpsT0);
    fpsCount = 0;
    fpsT0 = now;
    state.sentP95Ms = sentMs.length ? p95(sentMs) : null;
    if (!transparent) {
      document.getElementById('fps').textContent = `${state.fps.toFixed(0)} fps`;
      const sent = state.sentP95Ms === null ? '' : ` (tracker p95 ${state.sentP95Ms.toFixed(0)} ms)`;
      document.getElementById('latency').textContent =
        (state.latencyMs === null ? 'latency – ms' : `latency ${state.latencyMs.toFixed(0)} ms`) + sent;
    }
  }
}

connect();
requestAnimationFrame(tick);
