"""Helpers shared by the benchmark scripts (run as ``python benchmarks/<script>.py``, which puts
this folder on ``sys.path``): the shared clip's path and decoding a clip into memory."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"


def read_frames(path: Path, n: int) -> list[np.ndarray]:
    """The first ``n`` BGR frames of the video at ``path`` (fewer if it is shorter; none if it
    cannot be read), decoded up front so that decoding stays out of the timings."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    return frames
