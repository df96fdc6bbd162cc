"""Replay: a recording as a source of timed AvatarFrames (or raw VMC datagrams) for the sinks.

Timing follows each frame's recorded ``t`` (relative to the first one replayed), divided by
``speed``. With ``loop``, every pass is shifted by the recording's period (its duration plus one
frame interval) so that frame times, and hence ``/VMC/Ext/T``, keep increasing across loops
(VSeeFace glitches when that time goes backwards). The first pass is sent unchanged, so a replay
reproduces the live run's VMC bytes exactly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from vtuber.errors import ConfigError, FormatError
from vtuber.recording import Recording
from vtuber.rig import AvatarFrame
from vtuber.sinks.base import Sink
from vtuber.stopping import StopSignals
from vtuber.vmc import VMCDecoder, frame_boundary, osc_string, shift_vmc_time


@dataclass(frozen=True)
class ReplayOptions:
    """speed: playback rate (2 = twice as fast); loop: repeat forever (or ``loops`` passes);
    start/end: seconds from the first frame of the recording (end None = to the end)."""

    speed: float = 1.0
    loop: bool = False
    start: float = 0.0
    end: float | None = None
    loops: int | None = None  # with loop: stop after this many passes (tests, benchmarks)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ConfigError(f"--speed must be > 0, not {self.speed}")
        if self.start < 0 or (self.end is not None and self.end < self.start):
            raise ConfigError("--start/--end must satisfy 0 <= start <= end")


def select(times: Sequence[float], start: float, end: float | None) -> list[int]:
    """Indices of the items whose time relative to the first item lies in [start, end]."""
    if not times:
        return []
    t0 = times[0]
    eps = 1e-6  # recorded times accumulate rounding; 1.5 s must include a frame at 1.5000000001
    return [
        i
        for i, t in enumerate(times)
        if t - t0 >= start - eps and (end is None or t - t0 <= end + eps)
    ]


def loop_period(times: Sequence[float], fps: float) -> float:
    """Duration of one pass: last - first time plus one frame interval (the median step)."""
    if len(times) < 2:
        return 1.0 / fps
    steps = sorted(b - a for a, b in zip(times[:-1], times[1:], strict=True))
    step = steps[len(steps) // 2] if steps[len(steps) // 2] > 0 else 1.0 / fps
    return times[-1] - times[0] + step


def wait_until(target: float, clock: Callable[[], float] = time.perf_counter) -> None:
    """Sleep until ``clock() >= target``: OS sleep to ~1 ms before, then a short yielding spin
    (the OS sleep alone overshoots by up to a millisecond or more on a busy machine)."""
    while True:
        left = target - clock()
        if left <= 0:
            return
        # The last millisecond: yield instead of sleeping (sleep(0) releases the GIL, so sink
        # threads such as a WebSocket server keep running while we wait).
        time.sleep(left - 0.001 if left > 0.0015 else 0)


def timed(
    times: Sequence[float],
    opts: ReplayOptions,
    fps: float,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[tuple[int, int, float]]:
    """Yield ``(index, pass, time_shift)`` at each item's due wall time.

    ``index`` points into ``times``; ``time_shift`` (seconds) is what to add to the item's
    recorded time on this pass (0 on the first pass)."""
    idx = select(times, opts.start, opts.end)
    if not idx:
        return
    sel = [times[i] for i in idx]
    period = loop_period(sel, fps)
    t_first = sel[0]
    wall0 = clock()
    k = 0
    while True:
        for i, t in zip(idx, sel, strict=True):
            wait_until(wall0 + ((t - t_first) + k * period) / opts.speed, clock)
            yield i, k, k * period
        k += 1
        if not opts.loop or (opts.loops is not None and k >= opts.loops):
            return


class ReplaySource:
    """A recording of frames as a source: iterating yields each AvatarFrame at its time.

    On later loop passes the frame's ``t`` is shifted forward (monotonic across loops)."""

    def __init__(self, rec: Recording, opts: ReplayOptions | None = None) -> None:
        self.rec = rec
        self.opts = opts or ReplayOptions()
        self.fps = rec.fps

    def __iter__(self) -> Iterator[AvatarFrame]:
        frames = self.rec.frames
        for i, _k, shift in timed([f.t for f in frames], self.opts, self.fps):
            f = frames[i]
            yield f if shift == 0 else replace(f, t=f.t + shift)


def replay(
    rec: Recording,
    sinks: Sequence[Sink],
    opts: ReplayOptions | None = None,
    on_item: Callable[[int], None] | None = None,
    stop: StopSignals | None = None,
) -> int:
    """Send a recording into the sinks at its recorded timing; returns the number of items sent.
    With ``stop`` (:class:`vtuber.stopping.StopSignals`), a SIGINT/SIGTERM ends it cleanly
    after the item being sent.

    Frame recordings go to every sink's ``send``. VMC datagram recordings (record-vmc) go, byte
    for byte, to every sink that has ``send_datagrams`` (the VMC sink); the other sinks (viewer,
    recorder) get the frames decoded from the datagrams (:class:`vtuber.vmc.VMCDecoder`), each
    when the datagram that completes it is due. A VMC recording with no decodable frame and such
    a sink raises :class:`~vtuber.errors.FormatError` before anything is sent.
    """
    opts = opts or ReplayOptions()
    n = 0
    if rec.kind == "vmc":
        dsinks = [s for s in sinks if hasattr(s, "send_datagrams")]
        fsinks = [s for s in sinks if not hasattr(s, "send_datagrams")]
        dgs = rec.datagrams
        decoder: VMCDecoder | None = None
        if fsinks:
            boundary = frame_boundary(d for _, d in dgs)
            end = osc_string(boundary)  # a byte scan, not a decode: long takes start at once
            if not any(end in d for _, d in dgs):
                raise FormatError(
                    "this VMC recording holds no frame (no /VMC/Ext/T or /VMC/Ext/Blend/Apply "
                    "message), so there is nothing to show in the viewer"
                )
            decoder = VMCDecoder(boundary)
        for i, _k, shift in timed([t for t, _ in dgs], opts, rec.fps):
            if stop is not None and stop.requested:
                break
            data = shift_vmc_time(dgs[i][1], shift)
            for s in dsinks:
                s.send_datagrams([data])  # type: ignore[attr-defined]
            if decoder is not None:
                for frame in decoder.feed(data, dgs[i][0] + shift):
                    for s in fsinks:
                        s.send(frame)
            n += 1
            if on_item is not None:
                on_item(n)
        return n
    for frame in ReplaySource(rec, opts):
        if stop is not None and stop.requested:
            break
        for s in sinks:
            s.send(frame)
        n += 1
        if on_item is not None:
            on_item(n)
    return n
