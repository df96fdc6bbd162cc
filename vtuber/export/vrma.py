"""Export to VRMA: VRM Animation 1.0 (a glTF 2.0 binary with the ``VRMC_vrm_animation``
extension) with humanoid rotation tracks, a hips translation track and expression tracks.

- Nodes: one per humanoid bone, named by VRM 1.0 humanoid names, rest rotation identity and rest
  translation from :data:`vtuber.rig.TPOSE_OFFSETS` (the rest pose is the VRM T-pose, as the spec
  requires), plus one node per expression (its animated ``translation.x`` is the weight).
- Basis: glTF's right-handed, y up, avatar facing +Z; Unity values are converted by negating x
  (UniVRM's VRM 1.0 convention): positions ``(-x, y, z)``, rotations ``(x, -y, -z, w)``.
  With identity rest rotations, the animated local rotations are exactly the normalized humanoid
  rotations that three-vrm-animation hands to the avatar.
- Bone names: :attr:`vtuber.rig.Bone.vrm_name` (Unity ``HumanBodyBones`` -> VRM 1.0; the thumbs
  differ: Unity ThumbProximal / Intermediate / Distal = VRM 1.0 thumbMetacarpal / thumbProximal /
  thumbDistal).
- Expressions: the 18 VRM 1.0 presets under ``preset``; every other key (ARKit names ...) under
  ``custom``.
- Times: seconds from the first frame; keyframes as recorded (LINEAR interpolation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vtuber import __version__, quat
from vtuber.export import unity_to_rh_pos, unity_to_rh_quats
from vtuber.export.glb import GlbBuffer
from vtuber.rig import BONE_ORDER, PARENT, TPOSE_OFFSETS, VRM1_PRESETS, AvatarFrame, Bone


def build_vrma(frames: Sequence[AvatarFrame]) -> bytes:
    """The .vrma (GLB) bytes for the frames."""
    if not frames:
        raise ValueError("no frames to export")
    buf = GlbBuffer()
    nodes: list[dict[str, object]] = []
    node_of: dict[Bone, int] = {}
    for b in BONE_ORDER:  # parents first
        node_of[b] = len(nodes)
        nodes.append({"name": b.vrm_name, "translation": list(unity_to_rh_pos(TPOSE_OFFSETS[b]))})
    for b in BONE_ORDER:
        p = PARENT[b]
        if p is not None:
            nodes[node_of[p]].setdefault("children", []).append(node_of[b])  # type: ignore[attr-defined]

    t0 = frames[0].t
    times = np.array([f.t - t0 for f in frames], dtype=np.float32)
    # Keyframe times must increase strictly.
    for i in range(1, len(times)):
        if times[i] <= times[i - 1]:
            times[i] = np.nextafter(times[i - 1], np.float32(np.inf))
    t_acc = buf.accessor(times, "SCALAR", minmax=True)

    samplers: list[dict[str, object]] = []
    channels: list[dict[str, object]] = []

    def track(node: int, path: str, values: np.ndarray, type_: str) -> None:
        samplers.append(
            {"input": t_acc, "output": buf.accessor(values, type_), "interpolation": "LINEAR"}
        )
        channels.append({"sampler": len(samplers) - 1, "target": {"node": node, "path": path}})

    for b in BONE_ORDER:
        q = np.array([f.bone(b) for f in frames], dtype=np.float64)
        if b is Bone.Hips:  # the avatar root's rotation applies on top of the hips
            q = np.array(
                [quat.multiply(f.root_rotation, qq) for f, qq in zip(frames, q, strict=True)]
            )
        q = unity_to_rh_quats(q)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        track(node_of[b], "rotation", q, "VEC4")
    hips = np.array(
        [
            np.asarray(f.root_position) + quat.rotate(f.root_rotation, f.position(Bone.Hips))
            for f in frames
        ]
    )
    track(node_of[Bone.Hips], "translation", hips * np.array([-1.0, 1.0, 1.0]), "VEC3")

    keys: list[str] = []
    for f in frames:
        for k in f.blendshapes:
            if k not in keys:
                keys.append(k)
    preset: dict[str, dict[str, int]] = {}
    custom: dict[str, dict[str, int]] = {}
    for k in keys:
        n = len(nodes)
        nodes.append({"name": f"expression_{k}"})
        w = np.array([f.blendshapes.get(k, 0.0) for f in frames], dtype=np.float64)
        track(n, "translation", np.stack([w, np.zeros_like(w), np.zeros_like(w)], axis=1), "VEC3")
        (preset if k in VRM1_PRESETS else custom)[k] = {"node": n}

    bones = {b.vrm_name: {"node": node_of[b]} for b in BONE_ORDER}
    scene_nodes = [node_of[Bone.Hips]] + list(range(len(BONE_ORDER), len(nodes)))
    gltf: dict[str, object] = {
        "asset": {"version": "2.0", "generator": f"vtuber {__version__}"},
        "extensionsUsed": ["VRMC_vrm_animation"],
        "extensions": {
            "VRMC_vrm_animation": {
                "specVersion": "1.0",
                "humanoid": {"humanBones": bones},
                "expressions": {"preset": preset, "custom": custom},
            }
        },
        "scene": 0,
        "scenes": [{"nodes": scene_nodes}],
        "nodes": nodes,
        "animations": [{"name": "vtuber", "samplers": samplers, "channels": channels}],
        "accessors": buf.accessors,
        "bufferViews": buf.views,
    }
    return buf.glb(gltf)
