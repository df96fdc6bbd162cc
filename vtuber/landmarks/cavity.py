"""The mouth's dark inside: an image measure of how open the mouth is, beside the lip points.

An open mouth shows the dark inside of the mouth between the lips (or between the rows of teeth).
FaceMesh's lip points can miss an opening: on a face that smiles with its teeth showing at rest,
the model may read the dark gap that opens between the teeth as the gap between the lips, so the
lips seem to close as the jaw drops (docs/face_corpus.md). The dark area inside the outer lip
contour grows with the opening whatever the lip points do, so the mouth solver uses both
(vtuber/solvers/mouth.py).

:func:`mouth_darkness` is the area of the pixels inside the outer lip contour that are darker than
:data:`DARK_FRACTION` of the face's median brightness between the eyes and the mouth (nose, under
the eyes, upper cheeks: a reference that follows the lighting and the skin, above where a beard
grows and below a fringe), in units of the squared distance between the outer eye corners in the
image. It is computed where the image is, next to the landmark models, and travels in
:attr:`vtuber.landmarks.FaceLandmarks.mouth_dark`.

A mouth's inside need not read that dark: a ring light's front light on the tongue and palate, or a
skin darker than the inside of the mouth, can put it at 0.4-0.6 of the reference, where the fixed
cut sees nothing (docs/face_corpus.md, "A lit mouth"). So the same area is also counted under the
brighter cuts :data:`DIM_FRACTIONS` (:attr:`vtuber.landmarks.FaceLandmarks.mouth_dim`), and the face
solver learns per user which cut sees that user's open mouth
(:class:`vtuber.solvers.calibration.DarkCut`). :func:`mouth_darkness_cuts` counts every cut from
one crop of the image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import FaceLandmarks
from vtuber.landmarks import face_mesh as fm

OUTER_LIP = fm.OUTER_LIP_CONTOUR
# A pixel darker than this fraction of the reference brightness counts as the mouth's inside.
# Chosen on the face corpus's training identities (benchmarks/fit_mouth_dark.py).
DARK_FRACTION = 0.35
# The brighter cuts a face solver may pick per user (module doc): above the darkest inside the
# renders show at 1.6 and 2.2 times their usual shade (0.40 and 0.55 of the skin), below the
# lips' median at rest on the training faces (0.70-0.94 of the reference).
DIM_FRACTIONS = (0.45, 0.55, 0.65)
SOFT = False
_REF_SAMPLES = 24  # the reference band is read on a grid of about this many pixels across
_POINTS = np.array([*OUTER_LIP, fm.EYE_OUTER_R, fm.EYE_OUTER_L, fm.UPPER_LIP_TOP])


def mouth_darkness(
    rgb: NDArray[np.uint8],
    points: NDArray[np.float32],
    fraction: float = DARK_FRACTION,
    soft: bool = SOFT,
) -> float:
    """Dark area inside the outer lips (module doc) of the face whose normalized landmarks are
    ``points`` (478, 3) in the RGB image ``rgb``, counting pixels darker than ``fraction`` of the
    reference (``soft``: each pixel counts 1 - its brightness / (fraction x reference), so a
    black one counts fully and one near the threshold hardly); NaN when the mouth is not inside
    the image."""
    return mouth_darkness_cuts(rgb, points, (fraction,), soft)[0]


def mouth_darkness_cuts(
    rgb: NDArray[np.uint8],
    points: NDArray[np.float32],
    fractions: tuple[float, ...] = (DARK_FRACTION, *DIM_FRACTIONS),
    soft: bool = SOFT,
) -> tuple[float, ...]:
    """:func:`mouth_darkness` at each of ``fractions``, from one crop of the image (all NaN when
    the mouth is not inside the image)."""
    nan = tuple(math.nan for _ in fractions)
    h, w = rgb.shape[:2]
    px = points[_POINTS, :2] * np.array([w, h], np.float32)
    lip = px[: len(OUTER_LIP)]
    (ax, ay), (bx, by), (_, lip_top) = px[len(OUTER_LIP) :].tolist()
    iod = math.hypot(ax - bx, ay - by)
    (x0, y0), (x1, y1) = lip.min(axis=0).tolist(), lip.max(axis=0).tolist()
    x0, y0, x1, y1 = int(x0), int(y0), int(x1) + 2, int(y1) + 2
    if not iod > 1.0 or x0 < 0 or y0 < 0 or x1 > w or y1 > h:
        return nan
    # The reference band: between the outer eye corners, from their height down to the upper lip.
    left, right = max(int(min(ax, bx)), 0), min(int(max(ax, bx)) + 1, w)
    top, bottom = max(int(min(ay, by)), 0), min(int(lip_top), h)
    if right - left < 2 or bottom - top < 2:
        return nan
    step = max((right - left) // _REF_SAMPLES, 1)
    band = np.ascontiguousarray(rgb[top:bottom:step, left:right:step])
    ref = float(np.median(cv2.cvtColor(band, cv2.COLOR_RGB2GRAY)))
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [(lip - np.array([x0, y0], np.float32)).round().astype(np.int32)], (1,))
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    inside = grey[mask > 0].astype(np.float32)
    area = iod * iod
    if soft:
        out = []
        for f in fractions:
            level = max(f * ref, 1.0)
            out.append(float(np.sum(np.clip(1.0 - inside / level, 0.0, 1.0))) / area)
        return tuple(out)
    return tuple(float(np.count_nonzero(inside < f * ref)) / area for f in fractions)


def measure_mouth(rgb: NDArray[np.uint8], face: FaceLandmarks) -> None:
    """Fill ``face.mouth_dark`` and ``face.mouth_dim`` from the RGB image ``rgb`` and the face's
    normalized points (the landmark backends call this on every face they find)."""
    dark, *dim = mouth_darkness_cuts(rgb, face.points)
    face.mouth_dark = dark
    face.mouth_dim = (dim[0], dim[1], dim[2])
