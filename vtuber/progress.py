"""The one status/progress display: a line on the terminal (stderr) refreshed in place, or on a
pipe printed as one line every so often.

- :class:`TerminalLine`: the display itself (how often, where and how a line is written).
- :class:`ProgressLine`: the bar of batch conversion (``track --source VIDEO --fast``): frames,
  fps, ETA.
- :class:`vtuber.pipeline.StatusLine`: the live status (fps, latency, what is tracked).

Both lines have the pipeline's status interface: ``update(stats, frame, extra, face_px)``,
``finish()`` (the bar shows no face).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from vtuber.rig import AvatarFrame

if TYPE_CHECKING:
    from vtuber.pipeline import Stats


class TerminalLine:
    """Shows a line at most every ``period`` seconds: redrawn in place on a terminal, printed as a
    new line on a pipe (every ``pipe_period`` seconds when given, else every ``period``)."""

    def __init__(
        self, stream: TextIO = sys.stderr, period: float = 0.5, pipe_period: float | None = None
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.period = period if self.tty or pipe_period is None else pipe_period
        self.last_shown = 0.0  # time.perf_counter() when a line was last shown; 0: none yet

    def due(self, now: float, force: bool = False) -> bool:
        """Whether a line shown at ``now`` would respect the period (``force``: show anyway)."""
        return force or now - self.last_shown >= self.period

    def show(self, line: str, now: float) -> None:
        self.last_shown = now
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A message on a line of its own, above the status line (the status is drawn again at
        its next update)."""
        self.stream.write(("\r" + text + "\x1b[K\n") if self.tty else text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the in-place line on a terminal (a pipe's lines already end)."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


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


class ProgressLine(TerminalLine):
    """The progress bar: redrawn at most every ``period`` seconds on a terminal; on a pipe, a line
    every ``pipe_period`` seconds; always once the last frame is done."""

    def __init__(
        self, total: int, stream: TextIO = sys.stderr, period: float = 0.2, pipe_period: float = 5.0
    ) -> None:
        super().__init__(stream, period, pipe_period)
        self.total = total
        self._started = time.perf_counter()

    def update(
        self,
        stats: Stats,
        frame: AvatarFrame | None = None,
        extra: str = "",
        face_px: float | None = None,
    ) -> None:
        now = time.perf_counter()
        if self.due(now, force=stats.frames >= self.total):
            self.show(progress_text(stats.frames, self.total, now - self._started), now)
