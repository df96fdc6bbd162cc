"""Export to BVH (Biovision Hierarchy) for Blender, MotionBuilder and Unity importers.

Skeleton: the 55 Unity humanoid bones (names as HumanBodyBones) with :data:`vtuber.rig.PARENT`
and rest offsets from :data:`vtuber.rig.TPOSE_OFFSETS` (so the rest pose is the T-pose), in
CENTIMETRES, in a right-handed basis with y up, the avatar facing +Z (Unity's x negated, see
:mod:`vtuber.export`). The root (Hips) has 6 channels ``Xposition Yposition Zposition Zrotation
Xrotation Yrotation``; the others 3 rotation channels, degrees. With the BVH convention the
channel order gives the matrix ``R = Rz(z) · Rx(x) · Ry(y)`` (column vectors): intrinsic
Z-X-Y Euler angles. Frame values are each bone's local rotation relative to its rest (identity
= T-pose), i.e. the normalized humanoid rotations the sinks send, resampled at a fixed rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

import numpy as np
from scipy.spatial.transform import Rotation

from vtuber import quat
from vtuber.export import median_rate, resample, unity_to_rh_pos, unity_to_rh_quats
from vtuber.rig import BONE_ORDER, PARENT, TPOSE_OFFSETS, AvatarFrame, Bone

CM = 100.0
EULER = "ZXY"  # intrinsic, matches the channel order below
ROT_CHANNELS = "Zrotation Xrotation Yrotation"
END_SITE_CM = 4.0


def _children() -> dict[Bone, list[Bone]]:
    ch: dict[Bone, list[Bone]] = {b: [] for b in Bone}
    for b in BONE_ORDER:
        p = PARENT[b]
        if p is not None:
            ch[p].append(b)
    return ch


def bone_order() -> list[Bone]:
    """Bones in the depth-first order the HIERARCHY section lists them (= MOTION column order)."""
    ch = _children()
    out: list[Bone] = []

    def visit(b: Bone) -> None:
        out.append(b)
        for c in ch[b]:
            visit(c)

    visit(Bone.Hips)
    return out


def hierarchy() -> str:
    ch = _children()
    lines: list[str] = ["HIERARCHY"]

    def fmt(v: Sequence[float] | np.ndarray) -> str:
        return " ".join(f"{x:.6f}" for x in v)

    def visit(b: Bone, depth: int) -> None:
        ind = "  " * depth
        off = [CM * x for x in unity_to_rh_pos(TPOSE_OFFSETS[b])]
        if b is Bone.Hips:
            lines.append(f"ROOT {b.name}")
            lines.append(f"{ind}{{")
            lines.append(f"{ind}  OFFSET {fmt(off)}")
            lines.append(f"{ind}  CHANNELS 6 Xposition Yposition Zposition {ROT_CHANNELS}")
        else:
            lines.append(f"{ind}JOINT {b.name}")
            lines.append(f"{ind}{{")
            lines.append(f"{ind}  OFFSET {fmt(off)}")
            lines.append(f"{ind}  CHANNELS 3 {ROT_CHANNELS}")
        if ch[b]:
            for c in ch[b]:
                visit(c, depth + 1)
        else:  # leaf: an end site continuing the bone's direction
            d = np.asarray(unity_to_rh_pos(TPOSE_OFFSETS[b]))
            n = float(np.linalg.norm(d))
            end = d / n * END_SITE_CM if n > 0 else np.array([0.0, END_SITE_CM, 0.0])
            lines.append(f"{ind}  End Site")
            lines.append(f"{ind}  {{")
            lines.append(f"{ind}    OFFSET {fmt(end)}")
            lines.append(f"{ind}  }}")
        lines.append(f"{ind}}}")

    visit(Bone.Hips, 0)
    return "\n".join(lines) + "\n"


def motion_rows(frames: Sequence[AvatarFrame]) -> np.ndarray:
    """(n_frames, 6 + 3 * 54) channel values in HIERARCHY order."""
    order = bone_order()
    n = len(frames)
    q = np.array([[f.bone(b) for b in order] for f in frames], dtype=np.float64).reshape(n, -1, 4)
    # The root rotation of the avatar applies on top of Hips.
    root_q = np.array([f.root_rotation for f in frames], dtype=np.float64)
    q[:, 0] = np.array([quat.multiply(r, h) for r, h in zip(root_q, q[:, 0], strict=True)])
    q = unity_to_rh_quats(q)
    eul = Rotation.from_quat(q.reshape(-1, 4)).as_euler(EULER, degrees=True).reshape(n, -1, 3)
    hips = np.array(
        [
            np.asarray(f.root_position) + quat.rotate(f.root_rotation, f.position(Bone.Hips))
            for f in frames
        ]
    )
    hips_rh = hips * np.array([-1.0, 1.0, 1.0]) * CM
    return np.concatenate([hips_rh, eul.reshape(n, -1)], axis=1)


def write_bvh(frames: Sequence[AvatarFrame], out: IO[str], fps: float | None = None) -> int:
    """Write a BVH file. BVH is fixed-rate, so the motion is resampled at ``fps`` (default: the
    recording's median frame rate) over the recording's time span (:func:`vtuber.export.resample`):
    a take with dropped frames keeps its duration and plays at real time. Returns the number of
    frames written."""
    rate = fps if fps is not None else median_rate(frames)
    frames = resample(frames, rate)
    out.write(hierarchy())
    out.write(f"MOTION\nFrames: {len(frames)}\nFrame Time: {1.0 / rate:.6f}\n")
    if frames:
        rows = motion_rows(frames)
        for r in rows:
            out.write(" ".join(f"{v:.5f}" for v in r) + "\n")
    return len(frames)
