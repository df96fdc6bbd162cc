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


def test_the_status_line_says_when_the_face_is_small() -> None:
    """The face's width shows on the status line, and a face that stays narrower than
    SMALL_FACE_PX (the median over SMALL_FACE_FRAMES frames with a face) brings the hint, once,
    on a line of its own; a wider face, too few frames or no hint (a video file) bring none."""
    from vtuber.pipeline import SMALL_FACE_FRAMES, SMALL_FACE_PX

    frame = AvatarFrame(t=0.0, tracking=Tracking(face=True))
    small = SMALL_FACE_PX - 20.0

    def shown(widths: list[float | None], hint: str = "sit closer") -> list[str]:
        out = TtyText()
        status = StatusLine(out, period=0.0, small_face_hint=hint)
        for px in widths:
            status.update(Stats(frames=1), frame, "", px)
        text = out.getvalue().replace("\r", "\n")  # each redraw and note on its own
        return [line for line in text.split("\n") if "wide in the image" in line]

    out = io.StringIO()
    StatusLine(out, period=0.0).update(Stats(frames=1), frame, "", small)
    assert f"face yes {small:.0f} px" in out.getvalue()
    assert shown([small] * (SMALL_FACE_FRAMES - 1)) == []
    said = shown([small] * (3 * SMALL_FACE_FRAMES))
    assert len(said) == 1 and said[0].startswith(f"vtuber: your face is {small:.0f} px wide")
    assert said[0].endswith("sit closer\x1b[K")
    # Frames without a face do not count, and the median forgives a few narrow readings.
    assert len(shown([small, None] * SMALL_FACE_FRAMES)) == 1
    wide = [SMALL_FACE_PX + 30.0] * SMALL_FACE_FRAMES
    assert shown(wide[: SMALL_FACE_FRAMES - 40] + [small] * 40) == []
    assert shown([small] * SMALL_FACE_FRAMES, hint="") == []
