"""Quaternion helpers on plain numpy arrays.

Convention everywhere in vtuber: quaternions are ``(x, y, z, w)`` (scalar last, like Unity, VMC,
three.js and scipy), unit length, and rotate column vectors: ``v' = q v q*``. The formulas do not
depend on the handedness of the basis; vtuber's bone rotations are expressed in Unity's
left-handed basis (x right, y up, z forward), see docs/coordinates.md.

Functions accept a single quaternion of shape (4,) or a stack of shape (..., 4). The formulas the
per-frame solver paths need also have a plain-float twin named ``*_tuple`` (tuples in, tuples
out; numpy's call overhead on one quaternion costs 3-40x the arithmetic,
benchmarks/bench_rotation_paths.py), and the (N, 4) smoother path has row-wise forms named
``*_rows``. tests/test_quat.py pins each twin to its numpy form and to scipy's Rotation. Nothing
else in vtuber writes these formulas out (a test looks for their fingerprints).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

F = NDArray[np.float64]

IDENTITY: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)


def normalize(q: ArrayLike) -> F:
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def multiply(a: ArrayLike, b: ArrayLike) -> F:
    """Hamilton product ``a * b`` (apply b first, then a)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax, ay, az, aw = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bx, by, bz, bw = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def conjugate(q: ArrayLike) -> F:
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def from_axis_angle(axis: ArrayLike, angle: float | ArrayLike) -> F:
    """Rotation of ``angle`` radians about ``axis`` (normalized here)."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([axis * np.sin(half), np.cos(half)], axis=-1)


def from_rotvec(v: ArrayLike) -> F:
    """Rotation vector (axis * angle, radians) -> quaternion; exact near zero."""
    v = np.asarray(v, dtype=np.float64)
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(a/2)/a with its Taylor series near zero
    small = angle < 1e-8
    k = np.where(small, 0.5 - angle**2 / 48.0, np.sin(half) / np.where(small, 1.0, angle))
    return np.concatenate([v * k, np.cos(half)], axis=-1)


def to_rotvec(q: ArrayLike) -> F:
    """Quaternion -> rotation vector (radians), taking the short way (w >= 0)."""
    q = np.asarray(q, dtype=np.float64)
    q = np.where(q[..., 3:4] < 0, -q, q)
    s = np.linalg.norm(q[..., :3], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., 3:4])
    small = s < 1e-8
    k = np.where(small, 2.0, angle / np.where(small, 1.0, s))
    return q[..., :3] * k


def from_matrix(m: ArrayLike) -> F:
    """3x3 rotation matrix -> quaternion (Shepperd's method, w >= 0)."""
    # Plain floats: numpy costs ~10x more on a single 3x3 matrix.
    rows = np.asarray(m, dtype=np.float64).tolist()
    return np.array(from_matrix_tuple(rows))


def to_matrix(q: ArrayLike) -> F:
    """Quaternion(s) -> rotation matrix/matrices of shape (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    n = np.sqrt(x * x + y * y + z * z + w * w)  # normalize(q), the same bits, without its reduce
    x, y, z, w = x / n, y / n, z / n, w / n
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, xw, yw, zw = x * y, x * z, y * z, x * w, y * w, z * w
    m = np.empty(q.shape[:-1] + (3, 3))  # filled in place: 2-4x cheaper than stacking rows
    m[..., 0, 0] = 1 - 2 * (yy + zz)
    m[..., 0, 1] = 2 * (xy - zw)
    m[..., 0, 2] = 2 * (xz + yw)
    m[..., 1, 0] = 2 * (xy + zw)
    m[..., 1, 1] = 1 - 2 * (xx + zz)
    m[..., 1, 2] = 2 * (yz - xw)
    m[..., 2, 0] = 2 * (xz - yw)
    m[..., 2, 1] = 2 * (yz + xw)
    m[..., 2, 2] = 1 - 2 * (xx + yy)
    return m


def matrix_to_rotvec(m: ArrayLike) -> F:
    """3x3 rotation matrix -> rotation vector (radians, the short way: angle <= pi)."""
    return to_rotvec(from_matrix(m))


def rotvec_to_matrix(v: ArrayLike) -> F:
    """Rotation vector(s) (radians) -> rotation matrix/matrices of shape (..., 3, 3)."""
    return to_matrix(from_rotvec(v))


def nearest_rotation(m: ArrayLike) -> F:
    """The proper rotation nearest each 3x3 matrix (least squares), shape (..., 3, 3): the
    orthogonal factor of its SVD with the sign fixed so that det = +1.

    Kabsch's (and Umeyama's) rotation of centred point clouds ``src`` onto ``dst`` is
    ``nearest_rotation(dst.T @ src)``; the chordal mean of rotations is the nearest rotation to
    their average matrix; a blend of two rotation matrices is re-orthogonalised by it.
    """
    u, _, vt = np.linalg.svd(np.asarray(m, dtype=np.float64))
    sign = np.where(np.linalg.det(u @ vt) < 0.0, -1.0, 1.0)
    u[..., :, 2] *= sign[..., None]
    return u @ vt


def matrix_angle(a: F, b: F) -> float:
    """Angle in radians (0..pi) of the rotation between two 3x3 rotation matrices."""
    c = (float(np.einsum("ij,ij->", a, b)) - 1.0) / 2.0  # trace(a @ b.T) = 1 + 2 cos(angle)
    return math.acos(min(1.0, max(-1.0, c)))


def rotate(q: ArrayLike, v: ArrayLike) -> F:
    """Rotate vector(s) v by quaternion q."""
    return np.einsum("...ij,...j->...i", to_matrix(q), np.asarray(v, dtype=np.float64))


def power(q: ArrayLike, t: float) -> F:
    """q^t: the same axis, t times the angle (t in [0, 1] splits a rotation)."""
    return from_rotvec(to_rotvec(q) * t)


def slerp(a: ArrayLike, b: ArrayLike, t: float | ArrayLike) -> F:
    """Spherical interpolation from a (t=0) to b (t=1) along the short arc. Works on stacks:
    a, b of shape (..., 4) and t a scalar or of shape (...)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    b = np.where(np.sum(a * b, axis=-1, keepdims=True) < 0, -b, b)
    tt = np.asarray(t, dtype=np.float64)[..., None]
    return multiply(a, from_rotvec(to_rotvec(multiply(conjugate(a), b)) * tt))


def angle_between(a: ArrayLike, b: ArrayLike) -> F:
    """Angle in radians of the rotation taking a to b (0..pi), sign-insensitive (q ~ -q)."""
    d = np.abs(np.sum(normalize(a) * normalize(b), axis=-1))
    return 2.0 * np.arccos(np.clip(d, 0.0, 1.0))


def mirror_x(q: ArrayLike) -> F:
    """Reflect a rotation through the YZ plane (x -> -x): (x, y, z, w) -> (x, -y, -z, w).

    This is what a left/right mirror does to a bone rotation: a yaw or roll changes sign, a
    pitch does not.
    """
    return np.asarray(q, dtype=np.float64) * np.array([1.0, -1.0, -1.0, 1.0])


def from_two_vectors(a: ArrayLike, b: ArrayLike) -> F:
    """Shortest-arc rotation taking direction a to direction b."""
    u: F = np.asarray(a, dtype=np.float64)
    v: F = np.asarray(b, dtype=np.float64)
    u = u / np.linalg.norm(u)
    v = v / np.linalg.norm(v)
    c = np.cross(u, v)
    d = float(np.dot(u, v))
    if d < -1.0 + 1e-9:  # opposite: any perpendicular axis
        axis = np.cross(u, np.array([1.0, 0.0, 0.0]))
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(u, np.array([0.0, 1.0, 0.0]))
        return from_axis_angle(axis, np.pi)
    q = np.array([c[0], c[1], c[2], 1.0 + d])
    return q / np.linalg.norm(q)


def swing_twist(q: ArrayLike, axis: ArrayLike) -> tuple[F, F]:
    """Split q = swing * twist where twist turns about ``axis`` (unit) and swing is
    perpendicular to it."""
    q = np.asarray(q, dtype=np.float64)
    axis = np.asarray(axis, dtype=np.float64)
    proj = np.dot(q[:3], axis) * axis
    twist = np.array([proj[0], proj[1], proj[2], q[3]])
    n = np.linalg.norm(twist)
    twist = np.array([0.0, 0.0, 0.0, 1.0]) if n < 1e-9 else twist / n
    swing = multiply(q, conjugate(twist))
    return swing, twist


# ----------------------------------------------------------------- (N, 4) row-wise fast forms
# The per-frame smoother works on fixed (N, 4) / (N, 3) stacks, where numpy's call overhead
# dominates: these forms do the same maths as multiply / to_rotvec / from_rotvec / slerp in fewer
# array operations (the product as one gather-multiply-sum). Inputs must be 2-D float64 arrays.
# Component k of a * b is sum_j SIGN[k, j] * a[IA[k, j]] * b[IB[k, j]] (j = 0..3).
_QM_IA = np.array([3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2])
_QM_IB = np.array([0, 3, 2, 1, 1, 2, 3, 0, 2, 1, 0, 3, 3, 0, 1, 2])
_QM_SIGN = np.array([1, 1, 1, -1, 1, -1, 1, 1, 1, 1, -1, 1, 1, -1, -1, -1], np.float64)
_CONJ = np.array([-1.0, -1.0, -1.0, 1.0])


def multiply_rows(a: F, b: F) -> F:
    """Row-wise Hamilton product of two (N, 4) stacks (as :func:`multiply`)."""
    return (a[:, _QM_IA] * b[:, _QM_IB] * _QM_SIGN).reshape(-1, 4, 4).sum(axis=2)


def conjugate_rows(q: F) -> F:
    """(N, 4) conjugates (as :func:`conjugate`)."""
    return q * _CONJ


def to_rotvec_rows(q: F) -> F:
    """(N, 4) unit quaternions -> (N, 3) rotation vectors, the short way (as :func:`to_rotvec`:
    q and -q give the same vector)."""
    sign = np.where(q[:, 3:4] < 0.0, -1.0, 1.0)
    v = q[:, :3] * sign
    s = np.sqrt(np.einsum("ij,ij->i", v, v))[:, None]
    angle = 2.0 * np.arctan2(s, np.abs(q[:, 3:4]))
    k = np.where(s < 1e-9, 2.0, angle / np.maximum(s, 1e-300))
    return v * k


def from_rotvec_rows(r: F) -> F:
    """(N, 3) rotation vectors -> (N, 4) unit quaternions (as :func:`from_rotvec`)."""
    a = np.sqrt(np.einsum("ij,ij->i", r, r))[:, None]
    h = 0.5 * a
    # sin(a/2) / a, which is 1/2 (to 1e-17) below a = 1e-8.
    k = np.divide(np.sin(h), a, out=np.full_like(a, 0.5), where=a > 1e-8)
    return np.concatenate((r * k, np.cos(h)), axis=1)


def slerp_rows(a: F, b: F, w: F) -> F:
    """Row-wise slerp of (N, 4) stacks from a (w=0) to b (w=1) along the short arc; w of shape
    (N,) (as :func:`slerp`)."""
    return multiply_rows(
        a, from_rotvec_rows(to_rotvec_rows(multiply_rows(conjugate_rows(a), b)) * w[:, None])
    )


# --------------------------------------------------------------- plain-float twins (*_tuple)
# The same formulas on plain Python floats, for the per-frame solver paths (one quaternion or one
# 3x3 matrix at a time, where numpy's per-call overhead dominates). Quaternions are (x, y, z, w)
# tuples, vectors (x, y, z) tuples, matrices three row tuples.
Quat = tuple[float, float, float, float]
Vec3 = tuple[float, float, float]
Mat3 = tuple[Vec3, Vec3, Vec3]


def normalize_tuple(q: Sequence[float]) -> Quat:
    """:func:`normalize` on plain floats."""
    x, y, z, w = q
    n = math.sqrt(x * x + y * y + z * z + w * w)
    return (x / n, y / n, z / n, w / n)


def multiply_tuple(a: Sequence[float], b: Sequence[float]) -> Quat:
    """:func:`multiply` on plain floats: the Hamilton product ``a * b``."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def conjugate_tuple(q: Sequence[float]) -> Quat:
    """:func:`conjugate` on plain floats."""
    return (-q[0], -q[1], -q[2], q[3])


def mirror_x_tuple(q: Sequence[float]) -> Quat:
    """:func:`mirror_x` on plain floats: (x, y, z, w) -> (x, -y, -z, w)."""
    return (q[0], -q[1], -q[2], q[3])


def from_axis_angle_tuple(axis: Sequence[float], angle: float) -> Quat:
    """:func:`from_axis_angle` on plain floats (axis normalized here; a zero axis gives NaNs, as
    numpy's 0/0 does)."""
    ax, ay, az = axis
    n = math.sqrt(ax * ax + ay * ay + az * az)
    if n == 0.0:
        return (math.nan, math.nan, math.nan, math.cos(0.5 * angle))
    ax, ay, az = ax / n, ay / n, az / n
    h = 0.5 * angle
    sn = math.sin(h)
    return (ax * sn, ay * sn, az * sn, math.cos(h))


def from_unit_axis_angle_tuple(axis: Sequence[float], angle: float) -> Quat:
    """:func:`from_axis_angle_tuple` for an axis that is already unit length (not normalized
    again: the per-frame hinge path)."""
    h = 0.5 * angle
    sn = math.sin(h)
    return (axis[0] * sn, axis[1] * sn, axis[2] * sn, math.cos(h))


def from_rotvec_tuple(v: Sequence[float]) -> Quat:
    """:func:`from_rotvec` on plain floats (exact near zero)."""
    vx, vy, vz = v
    a = math.sqrt(vx * vx + vy * vy + vz * vz)
    k = 0.5 - a * a / 48.0 if a < 1e-8 else math.sin(0.5 * a) / a
    return (vx * k, vy * k, vz * k, math.cos(0.5 * a))


def to_rotvec_tuple(q: Sequence[float]) -> Vec3:
    """:func:`to_rotvec` on plain floats (the short way, w >= 0)."""
    x, y, z, w = q
    if w < 0:
        x, y, z, w = -x, -y, -z, -w
    s = math.sqrt(x * x + y * y + z * z)
    k = 2.0 if s < 1e-8 else 2.0 * math.atan2(s, w) / s
    return (x * k, y * k, z * k)


def power_tuple(q: Sequence[float], t: float) -> Quat:
    """:func:`power` on plain floats: q^t, the same axis and t times the angle."""
    vx, vy, vz = to_rotvec_tuple(q)
    return from_rotvec_tuple((t * vx, t * vy, t * vz))


def to_matrix_tuple(q: Sequence[float]) -> Mat3:
    """:func:`to_matrix` on plain floats for a UNIT quaternion (numpy's form normalizes first;
    here call :func:`normalize_tuple` first when q may not be unit)."""
    x, y, z, w = q
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz, xw, yw, zw = x * y, x * z, y * z, x * w, y * w, z * w
    return (
        (1 - 2 * (yy + zz), 2 * (xy - zw), 2 * (xz + yw)),
        (2 * (xy + zw), 1 - 2 * (xx + zz), 2 * (yz - xw)),
        (2 * (xz - yw), 2 * (yz + xw), 1 - 2 * (xx + yy)),
    )


def from_matrix_tuple(m: Sequence[Sequence[float]]) -> Quat:
    """:func:`from_matrix` on plain floats: a rotation matrix given as rows -> quaternion
    (Shepperd's method, w >= 0)."""
    (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = m
    tr = m00 + m11 + m22
    if tr > 0:
        s = 2.0 * math.sqrt(tr + 1.0)
        q = ((m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s)
    elif m00 > m11 and m00 > m22:
        s = 2.0 * math.sqrt(1.0 + m00 - m11 - m22)
        q = (0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s)
    elif m11 > m22:
        s = 2.0 * math.sqrt(1.0 + m11 - m00 - m22)
        q = ((m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m22 - m00 - m11)
        q = ((m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s)
    n = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if q[3] < 0:
        n = -n
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def matrix_to_rotvec_tuple(m: Sequence[Sequence[float]]) -> Vec3:
    """:func:`matrix_to_rotvec` on plain floats: a rotation matrix given as rows -> rotation
    vector (the short way)."""
    return to_rotvec_tuple(from_matrix_tuple(m))


def rotvec_to_matrix_tuple(v: Sequence[float]) -> Mat3:
    """:func:`rotvec_to_matrix` on plain floats: rotation vector -> matrix rows."""
    return to_matrix_tuple(from_rotvec_tuple(v))


def from_two_vectors_tuple(a: Sequence[float], b: Sequence[float]) -> Quat:
    """:func:`from_two_vectors` on plain floats (a zero vector gives NaNs, as numpy's 0/0)."""
    ux, uy, uz = _unit_or_nan(a)
    vx, vy, vz = _unit_or_nan(b)
    cx, cy, cz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
    d = ux * vx + uy * vy + uz * vz
    if d < -1.0 + 1e-9:  # opposite: any perpendicular axis (u x X, else u x Y)
        axis = (0.0, uz, -uy)
        if math.sqrt(uz * uz + uy * uy) < 1e-6:
            axis = (-uz, 0.0, ux)
        return from_axis_angle_tuple(axis, math.pi)
    n = math.sqrt(cx * cx + cy * cy + cz * cz + (1.0 + d) * (1.0 + d))
    return (cx / n, cy / n, cz / n, (1.0 + d) / n)


def _unit_or_nan(v: Sequence[float]) -> Vec3:
    x, y, z = v
    n = math.sqrt(x * x + y * y + z * z)
    if n == 0.0:
        return (math.nan, math.nan, math.nan)
    return (x / n, y / n, z / n)


def swing_twist_tuple(q: Sequence[float], axis: Sequence[float]) -> tuple[Quat, Quat]:
    """:func:`swing_twist` on plain floats: q = swing * twist, twist about the unit ``axis``."""
    x, y, z, w = q
    ax, ay, az = axis
    d = x * ax + y * ay + z * az
    px, py, pz = d * ax, d * ay, d * az
    n = math.sqrt(px * px + py * py + pz * pz + w * w)
    twist = (0.0, 0.0, 0.0, 1.0) if n < 1e-9 else (px / n, py / n, pz / n, w / n)
    return multiply_tuple(q, conjugate_tuple(twist)), twist
