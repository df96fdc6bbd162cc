"""Brows: raise and lower per side, as the ARKit brow shapes.

Input: the face frame of :func:`vtuber.solvers.expressions.face_frame` (de-rotated, outer eye
corners 1 apart, +x the person's right, +y up, +z forward).

Measure: height of the inner and outer part of each brow above the line through that eye's
corners, in IOD units (the corners do not move when the lids do, so a blink leaves it alone).
Rows are [left, right] (the person's own sides); columns [inner, outer].

Output keys (ARKit names, person's sides): ``browInnerUp`` (both inner ends raised, one shape in
ARKit), ``browOuterUpLeft/Right`` and ``browDownLeft/Right`` (the brow pulled down toward the eye).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import face_mesh as fm

F64 = NDArray[np.float64]

# Upper-edge brow points: [side][inner, outer]; sides are the person's own.
BROW = np.array([fm.BROW_L, fm.BROW_R])
EYE_CORNERS = np.array(
    [[fm.EYE_INNER_L, fm.EYE_OUTER_L], [fm.EYE_INNER_R, fm.EYE_OUTER_R]]
)  # [side][inner, outer]


def brow_heights(face: F64) -> F64:
    """(2, 2): brow height above the eye-corner line, rows [left, right], cols [inner, outer]."""
    y = face[EYE_CORNERS, 1]
    eye_y = 0.5 * (y[:, 0] + y[:, 1])  # (2,)
    return face[BROW, 1] - eye_y[:, None]


@dataclass
class BrowConfig:
    """up_range / down_range: height change in IOD that reads as fully raised / lowered;
    dead_zone: fraction of the range ignored as noise. noise_k: a brow's height within this many
    times its own scatter around its rest (learned per user:
    :meth:`vtuber.solvers.adaptation.PoseBaseline.spread`) reads as no movement, and a larger
    change is reduced by it, as the mouth corners' are (``MouthConfig.smile_noise_k``):
    FaceMesh's brow points wander by about 0.01 IOD around their fitted rest on a still face
    that turns, a lowered brow being 0.04. Chosen on the training faces' rendered brow
    movements (benchmarks/bench_face_corpus.py --brows; docs/face_corpus.md, "Brows")."""

    up_range: float = 0.07
    down_range: float = 0.04
    dead_zone: float = 0.12
    noise_k: float = 1.0


def solve_brows(
    heights: F64, rest: F64, cfg: BrowConfig, noise: tuple[float, float, float, float] = (0.0,) * 4
) -> dict[str, float]:
    """ARKit brow weights 0..1 from brow heights and the user's rest heights (both (2, 2)).
    ``noise``: how far each height (left inner, left outer, right inner, right outer; IOD) may
    lie from its rest and still read as at rest; beyond it the change is reduced by it."""
    # Plain floats (numpy's overhead dominates on four numbers).
    d = (heights - rest).ravel().tolist()
    li, lo, ri, ro = (math.copysign(max(abs(x) - n, 0.0), x) for x, n in zip(d, noise, strict=True))
    dead, up, down = cfg.dead_zone, cfg.up_range, cfg.down_range

    def ramp(x: float) -> float:
        return min(max((x - dead) / (1.0 - dead), 0.0), 1.0)

    return {
        "browInnerUp": 0.5 * (ramp(li / up) + ramp(ri / up)),
        "browOuterUpLeft": ramp(lo / up),
        "browOuterUpRight": ramp(ro / up),
        "browDownLeft": ramp(-((li + lo) / 2.0) / down),
        "browDownRight": ramp(-((ri + ro) / 2.0) / down),
    }
