"""``vtuber replay FILE``: send a recording into the same sinks as live tracking."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from vtuber.commands.common import OscWarnings, add_sink_args, build_sinks
from vtuber.recording import Recording, read_recording
from vtuber.replay import ReplayOptions, replay
from vtuber.stopping import StopSignals


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "replay",
        help="replay a recording (.vtrec) to VMC receivers and other outputs",
        description="Replay a recording made with `track --record` or `record-vmc` at its "
        "recorded timing. VMC recordings are re-sent byte for byte to VMC outputs and decoded "
        "to frames for the viewer and --record.",
    )
    p.add_argument("file", help="the recording (.vtrec)")
    p.add_argument("--speed", type=float, default=1.0, help="playback speed factor (default 1)")
    p.add_argument(
        "--loop", action="store_true", help="repeat forever (/VMC/Ext/T keeps increasing)"
    )
    p.add_argument("--start", type=float, default=0.0, help="start at this many seconds")
    p.add_argument("--end", type=float, default=None, help="stop at this many seconds")
    p.add_argument("--quiet", action="store_true", help="no status line")
    add_sink_args(p)
    return p


def load(path: str) -> Recording:
    """Read a recording; a damaged tail is reported on stderr and the rest is used."""
    rec = read_recording(path)
    if rec.error is not None:
        level = "warning" if rec.truncated else "error"
        print(f"vtuber: {level}: {rec.error}", file=sys.stderr)
    return rec


def run(args: argparse.Namespace) -> int:
    rec = load(args.file)
    opts = ReplayOptions(speed=args.speed, loop=args.loop, start=args.start, end=args.end)
    unit = "datagrams" if rec.kind == "vmc" else "frames"
    total = len(rec.datagrams) if rec.kind == "vmc" else len(rec.frames)
    tty = sys.stderr.isatty() and not args.quiet

    def progress(n: int) -> None:
        if tty and n % 15 == 0:
            sys.stderr.write(f"\rvtuber: replaying {args.file}: {n} {unit} sent\x1b[K")
            sys.stderr.flush()

    with ExitStack() as stack:
        sinks = build_sinks(args)
        for s in sinks:
            s.open()
            stack.callback(s.close)
        with StopSignals() as stop, OscWarnings() as osc:
            n = replay(rec, sinks, opts, on_item=progress, stop=stop)
    if rec.kind == "vmc":  # junk the performer sent: re-sent unchanged, summarised in one line
        junk = sum(1 for _, d in rec.datagrams if not d.startswith((b"/", b"#bundle\0")))
        if junk or osc.count:
            print(
                f"{chr(13) if tty else ''}vtuber: warning: {args.file}: {junk} datagrams are "
                f"not OSC and {osc.count} messages could not be decoded (VMC outputs get them "
                "unchanged)",
                file=sys.stderr,
            )
    if not args.quiet:
        print(
            f"{chr(13) if tty else ''}vtuber: replayed {n} {unit} "
            f"(recording holds {total}, {rec.duration:.1f} s)"
            + (f"; stopped by {stop.name}" if stop.requested else ""),
            file=sys.stderr,
        )
    return 1 if rec.error is not None and not rec.truncated else 0
