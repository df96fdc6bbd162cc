"""Each eye's lids read again by MediaPipe's iris model, one eye at a time.

The face models (FaceMesh, the Face Landmarker) place both eyes' lids in one pass over the whole
face, and what they learned from real faces couples the two: when one eye winks, the other
eye's lid points close part of the way too, and a far eye's lids follow a blink only loosely
(docs/face_corpus.md, "What the blink misses are"). MediaPipe's iris model
(``mediapipe/modules/iris_landmark/iris_landmark.tflite``, shipped in the mediapipe wheel,
trained on real eyes) reads the contour of ONE eye from a 64 x 64 crop of it: MediaPipe's own
iris pipeline runs it on each eye to refine the face model's eye contours. It cannot copy one
eye's closure to the other.

The crop is MediaPipe's: a square 2.3 eye widths wide, centred between the eye's corners and
turned so that the corners lie level, the person's left eye mirrored (the model reads one side
only), RGB scaled to 0..1. Of the model's 71 points the first 16 are the eye's contour, in the
order of :data:`RINGS`. :func:`blend` moves the face model's 16 contour points of each eye
:data:`WEIGHT` of the way toward the iris model's (image x and y; depth stays): two readings of
the same lids, from two models that fail apart, weighed equally. Chosen on the face corpus's
training faces: the Face Landmarker backend does it, FaceMesh's only when asked
(docs/perfect_sync.md section 10l).

The model runs on the TensorFlow Lite runtime (``tflite-runtime``, with its XNNPACK kernels:
2.4 ms a frame for both eyes on one core here) where that is installed (Linux, Python < 3.12:
the project's dependencies bring it), else through OpenCV's TFLite importer
(``cv2.dnn.readNetFromTFLite``, in the opencv-contrib-python mediapipe brings: 4.6 ms); the two
agree to 1e-4 pixel.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.errors import ModelError
from vtuber.landmarks import face_mesh as fm
from vtuber.landmarks.native_log import quiet_native_stderr


def _mediapipe_dir() -> Path:
    """The installed mediapipe package's folder, found without importing it."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return Path("mediapipe")  # not installed: the model reads as missing
    return Path(next(iter(spec.submodule_search_locations)))


MODEL_FILE = _mediapipe_dir() / "modules" / "iris_landmark" / "iris_landmark.tflite"
MODEL_SHA256 = "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f"
# MediaPipe's eye crop (iris_landmark_landmarks_to_roi): a square this many eye widths wide.
CROP_SCALE = 2.3
INPUT = 64
# Each eye's contour in the iris model's order: the outer corner, the lower lid from the outer
# to the inner corner, the inner corner, the upper lid from outer to inner (person's left, right).
RINGS = (
    (fm.EYE_OUTER_L, *fm.LOWER_LID_L, fm.EYE_INNER_L, *fm.UPPER_LID_L),
    (fm.EYE_OUTER_R, *fm.LOWER_LID_R, fm.EYE_INNER_R, *fm.UPPER_LID_R),
)
_RING_IDX = np.array(RINGS)
# How far the face model's contour moves toward the iris model's (docs/face_corpus.md).
WEIGHT = 0.5


class _TFLite:
    """The model on the TensorFlow Lite runtime, one eye per call (XNNPACK, one thread)."""

    def __init__(self, path: Path) -> None:
        from tflite_runtime.interpreter import Interpreter

        with quiet_native_stderr():  # "Created TensorFlow Lite XNNPACK delegate for CPU."
            self._it = Interpreter(model_path=str(path), num_threads=1)
        self._it.allocate_tensors()
        self._in = self._it.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._it.get_output_details()}
        self._out = outs["output_eyes_contours_and_brows"]

    def run(self, crops: NDArray[np.float32]) -> NDArray[np.float32]:
        """(n, 64, 64, 3) RGB 0..1 -> (n, 71, 3) crop pixels."""
        out = np.empty((len(crops), 71, 3), np.float32)
        for i, crop in enumerate(crops):
            self._it.set_tensor(self._in, crop[None])
            self._it.invoke()
            out[i] = self._it.get_tensor(self._out).reshape(71, 3)
        return out


class _OpenCV:
    """The model through OpenCV's TFLite importer, the eyes in one batch."""

    def __init__(self, path: Path) -> None:
        self._net = cv2.dnn.readNetFromTFLite(str(path))

    def run(self, crops: NDArray[np.float32]) -> NDArray[np.float32]:
        self._net.setInput(np.ascontiguousarray(crops.transpose(0, 3, 1, 2)))
        out = self._net.forward("output_eyes_contours_and_brows")
        return np.asarray(out, np.float32).reshape(len(crops), 71, 3)


class EyeContours:
    """The iris model's contour of each eye (:meth:`read`), loaded on first use. ``runtime``:
    "tflite", "opencv", or None (the TensorFlow Lite runtime where it is installed)."""

    def __init__(self, model_file: Path = MODEL_FILE, runtime: str | None = None) -> None:
        self.model_file = model_file
        self.runtime = runtime
        self._runner: _TFLite | _OpenCV | None = None

    def _load(self) -> _TFLite | _OpenCV:
        if self._runner is None:
            try:
                data = self.model_file.read_bytes()
            except OSError as e:
                raise ModelError(
                    f"MediaPipe's iris model is missing ({self.model_file}): reinstall mediapipe"
                ) from e
            if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
                raise ModelError(f"{self.model_file} is not the iris model vtuber was built for")
            if self.runtime == "opencv":
                self._runner = _OpenCV(self.model_file)
            elif self.runtime == "tflite":
                self._runner = _TFLite(self.model_file)
            else:
                try:
                    self._runner = _TFLite(self.model_file)
                except ImportError:
                    self._runner = _OpenCV(self.model_file)
        return self._runner

    def read(self, rgb: NDArray[np.uint8], points: NDArray[np.float32]) -> NDArray[np.float32]:
        """Each eye's 16 contour points (person's left, right; :data:`RINGS` order) in the
        image's normalised coordinates, (2, 16, 2), from the RGB image and the face's
        normalised landmarks (478, 3); NaN for an eye narrower than a pixel."""
        h, w = rgb.shape[:2]
        out = np.full((2, 16, 2), np.nan, np.float32)
        crops = np.zeros((2, INPUT, INPUT, 3), np.float32)
        maps: list[NDArray[np.float64] | None] = []
        for e, ring in enumerate(RINGS):
            (ox, oy), (ix, iy) = points[ring[0], :2].tolist(), points[ring[8], :2].tolist()
            ox, oy, ix, iy = ox * w, oy * h, ix * w, iy * h
            width = math.hypot(ix - ox, iy - oy)
            if not width > 1.0:
                maps.append(None)
                continue
            # The crop's x axis runs from the outer corner to the inner one (the person's left
            # eye mirrored: MediaPipe levels it inner -> outer, then flips it) and its y axis
            # across the eye, downwards (the levelled direction turned by +90 degrees).
            dx, dy = (ix - ox, iy - oy) if e == 1 else (ox - ix, oy - iy)
            step = CROP_SCALE * width / INPUT
            along = np.array([dx, dy]) / width * (step if e == 1 else -step)
            across = np.array([-dy, dx]) / width * step
            # Crop pixel (u, v) -> image pixel; the crop is centred between the corners.
            centre = np.array([0.5 * (ox + ix), 0.5 * (oy + iy)])
            origin = centre - 0.5 * (INPUT - 1) * (along + across)
            m = np.column_stack([along, across, origin])
            crops[e] = cv2.warpAffine(
                rgb,
                cv2.invertAffineTransform(m),
                (INPUT, INPUT),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            maps.append(m)
        if all(m is None for m in maps):
            return out
        contours = self._load().run(crops * np.float32(1.0 / 255.0))
        for e, affine in enumerate(maps):
            if affine is None:
                continue
            # The model's coordinates are continuous (a pixel's centre at +0.5).
            uv = contours[e, :16, :2].astype(np.float64) - 0.5
            pix = uv @ affine[:, :2].T + affine[:, 2]
            out[e] = (pix / (w, h)).astype(np.float32)
        return out


def blend(
    points: NDArray[np.float32], contours: NDArray[np.float32], weight: float = WEIGHT
) -> NDArray[np.float32]:
    """``points`` with each eye's 16 contour points moved ``weight`` of the way toward
    ``contours`` (:meth:`EyeContours.read`; an eye with NaN is left as it is). A new array."""
    out = points.copy()
    for e in (0, 1):
        c = contours[e]
        if not np.isfinite(c).all():
            continue
        idx = _RING_IDX[e]
        out[idx, :2] = (1.0 - weight) * out[idx, :2] + weight * c
    return out
