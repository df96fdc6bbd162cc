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


def _qmul(a: Quat, b: Quat) -> Quat:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


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


def _qmats(q: F64) -> F64:
    """(n, 4) quaternions -> (n, 3, 3) rotation matrices (the same formula as :func:`_qmat`)."""
    x, y, z, w = q.T
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, xw, yw, zw = x * y, x * z, y * z, x * w, y * w, z * w
    m = np.empty((len(q), 3, 3))
    m[:, 0, 0] = 1 - 2 * (yy + zz)
    m[:, 0, 1] = 2 * (xy - zw)
    m[:, 0, 2] = 2 * (xz + yw)
    m[:, 1, 0] = 2 * (xy + zw)
    m[:, 1, 1] = 1 - 2 * (xx + zz)
    m[:, 1, 2] = 2 * (yz - xw)
    m[:, 2, 0] = 2 * (xz - yw)
    m[:, 2, 1] = 2 * (yz + xw)
    m[:, 2, 2] = 1 - 2 * (xx + yy)
    return m


# Landmark indices of the 15 finger bones' start and end points, (finger, bone) in FINGERS order.
_SEG_START = np.array([FINGER_CHAINS[f][:3] for f in FINGERS])
_SEG_END = np.array([FINGER_CHAINS[f][1:] for f in FINGERS])


@dataclass(frozen=True, slots=True)
class _FingerBatch:
    """One side's per-finger constants stacked in FINGERS order for the batched solve.

    apl: (5, 3, 3) rows a, p, l; hinge_ab: (5, 2, 3) rows (hinge direction, a), the hinge
    direction being p for fingers and b for the thumb; k_curl, k_spread, k_hinge: (5, 3) axes;
    sxc = k_spread x k_curl, sdc = k_spread . k_curl (for the base joints' quaternion product);
    bones: the 15 bones in (finger, phalanx) order."""

    apl: F64
    hinge_ab: F64
    k_curl: F64
    k_spread: F64
    k_hinge: F64
    sxc: F64
    sdc: F64
    bones: tuple[Bone, ...]


def _batch(side: str) -> _FingerBatch:
    fr, ax = _FRAMES[side], _AXES[side]
    s_name = "Right" if side == "right" else "Left"
    k_curl = np.array([ax[f][0] for f in FINGERS])
    k_spread = np.array([ax[f][1] for f in FINGERS])
    return _FingerBatch(
        apl=np.array([np.stack(fr[f]) for f in FINGERS]),
        hinge_ab=np.array(
            [np.stack((ax[f][2] if f == "Thumb" else fr[f][1], fr[f][0])) for f in FINGERS]
        ),
        k_curl=k_curl,
        k_spread=k_spread,
        k_hinge=np.array([ax[f][3] if f == "Thumb" else ax[f][0] for f in FINGERS]),
        sxc=np.cross(k_spread, k_curl),
        sdc=np.einsum("ij,ij->i", k_spread, k_curl),
        bones=tuple(Bone[s_name + f + ph] for f in FINGERS for ph in PHALANGES),
    )


_BATCH = {side: _batch(side) for side in ("left", "right")}
_LIMIT_ARRAYS: dict[FingerLimits, tuple[F64, F64]] = {}


def _limit_arrays(limits: FingerLimits) -> tuple[F64, F64]:
    """(lo, hi), each (4, 5): rows = base curl (thumb: lift), mid curl, tip curl, base spread;
    columns = fingers in FINGERS order (thumb first)."""
    got = _LIMIT_ARRAYS.get(limits)
    if got is None:
        L = limits
        rows = [
            (L.thumb_lift, L.base_curl),
            (L.thumb_mid, L.mid_curl),
            (L.thumb_tip, L.tip_curl),
            (L.thumb_spread, L.base_spread),
        ]
        lo = np.array([[t[0]] + [o[0]] * 4 for t, o in rows])
        hi = np.array([[t[1]] + [o[1]] * 4 for t, o in rows])
        got = _LIMIT_ARRAYS[limits] = (lo, hi)
    return got


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
    c = _BATCH[side]
    lo, hi = _limit_arrays(limits)
    # All 15 finger segments at once: seg[f, k] = end - start of finger f's bone k.
    seg = pts[_SEG_END] - pts[_SEG_START]
    R = np.broadcast_to(H, (5, 3, 3))
    q_all = np.empty((5, 3, 4))
    curl_all = np.empty((5, 3))
    for k in range(3):
        # d = R^T (segment), per finger, made unit (zero when degenerate).
        d = np.matmul(seg[:, k, None, :], R)[:, 0]
        n = np.sqrt(np.einsum("ij,ij->i", d, d))
        d = np.where((n > 1e-9)[:, None], d / np.where(n > 1e-9, n, 1.0)[:, None], 0.0)
        if k == 0:
            # Base joints: d = R(a x l, spread) R(a x p, curl) a, then the limits.
            da, dp, dl = np.matmul(c.apl, d[:, :, None])[:, :, 0].T
            curl = np.clip(np.degrees(np.arctan2(dp, np.hypot(da, dl))), lo[0], hi[0])
            spread = np.clip(np.degrees(np.arctan2(dl, np.maximum(da, 1e-6))), lo[3], hi[3])
            hc, hs = np.radians(curl) * 0.5, np.radians(spread) * 0.5
            sc, cc, ss, cs = np.sin(hc), np.cos(hc), np.sin(hs), np.cos(hs)
            # (spread quaternion) * (curl quaternion), both about unit axes.
            sssc = ss * sc
            q_all[:, 0, :3] = (
                (cs * sc)[:, None] * c.k_curl
                + (cc * ss)[:, None] * c.k_spread
                + sssc[:, None] * c.sxc
            )
            q_all[:, 0, 3] = cc * cs - sssc * c.sdc
        else:
            # Hinges: bend from a toward the hinge direction about the hinge axis.
            hb, ha = np.matmul(c.hinge_ab, d[:, :, None])[:, :, 0].T
            curl = np.clip(np.degrees(np.arctan2(hb, ha)), lo[k], hi[k])
            h = np.radians(curl) * 0.5
            q_all[:, k, :3] = np.sin(h)[:, None] * c.k_hinge
            q_all[:, k, 3] = np.cos(h)
        curl_all[:, k] = curl
        if k < 2:
            R = np.matmul(R, _qmats(q_all[:, k]))
    qs, cs = q_all.reshape(15, 4).tolist(), curl_all.ravel().tolist()
    for bone, q, cv in zip(c.bones, qs, cs, strict=True):
        bones[bone] = (q[0], q[1], q[2], q[3])
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
