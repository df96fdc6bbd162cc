"""Mouth solver: openness monotonic with a soft dead zone, from the lip gap and the dark inside of
the mouth, vowel shapes from openness and lip spread, smile/frown from the corners."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vtuber.solvers.adaptation import Agreement, trust
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


def test_corners_within_their_own_noise_are_no_smile() -> None:
    """With the corners' own scatter (0.01 IOD) as noise, a lift within it reads 0 and one
    beyond it is reduced by it, both ways; a larger lift still reaches a full smile."""
    assert smile(-0.07 + 0.008, -0.07, 0.6, 0.6, 0.01) == 0.0
    assert smile(-0.07 - 0.009, -0.07, 0.6, 0.6, 0.01) == 0.0
    assert smile(-0.07 + 0.03, -0.07, 0.6, 0.6, 0.01) == pytest.approx(0.5)
    assert smile(-0.07 - 0.03, -0.07, 0.6, 0.6, 0.01) == pytest.approx(-0.5)
    assert smile(-0.07 + 0.06, -0.07, 0.6, 0.6, 0.01) == 1.0


def test_openness_from_the_dark_inside_of_the_mouth() -> None:
    """With the image's dark area inside the lips, openness is the lips' and the darkness's
    average while they agree, the darkness alone when the lip gap gets no say, and the lip gap
    alone where the darkness was not measured."""
    half_gap = REST_GAP + 0.5 * CFG.full_gap
    dark_rest, full_dark = 0.004, CFG.full_dark
    lips = solve_mouth(half_gap, REST_W, REST_GAP, REST_W, CFG).open
    both_open = solve_mouth(half_gap, REST_W, REST_GAP, REST_W, CFG, dark_rest + 0.5 * full_dark,
                            dark_rest)  # fmt: skip
    assert both_open.open == pytest.approx(lips)  # the two agree: the same openness
    # The lips read closed while the inside of the mouth shows dark (a resting smile's teeth
    # misread as lips): the darkness still opens the mouth, fully once the lips get no say.
    lips_closed = [
        solve_mouth(REST_GAP, REST_W, REST_GAP, REST_W, CFG, dark_rest + 0.5 * full_dark,
                    dark_rest, share).open
        for share in (None, 0.0)
    ]  # fmt: skip
    assert lips_closed[0] == pytest.approx(0.5 * lips) and lips_closed[1] == pytest.approx(lips)
    # Not measured (NaN): the lip gap alone.
    assert solve_mouth(half_gap, REST_W, REST_GAP, REST_W, CFG, math.nan).open == lips
    # A closed mouth with its usual darkness is silent.
    r = solve_mouth(REST_GAP, REST_W, REST_GAP, REST_W, CFG, dark_rest + 0.001, dark_rest)
    assert r.open < 0.01 and max(r.vowels.values()) < 0.02


def test_vowels_need_the_darkness() -> None:
    """Lips that read the mouth open while the image shows no dark inside (a landmark slip at an
    extreme head pose, a resting smile's lips before their rest is learned) send no vowel,
    whatever share the lips have, while jawOpen stays the two readings' average; lips reading
    more than the darkness shape the vowels as the darkness alone would; lips reading less
    still count by their share."""
    dark_rest, full_dark = 0.004, CFG.full_dark
    wide_gap, half_dark = REST_GAP + CFG.full_gap, dark_rest + 0.5 * full_dark
    for share in (None, 0.25, CFG.gap_weight, 1.0):
        for width in (REST_W, REST_W * (1.0 + CFG.spread_range)):  # relaxed and spread lips
            r = solve_mouth(wide_gap, width, REST_GAP, REST_W, CFG, dark_rest, dark_rest, share)
            assert max(r.vowels.values()) == 0.0, (share, width, r)
            s = CFG.gap_weight if share is None else share
            assert r.open == pytest.approx(s), (share, r)  # the lips' full opening, by share
    dark_alone = solve_mouth(REST_GAP, REST_W, REST_GAP, REST_W, CFG, half_dark, dark_rest, 0.0)
    lips_wider = solve_mouth(wide_gap, REST_W, REST_GAP, REST_W, CFG, half_dark, dark_rest)
    assert lips_wider.vowels == pytest.approx(dark_alone.vowels)
    assert max(lips_wider.vowels.values()) > 0.2
    assert lips_wider.open == pytest.approx(0.5 * (1.0 + dark_alone.open))
    quarter_gap = REST_GAP + 0.25 * CFG.full_gap
    lips_less = solve_mouth(quarter_gap, REST_W, REST_GAP, REST_W, CFG, half_dark, dark_rest)
    quarter = solve_mouth(quarter_gap, REST_W, REST_GAP, REST_W, CFG).open
    assert quarter < lips_less.open < dark_alone.open
    assert lips_less.open == pytest.approx(0.5 * (quarter + dark_alone.open))
    assert sum(lips_less.vowels.values()) < sum(dark_alone.vowels.values())


def test_agreement_tells_when_one_reading_stops_following_the_other() -> None:
    rng = np.random.default_rng(5)
    opening = np.clip(np.sin(np.linspace(0, 20, 300)), 0, None)
    same, against = Agreement(300), Agreement(300)
    r_same = r_against = None
    for o in opening:
        r_same = same.add(o + rng.normal(0, 0.05), o + rng.normal(0, 0.05))
        r_against = against.add(-0.5 * o + rng.normal(0, 0.05), o + rng.normal(0, 0.05))
    assert r_same is not None and r_against is not None
    assert r_same > 0.9 and trust(r_same, 0.2, 0.5) == 1.0
    assert r_against < 0.0 and trust(r_against, 0.2, 0.5) == 0.0
    assert Agreement(300).add(1.0, 2.0) is None  # too few samples to say


def test_agreement_waits_for_the_judge_to_have_seen_the_mouth_open() -> None:
    """The darkness (second reading) can only turn the lips down once it has read the mouth at
    least half open on a few frames: a mouth inside that stays over its threshold while the
    lips open wide says nothing about the lips (docs/face_corpus.md, rose_leslie)."""
    rng = np.random.default_rng(11)
    opening = np.clip(np.sin(np.linspace(0, 12, 120)), 0, None)
    agree = Agreement(300, seen=0.5, seen_samples=3)
    dim = [agree.add(o + rng.normal(0, 0.05), 0.1 * rng.random()) for o in opening]
    assert all(r is None for r in dim)  # the darkness never read the mouth open: no verdict
    seeing = [agree.add(o + rng.normal(0, 0.05), o + rng.normal(0, 0.05)) for o in opening]
    assert seeing[-1] is not None  # once it has, the two are compared over the whole window
    agree.reset()  # a new person: what the darkness had seen of the last one does not count
    assert agree.add(1.0, 0.0) is None
    assert all(agree.add(o, 0.1 * rng.random()) is None for o in opening)
    # The same dim start without the wait drops the lips at once.
    eager = Agreement(300, seen=0.5, seen_samples=0)
    early = [eager.add(o + rng.normal(0, 0.05), 0.1 * rng.random()) for o in opening]
    assert early[-1] is not None and trust(early[-1], 0.2, 0.5) == 0.0


def test_a_judge_that_never_sees_the_mouth_open_is_blind_to_this_user() -> None:
    """The darkness is blind (Agreement.blind) once the lips have read the mouth at least half
    open on a second's worth of the window's frames while the darkness never did (a dark skin
    or a lit mouth: the inside no darker than the skin); one that has seen it is not, a few
    frames of lips read open (a landmark slip) do not make it blind; blindness lasts through a
    pause (ten seconds of a closed mouth) and passes once the darkness reads the mouth open, or
    on a new face."""
    rng = np.random.default_rng(3)
    talking = np.clip(np.sin(np.linspace(0, 16, 150)), 0, None)  # open >= 0.5 on about 1/3
    blind = Agreement(300, seen=0.5, seen_samples=3, blind_samples=30)
    states = [(blind.add(o, 0.1 * rng.random()), blind.blind)[1] for o in talking]
    assert not states[0] and states[-1]
    first = states.index(True)
    assert 30 <= int(np.sum(talking[: first + 1] >= 0.5)) <= 31
    seeing = Agreement(300, seen=0.5, seen_samples=3, blind_samples=30)
    for o in talking:
        seeing.add(o, o + rng.normal(0, 0.05))
    assert not seeing.blind
    slips = Agreement(300, seen=0.5, seen_samples=3, blind_samples=30)
    for i in range(300):
        slips.add(0.9 if i % 50 == 0 else 0.0, 0.0)  # six lone frames read open
    assert not slips.blind
    for _ in range(300):  # ten seconds with the mouth closed: the talking falls out
        blind.add(0.0, 0.0)
    assert blind.blind
    for o in talking[:40]:  # the light changes and the darkness sees the mouth open
        blind.add(o, o)
    assert not blind.blind
    for o in [0.0] * 300 + list(talking):  # the light again: once the seen frames are out
        blind.add(o, 0.0)
    assert blind.blind
    blind.reset()
    assert not blind.blind
