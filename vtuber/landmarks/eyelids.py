"""Each eye's closure read from its pixels, beside the lid points.

FaceMesh's eyelid points can miss a closure: behind a frame of glasses they barely follow a
closing lid, and on some faces an open eye at a turned head reads narrow (docs/face_corpus.md).
How a closed eye looks (no iris or white, the lid's skin and the lash line across the eye) does
not depend on where the model puts the lid points, so the eye solver uses both
(vtuber/solvers/expressions.py, :attr:`vtuber.solvers.eyes.EyeConfig.pixel_weight`).

The measure: each eye's patch is cut from the grey image along the line through its corners
(:func:`eye_patches`), its horizontal and vertical brightness gradients, scaled to unit length
(:func:`eye_features`), are taken *relative to this user's own open eye* (the median of the
features over the first :data:`TEMPLATE_FRAMES` frames of a face, when the eyes are mostly
open, and before that of those seen so far, taken every :data:`START_FRAMES`: a per-user
reference, so the network reads the change a closure makes and not a person's eye shape,
lashes or glasses), and a small network (:class:`EyeNetwork`, fitted on the
face corpus's training faces with and without glasses, benchmarks/fit_eye_state.py) maps them
to the probability that the eye is at least half closed. :class:`EyeShut` keeps that reference
for the face being tracked; it starts afresh when the face is lost (a new person does not
inherit it) and reads NaN (not measured: the lid points alone decide) until it has one.

The person's left eye is mirrored so that both eyes look like a right eye to the one network;
a mirrored image therefore gives nearly the same values with the eyes swapped (the landmarks of a
mirrored image are not exactly mirrored). The values travel in
:attr:`vtuber.landmarks.FaceLandmarks.eye_shut`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.errors import ConfigError
from vtuber.landmarks import face_mesh as fm

F32 = NDArray[np.float32]

# The stored patch: PATCH_SIZE pixels (width, height) covering PATCH_SPAN eye widths (along,
# across the line through the corners), centred between the corners.
PATCH_SIZE = (48, 24)
PATCH_SPAN = (1.6, 0.8)
# The part of it the network sees (rows, columns: 1.33 x 0.67 eye widths), at FEATURE_SIZE.
FEATURE_WINDOW = (slice(2, 22), slice(4, 44))
FEATURE_SIZE = (32, 16)
FEATURES = 2 * FEATURE_SIZE[0] * FEATURE_SIZE[1]
# Frames of a newly found face whose median features are the user's open-eye reference; until
# they are all seen, the median of those seen so far stands in, taken every START_FRAMES.
TEMPLATE_FRAMES = 90
START_FRAMES = 10
# (outer, inner) corner of the person's left and right eye.
_CORNERS = ((fm.EYE_OUTER_L, fm.EYE_INNER_L), (fm.EYE_OUTER_R, fm.EYE_INNER_R))

DEFAULT_NETWORK = Path(__file__).resolve().parents[1] / "data" / "eye_state.npz"


def eye_patches(rgb: NDArray[np.uint8], points: NDArray[np.float32]) -> NDArray[np.uint8]:
    """The two eyes' grey patches (person's left, right), (2, 24, 48) uint8, from the RGB image
    and the face's normalized landmarks (478, 3). Only the part of the image around the eyes is
    made grey; an eye reaching past the image repeats the image's edge pixels (zeros for an eye
    narrower than a pixel)."""
    h, w = rgb.shape[:2]
    pw, ph = PATCH_SIZE
    out = np.zeros((2, ph, pw), np.uint8)
    # Per eye: the patch's top-left corner in the image, its axes (along the corners, across) and
    # their lengths in pixels. (Plain floats: numpy's overhead dominates on a few numbers.)
    boxes: list[tuple[float, float, float, float, float, float] | None] = []
    for outer, inner in _CORNERS:
        (ax, ay), (bx, by) = points[outer, :2].tolist(), points[inner, :2].tolist()
        ax, ay, bx, by = ax * w, ay * h, bx * w, by * h
        if ax > bx:
            ax, ay, bx, by = bx, by, ax, ay
        width = math.hypot(bx - ax, by - ay)
        if not width > 1.0:
            boxes.append(None)
            continue
        ux, uy = (bx - ax) / width, (by - ay) / width
        la, lc = PATCH_SPAN[0] * width, PATCH_SPAN[1] * width
        # top-left = the corners' midpoint less half of each axis; across = (-uy, ux)
        x0 = 0.5 * (ax + bx) - 0.5 * la * ux + 0.5 * lc * uy
        y0 = 0.5 * (ay + by) - 0.5 * la * uy - 0.5 * lc * ux
        boxes.append((x0, y0, ux, uy, la, lc))
    seen = [bx for bx in boxes if bx is not None]
    if not seen:
        return out
    # The grey image around both patches (their corners + 2 pixels for the interpolation):
    # cropping at the image's edge changes nothing, the edge pixels repeat either way.
    xs, ys = [], []
    for x0, y0, ux, uy, la, lc in seen:
        xs += [x0, x0 + la * ux, x0 - lc * uy, x0 + la * ux - lc * uy]
        ys += [y0, y0 + la * uy, y0 + lc * ux, y0 + la * uy + lc * ux]
    cx0, cy0 = max(math.floor(min(xs)) - 2, 0), max(math.floor(min(ys)) - 2, 0)
    cx1, cy1 = min(math.ceil(max(xs)) + 3, w), min(math.ceil(max(ys)) + 3, h)
    if cx1 <= cx0 or cy1 <= cy0:
        cx0, cy0, cx1, cy1 = 0, 0, w, h
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1]), cv2.COLOR_RGB2GRAY)
    for e, bx in enumerate(boxes):
        if bx is None:
            continue
        x0, y0, ux, uy, la, lc = bx
        x0, y0 = x0 - cx0, y0 - cy0
        # The affine map from the grey crop to the patch: along u by pw / la, across by ph / lc.
        sx, sy = pw / la, ph / lc
        m = np.array(
            [
                [sx * ux, sx * uy, -sx * (ux * x0 + uy * y0)],
                [-sy * uy, sy * ux, -sy * (-uy * x0 + ux * y0)],
            ]
        )
        out[e] = cv2.warpAffine(
            gray, m, (pw, ph), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
        )
    return out


def eye_features(patches: NDArray[np.uint8]) -> F32:
    """(n, FEATURES) gradient features of patches (n, 24, 48) that all look like a right eye (the
    caller mirrors a left eye's patch first)."""
    out = np.empty((len(patches), FEATURES), np.float32)
    for i, p in enumerate(patches):
        q = cv2.resize(
            p[FEATURE_WINDOW].astype(np.float32), FEATURE_SIZE, interpolation=cv2.INTER_AREA
        )
        gx = cv2.Sobel(q, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(q, cv2.CV_32F, 0, 1)
        f = np.concatenate([gx.ravel(), gy.ravel()])
        out[i] = f / (np.linalg.norm(f) + 1e-3)
    return out


def both_eyes(patches: NDArray[np.uint8]) -> F32:
    """:func:`eye_features` of one frame's two patches (person's left mirrored), (2, FEATURES)."""
    return eye_features(np.stack([patches[0, :, ::-1], patches[1]]))


@dataclass(frozen=True)
class EyeNetwork:
    """One hidden layer (tanh) over the standardized features, a logistic output: the
    probability that the eye is at least half closed (fitted with the truth's closure as a soft
    label)."""

    in_mean: F32
    in_scale: F32
    w1: F32
    b1: F32
    w2: F32
    b2: float

    def folded(self) -> tuple[F32, F32]:
        """(weights, bias) of the hidden layer's input straight from the features (the
        standardizing folded in): ``x @ weights + bias``."""
        w = np.asarray(self.w1 / self.in_scale[:, None], np.float32)
        return w, np.asarray(self.b1 - self.in_mean @ w, np.float32)

    def output(self, z1: F32) -> NDArray[np.float64]:
        """The probability from the hidden layer's input."""
        z = np.clip(np.tanh(z1) @ self.w2 + self.b2, -30.0, 30.0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), np.float64)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            in_mean=self.in_mean,
            in_scale=self.in_scale,
            w1=self.w1,
            b1=self.b1,
            w2=self.w2,
            b2=np.array([self.b2], np.float32),
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_NETWORK) -> EyeNetwork:
        try:
            with np.load(path) as d:
                a = {k: np.asarray(d[k], np.float32) for k in d.files}
            net = cls(a["in_mean"], a["in_scale"], a["w1"], a["b1"], a["w2"], float(a["b2"][0]))
        except (OSError, KeyError, ValueError, IndexError) as e:
            raise ConfigError(f"eye state network {path}: cannot read it ({e})") from None
        hidden = net.b1.shape[0]
        shapes = (net.in_mean.shape, net.in_scale.shape, net.w1.shape, net.w2.shape)
        if shapes != ((FEATURES,), (FEATURES,), (FEATURES, hidden), (hidden,)):
            raise ConfigError(f"eye state network {path}: wrong shapes {shapes}")
        return net


_NETWORK: EyeNetwork | None = None


def stock_network() -> EyeNetwork:
    """The shipped network (vtuber/data/eye_state.npz), read once."""
    global _NETWORK
    if _NETWORK is None:
        _NETWORK = EyeNetwork.load()
    return _NETWORK


class EyeShut:
    """Per tracked face: each eye's probability of being at least half closed from its patches,
    relative to this face's open-eye reference (module doc); NaN until the reference is set."""

    def __init__(self, network: EyeNetwork | None = None) -> None:
        self.network = network or stock_network()
        self._w, self._b = self.network.folded()
        self.reset()

    def reset(self) -> None:
        """The face was lost: forget its reference."""
        self._first: list[F32] = []
        # The hidden layer's bias with the reference taken out (None: no reference yet).
        self._bias: F32 | None = None

    def update(self, patches: NDArray[np.uint8]) -> tuple[float, float]:
        f = both_eyes(patches)
        if self._bias is None or self._first:
            self._first.append(f)
            n = len(self._first)
            if n >= TEMPLATE_FRAMES or n % START_FRAMES == 0:  # a median every START_FRAMES
                ref = np.median(np.stack(self._first), axis=0).astype(np.float32)
                self._bias = self._b - ref @ self._w
                if n >= TEMPLATE_FRAMES:
                    self._first = []
            if self._bias is None:
                return (math.nan, math.nan)
        p = self.network.output(f @ self._w + self._bias)
        return (float(p[0]), float(p[1]))

    def measure(self, rgb: NDArray[np.uint8], points: NDArray[np.float32]) -> tuple[float, float]:
        """:meth:`update` on the face with normalized landmarks ``points`` in ``rgb``."""
        return self.update(eye_patches(rgb, points))
