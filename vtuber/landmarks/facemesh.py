"""MediaPipe FaceMesh (legacy solution, refine_landmarks=True) -> FaceLandmarks.

The model files ship inside the mediapipe 0.10.21 wheel, so this backend runs offline.
"""

from __future__ import annotations

import cv2
import mediapipe as mp
import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import FACE_POINTS, FaceLandmarks, Landmarks
from vtuber.landmarks.native_log import quiet_native_stderr
from vtuber.landmarks.proto import landmark_array


class FaceMeshBackend:
    """Runs FaceMesh with iris refinement on BGR frames.

    Args:
        static_images: treat every frame as unrelated (image folders); otherwise MediaPipe tracks
            the face region from frame to frame, which is faster.
        min_detection_confidence / min_tracking_confidence: MediaPipe's thresholds.
    """

    name = "facemesh"

    def __init__(
        self,
        static_images: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ) -> None:
        with quiet_native_stderr():
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=static_images,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=min_detection_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
            # The graph starts its models asynchronously; one blank frame waits for that.
            self._mesh.process(np.zeros((64, 64, 3), np.uint8))
        self._warm = False

    def process(self, bgr: NDArray[np.uint8], t: float) -> Landmarks:
        """Landmarks of the (single, largest) face in a BGR image; ``face.found`` False if none."""
        h, w = bgr.shape[:2]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        if self._warm:
            res = self._mesh.process(rgb)
        else:  # the landmark model's first run (first face found) prints TFLite notices
            with quiet_native_stderr():
                res = self._mesh.process(rgb)
            self._warm = bool(res.multi_face_landmarks)
        out = Landmarks(t=t, width=w, height=h)
        if res.multi_face_landmarks:
            pts = landmark_array(res.multi_face_landmarks[0])
            if pts.shape[0] == FACE_POINTS:
                out.face = FaceLandmarks(found=True, points=pts)
        return out

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceMeshBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
