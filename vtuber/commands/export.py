"""``vtuber export FILE --format bvh|vrma|jsonl -o OUT``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vtuber.commands.common import OscWarnings, add_overwrite_arg
from vtuber.commands.replay import load
from vtuber.errors import ConfigError, FormatError
from vtuber.export import FORMATS, decode_recording
from vtuber.outfile import atomic_output, check_output


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="convert a recording to BVH, VRMA (VRM Animation) or JSON Lines",
        description="Export a recording's motion: BVH (Blender, MotionBuilder), VRMA (VRM "
        "Animation, three-vrm / UniVRM) or JSON Lines (one frame per line, for scripts).",
    )
    p.add_argument("file", help="the recording (.vtrec)")
    p.add_argument("--format", "-f", choices=FORMATS, default=None,
                   help="output format (default: from the output's extension)")  # fmt: skip
    p.add_argument("-o", "--out", required=True, help="output file")
    p.add_argument("--start", type=float, default=0.0, help="from this many seconds")
    p.add_argument("--end", type=float, default=None, help="up to this many seconds")
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help="BVH frame rate: the motion is resampled to it (default: the recording's median rate)",
    )
    add_overwrite_arg(p)
    return p


def run(args: argparse.Namespace) -> int:
    fmt = args.format or Path(args.out).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise FormatError(f"cannot tell the export format from {args.out!r}: use --format")
    check_output(args.out, overwrite=args.overwrite, inputs=(args.file,))  # before reading
    rec = load(args.file)
    with OscWarnings() as osc:  # python-osc logs a line (with a byte dump) per bad message
        frames, junk = decode_recording(rec)
    if junk or osc.count:
        print(
            f"vtuber: warning: {args.file}: skipped {junk} datagram{'' if junk == 1 else 's'} "
            f"that are not OSC and {osc.count} message{'' if osc.count == 1 else 's'} python-osc "
            "could not read (junk from the sender)",
            file=sys.stderr,
        )
    if frames:
        t0 = frames[0].t
        frames = [
            f for f in frames
            if f.t - t0 >= args.start - 1e-6 and (args.end is None or f.t - t0 <= args.end + 1e-6)
        ]  # fmt: skip
    if not frames:
        raise FormatError(f"{args.file}: no frames to export")
    if args.fps is not None and fmt != "bvh":
        raise ConfigError("--fps applies to BVH only (VRMA and JSONL keep the recorded times)")
    n = len(frames)
    # Written under a temporary name and moved into place when complete (vtuber.outfile).
    with atomic_output(args.out, overwrite=args.overwrite, inputs=(args.file,)) as tmp:
        if fmt == "vrma":
            from vtuber.export.vrma import build_vrma

            tmp.write_bytes(build_vrma(frames))
        else:
            with open(tmp, "w", encoding="utf-8") as out:
                if fmt == "bvh":
                    from vtuber.export.bvh import write_bvh

                    n = write_bvh(frames, out, fps=args.fps)
                else:
                    from vtuber.export.jsonl import write_jsonl

                    write_jsonl(frames, out)
    resampled = f", resampled from {len(frames)}" if n != len(frames) else ""
    print(f"vtuber: exported {n} frames to {args.out} ({fmt}{resampled})", file=sys.stderr)
    return 1 if rec.error is not None and not rec.truncated else 0
