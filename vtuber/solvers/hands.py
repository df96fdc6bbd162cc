"""Hand solver: MediaPipe hand world landmarks -> Hand + 15 finger local rotations.

Frames and conventions (docs/body.md):
- Input: MediaPipe hand *world* landmarks, (21, 3) metres, camera-aligned axes: x to the image's
  right, y down, z away from the camera. The person faces an un-mirrored camera.
- :func:`vtuber.solvers.geometry.to_avatar` maps those axes onto the avatar's (Unity: x = avatar's
  right, y up, z = avatar's forward): the person's right is image left (-x), up is -y, their
  forward is toward the camera (-z). The map is ``-v``; it is the identity on physical directions,
  only the coordinate handedness changes (MediaPipe's axes are right-handed, Unity's left-handed).
- Output: LOCAL rotations of a normalized humanoid (identity = T-pose: arms along +/-X, palms
  down, fingers straight along the arm), quaternions (x, y, z, w), anatomical sides: the person's
  right hand drives ``Right*`` bones. The mirror is applied later, once, by the pipeline.
- Angles in the public helpers are degrees.

The model: each of the index..little fingers has a 2-DoF base joint (curl about the hand's lateral
axis, spread about the palm normal) and two 1-DoF hinges (curl only); the thumb has a 2-DoF base
(its metacarpal: palmar and radial abduction about its own axes) and two hinges whose plane is
tilted between the palm and the fingers. Every angle is clamped to anatomical limits, so noisy
landmarks cannot bend a finger backwards or sideways.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.rig import FINGERS, PHALANGES, TPOSE_OFFSETS, Bone, Quat
from vtuber.solvers.geometry import FORWARD, UP, basis, cross3, side_sign, to_avatar, unit

F64 = NDArray[np.float64]


class HandIndex(IntEnum):
    """MediaPipe hand landmark indices."""

    WRIST = 0
    THUMB_CMC = 1
    THUMB_MCP = 2
    THUMB_IP = 3
    THUMB_TIP = 4
    INDEX_MCP = 5
    INDEX_PIP = 6
    INDEX_DIP = 7
    INDEX_TIP = 8
    MIDDLE_MCP = 9
    MIDDLE_PIP = 10
    MIDDLE_DIP = 11
    MIDDLE_TIP = 12
    RING_MCP = 13
    RING_PIP = 14
    RING_DIP = 15
    RING_TIP = 16
    PINKY_MCP = 17
    PINKY_PIP = 18
    PINKY_DIP = 19
    PINKY_TIP = 20


# Landmark chain of each finger: base joint, then the end of each of the three bones.
FINGER_CHAINS: dict[str, tuple[int, int, int, int]] = {
    "Thumb": (1, 2, 3, 4),
    "Index": (5, 6, 7, 8),
    "Middle": (9, 10, 11, 12),
    "Ring": (13, 14, 15, 16),
    "Little": (17, 18, 19, 20),
}


@dataclass(frozen=True, slots=True)
class FingerLimits:
    """Joint limits in degrees. Curl > 0 bends toward the palm; spread > 0 toward the thumb
    (for the thumb's base: radial abduction, away from the index finger); lift > 0 toward the
    palm side (the thumb's palmar abduction / opposition)."""

    base_curl: tuple[float, float] = (-25.0, 95.0)
    base_spread: tuple[float, float] = (-25.0, 25.0)
    mid_curl: tuple[float, float] = (-5.0, 115.0)
    tip_curl: tuple[float, float] = (-15.0, 95.0)
    thumb_lift: tuple[float, float] = (-25.0, 70.0)
    thumb_spread: tuple[float, float] = (-45.0, 45.0)
    thumb_mid: tuple[float, float] = (-20.0, 80.0)
    thumb_tip: tuple[float, float] = (-25.0, 90.0)
    wrist_swing: float = 85.0
    wrist_twist: float = 35.0


LIMITS = FingerLimits()


def palm_matrix(pts: F64, side: str) -> F64:
    """World rotation (3x3, avatar axes) of the hand from avatar-space hand landmarks.

    In T-pose this is the identity: the hand points along the arm (+/-X), the back of the hand
    faces up (+Y), the thumb side is forward (+Z)."""
    s = side_sign(side)
    (wx, wy, wz), (ix, iy, iz), (mx, my, mz), (px, py, pz) = pts[_PALM_IDX].tolist()
    along = np.array([s * (mx - wx), s * (my - wy), s * (mz - wz)])
    bx, by, bz = cross3((ix - wx, iy - wy, iz - wz), (px - wx, py - wy, pz - wz))
    back = np.array([s * bx, s * by, s * bz])
    return basis(along, back)


_PALM_IDX = np.array(
    [HandIndex.WRIST, HandIndex.INDEX_MCP, HandIndex.MIDDLE_MCP, HandIndex.PINKY_MCP]
)


def thumb_rest_axis(side: str) -> F64:
    """The thumb's pointing direction in T-pose (hand frame), from the rig's T-pose offsets."""
    off = np.array(
        TPOSE_OFFSETS[Bone[("Right" if side == "right" else "Left") + "ThumbIntermediate"]]
    )
    return unit(off)


def _frames(side: str) -> dict[str, tuple[F64, F64, F64]]:
    """Per finger (a, p, l) in the parent's local frame at rest: a = bone axis, p = palm side
    (toward which curl bends), l = lateral (toward which spread moves)."""
    s = side_sign(side)
    palm = -UP
    out = {}
    for f in FINGERS:
        if f == "Thumb":
            a = thumb_rest_axis(side)
            lat = unit(FORWARD - np.dot(FORWARD, a) * a)  # away from the index finger
            out[f] = (a, palm, lat)
        else:
            out[f] = (np.array([s, 0.0, 0.0]), palm, FORWARD.copy())
    return out


_FRAMES = {side: _frames(side) for side in ("left", "right")}


def _axes(side: str) -> dict[str, tuple[F64, F64, F64, F64]]:
    """Per finger, precomputed: curl axis a x p, spread axis a x l, the thumb hinges' bend
    direction b (half toward the palm, half toward the fingers) and their axis a x b."""
    out = {}
    for f, (a, p, lat) in _FRAMES[side].items():
        b = unit(p - lat)
        out[f] = (np.cross(a, p), np.cross(a, lat), b, np.cross(a, b))
    return out


_AXES = {side: _axes(side) for side in ("left", "right")}


# Landmark indices of the 15 finger bones' start and end points, (finger, bone) in FINGERS order.
_SEG_START = np.array([FINGER_CHAINS[f][:3] for f in FINGERS])
_SEG_END = np.array([FINGER_CHAINS[f][1:] for f in FINGERS])

V3 = list[float]
# Per finger (FINGERS order) as plain floats: (a, p, l), (hinge direction, a), curl axis,
# spread axis, hinge axis. The hinge direction is p for the fingers and b for the thumb; the hinge
# axis k_curl for the fingers, a x b for the thumb.
_FingerConst = tuple[tuple[V3, V3, V3], tuple[V3, V3], V3, V3, V3]


def _finger_consts(side: str) -> list[_FingerConst]:
    out: list[_FingerConst] = []
    for f in FINGERS:
        a, p, lat = (v.tolist() for v in _FRAMES[side][f])
        k_curl, k_spread, b, k_hinge = _AXES[side][f]
        thumb = f == "Thumb"
        out.append(
            (
                (a, p, lat),
                (b.tolist() if thumb else p, a),
                k_curl.tolist(),
                k_spread.tolist(),
                (k_hinge if thumb else k_curl).tolist(),
            )
        )
    return out


_FINGER_CONSTS = {side: _finger_consts(side) for side in ("left", "right")}
_FINGER_BONES = {
    side: tuple(
        Bone[("Right" if side == "right" else "Left") + f + ph] for f in FINGERS for ph in PHALANGES
    )
    for side in ("left", "right")
}


_Lim = tuple[float, float]


def _finger_limits(limits: FingerLimits) -> list[tuple[_Lim, _Lim, _Lim, _Lim]]:
    """Per finger (thumb first): (base curl or lift, mid curl, tip curl, base spread) limits."""
    L = limits
    thumb = (L.thumb_lift, L.thumb_mid, L.thumb_tip, L.thumb_spread)
    return [thumb] + [(L.base_curl, L.mid_curl, L.tip_curl, L.base_spread)] * 4


def _solve_fingers(
    pts: F64, H: F64, side: str, limits: FingerLimits
) -> tuple[list[Quat], list[float]]:
    """The 15 finger joints' local rotations and curls (degrees) in (finger, phalanx) order.

    Plain floats (numpy's per-call overhead dominates on 3-vectors; ~4x faster than batching
    the five fingers into arrays). Per bone: its direction in the parent's frame, d = R^T seg
    (unit); base joints d = R(a x l, spread) R(a x p, curl) a; hinges bend from a toward their
    hinge direction; every angle clamped; R then advances by the joint's rotation."""
    segs = (pts[_SEG_END] - pts[_SEG_START]).tolist()
    h_rows = H.tolist()
    out_q: list[Quat] = []
    out_c: list[float] = []
    degrees, radians, atan2 = math.degrees, math.radians, math.atan2
    to_matrix, qmul = quat.to_matrix_tuple, quat.multiply_tuple
    axis_angle = quat.from_unit_axis_angle_tuple
    for f, (const, lims) in enumerate(
        zip(_FINGER_CONSTS[side], _finger_limits(limits), strict=True)
    ):
        (A, P, L), (B, A2), kc, ks, kh = const
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = h_rows
        for k in range(3):
            vx, vy, vz = segs[f][k]
            dx = r00 * vx + r10 * vy + r20 * vz
            dy = r01 * vx + r11 * vy + r21 * vz
            dz = r02 * vx + r12 * vy + r22 * vz
            n = math.sqrt(dx * dx + dy * dy + dz * dz)
            if n > 1e-9:
                dx, dy, dz = dx / n, dy / n, dz / n
            else:
                dx = dy = dz = 0.0
            if k == 0:
                da = dx * A[0] + dy * A[1] + dz * A[2]
                dp = dx * P[0] + dy * P[1] + dz * P[2]
                dl = dx * L[0] + dy * L[1] + dz * L[2]
                lo, hi = lims[0]
                curl = min(max(degrees(atan2(dp, math.hypot(da, dl))), lo), hi)
                lo, hi = lims[3]
                spread = min(max(degrees(atan2(dl, max(da, 1e-6))), lo), hi)
                # (spread quaternion) * (curl quaternion), both about unit axes.
                x, y, z, w = qmul(axis_angle(ks, radians(spread)), axis_angle(kc, radians(curl)))
            else:
                hb = dx * B[0] + dy * B[1] + dz * B[2]
                ha = dx * A2[0] + dy * A2[1] + dz * A2[2]
                lo, hi = lims[k]
                curl = min(max(degrees(atan2(hb, ha)), lo), hi)
                x, y, z, w = axis_angle(kh, radians(curl))
            out_q.append((x, y, z, w))
            out_c.append(curl)
            if k < 2:  # R = R @ matrix(q)
                (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = to_matrix((x, y, z, w))
                r00, r01, r02 = (
                    r00 * m00 + r01 * m10 + r02 * m20,
                    r00 * m01 + r01 * m11 + r02 * m21,
                    r00 * m02 + r01 * m12 + r02 * m22,
                )
                r10, r11, r12 = (
                    r10 * m00 + r11 * m10 + r12 * m20,
                    r10 * m01 + r11 * m11 + r12 * m21,
                    r10 * m02 + r11 * m12 + r12 * m22,
                )
                r20, r21, r22 = (
                    r20 * m00 + r21 * m10 + r22 * m20,
                    r20 * m01 + r21 * m11 + r22 * m21,
                    r20 * m02 + r21 * m12 + r22 * m22,
                )
    return out_q, out_c


@dataclass(slots=True)
class HandSolution:
    """Local rotations of one hand's bones and its world rotation.

    bones: Bone -> (x, y, z, w) local rotation (the Hand bone only when ``parent`` was given).
    palm: the hand's world rotation (3x3, avatar axes).
    curls: per finger bone, the curl angle in degrees that was applied (after limits).
    """

    bones: dict[Bone, Quat]
    palm: F64
    curls: dict[Bone, float]


def solve_hand(
    world: NDArray[np.floating],
    side: str,
    parent: F64 | None = None,
    limits: FingerLimits = LIMITS,
) -> HandSolution:
    """Finger (and wrist) rotations from one hand's MediaPipe world landmarks.

    Args:
        world: (21, 3) MediaPipe hand world landmarks (metres, MediaPipe axes).
        side: the PERSON's hand, "left" or "right" (anatomical).
        parent: world rotation (3x3, avatar axes) of the LowerArm the hand hangs from. When
            given, the Hand bone's local rotation (3-DoF, limited) is included.
        limits: joint limits.
    """
    pts = to_avatar(world)
    s_name = "Right" if side == "right" else "Left"
    H = palm_matrix(pts, side)
    bones: dict[Bone, Quat] = {}
    curls: dict[Bone, float] = {}
    if parent is not None:
        hq = limit_wrist(quat.from_matrix_tuple((parent.T @ H).tolist()), side, limits)
        bones[Bone[s_name + "Hand"]] = hq
        H = parent @ np.array(quat.to_matrix_tuple(quat.normalize_tuple(hq)))
    qs, cs = _solve_fingers(pts, H, side, limits)
    for bone, q, cv in zip(_FINGER_BONES[side], qs, cs, strict=True):
        bones[bone] = q
        curls[bone] = cv
    return HandSolution(bones=bones, palm=H, curls=curls)


def limit_wrist(q: Quat, side: str, limits: FingerLimits = LIMITS) -> Quat:
    """Clamp a Hand local rotation: twist about the forearm axis to +/- wrist_twist, the rest
    (flexion/deviation swing) to wrist_swing degrees."""
    s = side_sign(side)
    swing, twist = quat.swing_twist_tuple(q, (s, 0.0, 0.0))
    ang = math.degrees(quat.to_rotvec_tuple(twist)[0] * s)
    twist = quat.from_axis_angle_tuple(
        (s, 0.0, 0.0), math.radians(min(max(ang, -limits.wrist_twist), limits.wrist_twist))
    )
    vx, vy, vz = quat.to_rotvec_tuple(swing)
    sa = math.degrees(math.sqrt(vx * vx + vy * vy + vz * vz))
    if sa > limits.wrist_swing:
        k = limits.wrist_swing / sa
        swing = quat.from_rotvec_tuple((vx * k, vy * k, vz * k))
    return quat.multiply_tuple(swing, twist)


def bend_degrees(q: Quat | F64) -> float:
    """Total rotation angle of a local rotation in degrees (how far a joint is bent)."""
    return float(np.degrees(quat.angle_between(np.asarray(q, dtype=np.float64), quat.IDENTITY)))
