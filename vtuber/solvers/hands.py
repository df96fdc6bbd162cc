"""Hand solver: MediaPipe hand world landmarks -> Hand + 15 finger local rotations.

Frames and conventions (docs/body.md):
- Input: MediaPipe hand *world* landmarks, (21, 3) metres, camera-aligned axes: x to the image's
  right, y down, z away from the camera. The person faces an un-mirrored camera.
- :func:`to_avatar` maps those axes onto the avatar's (Unity: x = avatar's right, y up,
  z = avatar's forward): the person's right is image left (-x), up is -y, their forward is toward
  the camera (-z). The map is ``-v``; it is the identity on physical directions, only the
  coordinate handedness changes (MediaPipe's axes are right-handed, Unity's left-handed).
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

UP: F64 = np.array([0.0, 1.0, 0.0])
FORWARD: F64 = np.array([0.0, 0.0, 1.0])


def side_sign(side: str) -> float:
    """+1 for the right side (its bones point toward +X in T-pose), -1 for the left."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    return 1.0 if side == "right" else -1.0


def to_avatar(points: NDArray[np.floating]) -> F64:
    """MediaPipe world axes (x image-right, y down, z away from camera) -> avatar axes (Unity:
    x avatar-right, y up, z forward) for a person facing an un-mirrored camera: ``-v``."""
    return -np.asarray(points, dtype=np.float64)


def _unit(v: F64) -> F64:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v * 0.0


def _unit3(x: float, y: float, z: float) -> tuple[float, float, float]:
    """:func:`_unit` on plain floats."""
    n = math.sqrt(x * x + y * y + z * z)
    return (x / n, y / n, z / n) if n > 1e-9 else (0.0, 0.0, 0.0)


def basis(x: F64, y_hint: F64) -> F64:
    """Rotation matrix with columns (x, y, z): x along ``x``, y = ``y_hint`` made orthogonal to x,
    z = x cross y (so that the identity basis maps to the identity)."""
    # Plain floats: numpy's per-call overhead dominates on 3-vectors (hot path).
    hx, hy, hz = np.asarray(y_hint, dtype=np.float64).tolist()
    ax, ay, az = _unit3(*np.asarray(x, dtype=np.float64).tolist())
    t = hx * ax + hy * ay + hz * az
    bx, by, bz = _unit3(hx - t * ax, hy - t * ay, hz - t * az)
    return np.array(
        [
            [ax, bx, ay * bz - az * by],
            [ay, by, az * bx - ax * bz],
            [az, bz, ax * by - ay * bx],
        ]
    )


def palm_matrix(pts: F64, side: str) -> F64:
    """World rotation (3x3, avatar axes) of the hand from avatar-space hand landmarks.

    In T-pose this is the identity: the hand points along the arm (+/-X), the back of the hand
    faces up (+Y), the thumb side is forward (+Z)."""
    s = side_sign(side)
    (wx, wy, wz), (ix, iy, iz), (mx, my, mz), (px, py, pz) = pts[_PALM_IDX].tolist()
    ix, iy, iz, px, py, pz = ix - wx, iy - wy, iz - wz, px - wx, py - wy, pz - wz
    along = np.array([s * (mx - wx), s * (my - wy), s * (mz - wz)])
    back = np.array([s * (iy * pz - iz * py), s * (iz * px - ix * pz), s * (ix * py - iy * px)])
    return basis(along, back)


_PALM_IDX = np.array(
    [HandIndex.WRIST, HandIndex.INDEX_MCP, HandIndex.MIDDLE_MCP, HandIndex.PINKY_MCP]
)


def _axis_q(axis: F64, deg: float) -> F64:
    return quat.from_axis_angle(axis, np.radians(deg))


def _clamp(v: float, lim: tuple[float, float]) -> float:
    return float(min(max(v, lim[0]), lim[1]))


def thumb_rest_axis(side: str) -> F64:
    """The thumb's pointing direction in T-pose (hand frame), from the rig's T-pose offsets."""
    off = np.array(
        TPOSE_OFFSETS[Bone[("Right" if side == "right" else "Left") + "ThumbIntermediate"]]
    )
    return _unit(off)


def _frames(side: str) -> dict[str, tuple[F64, F64, F64]]:
    """Per finger (a, p, l) in the parent's local frame at rest: a = bone axis, p = palm side
    (toward which curl bends), l = lateral (toward which spread moves)."""
    s = side_sign(side)
    palm = -UP
    out = {}
    for f in FINGERS:
        if f == "Thumb":
            a = thumb_rest_axis(side)
            lat = _unit(FORWARD - np.dot(FORWARD, a) * a)  # away from the index finger
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
        b = _unit(p - lat)
        out[f] = (np.cross(a, p), np.cross(a, lat), b, np.cross(a, b))
    return out


_AXES = {side: _axes(side) for side in ("left", "right")}


def _aa(axis: F64, deg: float) -> Quat:
    """Unit-axis rotation of ``deg`` degrees as an (x, y, z, w) tuple (scalar math: hot path)."""
    h = math.radians(deg) * 0.5
    sn = math.sin(h)
    return (float(axis[0]) * sn, float(axis[1]) * sn, float(axis[2]) * sn, math.cos(h))


_qmul = quat.multiply_tuple


def _qmat(q: Quat) -> F64:
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _base_joint(d: F64, a: F64, p: F64, lat: F64) -> tuple[float, float]:
    """Decompose a local direction into (curl toward p, spread toward lat) in degrees, such that
    d = R(a x lat, spread) R(a x p, curl) a."""
    dp, da, dl = float(d @ p), float(d @ a), float(d @ lat)
    curl = np.degrees(np.arctan2(dp, np.hypot(da, dl)))
    spread = np.degrees(np.arctan2(dl, max(da, 1e-6)))
    return float(curl), float(spread)


def _hinge(d: F64, a: F64, b: F64) -> float:
    """Bend angle (degrees) of direction d from axis a toward b about the hinge a x b."""
    return float(np.degrees(np.arctan2(float(d @ b), float(d @ a))))


# Landmark indices of the 15 finger bones' start and end points, (finger, bone) in FINGERS order.
_SEG_START = np.array([FINGER_CHAINS[f][:3] for f in FINGERS])
_SEG_END = np.array([FINGER_CHAINS[f][1:] for f in FINGERS])

V3 = list[float]
# Per finger (FINGERS order) as plain floats: (a, p, l), (hinge direction, a), curl axis,
# spread axis, hinge axis, k_spread x k_curl, k_spread . k_curl. The hinge direction is p for
# the fingers and b for the thumb; the hinge axis k_curl for the fingers, a x b for the thumb.
_FingerConst = tuple[tuple[V3, V3, V3], tuple[V3, V3], V3, V3, V3, V3, float]


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
                np.cross(k_spread, k_curl).tolist(),
                float(np.dot(k_spread, k_curl)),
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
    degrees, radians, atan2, sin, cos = math.degrees, math.radians, math.atan2, math.sin, math.cos
    for f, (const, lims) in enumerate(
        zip(_FINGER_CONSTS[side], _finger_limits(limits), strict=True)
    ):
        (A, P, L), (B, A2), kc, ks, kh, sxc, sdc = const
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
                hc, hs = radians(curl) * 0.5, radians(spread) * 0.5
                sc, cc, ss, cs = sin(hc), cos(hc), sin(hs), cos(hs)
                # (spread quaternion) * (curl quaternion), both about unit axes.
                a1, a2, a3 = cs * sc, cc * ss, ss * sc
                x = a1 * kc[0] + a2 * ks[0] + a3 * sxc[0]
                y = a1 * kc[1] + a2 * ks[1] + a3 * sxc[1]
                z = a1 * kc[2] + a2 * ks[2] + a3 * sxc[2]
                w = cc * cs - a3 * sdc
            else:
                hb = dx * B[0] + dy * B[1] + dz * B[2]
                ha = dx * A2[0] + dy * A2[1] + dz * A2[2]
                lo, hi = lims[k]
                curl = min(max(degrees(atan2(hb, ha)), lo), hi)
                hh = radians(curl) * 0.5
                sn = sin(hh)
                x, y, z, w = kh[0] * sn, kh[1] * sn, kh[2] * sn, cos(hh)
            out_q.append((x, y, z, w))
            out_c.append(curl)
            if k < 2:  # R = R @ matrix(q)
                xx, yy, zz = x * x, y * y, z * z
                xy, xz, yz, xw, yw, zw = x * y, x * z, y * z, x * w, y * w, z * w
                m00, m01, m02 = 1 - 2 * (yy + zz), 2 * (xy - zw), 2 * (xz + yw)
                m10, m11, m12 = 2 * (xy + zw), 1 - 2 * (xx + zz), 2 * (yz - xw)
                m20, m21, m22 = 2 * (xz - yw), 2 * (yz + xw), 1 - 2 * (xx + yy)
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


def _q(a: F64) -> Quat:
    return (float(a[0]), float(a[1]), float(a[2]), float(a[3]))


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
        lx, ly, lz, lw = quat.from_matrix(parent.T @ H).tolist()
        hq = _limit_wrist(lx, ly, lz, lw, side_sign(side), limits)
        bones[Bone[s_name + "Hand"]] = hq
        H = parent @ _qmat(_qnorm(hq))
    qs, cs = _solve_fingers(pts, H, side, limits)
    for bone, q, cv in zip(_FINGER_BONES[side], qs, cs, strict=True):
        bones[bone] = q
        curls[bone] = cv
    return HandSolution(bones=bones, palm=H, curls=curls)


def limit_wrist(q: F64, side: str, limits: FingerLimits = LIMITS) -> F64:
    """Clamp a Hand local rotation: twist about the forearm axis to +/- wrist_twist, the rest
    (flexion/deviation swing) to wrist_swing degrees."""
    axis = np.array([side_sign(side), 0.0, 0.0])
    swing, twist = swing_twist(q, axis)
    tw = quat.to_rotvec(twist)
    ang = float(np.degrees(np.dot(tw, axis)))
    twist = _axis_q(axis, float(np.clip(ang, -limits.wrist_twist, limits.wrist_twist)))
    sv = quat.to_rotvec(swing)
    sa = float(np.degrees(np.linalg.norm(sv)))
    if sa > limits.wrist_swing:
        swing = quat.from_rotvec(sv * (limits.wrist_swing / sa))
    return quat.multiply(swing, twist)


def _qnorm(q: Quat) -> Quat:
    x, y, z, w = q
    n = math.sqrt(x * x + y * y + z * z + w * w)
    return (x / n, y / n, z / n, w / n)


def _rotvec(q: Quat) -> tuple[float, float, float]:
    """``quat.to_rotvec`` on plain floats (the short way, w >= 0)."""
    x, y, z, w = q
    if w < 0:
        x, y, z, w = -x, -y, -z, -w
    s = math.sqrt(x * x + y * y + z * z)
    k = 2.0 if s < 1e-8 else 2.0 * math.atan2(s, w) / s
    return (x * k, y * k, z * k)


def _limit_wrist(x: float, y: float, z: float, w: float, s: float, limits: FingerLimits) -> Quat:
    """:func:`limit_wrist` on plain floats (forearm axis (s, 0, 0), s = +/-1): the same steps."""
    # swing_twist about (s, 0, 0): the twist keeps x (s * s == 1) and w.
    n = math.sqrt(x * x + w * w)
    tx, tw = (0.0, 1.0) if n < 1e-9 else (x / n, w / n)
    # swing = q * conj(twist)
    swing = _qmul((x, y, z, w), (-tx, -0.0, -0.0, tw))
    ang = math.degrees(_rotvec((tx, 0.0, 0.0, tw))[0] * s)
    h = 0.5 * math.radians(min(max(ang, -limits.wrist_twist), limits.wrist_twist))
    twist = (s * math.sin(h), 0.0, 0.0, math.cos(h))
    vx, vy, vz = _rotvec(swing)
    sa = math.degrees(math.sqrt(vx * vx + vy * vy + vz * vz))
    if sa > limits.wrist_swing:
        k = limits.wrist_swing / sa
        vx, vy, vz = vx * k, vy * k, vz * k
        a = math.sqrt(vx * vx + vy * vy + vz * vz)
        f = 0.5 - a * a / 48.0 if a < 1e-8 else math.sin(0.5 * a) / a
        swing = (vx * f, vy * f, vz * f, math.cos(0.5 * a))
    return _qmul(swing, twist)


def swing_twist(q: F64, axis: F64) -> tuple[F64, F64]:
    """Split q = swing * twist where twist turns about ``axis`` (unit) and swing is
    perpendicular to it."""
    q = np.asarray(q, dtype=np.float64)
    proj = np.dot(q[:3], axis) * axis
    twist = np.array([proj[0], proj[1], proj[2], q[3]])
    n = np.linalg.norm(twist)
    twist = np.array([0.0, 0.0, 0.0, 1.0]) if n < 1e-9 else twist / n
    swing = quat.multiply(q, quat.conjugate(twist))
    return swing, twist


def bend_degrees(q: Quat | F64) -> float:
    """Total rotation angle of a local rotation in degrees (how far a joint is bent)."""
    return float(np.degrees(quat.angle_between(np.asarray(q, dtype=np.float64), quat.IDENTITY)))
