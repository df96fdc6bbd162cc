"""MediaPipe Tasks Face Landmarker -> FaceLandmarks with the 52 ARKit blendshapes.

Needs ``face_landmarker.task`` (not in the mediapipe wheel; see :mod:`vtuber.models` and
``vtuber models fetch``). Runs in VIDEO mode (landmarks tracked from frame to frame) with
``output_face_blendshapes`` and ``output_facial_transformation_matrixes``; with
``static_images`` (unrelated stills) in IMAGE mode.

What the record holds (see :class:`vtuber.landmarks.FaceLandmarks`):
- ``points`` (478, 3): the same normalized landmarks and topology as the FaceMesh backend.
- ``blendshapes`` (52,): coefficients in [0, 1] in :data:`vtuber.rig.ARKIT_NAMES` order, RAW
  (uncalibrated: see :mod:`vtuber.solvers.arkit`). Sides are the PERSON's own: ``eyeBlinkLeft``
  is the person's left eye. MediaPipe's model already names them so (measured in
  tests/test_face_landmarker.py on renders closing one known eye), so no swap is done here.
  MediaPipe has no ``tongueOut``: it stays 0.
- ``matrix`` (4, 4): the facial transformation matrix exactly as MediaPipe returns it: the
  canonical face model (centimetres; x toward the image right, y up, z toward the camera) ->
  the camera frame of OpenGL convention (x right, y up, looking down -z).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import ARKIT_COUNT, FACE_POINTS, FaceLandmarks, Landmarks
from vtuber.landmarks.cavity import measure_mouth
from vtuber.landmarks.eye_contours import EyeContours, blend
from vtuber.landmarks.eyelids import EyeShut
from vtuber.landmarks.graph import serialized_list
from vtuber.landmarks.mp_import import mp
from vtuber.landmarks.native_log import quiet_native_stderr
from vtuber.landmarks.proto import landmarks_from_bytes
from vtuber.rig import ARKIT_NAMES

# The Tasks API (mediapipe.tasks.python, which `import mediapipe` names mp.tasks), loaded on
# this first use (vtuber/landmarks/mp_import.py).
BaseOptions = mp.tasks.BaseOptions
vision = mp.tasks.vision

_ARKIT_INDEX = {name: i for i, name in enumerate(ARKIT_NAMES)}

# The task graph's stream names (mediapipe 0.10.21's face_landmarker.py), for the lean VIDEO path.
_IN_IMAGE, _IN_RECT = "image_in", "norm_rect_in"
_OUT_LANDMARKS, _OUT_BLENDSHAPES, _OUT_GEOMETRY = "norm_landmarks", "blendshapes", "face_geometry"

# VIDEO-mode timestamp step per frame, ms (FaceLandmarkerBackend._timestamp_ms). The graph's One
# Euro filter (min cutoff 0.05 Hz, mediapipe 0.10.21) weighs a new value 1 / (1 + 1 / (2 pi
# 0.05 Hz dt)): 0.01 at 30 fps while the face is still, 0.9968 at dt = 1000 s. The filter counts
# time in int64 nanoseconds (9.2e9 s, 9.2 million frames: 85 h at 30 fps); past that it would
# warn on every landmark of every frame, so the task is made afresh before TIMESTAMP_LIMIT_MS.
FRAME_STEP_MS = 1_000_000
TIMESTAMP_LIMIT_MS = 9_000_000_000_000


class FaceLandmarkerBackend:
    """Runs the Face Landmarker task on BGR frames.

    Args:
        model_path: the ``.task`` file (default: :func:`vtuber.models.resolve`, which raises a
            :class:`vtuber.errors.ModelError` naming the ways to get it when it is missing).
        static_images: frames are unrelated stills (IMAGE mode instead of VIDEO).
        min_detection_confidence / min_presence_confidence / min_tracking_confidence:
            MediaPipe's thresholds.
        eye_contours: move each eye's contour toward MediaPipe's iris model's reading of that
            eye alone (vtuber.landmarks.eye_contours); False: the landmarker's points as they
            are (the face corpus's cache applies it afterwards).
    """

    name = "landmarker"

    def __init__(
        self,
        model_path: Path | str | None = None,
        static_images: bool = False,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        eye_contours: bool = True,
    ) -> None:
        if model_path is None:
            from vtuber.models import resolve

            model_path = resolve("face_landmarker")
        self.model_path = Path(model_path)
        self.static_images = static_images
        mode = vision.RunningMode.IMAGE if static_images else vision.RunningMode.VIDEO
        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=mode,
            num_faces=1,
            min_face_detection_confidence=min_detection_confidence,
            min_face_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._opts = opts
        with quiet_native_stderr():
            self._task = vision.FaceLandmarker.create_from_options(opts)
        self._last_ms = 0
        self._warm = False
        # VIDEO mode reads the task graph's output packets itself (see _detect_packets): the
        # Tasks API builds a Python object per landmark and per blendshape on every frame.
        self.lean = not static_images and hasattr(self._task, "_process_video_data")
        self._rect: object | None = None
        # The tracked face's eye closure from its pixels (vtuber.landmarks.eyelids); not for
        # unrelated stills.
        self._eyes = None if static_images else EyeShut()
        # Each eye's lids read again one eye at a time (vtuber.landmarks.eye_contours).
        self._contours = EyeContours() if eye_contours else None

    def _timestamp_ms(self, t: float) -> int:
        """The next frame's VIDEO-mode timestamp: :data:`FRAME_STEP_MS` after the last one,
        whatever the source time ``t`` (so repeated or looping source times need nothing).
        MediaPipe smooths a single face's landmarks inside the task graph with a One Euro
        filter that works on these timestamps, and computes the blendshapes from the smoothed
        landmarks: both trailed a fast lid by about a frame. Nothing else in the graph reads
        time (the next frame's crop comes from this frame's unsmoothed landmarks), so spacing
        the frames 1000 s apart makes the filter pass each frame's own landmarks (weight
        0.9968) while the face is still tracked from frame to frame (docs/perfect_sync.md §2).
        Past :data:`TIMESTAMP_LIMIT_MS` the task is made afresh and the timestamps start again."""
        del t
        if self._last_ms + FRAME_STEP_MS > TIMESTAMP_LIMIT_MS:
            # Before the filter's clock would saturate (85 h at 30 fps): a fresh task, timestamps
            # from the start again (the face is found anew on the next frame).
            self._task.close()
            with quiet_native_stderr():
                self._task = vision.FaceLandmarker.create_from_options(self._opts)
            self._last_ms = 0
        self._last_ms += FRAME_STEP_MS
        return self._last_ms

    def _detect_packets(self, image: object, ms: int, out: Landmarks) -> Landmarks | None:
        """VIDEO mode, lean: what ``detect_for_video`` does, reading the output packets directly
        (landmarks from their serialized bytes, vtuber.landmarks.proto; blendshapes and matrix
        from their protobuf messages) instead of building a Python object per landmark and per
        blendshape (~1 ms per frame less; the same values, tests/test_speed_mechanisms.py).
        None when the packets are not the expected ones (then the Tasks API path is used)."""
        from mediapipe.python import packet_creator, packet_getter

        task = self._task
        if self._rect is None:
            self._rect = task.convert_to_normalized_rect(None, image, roi_allowed=False).to_pb2()
        us = ms * 1000
        packets = task._process_video_data(
            {
                _IN_IMAGE: packet_creator.create_image(image).at(us),
                _IN_RECT: packet_creator.create_proto(self._rect).at(us),
            }
        )
        lms = packets.get(_OUT_LANDMARKS)
        if lms is None:
            return None
        if lms.is_empty():
            return out
        raw = serialized_list(lms)
        if raw is None:
            return None
        if not raw:
            return out
        pts = landmarks_from_bytes(raw[0])
        if pts is None or pts.shape[0] != FACE_POINTS:
            return None
        face = FaceLandmarks(found=True, points=pts)
        bsp = packets.get(_OUT_BLENDSHAPES)
        if bsp is not None and not bsp.is_empty():
            lists = packet_getter.get_proto_list(bsp)
            if lists:
                bs = np.zeros(ARKIT_COUNT, np.float32)
                for c in lists[0].classification:
                    i = _ARKIT_INDEX.get(c.label)  # "_neutral" has no ARKit slot
                    if i is not None:
                        bs[i] = c.score
                face.blendshapes = np.clip(bs, 0.0, 1.0)
                face.has_blendshapes = True
        geo = packets.get(_OUT_GEOMETRY)
        if geo is not None and not geo.is_empty():
            geos = packet_getter.get_proto_list(geo)
            if geos and geos[0].HasField("pose_transform_matrix"):
                md = geos[0].pose_transform_matrix
                m = np.array(md.packed_data, dtype=np.float32).reshape(md.rows, md.cols)
                face.matrix = m if md.layout == md.ROW_MAJOR else np.ascontiguousarray(m.T)
        out.face = face
        return out

    def process(self, bgr: NDArray[np.uint8], t: float) -> Landmarks:
        """Landmarks, raw ARKit blendshapes and transform of the face in a BGR image."""
        h, w = bgr.shape[:2]
        rgb: NDArray[np.uint8] = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        if self.lean:
            with quiet_native_stderr(not self._warm):
                ms = self._timestamp_ms(t)
                lean = self._detect_packets(image, ms, Landmarks(t=t, width=w, height=h))
            if lean is not None:
                self._warm = self._warm or lean.face.found
                if lean.face.found:
                    measure_mouth(rgb, lean.face)
                self._measure_eyes(rgb, lean.face)
                return lean
            self.lean = False  # not the packets this reads: the Tasks API from now on
        with quiet_native_stderr(not self._warm):  # first inferences print TFLite notices
            if self.static_images:
                res = self._task.detect(image)
            else:
                res = self._task.detect_for_video(image, self._timestamp_ms(t))
        self._warm = self._warm or bool(res.face_landmarks)
        out = Landmarks(t=t, width=w, height=h)
        if not res.face_landmarks:
            self._measure_eyes(rgb, out.face)
            return out
        pts = np.array([(p.x, p.y, p.z) for p in res.face_landmarks[0]], dtype=np.float32)
        if pts.shape[0] != FACE_POINTS:
            self._measure_eyes(rgb, out.face)
            return out
        face = FaceLandmarks(found=True, points=pts)
        if res.face_blendshapes:
            bs = np.zeros(ARKIT_COUNT, np.float32)
            for c in res.face_blendshapes[0]:
                i = _ARKIT_INDEX.get(c.category_name)  # "_neutral" has no ARKit slot
                if i is not None:
                    bs[i] = c.score
            face.blendshapes = np.clip(bs, 0.0, 1.0)
            face.has_blendshapes = True
        if res.facial_transformation_matrixes:
            face.matrix = np.asarray(res.facial_transformation_matrixes[0], dtype=np.float32)
        measure_mouth(rgb, face)
        self._measure_eyes(rgb, face)
        out.face = face
        return out

    def _measure_eyes(self, rgb: NDArray[np.uint8], face: FaceLandmarks) -> None:
        """For a found face: fill ``face.eye_shut`` (read where the landmarker put the eyes),
        then move the eyes' contours toward the iris model's reading
        (vtuber.landmarks.eye_contours). None found: forget the last face's eyes."""
        if self._eyes is not None:
            if face.found:
                face.eye_shut = self._eyes.measure(rgb, face.points)
            else:
                self._eyes.reset()
        if face.found and self._contours is not None:
            face.points = blend(face.points, self._contours.read(rgb, face.points))

    def close(self) -> None:
        self._task.close()

    def __enter__(self) -> FaceLandmarkerBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
