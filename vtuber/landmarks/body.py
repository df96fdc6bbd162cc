"""MediaPipe Pose and Hands (model_complexity=1, the models shipped in the wheel, so offline) and
the composite backend of ``--mode full`` (face + pose + hands).

Handedness: MediaPipe Hands labels a hand as if the image were mirrored (a selfie view), so on an
un-mirrored camera image its "Left" is the person's RIGHT hand. :func:`person_side` resolves it;
:class:`Landmarks` always holds the person's own hands. Pose landmarks are already the person's
own sides (LEFT_WRIST = the person's left wrist, image right in an un-mirrored camera).

Speed (docs/body.md): the three graphs are independent per frame and MediaPipe releases the GIL
while a graph runs, so :class:`FullBodyBackend` runs pose and hands on worker threads while the
face runs on the caller's. Each hand has its own tracker (max_num_hands=1): a tracked hand costs
only the landmark model; a lost hand is searched for (palm detection, the expensive part) only
every few frames and only in the image region where the previous frame's pose puts that wrist,
by masking the rest of the image. Masking (not cropping) keeps the tracker's coordinates equal to
the full image's, so tracking continues on the next, unmasked frame.
"""

from __future__ import annotations

import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.cpus import pinned
from vtuber.landmarks import (
    HAND_POINTS,
    POSE_POINTS,
    HandLandmarks,
    Landmarks,
    PoseLandmarks,
)
from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.landmarks.graph import GraphOutputs, GraphRunner
from vtuber.landmarks.mp_import import mp
from vtuber.landmarks.native_log import quiet_native_stderr

U8 = NDArray[np.uint8]

# Pose indices per person's side: wrist, pinky, index, thumb, elbow, shoulder.
_POSE_HAND = {"left": (15, 17, 19, 21, 13, 11), "right": (16, 18, 20, 22, 14, 12)}


def person_side(label: str, mirrored_image: bool = False) -> str:
    """The person's own side ("left"/"right") of a hand MediaPipe labelled ``label``.

    MediaPipe assumes a mirrored (selfie) image: on an un-mirrored camera image its "Left" is the
    person's right hand. Pass ``mirrored_image=True`` for images that were flipped already."""
    lab = label.strip().lower()
    if lab not in ("left", "right"):
        raise ValueError(f"unknown handedness label {label!r}")
    if mirrored_image:
        return lab
    return "right" if lab == "left" else "left"


def _rgb(bgr: U8) -> U8:
    rgb: U8 = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    rgb.flags.writeable = False
    return rgb


def _pose_record(res: GraphOutputs) -> PoseLandmarks:
    pts = res.landmarks("pose_landmarks", fields=4)
    world = res.landmarks("pose_world_landmarks")
    if pts is None or world is None or pts.shape[0] != POSE_POINTS:
        return PoseLandmarks()
    return PoseLandmarks(found=True, points=pts, world=world)


def _hand_records(
    res: GraphOutputs, mirrored_image: bool = False
) -> list[tuple[str, HandLandmarks]]:
    """(person's side, hand) for every hand in a Hands graph's outputs."""
    out: list[tuple[str, HandLandmarks]] = []
    lms = res.landmark_lists("multi_hand_landmarks")
    if not lms:
        return out
    wls = res.landmark_lists("multi_hand_world_landmarks")
    hds = res.messages("multi_handedness")
    for pts, world, hd in zip(lms, wls, hds, strict=False):
        c = hd.classification[0]
        if pts.shape[0] != HAND_POINTS:
            continue
        hand = HandLandmarks(found=True, points=pts, world=world, score=float(c.score))
        out.append((person_side(c.label, mirrored_image), hand))
    return out


class PoseBackend:
    """MediaPipe Pose, model_complexity=1, on BGR frames -> ``Landmarks.pose``."""

    name = "pose"

    def __init__(self, static_images: bool = False, min_detection_confidence: float = 0.5) -> None:
        with quiet_native_stderr():
            pose = mp.solutions.pose.Pose(
                static_image_mode=static_images,
                model_complexity=1,
                min_detection_confidence=min_detection_confidence,
            )
            pose.process(np.zeros((64, 64, 3), np.uint8))
        self._pose = GraphRunner(pose)  # less Python per frame (vtuber.landmarks.graph)

    def process_rgb(self, rgb: U8) -> PoseLandmarks:
        return _pose_record(self._pose.run(rgb))

    def process(self, bgr: U8, t: float) -> Landmarks:
        h, w = bgr.shape[:2]
        return Landmarks(t=t, width=w, height=h, pose=self.process_rgb(_rgb(bgr)))

    def close(self) -> None:
        self._pose.solution.close()


class HandsBackend:
    """MediaPipe Hands, model_complexity=1, up to two hands -> ``Landmarks.left_hand`` /
    ``right_hand`` (the person's own, see :func:`person_side`)."""

    name = "hands"

    def __init__(
        self,
        static_images: bool = False,
        mirrored_images: bool = False,
        min_detection_confidence: float = 0.5,
    ) -> None:
        self.mirrored_images = mirrored_images
        with quiet_native_stderr():
            hands = mp.solutions.hands.Hands(
                static_image_mode=static_images,
                model_complexity=1,
                max_num_hands=2,
                min_detection_confidence=min_detection_confidence,
            )
            hands.process(np.zeros((64, 64, 3), np.uint8))
        self._hands = GraphRunner(hands)

    def process(self, bgr: U8, t: float) -> Landmarks:
        h, w = bgr.shape[:2]
        out = Landmarks(t=t, width=w, height=h)
        for side, hand in _hand_records(self._hands.run(_rgb(bgr)), self.mirrored_images):
            cur = out.left_hand if side == "left" else out.right_hand
            if hand.score > cur.score:
                if side == "left":
                    out.left_hand = hand
                else:
                    out.right_hand = hand
        return out

    def close(self) -> None:
        self._hands.solution.close()


class _SideHand:
    """One hand's tracker (max_num_hands=1) with pose-guided, rate-limited re-detection.

    MediaPipe's tracker crops the next frame from its own last fit, so a wrong fit can hold
    itself in place: a thumbs up picked up after a fast move (frames skipped under load, motion
    blur) tracks as a pointing hand, the thumb taken for the index finger, for as long as it is
    held, while fresh detections fit it right. So a tracked fit is checked against a fresh one
    (a static-image graph: palm detection and landmarks on this frame alone, masked to the
    hand) on the first tracked frame after a detection and every ``VERIFY_EVERY`` tracked
    frames; where they disagree, the fresh fit is used, and fresh fits only for the next
    ``FRESH_FRAMES`` frames, after which the tracker is checked again (docs/body.md)."""

    VERIFY_EVERY = 30
    FRESH_FRAMES = 10
    DISAGREE = 0.5  # farthest point apart, in hand sizes, beyond which two fits disagree

    def __init__(self, side: str, static_images: bool, retry_every: int) -> None:
        self.side = side
        self.retry_every = 1 if static_images else max(1, retry_every)
        self.static = static_images
        self.tracked = False
        self.since_try = retry_every  # try on the first frame
        # Back-off: after failed searches with the wrist where it was, search less often
        # (retry_every x 2, x 4); a wrist that moves, or a hand found, resets it.
        self.misses = 0
        self._missed_at: tuple[float, float] | None = None
        self.searches = 0  # palm searches run (for benchmarks)
        self.refits = 0  # tracked fits replaced by a fresh one (for tests and benchmarks)
        self._last = HandLandmarks()  # this hand's previous output
        self._since_verify = 0
        self._fresh_left = 0
        self._fresh_graph: GraphRunner | None = None  # static-image graph, made when needed
        with quiet_native_stderr():
            hands = mp.solutions.hands.Hands(
                static_image_mode=static_images,
                model_complexity=1,
                max_num_hands=1,
                min_detection_confidence=0.5,
                min_tracking_confidence=0.5,
            )
            hands.process(np.zeros((64, 64, 3), np.uint8))
        self._hands = GraphRunner(hands)

    def region(self, pose: PoseLandmarks, width: int, height: int) -> tuple[int, int, int, int]:
        """Pixel box (x0, y0, x1, y1) where this hand should be, from the previous pose; the
        person's half of the image when there is no pose."""
        if pose.found:
            wr, pi, ix, th, el, sh = _POSE_HAND[self.side]
            p = pose.points
            pts = p[[wr, pi, ix, th], :2] * (width, height)
            ctr = pts.mean(axis=0)
            # Hand size ~ 0.9 x forearm length in the image; never smaller than 1/6 of the frame.
            fore = float(np.linalg.norm((p[wr, :2] - p[el, :2]) * (width, height)))
            shw = float(np.linalg.norm((p[11, :2] - p[12, :2]) * (width, height)))
            r = max(1.2 * fore, 0.8 * shw, min(width, height) / 6.0)
            x0, y0 = int(ctr[0] - r), int(ctr[1] - r)
            return max(x0, 0), max(y0, 0), min(int(ctr[0] + r), width), min(int(ctr[1] + r), height)
        # Un-mirrored camera: the person's right hand is on the image's left.
        if self.side == "right":
            return 0, 0, int(0.6 * width), height
        return int(0.4 * width), 0, width, height

    def wanted(self, pose: PoseLandmarks) -> bool:
        """Whether to search for this (lost) hand now."""
        self.since_try += 1
        if pose.found and self._missed_at is not None and self.misses:
            wr, el = _POSE_HAND[self.side][0], _POSE_HAND[self.side][4]
            p = pose.points
            moved = math.hypot(p[wr, 0] - self._missed_at[0], p[wr, 1] - self._missed_at[1])
            fore = math.hypot(p[wr, 0] - p[el, 0], p[wr, 1] - p[el, 1])
            if moved > max(0.3 * fore, 0.02):  # the arm moved: the hand may be in view now
                self.misses = 0
        interval = self.retry_every * (1 if self.static else 2 ** min(self.misses, 2))
        if self.since_try < interval:
            return False
        if pose.found:
            wr = _POSE_HAND[self.side][0]
            x, y, _, v = pose.points[wr]
            if v < 0.3 or not (-0.1 <= x <= 1.1 and -0.1 <= y <= 1.1):
                return False
        return True

    def _searched(self, found: bool, pose: PoseLandmarks) -> None:
        """Book-keeping of one palm search for the back-off."""
        self.searches += 1
        if found:
            self.misses, self._missed_at = 0, None
            return
        self.misses += 1
        if pose.found:
            wr = _POSE_HAND[self.side][0]
            self._missed_at = (float(pose.points[wr, 0]), float(pose.points[wr, 1]))

    def _fresh(self, rgb: U8) -> list[tuple[str, HandLandmarks]]:
        """A fresh fit of this hand (static-image graph), the image masked to twice the size
        of its previous fit; [] when none or when it is confidently the other hand."""
        if self._fresh_graph is None:
            with quiet_native_stderr():
                graph = mp.solutions.hands.Hands(
                    static_image_mode=True, model_complexity=1, max_num_hands=1
                )
            self._fresh_graph = GraphRunner(graph)
        h, w = rgb.shape[:2]
        px = self._last.points[:, :2] * (w, h)
        c, r = 0.5 * (px.min(axis=0) + px.max(axis=0)), float(np.ptp(px, axis=0).max())
        x0, y0 = max(int(c[0] - r), 0), max(int(c[1] - r), 0)
        x1, y1 = min(int(c[0] + r), w), min(int(c[1] + r), h)
        masked = np.zeros_like(rgb)
        masked[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
        recs = _hand_records(self._fresh_graph.run(masked))
        return [] if recs and recs[0][0] != self.side and recs[0][1].score > 0.8 else recs

    def _tracked(self, rgb: U8) -> list[tuple[str, HandLandmarks]]:
        """The tracker's fit, checked against a fresh one now and then (see the class doc)."""
        if self._fresh_left > 0:
            self._fresh_left -= 1
            self._since_verify = self.VERIFY_EVERY  # check the tracker again when it resumes
            return self._fresh(rgb)
        recs = _hand_records(self._hands.run(rgb))
        self._since_verify += 1
        if not recs or self._since_verify < self.VERIFY_EVERY or not self._last.found:
            return recs
        self._since_verify = 0
        fresh = self._fresh(rgb)
        if not fresh:
            return recs
        h, w = rgb.shape[:2]
        if _fit_gap(recs[0][1], fresh[0][1], w, h) > self.DISAGREE:
            self.refits += 1
            self._fresh_left = self.FRESH_FRAMES
            return fresh
        return recs

    def process(self, rgb: U8, pose: PoseLandmarks) -> HandLandmarks:
        hand = self._process(rgb, pose)
        self._last = hand
        return hand

    def _process(self, rgb: U8, pose: PoseLandmarks) -> HandLandmarks:
        h, w = rgb.shape[:2]
        if self.tracked and not self.static:
            recs = self._tracked(rgb)
        elif self.wanted(pose):
            self.since_try = 0
            x0, y0, x1, y1 = self.region(pose, w, h)
            if x1 - x0 < 16 or y1 - y0 < 16:
                return HandLandmarks()
            masked = np.zeros_like(rgb)
            masked[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
            recs = _hand_records(self._hands.run(masked))
            ours = bool(recs) and not (recs[0][0] != self.side and recs[0][1].score > 0.8)
            self._searched(ours, pose)
            self._since_verify, self._fresh_left = self.VERIFY_EVERY, 0  # check the next fit
        else:
            return HandLandmarks()
        if not recs:
            self.tracked = False
            return HandLandmarks()
        side, hand = recs[0]
        if not self.tracked and side != self.side and hand.score > 0.8:
            # A new detection whose (resolved) handedness is confidently the other hand: the
            # search region also held the other hand. Not ours.
            return HandLandmarks()
        self.tracked = True
        return hand

    def close(self) -> None:
        self._hands.solution.close()
        if self._fresh_graph is not None:
            self._fresh_graph.solution.close()


def _fit_gap(a: HandLandmarks, b: HandLandmarks, width: int, height: int) -> float:
    """How far apart two fits' farthest image points are, in hand sizes (b's image box's longer
    side). On the thumbs-up clip: <= 0.24 for two fits of the held hand (<= 0.45 while it
    settles), 0.6-0.8 for its thumb taken for the index finger."""
    pa, pb = a.points[:, :2] * (width, height), b.points[:, :2] * (width, height)
    size = max(float(np.ptp(pb, axis=0).max()), 1.0)
    return float(np.linalg.norm(pa - pb, axis=1).max()) / size


def _face_distance(person: Landmarks, point: NDArray[np.float32]) -> float:
    """Distance of a normalized image point from a person's face centre, in face widths."""
    pts = person.face.points[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(np.linalg.norm(point - 0.5 * (lo + hi)) / max(float(hi[0] - lo[0]), 1e-6))


def _overlap(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Intersection over union of the image boxes of two hands' normalized points."""
    lo = np.maximum(a[:, :2].min(0), b[:, :2].min(0))
    hi = np.minimum(a[:, :2].max(0), b[:, :2].max(0))
    inter = float(np.prod(np.clip(hi - lo, 0.0, None)))
    area = float(np.prod(np.ptp(a[:, :2], axis=0)) + np.prod(np.ptp(b[:, :2], axis=0)))
    return inter / max(area - inter, 1e-9)


def _masked(rgb: U8, focus: tuple[float, float, float, float] | None) -> U8:
    """``rgb`` with everything outside the normalized region ``focus`` black (None: as it is)."""
    if focus is None:
        return rgb
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = focus
    c0, c1 = max(int(x0 * w), 0), min(int(x1 * w), w)
    r0, r1 = max(int(y0 * h), 0), min(int(y1 * h), h)
    out = np.zeros_like(rgb)
    if c1 > c0 and r1 > r0:
        out[r0:r1, c0:c1] = rgb[r0:r1, c0:c1]
    out.flags.writeable = False
    return out


class FullBodyBackend:
    """Face + pose + both hands for ``--mode full``, faster than MediaPipe Holistic.

    Args:
        static_images: unrelated images (no tracking between frames).
        max_width: frames wider than this are downscaled first (the models' inputs are 192-256
            px; normalized landmarks do not change, ``Landmarks.width/height`` stay the source's).
        retry_every: a lost hand is searched for every this many frames (palm detection is the
            most expensive model; a raised hand is picked up within retry_every frames).
        threads: run pose and hands on worker threads concurrently with the face.
        face: the face backend (default: FaceMesh with iris); anything with
            ``process(bgr, t) -> Landmarks`` and ``close()``.
        pose_cpus: the CPUs Pose's graph threads run on (vtuber.cpus; None: any). A batch run
            gives Pose, the slowest model, one half of the CPUs and the rest the other half.
    """

    name = "full"

    def __init__(
        self,
        static_images: bool = False,
        max_width: int | None = 640,
        retry_every: int = 3,
        threads: bool = True,
        face: object | None = None,
        pose_cpus: set[int] | None = None,
    ) -> None:
        self.max_width = max_width
        self.static_images = static_images
        self.face = face if face is not None else FaceMeshBackend(static_images=static_images)
        self._pose_cpus = pose_cpus
        with pinned(pose_cpus):  # the graph's threads, started now, stay there
            self.pose = PoseBackend(static_images=static_images)
        self.hands = {s: _SideHand(s, static_images, retry_every) for s in ("left", "right")}
        # Stagger the two hands' searches so they do not land on the same frame.
        self.hands["left"].since_try = retry_every - 1
        self._pool = (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="vtuber-mp") if threads else None
        )
        # prefetch's jobs, one at a time in frame order (Pose's graph is not re-entrant).
        self._pose_pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="vtuber-pose") if threads else None
        )
        self._prev_pose = PoseLandmarks()
        self._focus: tuple[float, float, float, float] | None = None
        self._strict = True
        # Without threads (vtuber.landmarks.multibody): Pose may run on every pose_every-th frame
        # only (offset by pose_phase), the frames between reusing the last pose.
        self.pose_every, self.pose_phase, self._frames = 1, 0, 0
        # prefetch(): the frame process() gets next, its images for the models (when ready) and
        # Pose running on it.
        self._pending: deque[tuple[U8, Future[tuple[U8, U8, U8]], Future[PoseLandmarks]]] = deque()

    # How many frames ahead of process() prefetch may start Pose (LookAhead reads this many).
    prefetch_depth = 2

    def set_max_faces(self, n: int) -> None:
        """Look for up to ``n`` faces (the face backend's; docs/performers.md)."""
        setter = getattr(self.face, "set_max_faces", None)
        if setter is not None:
            setter(n)

    def focus(self, box: tuple[float, float, float, float] | None, strict: bool = True) -> None:
        """From the next frame announced (prefetch) or processed on, pose and hands see only
        this normalized image region (x0, y0, x1, y1; the rest is masked, coordinates
        unchanged), where the performer is,
        so that someone else in view cannot lend them a body or a hand; None: the whole image.
        Pose is single-person in MediaPipe; this is how lock-on keeps it on the performer.
        ``strict``: also refuse a hand that is not at its own pose wrist (someone else is near;
        False: nobody else is, and a hand the pose's wrist estimate misses is kept)."""
        self._focus = box
        self._strict = strict

    def _hands(self, rgb: U8, pose: PoseLandmarks) -> tuple[HandLandmarks, HandLandmarks]:
        left = self.hands["left"].process(rgb, pose)
        right = self.hands["right"].process(rgb, pose)
        if self._focus is not None and self._strict and pose.found:
            # With other people in view a hand must be at its own arm's end: a hand belongs to
            # the arm whose pose wrist is nearest (another person's hand is refused).
            if left.found and not self._at_wrist("left", left, pose):
                left, self.hands["left"].tracked = HandLandmarks(), False
            if right.found and not self._at_wrist("right", right, pose):
                right, self.hands["right"].tracked = HandLandmarks(), False
        if left.found and right.found and _overlap(left.points, right.points) > 0.3:
            # Both trackers on the same hand: keep the one whose wrist is nearer its pose wrist.
            if self._closer_to("right", right, pose):
                left, self.hands["left"].tracked = HandLandmarks(), False
            else:
                right, self.hands["right"].tracked = HandLandmarks(), False
        return left, right

    @staticmethod
    def _at_wrist(side: str, hand: HandLandmarks, pose: PoseLandmarks) -> bool:
        """Whether the hand's wrist is within two forearm lengths of its pose wrist (the pose
        may be a frame old) and nearer it than the other pose wrist."""
        wr, _, _, _, el, _ = _POSE_HAND[side]
        p = pose.points
        fore = float(np.linalg.norm(p[wr, :2] - p[el, :2]))
        w = hand.points[0, :2]
        near = float(np.linalg.norm(w - p[wr, :2])) <= max(2.0 * fore, 0.05)
        return near and FullBodyBackend._closer_to(side, hand, pose)

    @staticmethod
    def _closer_to(side: str, hand: HandLandmarks, pose: PoseLandmarks) -> bool:
        if not pose.found:
            return side == "right" and hand.points[0, 0] < 0.5
        own = pose.points[_POSE_HAND[side][0], :2]
        other = pose.points[_POSE_HAND["left" if side == "right" else "right"][0], :2]
        w = hand.points[0, :2]
        return bool(np.linalg.norm(w - own) <= np.linalg.norm(w - other))

    def _face(self, bgr: U8, rgb: U8, t: float) -> Landmarks:
        """The face backend on this frame, given the RGB image when it takes one."""
        process_rgb = getattr(self.face, "process_rgb", None)
        if process_rgb is not None:
            return process_rgb(rgb, t)  # type: ignore[no-any-return]
        return self.face.process(bgr, t)  # type: ignore[attr-defined,no-any-return]

    def prefetch(self, bgr: U8) -> None:
        """Announce a frame ``process`` will get (a video read ahead, never a live camera's),
        in order, up to ``prefetch_depth`` frames ahead, once the current frame's ``process``
        has returned and its focus is set. Pose, the slowest model, runs on the announced
        frames one after the other on its own thread as soon as it is free, instead of waiting
        for each frame's face and hands. Each frame's images are made, and masked by the
        region set when it was announced, on Pose's CPUs (docs/performance.md)."""
        if (
            self._pose_pool is not None
            and not self.static_images
            and len(self._pending) < self.prefetch_depth
        ):
            ready: Future[tuple[U8, U8, U8]] = Future()
            job = self._pose_pool.submit(self._prepare_and_pose, bgr, self._focus, ready)
            self._pending.append((bgr, ready, job))

    def _prepare_and_pose(
        self,
        bgr: U8,
        focus: tuple[float, float, float, float] | None,
        ready: Future[tuple[U8, U8, U8]],
    ) -> PoseLandmarks:
        """prefetch's job: the frame's images for the models (``ready``), then Pose on it,
        both on Pose's CPUs (a batch run: the half with room, docs/performance.md)."""
        with pinned(self._pose_cpus):
            try:
                images = self._prepare(bgr, focus)
            except BaseException as exc:
                ready.set_exception(exc)
                raise
            ready.set_result(images)
            return self.pose.process_rgb(images[2])

    def _prepare(
        self, bgr: U8, focus: tuple[float, float, float, float] | None
    ) -> tuple[U8, U8, U8]:
        """The frame at the models' size, in RGB (face), and masked as focused (pose, hands)."""
        h, w = bgr.shape[:2]
        small = bgr
        if self.max_width is not None and w > self.max_width:
            sh = round(h * self.max_width / w)
            small = np.asarray(
                cv2.resize(bgr, (self.max_width, sh), interpolation=cv2.INTER_LINEAR), np.uint8
            )
        face_rgb = _rgb(small)  # converted once for every model
        return small, face_rgb, _masked(face_rgb, focus)  # the whole image unless focused

    def process(self, bgr: U8, t: float) -> Landmarks:
        """Face, pose and the person's hands in one BGR frame."""
        h, w = bgr.shape[:2]
        pending = self._pending.popleft() if self._pending else None
        if pending is not None and pending[0] is not bgr:
            # Not the frame announced: the poses started finish, unused.
            for p in [pending, *self._pending]:
                p[2].result()
            self._pending.clear()
            pending = None
        if pending is not None:
            small, face_rgb, rgb = pending[1].result()
        else:
            small, face_rgb, rgb = self._prepare(bgr, self._focus)
        prev = self._prev_pose
        if self.static_images:
            # Unrelated images: the hands search where THIS image's pose puts the wrists.
            flm = self._face(small, face_rgb, t)
            pose = self.pose.process_rgb(rgb)
            left, right = self._hands(rgb, pose)
        elif self._pool is not None:
            fp = pending[2] if pending else self._pool.submit(self.pose.process_rgb, rgb)
            fh = self._pool.submit(self._hands, rgb, prev)
            flm = self._face(small, face_rgb, t)
            pose = fp.result()
            left, right = fh.result()
        else:
            flm = self._face(small, face_rgb, t)
            self._frames += 1
            due = (self._frames + self.pose_phase) % self.pose_every == 0
            pose = self.pose.process_rgb(rgb) if due else prev
            left, right = self._hands(rgb, prev)
        self._prev_pose = pose
        out = Landmarks(
            t=t, width=w, height=h, face=flm.face, pose=pose, left_hand=left, right_hand=right
        )
        if flm.people:  # several faces: the body and hands go to the face the pose's nose is in
            out.people = [replace(p, width=w, height=h) for p in flm.people]
            if pose.found:
                nose = pose.points[0, :2]
                owner = min(out.people, key=lambda p: _face_distance(p, nose))
                if _face_distance(owner, nose) < 1.0:
                    owner.pose, owner.left_hand, owner.right_hand = pose, left, right
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._pose_pool is not None:
            self._pose_pool.shutdown(wait=True)
        self.face.close()  # type: ignore[attr-defined]
        self.pose.close()
        for hb in self.hands.values():
            hb.close()

    def __enter__(self) -> FullBodyBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
