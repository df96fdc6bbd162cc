"""The face corpus: ten real people's photos rendered as 3D heads (vtuber.synth.face), split by
person into a training half (the only faces any constant may be fitted on) and a validation half
(the only faces figures are reported on). docs/face_corpus.md lists the split and why.

Two photos ship with packages the project already uses (matplotlib's grace_hopper, scikit-image's
astronaut); eight come from the shared test data folder (``../shared/data/faces`` beside the
checkout, or ``$VTUBER_SHARED_DATA/faces``) and are never copied into the project.

A fitting script calls :func:`begin_fitting` first: from then on asking for a validation face
raises :class:`CorpusError`, so a constant can not be fitted on a face it is judged on.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.errors import VtuberError

# Split by person, balanced for what hurts trackers: a broad smile at rest with teeth showing
# (obama / alex_lacamoire), beards (kit_harington / alex_lacamoire, shea_whigham), women with long
# hair (kate_siegel, astronaut, grace_hopper / rose_leslie), small faces in a large photo.
TRAINING: tuple[str, ...] = ("grace_hopper", "astronaut", "obama", "kit_harington", "kate_siegel")
VALIDATION: tuple[str, ...] = (
    "alex_lacamoire",
    "biden",
    "paul_rudd",
    "rose_leslie",
    "shea_whigham",
)
IDENTITIES: tuple[str, ...] = TRAINING + VALIDATION
PACKAGE_PHOTOS = ("grace_hopper", "astronaut")

_fitting = False


class CorpusError(VtuberError):
    """A face that is not available, or a validation face asked for while fitting."""


def begin_fitting() -> None:
    """Mark this process as fitting constants: validation faces are refused from now on."""
    global _fitting
    _fitting = True


def fitting() -> bool:
    return _fitting


def shared_faces_dir() -> Path:
    """Where the eight shared portraits live (they may be absent: see :func:`available`)."""
    env = os.environ.get("VTUBER_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "faces"


def _photo_path(name: str) -> Path | None:
    d = shared_faces_dir()
    for ext in (".jpg", ".png"):
        p = d / f"{name}{ext}"
        if p.is_file():
            return p
    return None


def available(names: tuple[str, ...] = IDENTITIES) -> tuple[str, ...]:
    """The identities among ``names`` whose photo can be loaded on this machine."""
    return tuple(n for n in names if n in PACKAGE_PHOTOS or _photo_path(n) is not None)


def _check(name: str) -> None:
    if name not in IDENTITIES:
        raise CorpusError(f"unknown corpus face {name!r}; choose one of {', '.join(IDENTITIES)}")
    if _fitting and name in VALIDATION:
        raise CorpusError(
            f"{name!r} is a validation face: fitting scripts may read only {', '.join(TRAINING)}"
        )


def load_photo(name: str) -> NDArray[np.uint8]:
    """The BGR photo of one corpus identity."""
    _check(name)
    if name in PACKAGE_PHOTOS:
        from vtuber.synth.face import load_photo as load_package_photo

        return load_package_photo(name)
    p = _photo_path(name)
    if p is None:
        raise CorpusError(f"the photo of {name!r} is not in {shared_faces_dir()}")
    img = cv2.imread(str(p))
    if img is None:
        raise CorpusError(f"cannot read {p}")
    return np.ascontiguousarray(img)


@lru_cache(maxsize=12)
def photo_landmarks(name: str) -> NDArray[np.float64]:
    """FaceMesh landmarks of an identity's photo, pixels (z scaled like x), read-only."""
    from vtuber.landmarks.facemesh import FaceMeshBackend

    img = load_photo(name)
    with FaceMeshBackend(static_images=True) as fm:
        lm = fm.process(img, 0.0)
    if not lm.face.found:
        raise CorpusError(f"no face found in the photo of {name!r}")
    pts = lm.face_pixels()
    pts.setflags(write=False)
    return pts


def renderer(name: str, **kwargs: float):  # type: ignore[no-untyped-def]
    """A :class:`vtuber.synth.face.FaceRenderer` of one identity (kwargs: distance_cm, hfov_deg)."""
    from vtuber.synth.face import FaceRenderer

    _check(name)
    return FaceRenderer.from_landmarks(load_photo(name), photo_landmarks(name), **kwargs)
