"""The one status/progress display (vtuber.progress.TerminalLine) behind both the live status line
and the batch progress bar: in place on a terminal, whole lines on a pipe, throttled.

A terminal cannot exist here: a text stream that answers ``isatty()`` with True stands in for one
(the only thing the display asks of it)."""

from __future__ import annotations

import io

from vtuber.pipeline import Stats, StatusLine
from vtuber.progress import ProgressLine, TerminalLine
from vtuber.rig import AvatarFrame, Tracking


class TtyText(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_line_in_place_on_a_tty_whole_lines_on_a_pipe() -> None:
    tty, pipe = TtyText(), io.StringIO()
    for stream in (tty, pipe):
        line = TerminalLine(stream, period=1.0, pipe_period=10.0)
        assert line.due(100.0)  # nothing shown yet
        line.show("a", 100.0)
        assert not line.due(100.5) and line.due(100.5, force=True)
        line.finish()
    assert tty.getvalue() == "\ra\x1b[K\n"
    assert pipe.getvalue() == "a\n"
    # On a pipe the slower pipe period applies, on a terminal the period.
    assert TerminalLine(io.StringIO(), 1.0, 10.0).period == 10.0
    assert TerminalLine(TtyText(), 1.0, 10.0).period == 1.0
    assert TerminalLine(io.StringIO(), 0.5).period == 0.5


def test_progress_bar_and_status_line_share_the_display() -> None:
    out = io.StringIO()
    bar = ProgressLine(10, out, period=0.2, pipe_period=3600.0)
    bar.update(Stats(frames=1))  # first update shows
    bar.update(Stats(frames=5))  # within the pipe period: not shown
    bar.update(Stats(frames=10))  # the last frame: always shown
    bar.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and " 1/10 frames" in lines[0] and "10/10 frames" in lines[1]

    tty = TtyText()
    status = StatusLine(tty, period=3600.0)
    frame = AvatarFrame(t=0.0, tracking=Tracking(face=True, body=True, right_hand=True))
    status.update(Stats(frames=1), frame, "REC")
    status.update(Stats(frames=2), frame, "REC")  # throttled
    status.finish()
    text = tty.getvalue()
    assert text.count("\r") == 1 and text.endswith("\x1b[K\n")
    assert "face yes" in text and "hands -R" in text and text.rstrip("\n\x1b[K").endswith("REC")
    assert isinstance(status, TerminalLine) and isinstance(bar, TerminalLine)
