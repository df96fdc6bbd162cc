"""The mechanisms behind vtuber's speed (docs/performance.md), tested for what they do, never for
how long they take: the start-up imports only what a command uses, the chi-square gates without
scipy equal scipy's, the bare model loop and ``vtuber bench`` run, a live source always hands the
newest frame to the tracker (no queue) and its latency does not grow."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from vtuber.chi2 import chi2_isf, chi2_sf, gaussian_equivalent_threshold

HEAVY = ("scipy", "matplotlib", "websockets", "pythonosc", "skimage", "PIL")


def _modules_after(code: str) -> set[str]:
    """Top-level packages imported by a fresh interpreter after running ``code``."""
    probe = (
        code
        + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_chi2_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for dof in (1, 2, 3, 4, 5, 6, 9, 12, 55):
        for x in (0.01, 0.7, 3.0, 11.0, 40.0, 120.0):
            want = float(stats.chi2.sf(x, dof))
            assert chi2_sf(x, dof) == pytest.approx(want, rel=1e-11, abs=1e-300)
        for sigma in (0.5, 1.0, 2.5, 3.0, 4.0, 6.0):
            want = float(stats.chi2.isf(2.0 * stats.norm.sf(sigma), dof))
            assert gaussian_equivalent_threshold(sigma, dof) == pytest.approx(want, rel=1e-10)
    assert gaussian_equivalent_threshold(0.0, 3) == math.inf
    assert gaussian_equivalent_threshold(3.0, 1) == pytest.approx(9.0, rel=1e-12)  # 1 dof: sigma^2
    with pytest.raises(ValueError):
        chi2_isf(0.0, 2)
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)


def test_help_imports_no_heavy_package() -> None:
    mods = _modules_after("from vtuber.cli import build_parser\nbuild_parser().format_help()")
    assert not mods & {*HEAVY, "mediapipe"}, sorted(mods & {*HEAVY, "mediapipe"})


def test_track_imports_only_what_it_uses(tmp_path: Path, grace_bgr: np.ndarray) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i:03d}.png"), grace_bgr)
    code = (
        "from vtuber.cli import main\n"
        f"assert main(['track', '--source', {str(folder)!r}, '--fast', '--quiet', "
        "'--vmc', '127.0.0.1:9']) == 0"
    )
    mods = _modules_after(code)
    assert "mediapipe" in mods  # it did track
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_lean_mediapipe_import_still_gives_the_real_modules() -> None:
    code = (
        "from vtuber.landmarks.mp_import import mp\n"
        "import sys\n"
        "assert 'matplotlib' not in sys.modules\n"
        "spec = mp.solutions.drawing_utils.DrawingSpec(color=(1, 2, 3))\n"
        "assert spec.color == (1, 2, 3)\n"
        "assert mp.tasks.vision.FaceLandmarker is not None\n"
    )
    mods = _modules_after(code)
    assert "matplotlib" in mods  # loaded on first use, as a real program would need it
