"""A progress bar for batch conversion (``track --source VIDEO --fast``): frames, fps, ETA.

Same interface as :class:`vtuber.pipeline.StatusLine` (``update(stats, frame)``, ``finish()``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from vtuber.pipeline import Stats
from vtuber.rig import AvatarFrame


def format_eta(seconds: float) -> str:
    s = max(0, int(round(seconds)))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def progress_text(done: int, total: int, elapsed: float, width: int = 30) -> str:
    """``[#####-----]  42% 84/200 frames  57.3 fps  ETA 0:02`` (pure, for tests)."""
    frac = min(1.0, done / total) if total > 0 else 0.0
    fill = int(frac * width)
    fps = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / fps if fps > 0 else 0.0
    return (
        f"[{'#' * fill}{'-' * (width - fill)}] {100 * frac:3.0f}% {done}/{total} frames "
        f"{fps:6.1f} fps  ETA {format_eta(eta)}"
    )


class ProgressLine:
    """Redraws the bar in place on a terminal at most every ``period`` seconds; on a pipe, prints
    a line every ``pipe_period`` seconds."""

    def __init__(
        self, total: int, stream: TextIO = sys.stderr, period: float = 0.2, pipe_period: float = 5.0
    ) -> None:
        self.total = total
        self.stream = stream
        self._tty = stream.isatty()
        self.period = period if self._tty else pipe_period
        self._last = 0.0
        self._done = 0
        self._started = time.perf_counter()

    def update(self, stats: Stats, frame: AvatarFrame | None = None, extra: str = "") -> None:
        self._done = stats.frames
        now = time.perf_counter()
        if now - self._last < self.period and stats.frames < self.total:
            return
        self._last = now
        line = progress_text(stats.frames, self.total, now - self._started)
        self.stream.write(("\r" + line + "\x1b[K") if self._tty else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
