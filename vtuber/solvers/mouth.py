"""Mouth: continuous openness and the five vowel shapes (aa, ih, ou, ee, oh).

Input: the face frame of :func:`vtuber.solvers.expressions.face_frame` (de-rotated, outer eye
corners 1 apart, +x the person's right, +y up, +z forward).

Measures, in eye-corner distances (IOD):
- gap: how far the lower lip has dropped from the upper one: the mean vertical gap between the
  inner lip contours at three points (centre and either side) plus the same between the outer
  lip contours. When the jaw opens both grow by the same amount; the inner gap alone is fooled
  by teeth showing in a smile and by a beard's shadow, the outer alone by lip texture, and their
  sum halves either's error (docs/face_corpus.md: the two measures on ten faces).
- width: distance between the mouth corners.
- corner: mean height of the two mouth corners above the upper-lip centre (smile > rest > frown).

Openness has a second source where the image was at hand: the dark area inside the lips
(:mod:`vtuber.landmarks.cavity`, ``dark``), over the user's rest. The two are averaged while they
agree for this user, and the lip gap is dropped as their correlation over the last 10 s falls
(:class:`vtuber.solvers.adaptation.Agreement`): on a face that smiles with its teeth showing,
FaceMesh can read the dark gap opening between the teeth as the lips' gap, so the lip gap shrinks
as the jaw drops, while the dark area grows whatever the lip points do.

Vowels come from two numbers relative to the user's rest face: openness (gap above rest over a
full-open gap) and spread (width over rest width; > 1 spread lips as in "i"/"e", < 1 rounded lips
as in "u"/"o"). Each vowel is a prototype point in (openness, spread) space; the weights are a
soft nearest-prototype assignment scaled by how much the mouth is doing, so a closed neutral mouth
gives zeros.

The vowels need the image's word that the mouth is open: they are shaped from the openness
bounded by the darkness's own reading (``min(open, dark)``, i.e. the lip gap counts for them only
where it reads the mouth *less* open than the darkness does). An open mouth shows its dark
inside; lip points that read a closed mouth open (a landmark slip with the head turned and
tilted, a resting smile's lips over a rest not yet learned) then send no vowel, where their
average with the darkness used to send one (docs/face_corpus.md: vowels at rest). ``open``
(jawOpen) stays the average (bounding it too was tried: docs/face_corpus.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import face_mesh as fm
from vtuber.solvers.adaptation import AGREE_FULL, AGREE_NONE

F64 = NDArray[np.float64]

LIP_INNER_UPPER = np.array(fm.LIP_INNER_UPPER)
LIP_INNER_LOWER = np.array(fm.LIP_INNER_LOWER)
LIP_OUTER_UPPER = np.array(fm.LIP_OUTER_UPPER)
LIP_OUTER_LOWER = np.array(fm.LIP_OUTER_LOWER)
MOUTH_CORNERS = np.array([fm.MOUTH_CORNER_L, fm.MOUTH_CORNER_R])  # person's left, right
UPPER_LIP_TOP = fm.UPPER_LIP_TOP

VOWELS = ("aa", "ih", "ou", "ee", "oh")
# Prototypes: (openness 0..1, spread: +1 spread lips .. -1 rounded lips).
_PROTO = np.array(
    [
        (0.85, 0.0),  # aa: wide open, relaxed width
        (0.2, 0.8),  # ih: nearly closed, spread
        (0.2, -0.9),  # ou: nearly closed, rounded
        (0.45, 0.55),  # ee: half open, spread
        (0.6, -0.6),  # oh: open, rounded
    ]
)
_PROTO_LIST: list[tuple[float, float]] = [(float(a), float(b)) for a, b in _PROTO]


def mouth_measures(face: F64) -> tuple[float, float, float]:
    """(gap, width, corner) in IOD units, see the module doc."""
    g0, g1, g2 = (face[LIP_INNER_UPPER, 1] - face[LIP_INNER_LOWER, 1]).tolist()
    o0, o1, o2 = (face[LIP_OUTER_UPPER, 1] - face[LIP_OUTER_LOWER, 1]).tolist()
    gap = (max(g0 + g1 + g2, 0.0) + o0 + o1 + o2) / 3.0
    (lx, ly, lz), (rx, ry, rz) = face[MOUTH_CORNERS].tolist()
    width = math.sqrt((lx - rx) ** 2 + (ly - ry) ** 2 + (lz - rz) ** 2)
    corner = 0.5 * (ly + ry) - float(face[UPPER_LIP_TOP, 1])
    return max(gap, 0.0), width, corner


@dataclass
class MouthConfig:
    """full_gap: lip gap (IOD, inner + outer) above rest that reads as fully open (a 1.6 cm jaw
    drop gives 0.26-0.35 on the corpus's training faces, median 0.31); dead_zone: soft dead
    zone on openness (lip noise); spread_range: width change (fraction of rest width) that
    reads as fully spread/rounded; sharpness: how crisply vowels separate (higher = closer to
    one-hot). full_dark: dark area inside the lips (IOD^2) above rest that reads as fully open
    (the training faces' median at a 1.6 cm jaw drop, benchmarks/fit_mouth_dark.py); gap_weight:
    the lip gap's share of openness while the two sources agree; agree_none / agree_full: the
    correlation of the two at which the lip gap gets no say / its full share
    (vtuber.solvers.adaptation.AGREE_NONE / AGREE_FULL; perfect sync's jaw no longer uses the
    rule, docs/perfect_sync.md section 10k). smile_noise_k: the mouth corners' height within
    this many times its own scatter around its rest (learned per user:
    :meth:`vtuber.solvers.adaptation.PoseBaseline.spread`) reads as no smile or frown
    (:func:`smile`): FaceMesh's corners wander by 0.005-0.015 IOD on a still face, a full
    smile being 0.04 (chosen on the training faces' smiling and frowning performances,
    docs/face_corpus.md "Emotions")."""

    full_gap: float = 0.31
    dead_zone: float = 0.08
    spread_range: float = 0.15
    sharpness: float = 12.0
    full_dark: float = 0.075
    gap_weight: float = 0.5
    smile_noise_k: float = 1.0
    agree_none: float = AGREE_NONE
    agree_full: float = AGREE_FULL


@dataclass(frozen=True, slots=True)
class MouthResult:
    """open: 0..1 openness; vowels: aa, ih, ou, ee, oh weights 0..1 (sum <= 1), shaped from the
    openness bounded by the darkness where it was measured (module doc)."""

    open: float
    vowels: dict[str, float]


def _soft(o: float, d: float) -> float:
    """A soft dead zone: o^2 (1 + d) / (o + d) is ~0 for noise (o << d), about o - d for a
    clearly open mouth, 1 at o = 1, and strictly increasing, so openness stays monotonic."""
    return min(o * o * (1.0 + d) / (o + d), 1.0) if o > 0.0 else 0.0


def solve_mouth(
    gap: float,
    width: float,
    gap_rest: float,
    width_rest: float,
    cfg: MouthConfig,
    dark: float = math.nan,
    dark_rest: float = 0.0,
    gap_share: float | None = None,
) -> MouthResult:
    """Openness and vowel weights from the lip measures and the user's rest values; with
    ``dark`` (the dark area inside the lips, NaN when not measured) openness also comes from it,
    the lip gap counting ``gap_share`` (default ``cfg.gap_weight``); the vowels then come from
    that openness bounded by the darkness's reading (module doc)."""
    # o_sent: the openness sent (jawOpen); o: the one the vowels are shaped from.
    o = o_sent = _soft(max((gap - gap_rest) / cfg.full_gap, 0.0), cfg.dead_zone)
    if math.isfinite(dark):
        share = cfg.gap_weight if gap_share is None else gap_share
        o_dark = _soft(max((dark - dark_rest) / cfg.full_dark, 0.0), cfg.dead_zone)
        o_sent = share * o + (1.0 - share) * o_dark
        # No vowel on a mouth whose dark inside the image does not show (module doc).
        o = min(o_sent, o_dark)
    spread = (width / max(width_rest, 1e-6) - 1.0) / cfg.spread_range
    spread = min(max(spread, -1.0), 1.0)
    # How much the mouth is doing: open lips, or strongly shaped lips that are slightly apart.
    activity = min(1.0, max(o * 2.5, (abs(spread) - 0.3) * o * 6.0))
    if activity <= 0.0:
        return MouthResult(o_sent, dict.fromkeys(VOWELS, 0.0))
    # Plain floats over the five prototypes (numpy's overhead dominates on five numbers).
    d2 = [(po - o) ** 2 + 0.5 * (ps - spread) ** 2 for po, ps in _PROTO_LIST]
    lo = min(d2)
    w = [math.exp(-cfg.sharpness * (x - lo)) for x in d2]
    k = activity / sum(w)
    return MouthResult(o_sent, {name: x * k for name, x in zip(VOWELS, w, strict=True)})


def smile(
    corner: float, corner_rest: float, width: float, width_rest: float, noise: float = 0.0
) -> float:
    """Smile (> 0) or frown (< 0) strength, about -1..1: mouth corners raised above their rest
    height (0.04 IOD reads as a full smile) plus a little widening; a change of the corners'
    height within ``noise`` (IOD) of the rest reads as none, and beyond it is reduced by it."""
    d = corner - corner_rest
    lift = math.copysign(max(abs(d) - noise, 0.0), d) / 0.04
    widen = (width / max(width_rest, 1e-6) - 1.0) / 0.2
    s = lift + 0.3 * max(widen, 0.0) if lift > 0 else lift
    return max(-1.0, min(1.0, s)) if math.isfinite(s) else 0.0
