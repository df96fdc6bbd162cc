"""Wiring: source -> landmarks -> solvers -> smoothing -> mirror -> sinks, with per-stage timing.

The pipeline owns no policy: the CLI builds the parts from settings and hands them in.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

import cv2
import numpy as np

from vtuber.errors import VtuberError
from vtuber.landmarks import Landmarks
from vtuber.progress import TerminalLine
from vtuber.rig import AvatarFrame, mirror_frame
from vtuber.sinks.base import Sink
from vtuber.solvers.head import face_width_px
from vtuber.sources import Frame
from vtuber.stopping import StopSignals

log = logging.getLogger(__name__)

STAGES = ("decode", "landmarks", "solve", "smooth", "send")


class LandmarkBackend(Protocol):
    """What the pipeline needs from a landmark detector (see vtuber.landmarks)."""

    def process(self, bgr: np.ndarray, t: float) -> Landmarks: ...

    def close(self) -> None: ...


class FrameSolver(Protocol):
    def solve(self, lm: Landmarks, t_capture: float = 0.0, index: int = 0) -> AvatarFrame: ...


class Smoother(Protocol):
    def update(self, frame: AvatarFrame) -> AvatarFrame: ...


class GestureStage(Protocol):
    """Gesture recognition + bindings (vtuber.gestures.bindings.GestureStage)."""

    def apply(self, frame: AvatarFrame, lm: Landmarks) -> AvatarFrame: ...

    def status(self) -> str: ...


class MouthStage(Protocol):
    """Audio lip sync (vtuber.audio.lipsync.LipSync): the mouth at source time t."""

    def apply(self, frame: AvatarFrame, t: float) -> AvatarFrame: ...

    def status(self) -> str: ...


@dataclass
class Stream:
    """A further performer's avatar (``--performers 2``, docs/performers.md): its own solver,
    smoothing and sinks, fed ``Landmarks.performers[slot]`` of every frame."""

    slot: int
    solver: FrameSolver
    sinks: list[Sink]
    smoother: Smoother | None = None


class Recent(list[float]):
    """A list of per-frame figures that keeps only the most recent ones: past ``2 * keep``
    entries it drops the oldest ``keep`` (so a session of hours holds memory flat, see
    docs/performance.md; means and percentiles are over the last ``keep``..``2 * keep``)."""

    keep = 5_000  # frames: ~3 minutes at 30 fps (at most ~2 MB for all of Stats' lists)

    def append(self, x: float) -> None:
        super().append(x)
        if len(self) > 2 * self.keep:
            del self[: self.keep]


@dataclass
class Stats:
    """Per-stage wall times (seconds) and capture -> sent latency of the processed frames (the
    most recent :attr:`Recent.keep` to twice that; ``frames``/``faces`` count them all)."""

    frames: int = 0
    faces: int = 0
    started: float = field(default_factory=time.perf_counter)
    ended: float = 0.0
    stage_times: dict[str, list[float]] = field(
        default_factory=lambda: {s: Recent() for s in STAGES}
    )
    latencies: list[float] = field(default_factory=Recent)
    # CPU time of this thread in solve + smooth + mirror + send (wall times above also count
    # the moments the OS gives the core to MediaPipe's or the decoder's threads).
    ours_cpu: list[float] = field(default_factory=Recent)
    interrupted: str = ""  # "SIGINT" / "SIGTERM" when a signal ended the run

    @property
    def elapsed(self) -> float:
        return (self.ended or time.perf_counter()) - self.started

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0

    def stage_ms(self) -> dict[str, float]:
        return {k: 1000.0 * float(np.mean(v)) if v else 0.0 for k, v in self.stage_times.items()}

    def latency_ms(self, pct: float) -> float:
        return 1000.0 * float(np.percentile(self.latencies, pct)) if self.latencies else 0.0


# A face narrower than this in the image (pixels, :func:`vtuber.solvers.head.face_width_px`) is
# smaller than any the face corpus measures (120-400 px; within it the size was not shown to
# matter: docs/face_corpus.md, "Small faces"). The status line says so, once, when the median
# over SMALL_FACE_FRAMES frames with a face is under it.
SMALL_FACE_PX = 120.0
SMALL_FACE_FRAMES = 90


class StatusLine(TerminalLine):
    """A one-line status (fps, latency, face found and its width in pixels) refreshed in place
    on a terminal (the display: :class:`vtuber.progress.TerminalLine`).

    Latency is capture -> last datagram sent, p95 over the recent frames, next to the landmark
    model's own time per frame (``model_ms(pct)``, e.g. :meth:`vtuber.lookahead.LookAhead.model_ms`)
    when given: what the latency target of docs/performance.md compares. ``small_face_hint``:
    what to do about a face that stays small (:data:`SMALL_FACE_PX`), said once on a line of its
    own (empty: nothing said, e.g. for a video file).
    """

    def __init__(
        self,
        stream: TextIO = sys.stderr,
        period: float = 0.5,
        model_ms: Callable[[float], float] | None = None,
        small_face_hint: str = "",
    ) -> None:
        super().__init__(stream, period)
        self.model_ms = model_ms
        self.small_face_hint = small_face_hint
        self._n_last = 0
        self._widths: deque[float] = deque(maxlen=SMALL_FACE_FRAMES)
        self._hinted = False

    def small_face(self) -> bool:
        """Whether the face has read narrower than :data:`SMALL_FACE_PX` over the last
        :data:`SMALL_FACE_FRAMES` frames with a face (the median)."""
        w = self._widths
        return len(w) == w.maxlen and float(np.median(w)) < SMALL_FACE_PX

    def update(
        self, stats: Stats, frame: AvatarFrame, extra: str = "", face_px: float | None = None
    ) -> None:
        """One frame's status; ``face_px``: its face's width in pixels (None: no face)."""
        if face_px is not None:
            self._widths.append(face_px)
        now = time.perf_counter()
        if not self.due(now):
            return
        # Judged when the line is drawn, not on every frame (a median over the window).
        if self.small_face_hint and not self._hinted and self.small_face():
            self._hinted = True
            self.note(
                f"vtuber: your face is {float(np.median(self._widths)):.0f} px wide in the "
                f"image, smaller than vtuber is tested on ({SMALL_FACE_PX:.0f} px and up): "
                f"{self.small_face_hint}"
            )
        dt = now - self.last_shown if self.last_shown else stats.elapsed
        fps = (stats.frames - self._n_last) / dt if dt > 0 else 0.0
        self._n_last = stats.frames
        recent = stats.latencies[-100:]
        lat = 1000.0 * float(np.percentile(recent, 95)) if recent else 0.0
        model = f", model {self.model_ms(50.0):4.1f} ms" if self.model_ms is not None else ""
        tr = frame.tracking
        parts = [
            f"{fps:5.1f} fps",
            f"latency p95 {lat:5.1f} ms{model}",
            "face "
            + (f"yes {face_px:3.0f} px" if tr.face and face_px else "yes" if tr.face else "NO "),
        ]
        if tr.body or tr.left_hand or tr.right_hand:
            parts.append(f"body {'yes' if tr.body else 'no'}")
            parts.append(f"hands {'L' if tr.left_hand else '-'}{'R' if tr.right_hand else '-'}")
        self.show(" | ".join(parts) + (f" | {extra}" if extra else ""), now)


def display_available() -> bool:
    """Whether a preview window can open (an X/Wayland display on Linux; always elsewhere)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class Pipeline:
    """Runs frames through the stages and into every sink.

    Args:
        frames: the source (an iterable of :class:`vtuber.sources.Frame`).
        backend: the landmark detector.
        solver: landmarks -> anatomical AvatarFrame (:class:`vtuber.tracker.Tracker`).
        sinks: opened by the caller; each gets every frame.
        mirror: apply :func:`vtuber.rig.mirror_frame` (the one place the mirror is applied).
        smoother: optional smoothing stage (before the mirror).
        on_frame: optional callback(frame, landmarks, image) after sending (preview, progress).
        error_budget: consecutive frames the landmark stage may fail (skipped and counted)
            before the run stops with a VtuberError.
        streams: further performers' avatars (:class:`Stream`); the main one is slot 0.
        mouth: optional audio lip sync, applied after the mirror (its status joins the line).
        gestures: optional gesture recognition and bindings (``--gestures``), applied last
            (after the mirror and lip sync, so a bound expression can block them; gesture names
            use the person's own hands either way); its active gestures join the status line.
    """

    def __init__(
        self,
        frames: Iterable[Frame],
        backend: LandmarkBackend,
        solver: FrameSolver,
        sinks: list[Sink],
        *,
        mirror: bool = True,
        smoother: Smoother | None = None,
        status: StatusLine | None = None,
        on_frame: Callable[[AvatarFrame, Landmarks, Frame], bool | None] | None = None,
        error_budget: int = 30,
        streams: list[Stream] | None = None,
        mouth: MouthStage | None = None,
        gestures: GestureStage | None = None,
    ) -> None:
        self.streams = streams or []
        self.frames = frames
        self.backend = backend
        self.solver = solver
        self.sinks = sinks
        self.mirror = mirror
        self.smoother = smoother
        self.status = status
        self.on_frame = on_frame
        self.stats = Stats()
        self.error_budget = error_budget
        self.mouth = mouth
        self.gestures = gestures
        self.errors = 0
        self._consecutive_errors = 0

    def _landmarks(self, frame: Frame) -> Landmarks | None:
        """Run the backend; a bad frame costs one unit of the error budget, not the session."""
        try:
            lm = self.backend.process(frame.image, frame.t)
        except (cv2.error, ValueError, RuntimeError) as e:
            self.errors += 1
            self._consecutive_errors += 1
            if self.errors in (1, 10, 100) or self.errors % 1000 == 0:
                log.warning("frame %d skipped (%d so far): %s", frame.index, self.errors, e)
            if self._consecutive_errors > self.error_budget:
                raise VtuberError(
                    f"{self._consecutive_errors} frames in a row failed; last error: {e}"
                ) from e
            return None
        self._consecutive_errors = 0
        return lm

    def build(self, lm: Landmarks, frame: Frame) -> AvatarFrame:
        """Solve, smooth and mirror one frame's landmarks (no sinks)."""
        st = self.stats.stage_times
        t0 = time.perf_counter()
        av = self.solver.solve(lm, frame.t_capture, frame.index)
        t1 = time.perf_counter()
        if self.smoother is not None:
            av = self.smoother.update(av)
        if self.mirror:
            av = mirror_frame(av)
        if self.mouth is not None:
            av = self.mouth.apply(av, frame.t)
        if self.gestures is not None:
            av = self.gestures.apply(av, lm)
        t2 = time.perf_counter()
        st["solve"].append(t1 - t0)
        st["smooth"].append(t2 - t1)
        av.landmarks = lm  # for the recorder's --record-landmarks (a reference, no copy)
        return av

    def _send_stream(self, stream: Stream, lm: Landmarks, frame: Frame) -> None:
        """Solve, smooth, mirror and send a further performer's frame."""
        if stream.slot < len(lm.performers):
            plm = lm.performers[stream.slot]
        else:
            plm = Landmarks(t=lm.t, width=lm.width, height=lm.height)
        av = stream.solver.solve(plm, frame.t_capture, frame.index)
        if stream.smoother is not None:
            av = stream.smoother.update(av)
        if self.mirror:
            av = mirror_frame(av)
        av.landmarks = plm
        for sink in stream.sinks:
            sink.send(av)

    def run(self, max_frames: int | None = None) -> Stats:
        stats = self.stats = Stats()
        st = stats.stage_times
        it = iter(self.frames)
        stop = StopSignals().install()  # SIGINT/SIGTERM: finish this frame, then end cleanly
        try:
            while max_frames is None or stats.frames < max_frames:
                if stop.requested:
                    stats.interrupted = stop.name
                    break
                t0 = time.perf_counter()
                frame = next(it, None)
                if frame is None:
                    break
                t1 = time.perf_counter()
                lm = self._landmarks(frame)
                if lm is None:
                    continue
                t2 = time.perf_counter()
                c2 = time.thread_time()
                av = self.build(lm, frame)
                t3 = time.perf_counter()
                for sink in self.sinks:
                    sink.send(av)
                for stream in self.streams:
                    self._send_stream(stream, lm, frame)
                t4 = time.perf_counter()
                stats.ours_cpu.append(time.thread_time() - c2)
                st["decode"].append(t1 - t0)
                st["landmarks"].append(t2 - t1)
                st["send"].append(t4 - t3)
                stats.frames += 1
                stats.faces += int(lm.face.found)
                if frame.t_capture:
                    stats.latencies.append(t4 - frame.t_capture)
                if self.status is not None:
                    marks = [m for s in self.sinks if (m := getattr(s, "status_mark", ""))]
                    if self.mouth is not None:
                        marks.insert(0, self.mouth.status())
                    if self.gestures is not None and (g := self.gestures.status()):
                        marks.insert(0, g)
                    px = (
                        face_width_px(lm.face.points, lm.width, lm.height)
                        if lm.face.found
                        else None
                    )
                    self.status.update(stats, av, " ".join(marks), px)
                if self.on_frame is not None and self.on_frame(av, lm, frame) is False:
                    break
        finally:
            stop.restore()
            stats.ended = time.perf_counter()
            if self.status is not None:
                self.status.finish()
        return stats
