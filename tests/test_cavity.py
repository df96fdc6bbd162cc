"""The mouth's dark inside (vtuber/landmarks/cavity.py): on rendered faces through real FaceMesh,
the dark area inside the lips grows with the jaw opening at any head turn, and it travels in
recorded landmarks."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from vtuber.landmarks import FaceLandmarks, Landmarks
from vtuber.landmarks.cavity import (
    DARK_FRACTION,
    DIM_FRACTIONS,
    mouth_darkness,
    mouth_darkness_cuts,
)
from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.recording import decode_landmarks, encode_landmarks
from vtuber.synth.face import LIT_MOUTH_SHADE, FaceRenderer


@pytest.mark.parametrize("name", ["grace_hopper", "astronaut"])
def test_darkness_grows_with_the_opening_at_any_turn(name: str) -> None:
    r = FaceRenderer.from_photo(name)
    with FaceMeshBackend(static_images=True) as fm:
        for yaw, pitch in ((0.0, 0.0), (25.0, 0.0), (-25.0, 10.0), (0.0, -15.0)):
            dark = []
            for opening in (0.0, 0.3, 0.6, 1.0):
                bgr = r.render(yaw, pitch, mouth_open=opening, noise=2.0, seed=1)
                lm = fm.process(bgr, 0.0)
                assert lm.face.found
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                # The backend measures it on every face it finds; the same as measured here.
                assert lm.face.mouth_dark == pytest.approx(mouth_darkness(rgb, lm.face.points))
                dark.append(lm.face.mouth_dark)
                # The brighter cuts count every pixel the darker ones do, and more.
                cuts = (lm.face.mouth_dark, *lm.face.mouth_dim)
                assert cuts == pytest.approx(mouth_darkness_cuts(rgb, lm.face.points))
                assert all(b >= a for a, b in zip(cuts, cuts[1:], strict=False)), cuts
            assert all(b > a for a, b in zip(dark, dark[1:], strict=False)), (yaw, pitch, dark)
            assert dark[0] < 0.2 * dark[-1], (yaw, pitch, dark)


def test_no_reading_when_the_mouth_leaves_the_image() -> None:
    r = FaceRenderer.from_photo("grace_hopper")
    bgr = r.render(mouth_open=0.5)
    with FaceMeshBackend(static_images=True) as fm:
        lm = fm.process(bgr, 0.0)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    assert math.isfinite(mouth_darkness(rgb, lm.face.points))
    mouth_y = float(lm.face.points[13, 1]) * rgb.shape[0]
    cut = np.ascontiguousarray(rgb[: int(mouth_y)])  # the image ends at the lips
    pts = lm.face.points * np.array([1.0, rgb.shape[0] / cut.shape[0], 1.0], np.float32)
    assert math.isnan(mouth_darkness(cut, pts))


def test_recorded_landmarks_keep_the_darkness() -> None:
    rng = np.random.default_rng(0)
    pts = rng.random((478, 3)).astype(np.float32)
    for dark in (0.0123, math.nan):
        lm = Landmarks(t=1.5, width=640, height=480, face=FaceLandmarks(True, pts, mouth_dark=dark))
        back = decode_landmarks(encode_landmarks(lm))
        assert np.array_equal(back.face.points, pts)
        if math.isnan(dark):
            assert math.isnan(back.face.mouth_dark)
            assert len(encode_landmarks(lm)) == 14 + 4 * 478 * 3  # no darkness part at all
        else:
            assert back.face.mouth_dark == pytest.approx(dark)


@pytest.mark.parametrize("name", ["grace_hopper", "astronaut"])
def test_a_brighter_cut_sees_a_lit_mouth_the_fixed_cut_does_not(name: str) -> None:
    """With the inside of the mouth lit (0.40 of the skin's grey), the fixed cut's area hardly
    grows as the jaw opens, while the first brighter cut's grows as the fixed cut's does on the
    usual renders: the reading vtuber.solvers.calibration.DarkCut switches to."""
    assert DARK_FRACTION < DIM_FRACTIONS[0]
    r = FaceRenderer.from_photo(name, mouth_shade=LIT_MOUTH_SHADE)
    with FaceMeshBackend(static_images=True) as fm:
        cuts = []
        for opening in (0.0, 1.0):
            lm = fm.process(r.render(mouth_open=opening, noise=2.0, seed=1), 0.0)
            assert lm.face.found
            cuts.append((lm.face.mouth_dark, *lm.face.mouth_dim))
    closed, wide = cuts
    assert wide[0] - closed[0] < 0.01, cuts  # the fixed cut: nothing (an opening is ~0.075)
    assert wide[1] - closed[1] > 0.04, cuts


def test_recorded_landmarks_keep_the_brighter_cuts() -> None:
    pts = np.random.default_rng(1).random((478, 3)).astype(np.float32)
    face = FaceLandmarks(True, pts, mouth_dark=0.01, mouth_dim=(0.02, 0.03, 0.04))
    back = decode_landmarks(encode_landmarks(Landmarks(t=0.5, width=64, height=48, face=face)))
    assert back.face.mouth_dim == pytest.approx((0.02, 0.03, 0.04))
    assert back.face.mouth_dark == pytest.approx(0.01)
    # A file written before the cuts existed has none: its replay reads the fixed cut alone.
    face.mouth_dim = (math.nan, math.nan, math.nan)
    back = decode_landmarks(encode_landmarks(Landmarks(t=0.5, width=64, height=48, face=face)))
    assert all(math.isnan(v) for v in back.face.mouth_dim)


@pytest.mark.parametrize("name", ["grace_hopper", "astronaut"])
def test_a_dark_skinned_talker_gets_vowels_from_the_lips(name: str) -> None:
    """A dark skin (vtuber.synth.face.SKIN_TONES["dark"]) whose inside of the mouth is lit as
    on a light one, so the darkness reads the open mouth faintly (grace_hopper: the brightest
    cut) or not at all (astronaut): the wide-open frames still get the jaw's full opening and a
    vowel. On astronaut that takes the blind judge (vtuber.solvers.adaptation.Agreement.blind:
    once the lips have read the mouth open for a second and the darkness never has, the lips
    decide); without it the darkness's bound left those frames silent and half open."""
    from vtuber.solvers.mouth import VOWELS
    from vtuber.tracker import TrackConfig, Tracker

    r = FaceRenderer.from_photo(name, skin_tone="dark")
    tracker = Tracker(TrackConfig())
    wide = []
    with FaceMeshBackend() as fm:
        for i in range(150):
            opening = max(math.sin(i / 5.0), 0.0)
            lm = fm.process(r.render(mouth_open=opening, noise=2.0, seed=i), i / 30.0)
            assert lm.face.found
            cuts = (lm.face.mouth_dark, *lm.face.mouth_dim)
            b = tracker.solve(lm, index=i).blendshapes
            if opening >= 0.9 and i >= 90:
                wide.append((i, cuts, b["jawOpen"], max(b[v] for v in VOWELS)))
    assert wide
    assert all(j > 0.7 and v > 0.3 for _, _, j, v in wide), wide
