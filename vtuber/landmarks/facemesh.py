"""MediaPipe FaceMesh (legacy solution, refine_landmarks=True) -> FaceLandmarks.

The model files ship inside the mediapipe 0.10.21 wheel, so this backend runs offline.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import FACE_POINTS, FaceLandmarks, Landmarks
from vtuber.landmarks.cavity import mouth_darkness
from vtuber.landmarks.graph import GraphRunner
from vtuber.landmarks.mp_import import mp
from vtuber.landmarks.native_log import quiet_native_stderr


class FaceMeshBackend:
    """Runs FaceMesh with iris refinement on BGR frames.

    Args:
        static_images: treat every frame as unrelated (image folders); otherwise MediaPipe tracks
            the face region from frame to frame, which is faster.
        min_detection_confidence / min_tracking_confidence: MediaPipe's thresholds.
        max_faces: how many faces to look for. With 1 (the default, the fast path) MediaPipe
            runs its face detector only while no face is tracked; with more it runs the detector
            on every frame that shows fewer faces than that (~2.5 ms more per frame at 640x480,
            docs/performers.md). Every face found is in ``Landmarks.people`` (one single-face
            record each, MediaPipe's order); ``Landmarks.face`` is the first, as before.
            :meth:`set_max_faces` switches between graphs (each kept once built).
    """

    name = "facemesh"

    def __init__(
        self,
        static_images: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        max_faces: int = 1,
    ) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        self._options = (static_images, min_detection_confidence, min_tracking_confidence)
        self._meshes: dict[int, GraphRunner] = {}
        self._warm = False
        self.max_faces = max_faces
        self._mesh = self._graph(max_faces)

    def _graph(self, n: int) -> GraphRunner:
        """The FaceMesh graph looking for ``n`` faces (built on first use, then kept), run
        through :class:`vtuber.landmarks.graph.GraphRunner` (less Python per frame)."""
        runner = self._meshes.get(n)
        if runner is None:
            static, det, trk = self._options
            with quiet_native_stderr():
                mesh = mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=static,
                    max_num_faces=n,
                    refine_landmarks=True,
                    min_detection_confidence=det,
                    min_tracking_confidence=trk,
                )
                # The graph starts its models asynchronously; one blank frame waits for that.
                mesh.process(np.zeros((64, 64, 3), np.uint8))
            runner = self._meshes[n] = GraphRunner(mesh)
        return runner

    def set_max_faces(self, n: int) -> None:
        """Look for up to ``n`` faces from the next frame on. A graph that was idle restarts
        from detection (its tracking state is from frames ago)."""
        if n < 1:
            raise ValueError(f"max_faces must be at least 1, got {n}")
        if n != self.max_faces:
            self.max_faces = n
            self._mesh = self._graph(n)
            self._mesh.solution.reset()

    def process(self, bgr: NDArray[np.uint8], t: float) -> Landmarks:
        """Landmarks of the faces in a BGR image (``face``: the first; ``face.found`` False if
        none; with ``max_faces`` > 1 every face also in ``people``)."""
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        return self.process_rgb(rgb, t)

    def process_rgb(self, rgb: np.ndarray, t: float) -> Landmarks:
        """:meth:`process` on an RGB image (full mode converts each frame once for all its
        models)."""
        h, w = rgb.shape[:2]
        mesh = self._mesh
        if self._warm:
            res = mesh.run(rgb)
        else:  # the landmark model's first run (first face found) prints TFLite notices
            with quiet_native_stderr():
                res = mesh.run(rgb)
            self._warm = res.has("multi_face_landmarks")
        out = Landmarks(t=t, width=w, height=h)
        found = res.landmark_lists("multi_face_landmarks")
        if self.max_faces == 1:
            if found and found[0].shape[0] == FACE_POINTS:
                out.face = FaceLandmarks(
                    found=True, points=found[0], mouth_dark=mouth_darkness(rgb, found[0])
                )
            return out
        for pts in found:
            if pts.shape[0] == FACE_POINTS:
                face = FaceLandmarks(found=True, points=pts, mouth_dark=mouth_darkness(rgb, pts))
                out.people.append(Landmarks(t=t, width=w, height=h, face=face))
        if out.people:
            out.face = out.people[0].face
        return out

    def close(self) -> None:
        for runner in self._meshes.values():
            runner.solution.close()
        self._meshes.clear()

    def __enter__(self) -> FaceMeshBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
