"""Frames and 3-vectors shared by the body and hand solvers (rotation formulas live in
:mod:`vtuber.quat`).

- :func:`to_avatar` maps MediaPipe world axes onto the avatar's Unity axes (docs/body.md).
- :func:`basis` (and :func:`basis3` on plain floats) builds a frame, e.g. a bone's world
  rotation, from its axis and a second direction.
- The ``*3`` helpers work on plain-float 3-vectors and on 3x3 matrices given as rows: the
  per-frame solver paths use them because numpy's per-call overhead dominates on 3-vectors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
V3 = tuple[float, float, float]
M3 = Sequence[Sequence[float]]  # a 3x3 matrix as rows
M3Rows = list[list[float]]

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


def unit(v: F64) -> F64:
    """v / |v|, or zeros for a (near) zero vector."""
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v * 0.0


def unit3(x: float, y: float, z: float) -> V3:
    """:func:`unit` on plain floats."""
    n = math.sqrt(x * x + y * y + z * z)
    return (x / n, y / n, z / n) if n > 1e-9 else (0.0, 0.0, 0.0)


def basis(x: F64, y_hint: F64) -> F64:
    """Rotation matrix with columns (x, y, z): x along ``x``, y = ``y_hint`` made orthogonal to x,
    z = x cross y (so that the identity basis maps to the identity)."""
    # Plain floats: numpy's per-call overhead dominates on 3-vectors (hot path).
    (ax, ay, az), (bx, by, bz), (cx, cy, cz) = basis3(
        np.asarray(x, dtype=np.float64).tolist(), np.asarray(y_hint, dtype=np.float64).tolist()
    )
    return np.array([[ax, bx, cx], [ay, by, cy], [az, bz, cz]])


def basis3(x: Sequence[float], y_hint: Sequence[float]) -> tuple[V3, V3, V3]:
    """:func:`basis` on plain floats: its three columns x, y, z as 3-tuples."""
    ax, ay, az = unit3(x[0], x[1], x[2])
    hx, hy, hz = y_hint
    t = hx * ax + hy * ay + hz * az
    bx, by, bz = unit3(hx - t * ax, hy - t * ay, hz - t * az)
    return (ax, ay, az), (bx, by, bz), (ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx)


def sub3(a: Sequence[float], b: Sequence[float]) -> V3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def dot3(a: Sequence[float], b: Sequence[float]) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross3(a: Sequence[float], b: Sequence[float]) -> V3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def mat_t_vec3(m: M3, v: Sequence[float]) -> V3:
    """m^T v."""
    return (
        m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
        m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
        m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2],
    )


def mat_vec3(m: M3, v: Sequence[float]) -> V3:
    """m v."""
    return (dot3(m[0], v), dot3(m[1], v), dot3(m[2], v))


def mat_mul3(a: M3, b: M3) -> M3Rows:
    """a b."""
    return [
        [a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j] for j in range(3)]
        for i in range(3)
    ]
