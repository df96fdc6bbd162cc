"""Mouth solver: openness monotonic with a soft dead zone, vowel shapes from openness and lip
spread, smile/frown from the corners."""

from __future__ import annotations

import numpy as np

from vtuber.solvers.mouth import VOWELS, MouthConfig, smile, solve_mouth

CFG = MouthConfig()
REST_GAP, REST_W = 0.01, 0.6
# The gaps below were written for a full opening of 0.22 IOD; scaled to the configured one.
S = CFG.full_gap / 0.22


def test_closed_mouth_is_silent() -> None:
    r = solve_mouth(REST_GAP + 0.005, REST_W, REST_GAP, REST_W, CFG)
    assert r.open < 0.01 and all(v < 0.02 for v in r.vowels.values())


def test_openness_monotonic_and_reaches_one() -> None:
    gaps = np.linspace(0.0, 0.4, 41)
    o = [solve_mouth(g, REST_W, REST_GAP, REST_W, CFG).open for g in gaps]
    assert all(b >= a for a, b in zip(o, o[1:], strict=False))
    assert o[-1] == 1.0 and o[0] == 0.0
    assert all(b > a for a, b in zip(o[3:], o[4:], strict=False) if a < 1.0)


def _top(gap: float, width_ratio: float) -> str:
    r = solve_mouth(REST_GAP + gap * S, REST_W * width_ratio, REST_GAP, REST_W, CFG)
    return max(VOWELS, key=lambda k: r.vowels[k])


def test_vowel_prototypes() -> None:
    assert _top(0.2, 1.0) == "aa"  # wide open
    assert _top(0.05, 1.15) == "ih"  # nearly closed, spread
    assert _top(0.05, 0.85) == "ou"  # nearly closed, rounded
    assert _top(0.1, 1.1) == "ee"  # half open, spread
    assert _top(0.13, 0.88) == "oh"  # open, rounded
    r = solve_mouth(REST_GAP + 0.2 * S, REST_W, REST_GAP, REST_W, CFG)
    assert sum(r.vowels.values()) <= 1.0 + 1e-9


def test_smile_and_frown() -> None:
    assert smile(-0.07 + 0.04, -0.07, 0.6, 0.6) == 1.0
    assert smile(-0.07 - 0.02, -0.07, 0.6, 0.6) < -0.4
    assert smile(-0.07, -0.07, 0.6, 0.6) == 0.0
