"""Landmark detection one frame ahead, on its own thread, overlapping our per-frame work.

MediaPipe releases the GIL while its graph runs, and on its own uses little more than one core
(docs/performance.md). With :class:`LookAhead` between the source and the pipeline, a worker
thread takes the next frame from the source and runs the landmark model on it while the
pipeline's thread solves, smooths and sends the previous one, so our ~1 ms per frame hides
behind the model instead of adding to it. No frame waits in a queue: the worker takes a frame
from the source only when the model is free (a camera's newest one, see
:class:`vtuber.sources.CameraSource`) and hands over at most one finished result.

It is both the frame iterable and the landmark backend the :class:`vtuber.pipeline.Pipeline`
gets: ``process(image, t)`` returns the landmarks already computed for that frame (or raises the
error the model raised on it, in the pipeline's thread, as the backend itself would).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import numpy as np

from vtuber.cpus import pin_thread
from vtuber.landmarks import Landmarks
from vtuber.sources import Frame


class _Backend(Protocol):
    def process(self, bgr: np.ndarray, t: float) -> Landmarks: ...

    def close(self) -> None: ...


_END = object()


class LookAhead:
    """Runs ``backend`` on ``frames`` one frame ahead on a worker thread (see the module doc).

    ``model_s`` holds the model's own time (seconds) for the most recent frames: what the
    status line and ``vtuber bench`` compare the capture -> sent latency with. ``times``: the
    ``time.perf_counter()`` at which the model started and finished the frame just yielded
    (benchmarks/bench_live.py splits the latency with them).
    """

    def __init__(
        self,
        frames: Iterable[Frame],
        backend: _Backend,
        history: int = 300,
        cpus: set[int] | None = None,
    ) -> None:
        self.frames = frames
        self.cpus = cpus  # the worker's CPUs (cpu_split), once the source has started
        self.backend = backend
        self.model_s: deque[float] = deque(maxlen=history)
        self._cond = threading.Condition()
        self._ready: Any = None  # (frame, landmarks | exception), or _END
        self._stop = threading.Event()
        self._current: tuple[Frame, Landmarks | BaseException] | None = None
        self.times: tuple[float, float] = (0.0, 0.0)
        self._thread: threading.Thread | None = None

    def _work(self) -> None:
        it = iter(self.frames)
        item: Any = _END
        # A source read ahead (a video or image folder with --fast; never a camera, whose next
        # frame is not there yet) gives the backend its next frame as soon as this one is done,
        # before this one is handed over, if it can use it (FullBodyBackend.prefetch).
        prefetch: Callable[[np.ndarray], None] | None = (
            None
            if getattr(self.frames, "realtime", True)
            else getattr(self.backend, "prefetch", None)
        )
        depth = int(getattr(self.backend, "prefetch_depth", 1)) if prefetch is not None else 0
        ahead: deque[Frame] = deque()  # read ahead, prefetch() told
        late: BaseException | None = None  # the source failed reading ahead: after this frame
        first = True
        try:
            while not self._stop.is_set():
                frame = ahead.popleft() if ahead else next(it, None)
                if first:  # a source's own threads (decoding) have started: not on cpus
                    first = False
                    pin_thread(self.cpus)
                if frame is None:
                    break
                t0 = time.perf_counter()
                try:
                    res: Landmarks | BaseException = self.backend.process(frame.image, frame.t)
                except Exception as e:  # raised again in the pipeline's thread
                    res = e
                t1 = time.perf_counter()
                self.model_s.append(t1 - t0)
                if prefetch is not None:
                    while len(ahead) < depth and late is None:
                        try:
                            nxt = next(it, None)
                        except BaseException as e:
                            late = e
                            break
                        if nxt is None:
                            break
                        ahead.append(nxt)
                        if not isinstance(res, BaseException):
                            prefetch(nxt.image)
                with self._cond:
                    while self._ready is not None and not self._stop.is_set():
                        self._cond.wait(0.1)
                    self._ready = (frame, res, (t0, t1))
                    self._cond.notify_all()
                if late is not None and not ahead:
                    raise late
        except BaseException as e:  # the source failed: hand its error over, then end
            item = (None, e, (0.0, 0.0))
        with self._cond:
            while self._ready is not None and not self._stop.is_set():
                self._cond.wait(0.1)
            self._ready = item
            self._cond.notify_all()

    def __iter__(self) -> Iterator[Frame]:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="landmarks", daemon=True)
            self._thread.start()
        while True:
            with self._cond:
                while self._ready is None:
                    self._cond.wait(0.5)
                item, self._ready = self._ready, None
                self._cond.notify_all()
            if item is _END:
                return
            frame, res, times = item
            if frame is None:  # the source raised: raise it here
                raise res
            self._current = (frame, res)
            self.times = times
            yield frame

    def process(self, bgr: np.ndarray, t: float) -> Landmarks:
        """The landmarks computed for the frame just yielded (``bgr`` is its image)."""
        cur = self._current
        if cur is None or cur[0].image is not bgr:
            # The model belongs to the worker thread (MediaPipe graphs are not re-entrant).
            raise RuntimeError("LookAhead.process: not the frame LookAhead last yielded")
        res = cur[1]
        if isinstance(res, BaseException):
            raise res
        return res

    def model_ms(self, pct: float = 50.0) -> float:
        """A percentile of the model's own time over the recent frames, in ms (0 if none)."""
        return 1000.0 * float(np.percentile(self.model_s, pct)) if self.model_s else 0.0

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop the worker (after its current frame). The backend stays open (its owner
        closes it, after this)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
