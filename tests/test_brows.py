"""Brow solver on real-photo landmarks with the brows moved by known amounts."""

from __future__ import annotations

import numpy as np
import pytest

from vtuber.solvers.brows import BROW, BrowConfig, brow_heights, solve_brows
from vtuber.solvers.expressions import face_frame


@pytest.fixture(scope="module")
def face(grace_bgr) -> np.ndarray:  # type: ignore[no-untyped-def]
    from vtuber.landmarks.facemesh import FaceMeshBackend

    with FaceMeshBackend(static_images=True) as b:
        lm = b.process(grace_bgr, 0.0)
    return face_frame(lm.face_pixels(), np.eye(3))


def test_rest_reads_zero(face: np.ndarray) -> None:
    w = solve_brows(brow_heights(face), brow_heights(face), BrowConfig())
    assert all(v == 0.0 for v in w.values())


def test_raise_one_outer_brow_and_lower_the_other(face: np.ndarray) -> None:
    rest = brow_heights(face)
    f = face.copy()
    f[BROW[0, 1], 1] += 0.07  # the person's LEFT outer brow up (y is up)
    f[BROW[1], 1] -= 0.04  # the RIGHT brow down
    w = solve_brows(brow_heights(f), rest, BrowConfig())
    assert w["browOuterUpLeft"] == pytest.approx(1.0)
    assert w["browOuterUpRight"] == 0.0 and w["browDownLeft"] == 0.0
    assert w["browDownRight"] == pytest.approx(1.0)


def test_inner_up_needs_both_sides(face: np.ndarray) -> None:
    rest = brow_heights(face)
    f = face.copy()
    f[BROW[:, 0], 1] += 0.05
    w = solve_brows(brow_heights(f), rest, BrowConfig())
    assert 0.5 < w["browInnerUp"] < 1.0
    assert w["browOuterUpLeft"] == 0.0
