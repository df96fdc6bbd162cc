"""Full mode for several performers (``--mode full --performers 2``, docs/performers.md).

MediaPipe's Pose (legacy solution) finds one person per image. Here the face runs once on the
whole image (FaceMesh looking for every face), and each performer slot has its own pose and hand
trackers (a :class:`vtuber.landmarks.body.FullBodyBackend` without a face) that see only that
performer's region of the image (:meth:`focus_slots`, set by
:class:`vtuber.performers.PerformerBackend` from the previous frame; the rest is masked, so the
coordinates stay the whole image's). The slots run concurrently with the face on worker threads
(MediaPipe releases the GIL while a graph runs). Each slot's pose and hands go to the person whose
face the pose's nose is in (``Landmarks.people``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.landmarks import Landmarks
from vtuber.landmarks.body import FullBodyBackend
from vtuber.landmarks.facemesh import FaceMeshBackend

U8 = NDArray[np.uint8]
Region = tuple[float, float, float, float]


class _NoFace:
    """A face backend that finds nothing (the slots' bodies run without a face)."""

    def process(self, bgr: U8, t: float) -> Landmarks:
        h, w = bgr.shape[:2]
        return Landmarks(t=t, width=w, height=h)

    def close(self) -> None:
        pass


def _nose_in(person: Landmarks, nose: NDArray[np.float32]) -> float:
    """Distance of a normalized point from the person's face centre, in face widths."""
    pts = person.face.points[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(np.linalg.norm(nose - 0.5 * (lo + hi)) / max(float(hi[0] - lo[0]), 1e-6))


class MultiBodyBackend:
    """Faces of everyone, pose and hands per performer slot.

    Args:
        count: performer slots (each gets its own pose and hand trackers).
        static_images: unrelated images (no tracking between frames).
        max_width: frames wider than this are downscaled first (as in full mode).
        pose_every: each performer's Pose runs on every this many frames, the performers taking
            turns (Pose is most of the cost: ~23 ms of CPU each here); hands and faces run on
            every frame. 1: every pose on every frame.
    """

    name = "full-multi"

    def __init__(
        self,
        count: int = 2,
        static_images: bool = False,
        max_width: int | None = 640,
        pose_every: int = 2,
    ) -> None:
        self.max_width = max_width
        self.face = FaceMeshBackend(static_images=static_images, max_faces=count + 1)
        self.bodies = [
            FullBodyBackend(
                static_images=static_images, max_width=None, threads=False, face=_NoFace()
            )
            for _ in range(count)
        ]
        for k, body in enumerate(self.bodies):  # the performers' Pose runs take turns
            body.pose_every, body.pose_phase = pose_every, k
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="vtuber-body")
        self._active = [False] * count

    def set_max_faces(self, n: int) -> None:
        self.face.set_max_faces(n)

    def focus_slots(self, regions: list[Region | None]) -> None:
        """Each slot's image region for the next frame (None: that slot holds no one yet; its
        body is not looked for, since on the whole image Pose may mix two people)."""
        self._active = [r is not None for r in regions]
        for body, region in zip(self.bodies, regions, strict=False):
            body.focus(region)

    def process(self, bgr: U8, t: float) -> Landmarks:
        h, w = bgr.shape[:2]
        small = bgr
        if self.max_width is not None and w > self.max_width:
            sh = round(h * self.max_width / w)
            small = np.asarray(
                cv2.resize(bgr, (self.max_width, sh), interpolation=cv2.INTER_LINEAR), np.uint8
            )
        futures = [
            self._pool.submit(b.process, small, t)
            for b, on in zip(self.bodies, self._active, strict=True)
            if on
        ]
        flm = self.face.process(small, t)
        bodies = [f.result() for f in futures]
        people = [replace(p, width=w, height=h) for p in flm.people]
        if not people and flm.face.found:
            people = [Landmarks(t=t, width=w, height=h, face=flm.face)]
        for body in bodies:
            if not body.pose.found or not people:
                continue
            nose = body.pose.points[0, :2]
            owner = min(people, key=lambda p: _nose_in(p, nose))
            if _nose_in(owner, nose) < 1.0 and not owner.pose.found:
                owner.pose = body.pose
                owner.left_hand, owner.right_hand = body.left_hand, body.right_hand
        out = Landmarks(t=t, width=w, height=h, people=people)
        if people:
            first = people[0]
            out.face, out.pose = first.face, first.pose
            out.left_hand, out.right_hand = first.left_hand, first.right_hand
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.face.close()
        for b in self.bodies:
            b.close()

    def __enter__(self) -> MultiBodyBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
