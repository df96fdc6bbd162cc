"""MediaPipe FaceMesh (legacy solution, refine_landmarks=True) -> FaceLandmarks.

The model files ship inside the mediapipe 0.10.21 wheel, so this backend runs offline.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import FACE_POINTS, FaceLandmarks, Landmarks
from vtuber.landmarks.cavity import measure_mouth
from vtuber.landmarks.eye_contours import EyeContours, blend
from vtuber.landmarks.eyelids import EyeShut
from vtuber.landmarks.graph import GraphOutputs, GraphRunner
from vtuber.landmarks.mp_import import mp
from vtuber.landmarks.native_log import quiet_native_stderr


def _faces(res: GraphOutputs) -> list[NDArray[np.float32]]:
    """The complete face meshes in one run's outputs."""
    return [p for p in res.landmark_lists("multi_face_landmarks") if p.shape[0] == FACE_POINTS]


def _centre(pts: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.asarray(pts[:, :2].mean(axis=0), np.float32)


def _nearest(
    faces: list[NDArray[np.float32]], centre: NDArray[np.float32], within: float
) -> NDArray[np.float32] | None:
    """The face of ``faces`` whose centre is nearest ``centre``, if within ``within``."""
    best = min(faces, key=lambda p: float(np.abs(_centre(p) - centre).max()), default=None)
    if best is None or float(np.abs(_centre(best) - centre).max()) >= within:
        return None
    return best


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
        settle: on a frame where a face is newly found (more faces than on the frame before),
            run the model on the same frame this many more times and send the mean of the last
            two runs. A newly found face's landmarks come from the face
            detector's box, the next frames' from the previous frame's landmarks; the two crops
            differ, and so do the landmarks. Each rerun crops from the last run's landmarks, as
            tracking does; on a still face the runs settle into alternating between two nearby
            readings, whose mean is taken. On the face corpus's training faces the head read on
            such a frame was 1.43° off on average from the following frames' (up to 2.9°), 0.49°
            after two reruns and 0.31° after four, averaged (docs/face_corpus.md). Tracking mode
            only; one model run each, on those frames only.
        eye_contours: move each face's eye contours toward MediaPipe's iris model's reading of
            each eye alone (vtuber.landmarks.eye_contours; ~2.7 ms per face). Off by default:
            on the face corpus's training faces it helped the Face Landmarker's eyes (perfect
            sync) but not FaceMesh's (docs/face_corpus.md, "The eyes read one at a time").
    """

    name = "facemesh"

    def __init__(
        self,
        static_images: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        max_faces: int = 1,
        settle: int = 4,
        eye_contours: bool = False,
    ) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        self._options = (static_images, min_detection_confidence, min_tracking_confidence)
        self._meshes: dict[int, GraphRunner] = {}
        self._warm = False
        self.max_faces = max_faces
        self.settle = 0 if static_images else max(0, settle)
        self._seen: list[NDArray[np.float32]] = []  # the last frame's faces
        self._mesh = self._graph(max_faces)
        # The tracked face's eye closure from its pixels, relative to its own open eyes (not
        # for unrelated images, nor with several faces: whose eyes would the reference be?).
        self._eyes = None if static_images else EyeShut()
        # Each eye's lids read again one eye at a time (vtuber.landmarks.eye_contours).
        self._contours = EyeContours() if eye_contours else None

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
            if self._eyes is not None:
                self._eyes.reset()
            # Not a face found anew (``settle``): the caller primes the new graph from the
            # previous frames (vtuber.performers), which a settled reading would undo.

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
        found = _faces(res)
        if len(found) > len(self._seen):  # a face newly found: let its landmarks settle
            found = self._settled(mesh, rgb, found)
        self._seen = found
        out = Landmarks(t=t, width=w, height=h)
        if self.max_faces == 1:
            eyes = self._eyes
            if found:
                out.face = FaceLandmarks(found=True, points=found[0])
                measure_mouth(rgb, out.face)
                if eyes is not None:
                    out.face.eye_shut = eyes.measure(rgb, found[0])
                out.face.points = self._refined(rgb, found[0])
            elif eyes is not None:
                eyes.reset()
            return out
        for pts in found:
            face = FaceLandmarks(found=True, points=pts)
            measure_mouth(rgb, face)
            face.points = self._refined(rgb, pts)
            out.people.append(Landmarks(t=t, width=w, height=h, face=face))
        if out.people:
            out.face = out.people[0].face
        return out

    def _refined(self, rgb: np.ndarray, pts: NDArray[np.float32]) -> NDArray[np.float32]:
        """``pts`` with the eyes' contours moved toward the iris model's reading of each eye
        (vtuber.landmarks.eye_contours), or as they are without it."""
        if self._contours is None:
            return pts
        return blend(pts, self._contours.read(rgb, pts))

    def _settled(
        self, mesh: GraphRunner, rgb: np.ndarray, first: list[NDArray[np.float32]]
    ) -> list[NDArray[np.float32]]:
        """``first`` (this frame's faces) with each newly found face's landmarks settled:
        ``settle`` more runs on this frame, the mean of the last two. A face tracked on the
        frame before keeps its first reading, as it would have without the reruns."""
        runs = [first]
        for _ in range(self.settle):
            again = _faces(mesh.run(rgb))
            if len(again) < len(first):
                break  # lost on a rerun: settle on the runs before
            runs.append(again)
        if len(runs) == 1:
            return first
        out = []
        for pts in first:
            c, size = _centre(pts), float(np.ptp(pts[:, 0]))
            if _nearest(self._seen, c, 0.5 * size) is not None:
                out.append(pts)  # tracked already
                continue
            same = [_nearest(r, c, 0.5 * size) for r in runs[-2:]]
            got = [x for x in same if x is not None]
            out.append(np.mean(got, axis=0).astype(np.float32) if got else pts)
        return out

    def close(self) -> None:
        for runner in self._meshes.values():
            runner.solution.close()
        self._meshes.clear()

    def __enter__(self) -> FaceMeshBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
