"""The built-in demo source: a rendered real face (vtuber.synth.face) turning its head, blinking,
looking around and talking, for machines without a camera (``vtuber track`` falls back to it)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from vtuber.sources import Frame, Source
from vtuber.synth.face import FaceRenderer

DEMO_FPS = 30.0
BLINK_PERIOD_S = 3.7
BLINK_LENGTH_S = 0.3


@dataclass(frozen=True, slots=True)
class DemoPose:
    """The demo face's state at one time: angles in degrees (vtuber.synth.face convention),
    eye closure (person's left, right) and mouth opening 0..1, iris shift in eye widths."""

    yaw: float
    pitch: float
    roll: float
    eye_close: tuple[float, float]
    mouth_open: float
    iris: tuple[float, float]


def demo_pose(t: float) -> DemoPose:
    """The scripted motion at ``t`` seconds: slow sines for the head (yaw ±30°, pitch ±12°,
    roll ±10°, incommensurate periods), a blink every 3.7 s, talking in 2.4 s bursts, and the
    eyes leading the head a little."""
    yaw = 30.0 * math.sin(2.0 * math.pi * t / 6.0)
    pitch = 12.0 * math.sin(2.0 * math.pi * t / 4.3 + 1.0)
    roll = 10.0 * math.sin(2.0 * math.pi * t / 7.7 + 2.0)
    phase = t % BLINK_PERIOD_S
    # Lids down, held shut for ~0.1 s, up again.
    ramp = 1.0 - abs(phase - BLINK_LENGTH_S / 2.0) / (BLINK_LENGTH_S / 2.0)
    blink = min(1.0, max(0.0, 1.6 * ramp))
    talking = (t % 3.6) < 2.4
    mouth = max(0.0, math.sin(2.0 * math.pi * 2.2 * t)) * 0.8 if talking else 0.0
    gaze_x = 0.08 * math.sin(2.0 * math.pi * t / 6.0 + 0.6)
    iris = (gaze_x, 0.04 * math.sin(2.0 * math.pi * t / 5.1))
    return DemoPose(yaw, pitch, roll, (blink, blink), mouth, iris)


class DemoSource(Source):
    """Frames of the demo face, 640x480 BGR.

    ``realtime=True`` renders at 30 fps by the wall clock in a background thread (the pose follows
    the clock and the consumer always gets the newest frame, so a slow consumer gets fewer
    frames, never a lagging motion) and runs until closed, or for ``seconds`` if given.
    ``realtime=False`` yields a finite clip as fast as it renders:
    ``seconds`` (default 10) at 30 fps, ``t = index / 30``.
    """

    name = "demo"
    fps = DEMO_FPS
    static_images = False

    def __init__(
        self,
        realtime: bool = True,
        seconds: float | None = None,
        *,
        photo: str = "grace_hopper",
        size: tuple[int, int] = (640, 480),
    ) -> None:
        self.realtime = realtime
        self.seconds = seconds if seconds is not None or realtime else 10.0
        self.frame_count = (
            None if self.seconds is None or realtime else int(round(self.seconds * DEMO_FPS))
        )
        self.size = size
        self.renderer = FaceRenderer.from_photo(photo)
        self._closed = False

    def render_at(self, t: float) -> Frame:
        p = demo_pose(t)
        img = self.renderer.render(
            p.yaw, p.pitch, p.roll, eye_close=p.eye_close, mouth_open=p.mouth_open,
            iris=p.iris, size=self.size,
        )  # fmt: skip
        return Frame(img, t, time.perf_counter(), int(round(t * DEMO_FPS)))

    def __iter__(self) -> Iterator[Frame]:
        if not self.realtime:
            for i in range(self.frame_count or 0):
                if self._closed:
                    return
                frame = self.render_at(i / DEMO_FPS)
                frame.index = i
                yield frame
            return
        # A render thread keeps a one-slot buffer filled on the wall clock, so rendering overlaps
        # the consumer's landmark inference and the newest frame always wins (like a camera).
        slot: list[Frame | None] = [None]
        done = threading.Event()
        cond = threading.Condition()

        def produce() -> None:
            start = time.perf_counter()
            n = 0
            while not self._closed:
                due = start + n / DEMO_FPS
                now = time.perf_counter()
                if due > now:
                    time.sleep(due - now)
                elif now - due > 1.0 / DEMO_FPS:
                    n = int((now - start) * DEMO_FPS)  # late: skip to the current frame
                t = n / DEMO_FPS
                if self.seconds is not None and t >= self.seconds:
                    break
                rendered = self.render_at(t)
                rendered.index = n
                with cond:
                    slot[0] = rendered
                    cond.notify()
                n += 1
            done.set()
            with cond:
                cond.notify()

        thread = threading.Thread(target=produce, name="demo-render", daemon=True)
        thread.start()
        try:
            while True:
                with cond:
                    while slot[0] is None and not done.is_set() and not self._closed:
                        cond.wait(0.1)
                    newest, slot[0] = slot[0], None
                if newest is None or self._closed:
                    return
                yield newest
        finally:
            self._closed = True
            thread.join(timeout=1.0)

    def close(self) -> None:
        self._closed = True
