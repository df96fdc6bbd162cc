"""Helpers shared by the benchmark scripts (run as ``python benchmarks/<script>.py``, which puts
this folder on ``sys.path``): the shared clip's path and decoding a clip into memory."""

from __future__ import annotations

import argparse
import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"


def bench_module(name: str) -> ModuleType:
    """Another benchmark script of this folder loaded as a module (``name`` without ``.py``),
    for a fitting script that reuses its loaders and measures."""
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parent / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


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


# 4: the renders' teeth (vtuber/synth/face.py) and the mouth darkness (landmarks/cavity.py);
# 5: the inside of the mouth shaded from the photo's skin (synth/face.py MOUTH_INTERIOR_SHADE);
# 7: FaceMesh settles a newly found face's landmarks (landmarks/facemesh.py ``settle``);
# 8: the Face Landmarker's landmarks unsmoothed (landmarks/face_landmarker.py ``FRAME_STEP_MS``;
# the FaceMesh files of version 7 are as good: link them).
CORPUS_CACHE_VERSION = 8


def cached_landmarks(  # type: ignore[no-untyped-def]
    seq,
    backend: str,
    cache: Path | None,
    seconds: float,
    version: int = CORPUS_CACHE_VERSION,
    eyes: bool = True,
    contours: bool | None = None,
):
    """The landmarks of a face-corpus performance (vtuber.synth.corpus.Sequence) from a real
    MediaPipe ``backend`` ("facemesh" or "landmarker"), rendered and run once and kept in
    ``cache`` (keyed by face, seed, length and backend) so reruns take seconds. ``version``: an
    older cache version a caller knows to be as good for what it reads (files of versions
    before 4 have no mouth darkness: NaN). The faces get ``eye_shut`` as the backend computes
    it live (:func:`with_eye_shut`), from patches kept beside the file; ``eyes`` False: left
    NaN (the eye network's own fitting). The backends' points are kept as the models gave
    them, and each eye's contour is then moved toward the iris model's reading as the
    backends do live (vtuber.landmarks.eye_contours), from contours kept beside the file;
    ``contours`` None: where the backend does it by default, False: the models' points alone."""
    from vtuber.landmarks import FaceLandmarks, Landmarks
    from vtuber.synth import scoring

    if contours is None:
        contours = live_contours(backend)
    path = eyes_path = None
    if cache is not None:
        path = _cache_file(seq, backend, cache, seconds, version)
        eyes_path = eye_patches_file(seq, cache, seconds, version, backend)
        if path.is_file():
            d = np.load(path)
            w, h = (int(x) for x in d["size"])
            dark = d["dark"] if "dark" in d else np.full(len(d["found"]), np.nan)
            lms = [
                Landmarks(
                    t=i / seq.fps,
                    width=w,
                    height=h,
                    face=FaceLandmarks(
                        found=bool(d["found"][i]),
                        points=d["points"][i],
                        blendshapes=d["blend"][i],
                        has_blendshapes=bool(d["has_blend"][i]),
                        mouth_dark=float(dark[i]),
                    ),
                )
                for i in range(len(d["found"]))
            ]
            dim = d["dim"] if "dim" in d else cached_mouth_dim(seq, lms, dim_file(path))
            for lm, row in zip(lms, dim, strict=True):
                lm.face.mouth_dim = (float(row[0]), float(row[1]), float(row[2]))
            if eyes:
                with_eye_shut(lms, cached_eye_patches(seq, lms, eyes_path))
            if contours:
                with_eye_contours(lms, cached_eye_contours(seq, lms, contours_file(path)))
            return lms
    from vtuber.synth.corpus import SequenceRenderer

    # Rendered once for the landmarks, the patches and the contours.
    rend = SequenceRenderer(seq, keep=True)
    if backend == "facemesh":
        from vtuber.landmarks.facemesh import FaceMeshBackend

        lms = scoring.landmark_run(seq, lambda: FaceMeshBackend(eye_contours=False), renderer=rend)
    else:
        from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

        lms = scoring.landmark_run(
            seq, lambda: FaceLandmarkerBackend(eye_contours=False), renderer=rend
        )
    cached_eye_patches(seq, lms, eyes_path, rend)  # the patches behind the backend's eye_shut
    iris = cached_eye_contours(seq, lms, None if path is None else contours_file(path), rend)
    if path is not None:
        np.savez_compressed(
            path,
            size=np.array([lms[0].width, lms[0].height]),
            found=np.array([lm.face.found for lm in lms]),
            points=np.array([lm.face.points for lm in lms]),
            blend=np.array([lm.face.blendshapes for lm in lms]),
            has_blend=np.array([lm.face.has_blendshapes for lm in lms]),
            dark=np.array([lm.face.mouth_dark for lm in lms]),
            dim=np.array([lm.face.mouth_dim for lm in lms]),
        )
    if contours:
        with_eye_contours(lms, iris)
    return lms


def _cache_file(seq, kind: str, cache: Path, seconds: float, version: int) -> Path:  # type: ignore[no-untyped-def]
    cache.mkdir(parents=True, exist_ok=True)
    worn = "_glasses" if seq.glasses else ""
    worn += "_fringe" if seq.fringe else ""
    worn += "" if seq.smile is None else "_smiles"
    worn += "" if seq.brows is None else "_brows"
    worn += "" if seq.mouth_shade == 1.0 else f"_shade{seq.mouth_shade:g}"
    worn += f"_skin{seq.skin_tone}" if seq.skin_tone else ""
    worn += "" if seq.exposure == 0.0 and seq.jpeg_quality == 0 else "_webcam"
    drawn = corpus_face_px(seq.name, seq.seed, seconds, seq.fps * seq.step)
    worn += "" if seq.face_px == drawn else f"_px{seq.face_px:g}"
    made_at = seq.fps * seq.step  # the performance's own rate, and how it was filmed
    worn += "" if made_at == 30.0 else f"_made{made_at:g}"
    worn += "" if seq.step == 1 else f"_every{seq.step}"
    return cache / f"v{version}_{seq.name}_{seq.seed}{worn}_{seconds:g}_{kind}.npz"


@functools.lru_cache(maxsize=256)
def corpus_face_px(name: str, seed: int, seconds: float, fps: float) -> float:
    """The face width that a performance of ``name`` and ``seed`` made at ``fps`` for ``seconds``
    is drawn with when none is asked for (made once per performance, not per cache file)."""
    from vtuber.synth.corpus import make_sequence

    return make_sequence(name, seed, seconds=seconds, fps=fps).face_px


def eye_patches_file(  # type: ignore[no-untyped-def]
    seq, cache: Path, seconds: float, version: int = CORPUS_CACHE_VERSION, backend: str = "facemesh"
) -> Path:
    """Where :func:`cached_landmarks` keeps a performance's eye patches, cut where ``backend``'s
    landmarks put the eyes."""
    return _cache_file(seq, f"{backend}_eyes", cache, seconds, version)


def cached_eye_patches(seq, lms, path: Path | None, rend=None) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The eye patches (n, 2, 24, 48) of a face-corpus performance's frames, cut where the
    landmarks ``lms`` put the eyes (vtuber.landmarks.eyelids.eye_patches; zeros where
    no face was found), kept at ``path`` (:func:`eye_patches_file`): rendered once, so a
    refitted eye network (benchmarks/fit_eye_state.py) needs no new render."""
    from vtuber.landmarks.eyelids import PATCH_SIZE, eye_patches

    empty = np.zeros((len(lms), 2, PATCH_SIZE[1], PATCH_SIZE[0]), np.uint8)
    return _measured_on_renders(seq, lms, path, "patches", empty, lambda: eye_patches, rend)


def _measured_on_renders(seq, lms, path, key, out, make_measure, rend=None):  # type: ignore[no-untyped-def]
    """A per-frame image measure of a face-corpus performance, kept at ``path`` (None: not
    kept) under ``key``: loaded from there, or the frames rendered again (or taken from
    ``rend``, a SequenceRenderer that keeps them) and ``out[i]`` filled with
    ``make_measure()(rgb, points)`` on each frame where ``lms`` found a face (the measure is
    made only when there is something to render)."""
    from vtuber.synth.corpus import SequenceRenderer

    if path is not None and path.is_file():
        with np.load(path) as d:
            return np.asarray(d[key])
    rend = SequenceRenderer(seq) if rend is None else rend
    measure = make_measure()
    for i, lm in enumerate(lms):
        if lm.face.found:
            out[i] = measure(cv2.cvtColor(rend.frame(i), cv2.COLOR_BGR2RGB), lm.face.points)
    if path is not None:
        np.savez_compressed(path, **{key: out})
    return out


def dim_file(landmarks_file: Path) -> Path:
    """Where :func:`cached_landmarks` keeps the brighter cuts' darkness of a landmarks file
    written before the backends measured them."""
    return landmarks_file.with_name(landmarks_file.stem + "_dim.npz")


def cached_mouth_dim(seq, lms, path: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The mouth's darkness under the brighter cuts (n, 3) of a face-corpus performance's frames
    (vtuber.landmarks.cavity.DIM_FRACTIONS, on the landmarks ``lms`` as the backends measure it
    live; NaN where no face was found), kept at ``path``: rendered once."""
    from vtuber.landmarks.cavity import DIM_FRACTIONS, mouth_darkness_cuts

    empty = np.full((len(lms), len(DIM_FRACTIONS)), np.nan)
    return _measured_on_renders(
        seq,
        lms,
        path,
        "dim",
        empty,
        lambda: lambda rgb, pts: mouth_darkness_cuts(rgb, pts, DIM_FRACTIONS),
    )


def live_contours(backend: str) -> bool:
    """Whether the ``backend`` ("facemesh" or "landmarker") moves the eyes' contours toward
    the iris model's by default (its ``eye_contours`` argument)."""
    import inspect

    if backend == "facemesh":
        from vtuber.landmarks.facemesh import FaceMeshBackend as cls
    else:
        from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend as cls  # type: ignore[assignment]
    return bool(inspect.signature(cls).parameters["eye_contours"].default)


def contours_file(landmarks_file: Path) -> Path:
    """Where :func:`cached_landmarks` keeps the iris model's eye contours of a performance whose
    landmarks are kept in ``landmarks_file``."""
    return landmarks_file.with_name(landmarks_file.stem + "_contours.npz")


def cached_eye_contours(seq, lms, path: Path | None, rend=None) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The iris model's eye contours (n, 2, 16, 2) of a face-corpus performance's frames, read
    where the landmarks ``lms`` put the eyes (vtuber.landmarks.eye_contours.EyeContours; NaN
    where no face was found), kept at ``path``: rendered once."""
    from vtuber.landmarks.eye_contours import EyeContours

    empty = np.full((len(lms), 2, 16, 2), np.nan, np.float32)
    return _measured_on_renders(seq, lms, path, "contours", empty, lambda: EyeContours().read, rend)


def with_eye_contours(lms: list, contours: np.ndarray) -> None:  # type: ignore[type-arg]
    """Move each found face's eye contours toward the iris model's, as the backends do live
    (vtuber.landmarks.eye_contours.blend)."""
    from vtuber.landmarks.eye_contours import blend

    for lm, c in zip(lms, contours, strict=True):
        if lm.face.found:
            lm.face.points = blend(lm.face.points, c)


def with_eye_shut(lms: list, patches: np.ndarray, network=None) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Fill each found face's ``eye_shut`` as the landmark backends do live: an
    vtuber.landmarks.eyelids.EyeShut over the frames' patches, started afresh where the face
    was lost (``network``: another than the shipped one)."""
    from vtuber.landmarks.eyelids import EyeShut

    shut = EyeShut(network)
    for lm, p in zip(lms, patches, strict=True):
        if lm.face.found:
            lm.face.eye_shut = shut.update(p)
        else:
            shut.reset()


def fitting_options(description: str, seeds: int = 2) -> argparse.ArgumentParser:
    """The options of a fitting script on the face corpus's training faces: --seeds (performances
    per face), --seconds, --cache (the landmarks' cache, :func:`cached_landmarks`)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--seeds", type=int, default=seeds)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    return ap


def training_sequences(seeds: int, glasses: tuple[bool, ...] = (False,)) -> list[tuple]:  # type: ignore[type-arg]
    """``(worn, name, k, sequence)`` of every training face's performances k = 0 .. ``seeds`` - 1
    (the corpus's seed 1000 k + the face's index), for each condition of ``glasses`` in turn
    (False: bare; True: the same performances wearing glasses); [] (said on stderr) when the
    training faces are not here. The caller has called ``corpus.begin_fitting()``."""
    import dataclasses

    from vtuber.synth import corpus

    names = corpus.available(corpus.TRAINING)
    if not names:
        print(f"no training faces in {corpus.shared_faces_dir()}", file=sys.stderr)
        return []
    out = []
    for worn in glasses:
        for name in names:
            for k in range(seeds):
                seq = corpus.make_sequence(name, 1000 * k + corpus.IDENTITIES.index(name))
                out.append((worn, name, k, dataclasses.replace(seq, glasses=worn)))
    return out


def training_landmarks(args: argparse.Namespace, backend: str = "facemesh") -> list[tuple]:  # type: ignore[type-arg]
    """``(name, k, sequence, landmarks)`` of every training face's performances k = 0 ..
    ``args.seeds`` - 1 (the corpus's seed 1000 k + the face's index), the landmarks from
    :func:`cached_landmarks`; [] (said on stderr) when the training faces are not here. The
    caller has called ``corpus.begin_fitting()``."""
    return [
        (name, k, seq, cached_landmarks(seq, backend, Path(args.cache), args.seconds))
        for _, name, k, seq in training_sequences(args.seeds)
    ]
