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
