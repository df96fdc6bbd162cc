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


def test_movement_within_the_users_own_scatter_reads_as_rest(face: np.ndarray) -> None:
    """A brow height within its noise of the rest reads 0; beyond it the change is reduced by the
    noise, so a full lowering needs the noise on top of the range."""
    rest = brow_heights(face)
    f = face.copy()
    f[BROW[0], 1] -= 0.01  # the LEFT brow down by its own scatter
    f[BROW[1], 1] -= 0.04  # the RIGHT brow fully down
    cfg = BrowConfig()
    plain = solve_brows(brow_heights(f), rest, cfg)
    assert plain["browDownLeft"] > 0.1 and plain["browDownRight"] == pytest.approx(1.0)
    w = solve_brows(brow_heights(f), rest, cfg, (0.012, 0.012, 0.012, 0.012))
    assert w["browDownLeft"] == 0.0
    assert 0.5 < w["browDownRight"] < 1.0  # (0.04 - 0.012) / 0.04 = 0.7, less the dead zone
    # Noise on one height only leaves the others as they were.
    one = solve_brows(brow_heights(f), rest, cfg, (0.0, 0.0, 0.0, 0.02))
    assert one["browDownLeft"] == pytest.approx(plain["browDownLeft"])
    assert one["browDownRight"] < plain["browDownRight"]
