"""Normalised keypoint features for the gesture classifiers (docs/gestures.md).

Hand features come from MediaPipe's 21 world hand landmarks (metres, x to the image's right, y
down, z away from the camera) and are:

- position-invariant: the wrist is the origin;
- scale-invariant: lengths are divided by the wrist -> middle-finger MCP distance;
- handedness-invariant: a LEFT hand is reflected (x -> -x) into a right hand first, so one model
  serves both hands and a gesture's hand is reported separately;
- rotation-invariant for the shape: points are expressed in the palm's own frame (wrist -> middle
  MCP, little MCP -> index MCP, their normal), plus the joint bend cosines and thumb-tip distances;
- NOT invariant to which way is up: three numbers give the camera's "up" in the palm frame, so
  thumbs up and thumbs down (the same shape) are told apart.

Body features (:func:`pose_features`) normalise the 33 pose points by the shoulder midpoint and
width; the built-in body poses are rules over them (vtuber/gestures/poses.py).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from vtuber.solvers.geometry import basis3

F64 = NDArray[np.float64]
Arr = NDArray[np.floating]  # float32 (MediaPipe records) or float64

# (parent, joint, child) triples whose bend is a feature: three per finger, thumb first.
_CHAINS = (
    (0, 1, 2, 3, 4),
    (0, 5, 6, 7, 8),
    (0, 9, 10, 11, 12),
    (0, 13, 14, 15, 16),
    (0, 17, 18, 19, 20),
)
_BEND_A = np.array([c[i] for c in _CHAINS for i in range(3)])
_BEND_B = np.array([c[i + 1] for c in _CHAINS for i in range(3)])
_BEND_C = np.array([c[i + 2] for c in _CHAINS for i in range(3)])
_TIPS = np.array([4, 8, 12, 16, 20])
_UP = np.array([0.0, -1.0, 0.0])

N_HAND_FEATURES = 20 * 3 + 3 + 15 + 4 + 4  # palm-frame points, up, bends, thumb gaps, spreads
# Where the 15 bend cosines lie in the feature vector (three per finger, thumb first, along
# _CHAINS: the cosine of the angle between consecutive bone segments, 1 = straight).
BEND_SLICE = slice(20 * 3 + 3, 20 * 3 + 3 + 15)


_SEG_A = np.concatenate([_BEND_A, _BEND_B, [5, 9, 13, 17, 2]])
_SEG_B = np.concatenate([_BEND_B, _BEND_C, [6, 10, 14, 18, 3]])


def hand_features(world: Arr, is_left: bool) -> F64:
    """The feature vector (:data:`N_HAND_FEATURES`,) of one hand's 21 world points.

    (The per-frame path: few numpy calls on tiny arrays, the palm frame on plain floats.)"""
    p = np.array(world, dtype=np.float64).reshape(21, 3)
    p -= p[0]
    if is_left:
        p[:, 0] *= -1.0
    (x5, y5, z5), (x9, y9, z9), (x17, y17, z17) = p[5].tolist(), p[9].tolist(), p[17].tolist()
    scale = max(math.sqrt(x9 * x9 + y9 * y9 + z9 * z9), 1e-6)
    # The palm frame's rows: y along wrist -> middle MCP, x toward the index side, z = x cross y.
    y, x, (nx, ny, nz) = basis3((x9, y9, z9), (x5 - x17, y5 - y17, z5 - z17))  # nz = y cross x
    basis = np.array([x, y, (-nx, -ny, -nz)])
    local = (p[1:] @ basis.T) / scale
    up = -basis[:, 1]  # the camera's up (0, -1, 0) in the palm frame; x -> -x leaves it
    seg = p[_SEG_B] - p[_SEG_A]
    seg /= np.maximum(np.sqrt(np.einsum("ij,ij->i", seg, seg)), 1e-9)[:, None]
    cos = np.einsum("ij,ij->i", seg[:15], seg[15:30])
    spreads = np.einsum("ij,ij->i", seg[30:34], seg[31:35])
    g = p[_TIPS[1:]] - p[4]
    gaps = np.sqrt(np.einsum("ij,ij->i", g, g)) / scale
    return np.concatenate([local.ravel(), up, cos, gaps, spreads])


def hand_features_batch(world: F64, is_left: NDArray[np.bool_]) -> F64:
    """:func:`hand_features` for (N, 21, 3) hands."""
    return np.array([hand_features(w, bool(lf)) for w, lf in zip(world, is_left, strict=True)])


# ----------------------------------------------------------------------------------- body
# MediaPipe Pose indices per person's side.
POSE_SIDE = {
    "left": {"shoulder": 11, "elbow": 13, "wrist": 15, "index": 19, "ear": 7, "mouth": 9, "eye": 2},
    "right": {
        "shoulder": 12,
        "elbow": 14,
        "wrist": 16,
        "index": 20,
        "ear": 8,
        "mouth": 10,
        "eye": 5,
    },
}
NOSE = 0


def pose_features(points: Arr, aspect: float) -> tuple[F64, F64] | None:
    """Pose points (33, 4: x, y, z, visibility) normalised: (xy (33, 2), visibility (33,)).

    The origin is the shoulders' midpoint, the unit the shoulder width, x to the image's right,
    y UP; ``aspect`` is width / height of the image (normalised coordinates are per axis).
    None when the shoulders are not both visible."""
    p = np.asarray(points, dtype=np.float64)
    (x11, y11, _, v11), (x12, y12, _, v12) = p[11].tolist(), p[12].tolist()
    if min(v11, v12) < 0.5:
        return None
    width = math.hypot((x11 - x12) * aspect, y11 - y12)
    if width < 1e-6:
        return None
    out = np.empty((len(p), 2))
    out[:, 0] = (p[:, 0] - 0.5 * (x11 + x12)) * (aspect / width)
    out[:, 1] = (0.5 * (y11 + y12) - p[:, 1]) / width
    return out, p[:, 3]


def angle_deg(u: F64, v: F64) -> float:
    c = float(np.dot(u, v) / max(float(np.linalg.norm(u) * np.linalg.norm(v)), 1e-12))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))
