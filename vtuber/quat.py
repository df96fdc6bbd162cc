"""Quaternion helpers on plain numpy arrays.

Convention everywhere in vtuber: quaternions are ``(x, y, z, w)`` (scalar last, like Unity, VMC,
three.js and scipy), unit length, and rotate column vectors: ``v' = q v q*``. The formulas do not
depend on the handedness of the basis; vtuber's bone rotations are expressed in Unity's
left-handed basis (x right, y up, z forward), see docs/coordinates.md.

Functions accept a single quaternion of shape (4,) or a stack of shape (..., 4).
"""

from __future__ import annotations

import math

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


def multiply_tuple(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """:func:`multiply` for one pair of plain-float quaternions (per-frame solver paths, where
    numpy's call overhead costs ~20x the arithmetic)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
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
    (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = np.asarray(m, dtype=np.float64).tolist()
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
    return np.array((q[0] / n, q[1] / n, q[2] / n, q[3] / n))


def to_matrix(q: ArrayLike) -> F:
    """Quaternion(s) -> rotation matrix/matrices of shape (..., 3, 3)."""
    x, y, z, w = np.moveaxis(normalize(q), -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=-2,
    )


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
