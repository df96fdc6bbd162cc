"""Synthetic hand landmarks posed by forward kinematics from joint angles (docs/gestures.md).

A hand here is the 21 MediaPipe hand points (wrist, then thumb CMC/MCP/IP/tip, then index,
middle, ring and little MCP/PIP/DIP/tip) in metres, in MediaPipe's world axes: x to the image's
right, y down, z away from the camera. Every hand is built as a RIGHT hand in a local frame
(origin at the wrist, +x toward the thumb side, +y along the fingers, +z out of the palm; finger
flexion turns +y toward +z) and then rotated into the camera frame; a left hand is the right hand
reflected through the YZ plane (x -> -x), which is how the gesture features undo handedness.

Joint angles (degrees), one row of :data:`N_PARAMS` per hand:
    for index, middle, ring, little: spread (about the palm normal, + toward the thumb), MCP, PIP
    and DIP flexion;
    thumb: yaw (about the palm normal; negative = out toward the thumb side), palmar abduction
    (toward the palm), MCP flexion, MCP "across" (toward the little finger) and IP flexion.

Each gesture class has a joint-angle sampler (``CLASS_SAMPLERS``); ``"none"`` samples random hands
that match no class pattern (:func:`finger_states` labels a pose from its angles, with a margin).
The generator adds bone-length variation, overall scale, a random camera-facing orientation and
per-point noise of the size MediaPipe's world landmarks show.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from vtuber import quat

F64 = NDArray[np.float64]

FINGERS = ("index", "middle", "ring", "little")
N_PARAMS = 4 * 4 + 5
THUMB = 16  # first thumb parameter

# Right hand, local frame, metres (an adult hand ~18.5 cm wrist to middle tip).
_MCP = np.array(
    [[0.024, 0.088, 0.004], [0.002, 0.092, 0.006], [-0.017, 0.086, 0.005], [-0.033, 0.076, 0.0]]
)
_PHALANX = np.array(
    [[0.040, 0.024, 0.020], [0.045, 0.028, 0.021], [0.042, 0.026, 0.020], [0.033, 0.019, 0.018]]
)
_THUMB_CMC = np.array([0.022, 0.024, 0.008])
_THUMB_BONES = np.array([0.042, 0.032, 0.027])  # metacarpal, proximal, distal

# Joint-angle boxes (degrees) of the finger and thumb states the classes are built from.
EXTENDED = ((-12.0, 12.0), (-10.0, 18.0), (0.0, 18.0), (0.0, 12.0))  # spread, mcp, pip, dip
CURLED = ((-6.0, 6.0), (62.0, 95.0), (85.0, 110.0), (40.0, 75.0))
THUMB_OUT = ((-70.0, -30.0), (-10.0, 25.0), (-10.0, 18.0), (-10.0, 10.0), (-15.0, 18.0))
THUMB_IN = ((-12.0, 15.0), (30.0, 60.0), (20.0, 50.0), (10.0, 35.0), (20.0, 60.0))
THUMB_ANY = ((-70.0, 15.0), (-10.0, 60.0), (-10.0, 50.0), (-10.0, 35.0), (-15.0, 60.0))
FINGER_ANY = ((-12.0, 12.0), (-10.0, 95.0), (0.0, 110.0), (0.0, 75.0))


_X_AXIS = np.array([1.0, 0.0, 0.0])
_Z_AXIS = np.array([0.0, 0.0, 1.0])


def _rx(a: F64) -> F64:
    """Rotation matrices (..., 3, 3) of angles ``a`` (radians) about x."""
    return quat.to_matrix(quat.from_axis_angle(_X_AXIS, a))


def _rz(a: F64) -> F64:
    """Rotation matrices (..., 3, 3) of angles ``a`` (radians) about z."""
    return quat.to_matrix(quat.from_axis_angle(_Z_AXIS, a))


def forward_kinematics(params: F64, bone_scale: F64 | None = None) -> F64:
    """Joint angles (N, N_PARAMS) in degrees -> right-hand points (N, 21, 3) in the local frame.

    ``bone_scale`` (N, 5) scales each finger's bones (thumb, index, middle, ring, little)."""
    p = np.radians(np.atleast_2d(np.asarray(params, dtype=np.float64)))
    n = p.shape[0]
    bs = np.ones((n, 5)) if bone_scale is None else np.asarray(bone_scale, dtype=np.float64)
    out = np.zeros((n, 21, 3))
    y = np.array([0.0, 1.0, 0.0])
    # Every joint's rotation matrix in two batched calls: each parameter as a turn about x (the
    # flexions and the thumb's abduction use theirs), and the turns about the palm normal z:
    # the four spreads (positive toward the thumb, +x: y turns toward +x), the thumb's yaw from
    # its rest direction 40 degrees out toward the thumb side, and the thumb's "across".
    rx = _rx(p.T)  # (N_PARAMS, n, 3, 3)
    rz = _rz(np.concatenate([-p.T[0:16:4], p.T[[THUMB]] - math.radians(40.0), p.T[[THUMB + 3]]]))
    for f in range(4):
        base = _MCP[f] * bs[:, 1 + f, None]
        idx = 5 + 4 * f
        out[:, idx] = base
        rot = rz[f] @ rx[4 * f + 1]  # spread, then MCP flexion
        pos = base
        for k in range(3):
            if k:
                rot = rot @ rx[4 * f + 1 + k]  # PIP, DIP
            pos = pos + (rot @ y) * (_PHALANX[f, k] * bs[:, 1 + f])[:, None]
            out[:, idx + 1 + k] = pos
    cmc = _THUMB_CMC * bs[:, 0, None]
    out[:, 1] = cmc
    rot = rz[4] @ rx[THUMB + 1]  # yaw, abduction
    pos = cmc
    for k in range(3):
        if k == 1:
            rot = rot @ rx[THUMB + 2] @ rz[5]  # MCP flexion, across
        elif k == 2:
            rot = rot @ rx[THUMB + 4]  # IP flexion
        pos = pos + (rot @ y) * (_THUMB_BONES[k] * bs[:, 0])[:, None]
        out[:, 2 + k] = pos
    return out


def _box(rng: np.random.Generator, box: tuple[tuple[float, float], ...], n: int) -> F64:
    lo = np.array([b[0] for b in box])
    hi = np.array([b[1] for b in box])
    return lo + (hi - lo) * rng.random((n, len(box)))


def _hand(
    rng: np.random.Generator,
    n: int,
    fingers: tuple[tuple[tuple[float, float], ...], ...],
    thumb: tuple[tuple[float, float], ...],
) -> F64:
    parts = [_box(rng, fingers[f], n) for f in range(4)] + [_box(rng, thumb, n)]
    return np.concatenate(parts, axis=1)


E, C, A = EXTENDED, CURLED, FINGER_ANY

# Class -> (finger boxes, thumb box). Thumbs up/down share a shape; orientation decides.
Box = tuple[tuple[float, float], ...]
SHAPES: dict[str, tuple[tuple[Box, ...], Box]] = {
    "open_palm": ((E, E, E, E), THUMB_OUT),
    "fist": ((C, C, C, C), THUMB_IN),
    "thumbs_up": ((C, C, C, C), THUMB_OUT),
    "thumbs_down": ((C, C, C, C), THUMB_OUT),
    "peace": ((E, E, C, C), THUMB_IN),
    "pointing": ((E, C, C, C), THUMB_IN),
    "rock": ((E, C, C, E), THUMB_ANY),
}  # fmt: skip
# Shapes that are NOT built-in classes, for testing custom training (they are "none" to the
# built-in model): thumb and little finger out; thumb and index out (an "L"); all four fingers
# half bent; four fingers up with the thumb folded in.
HALF = ((-6.0, 6.0), (25.0, 45.0), (55.0, 80.0), (30.0, 50.0))
CUSTOM_SHAPES: dict[str, tuple[tuple[Box, ...], Box]] = {
    "call_me": ((C, C, C, E), THUMB_OUT),
    "gun": ((E, C, C, C), THUMB_OUT),
    "claw": ((HALF, HALF, HALF, HALF), THUMB_OUT),
    "four": ((E, E, E, E), THUMB_IN),
}
BUILTIN_HAND_CLASSES = (
    "open_palm", "fist", "thumbs_up", "thumbs_down", "peace", "pointing", "ok", "rock",
)  # fmt: skip

# Per-finger flexion totals (MCP + PIP + DIP, degrees) that count as extended / curled when a
# random "none" hand is labelled: wider than the class boxes, so "none" keeps a margin.
_EXT_MAX = 75.0
_CURL_MIN = 150.0


def finger_states(params: F64) -> list[str]:
    """'E' (extended), 'C' (curled) or 'M' (between) for index..little, then the thumb
    ('E' out, 'C' in, 'M' between), from one row of joint angles."""
    out = []
    for f in range(4):
        total = params[4 * f + 1] + params[4 * f + 2] + params[4 * f + 3]
        out.append("E" if total < _EXT_MAX else "C" if total > _CURL_MIN else "M")
    yaw, abd = params[THUMB], params[THUMB + 1]
    bend = params[THUMB + 2] + params[THUMB + 4]
    if yaw < -22.0 and abd < 32.0 and bend < 45.0:
        out.append("E")
    elif yaw > -20.0 and abd > 22.0:
        out.append("C")
    else:
        out.append("M")
    return out


_PATTERNS = {
    "open_palm": "EEEEE",
    "fist": "CCCCC",
    "thumbs": "CCCCE",
    "peace": "EECC?",
    "pointing": "ECCCC",
    "rock": "ECCE?",
}


def _matches_class(params: F64, points: F64) -> bool:
    st = finger_states(params)
    for pat in _PATTERNS.values():
        if all(p in ("?", s) for p, s in zip(pat, st, strict=True)):
            return True
    # OK-like: thumb tip close to the index tip with the other three fingers extended.
    ok_like = st[1] == st[2] == st[3] == "E"
    return bool(ok_like and np.linalg.norm(points[4] - points[8]) < 0.035)


# A table of thumb poses and their tip positions, for closing the OK ring.
_THUMB_TABLE: tuple[F64, F64] | None = None


def _thumb_table() -> tuple[F64, F64]:
    global _THUMB_TABLE
    if _THUMB_TABLE is None:
        rng = np.random.default_rng(12345)
        thumb = _box(
            rng, ((-60.0, 20.0), (0.0, 70.0), (-5.0, 50.0), (-10.0, 40.0), (-10.0, 50.0)), 6000
        )
        params = np.zeros((len(thumb), N_PARAMS))
        params[:, THUMB:] = thumb
        _THUMB_TABLE = (thumb, forward_kinematics(params)[:, 4])
    return _THUMB_TABLE


def _ok(rng: np.random.Generator, n: int) -> F64:
    # Index bent into a ring; middle, ring, little extended; the thumb tip meets the index tip.
    ring = ((-8.0, 8.0), (25.0, 50.0), (40.0, 75.0), (15.0, 40.0))
    params = _hand(rng, n, (ring, E, E, E), THUMB_ANY)
    tips = forward_kinematics(params)[:, 8]
    thumbs, thumb_tips = _thumb_table()
    for i in range(n):
        d = np.linalg.norm(thumb_tips - tips[i], axis=1)
        params[i, THUMB:] = thumbs[int(np.argmin(d))] + rng.normal(0.0, 2.0, 5)
    return params


def _none(rng: np.random.Generator, n: int) -> F64:
    out: list[F64] = []
    while len(out) < n:
        params = _hand(rng, 4 * n, (A, A, A, A), THUMB_ANY)
        pts = forward_kinematics(params)
        for row, p in zip(params, pts, strict=True):
            if not _matches_class(row, p):
                out.append(row)
                if len(out) == n:
                    break
    return np.array(out)


def sample_params(rng: np.random.Generator, cls: str, n: int) -> F64:
    """Joint angles (n, N_PARAMS) for a class (a built-in name or ``"none"``)."""
    if cls == "ok":
        return _ok(rng, n)
    if cls == "none":
        return _none(rng, n)
    fingers, thumb = SHAPES[cls] if cls in SHAPES else CUSTOM_SHAPES[cls]
    return _hand(rng, n, fingers, thumb)


# One rotation at a time: the plain-float forms (numpy's call overhead dominates on one).
def _rotation(axis: F64, angle: float) -> F64:
    """The rotation matrix of ``angle`` radians about ``axis``."""
    return np.array(quat.to_matrix_tuple(quat.from_axis_angle_tuple(axis.tolist(), angle)))


def _align(src: F64, dst: F64) -> F64:
    """The smallest rotation taking direction ``src`` to ``dst``."""
    return np.array(quat.to_matrix_tuple(quat.from_two_vectors_tuple(src.tolist(), dst.tolist())))


# Local frame -> camera frame for a right hand held up, palm to the camera: fingers up (-y),
# thumb toward the image's right (+x), palm normal toward the camera (-z).
PALM_TO_CAMERA = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])
UP = np.array([0.0, -1.0, 0.0])


def random_orientation(rng: np.random.Generator, points: F64, cls: str) -> F64:
    """A camera-frame rotation for one local-frame hand of class ``cls``.

    Thumbs up/down: the thumb (CMC -> tip) within 35 degrees of straight up/down, any roll
    about it. Others: fingers within 75 degrees of up, the palm turned up to 110 degrees away
    from the camera either way (palm, side or back of the hand to the camera)."""
    if cls in ("thumbs_up", "thumbs_down", "thumbs_side"):
        thumb = points[4] - points[1]
        if cls == "thumbs_side":  # the thumb level (a "none" hand), pointing anywhere around
            phi = rng.uniform(-math.pi, math.pi)
            target = np.array([math.cos(phi), 0.0, math.sin(phi)])
        else:
            target = UP if cls == "thumbs_up" else -UP
        tilt = _rotation(rng.normal(size=3), math.radians(35.0) * math.sqrt(rng.random()))
        base = _align(thumb, tilt @ target)
        roll = _rotation(tilt @ target, rng.uniform(-math.pi, math.pi))
        return roll @ base
    roll = _rotation(np.array([0.0, 1.0, 0.0]), math.radians(rng.uniform(-110.0, 110.0)))
    tilt = _rotation(rng.normal(size=3), math.radians(75.0) * math.sqrt(rng.random()))
    return tilt @ PALM_TO_CAMERA @ roll


def make_hands(
    rng: np.random.Generator,
    cls: str,
    n: int,
    noise_m: float = 0.003,
    left_share: float = 0.5,
) -> tuple[F64, NDArray[np.bool_]]:
    """``n`` camera-frame hands of class ``cls``: (points (n, 21, 3) metres about the wrist,
    is_left (n,)). Bones vary +-8 %, overall size 0.8-1.2, per-point noise ``noise_m``.

    ``"none"`` hands whose thumb happens to point up or down like a thumbs-up are kept only when
    their shape is not one (:func:`finger_states` decides)."""
    params = sample_params(rng, cls, n)
    kinds = [cls] * n
    if cls == "none":
        # Some thumbs-up shaped hands held with the thumb level: not a thumbs up or down.
        side = np.flatnonzero(rng.random(n) < 0.12)
        params[side] = sample_params(rng, "thumbs_up", len(side))
        for i in side:
            kinds[i] = "thumbs_side"
    bone = rng.uniform(0.92, 1.08, (n, 5))
    local = forward_kinematics(params, bone) * rng.uniform(0.8, 1.2, (n, 1, 1))
    out = np.empty_like(local)
    for i in range(n):
        r = random_orientation(rng, local[i], kinds[i])
        out[i] = local[i] @ r.T
    out += rng.normal(0.0, noise_m, out.shape)
    is_left = rng.random(n) < left_share
    out[is_left, :, 0] *= -1.0
    return out, is_left


def make_dataset(
    rng: np.random.Generator,
    n_per_class: int,
    classes: tuple[str, ...] = BUILTIN_HAND_CLASSES + ("none",),
    noise_m: float = 0.003,
) -> tuple[F64, NDArray[np.bool_], list[str]]:
    """Hands of every class: (points (N, 21, 3), is_left (N,), labels)."""
    pts, left, labels = [], [], []
    for c in classes:
        p, lf = make_hands(rng, c, n_per_class, noise_m)
        pts.append(p)
        left.append(lf)
        labels += [c] * n_per_class
    return np.concatenate(pts), np.concatenate(left), labels


def random_motion(
    rng: np.random.Generator,
    seconds: float,
    fps: float = 30.0,
    noise_m: float = 0.003,
) -> tuple[F64, NDArray[np.bool_]]:
    """A hand moving at random through non-gesture poses: joint angles and orientation glide
    between random "none" key poses every 0.4-1.5 s. Frames whose angles match a class pattern
    (possible between two key poses) are flagged in the second array (``gesture_like``) so a
    caller can tell a false trigger from a real one. Returns (points (T, 21, 3), gesture_like)."""
    n = int(seconds * fps)
    keys: list[tuple[float, F64, F64]] = []
    t = 0.0
    while t < seconds + 2.0:
        par = sample_params(rng, "none", 1)[0]
        local = forward_kinematics(par[None])[0]
        keys.append((t, par, random_orientation(rng, local, "none")))
        t += rng.uniform(0.4, 1.5)
    times = np.arange(n) / fps
    starts = np.array([k[0] for k in keys])
    seg = np.searchsorted(starts, times, side="right") - 1
    a = (times - starts[seg]) / (starts[seg + 1] - starts[seg])
    a = (a * a * (3.0 - 2.0 * a))[:, None]
    kp = np.array([k[1] for k in keys])
    kr = np.array([k[2] for k in keys])
    par = (1.0 - a) * kp[seg] + a * kp[seg + 1]
    local = forward_kinematics(par) * rng.uniform(0.85, 1.15)
    # Blend the two orientations and re-orthogonalise (fine for a random walk).
    r = quat.nearest_rotation((1.0 - a[:, :, None]) * kr[seg] + a[:, :, None] * kr[seg + 1])
    pts = np.einsum("nij,nkj->nki", r, local)
    like = np.array([_matches_class(pp, lp) for pp, lp in zip(par, local, strict=True)])
    pts += rng.normal(0.0, noise_m, pts.shape)
    return pts, like
