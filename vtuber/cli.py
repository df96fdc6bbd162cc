"""Command line: ``vtuber <command> ...``. Argument parsing and user-facing errors live here only.

Each subcommand is a module in :mod:`vtuber.commands` with ``add_parser(subparsers)`` and
``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Subcommand modules, in the order `vtuber --help` lists them.
COMMANDS = (
    "track",
    "calibrate",
    "replay",
    "record_vmc",
    "export",
    "models",
    "bench",
    "gestures",
    "cameras",
    "microphones",
)


def _quiet_native_logs() -> None:
    # MediaPipe / TFLite log through glog and absl to stderr; keep the terminal for our status.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # FFmpeg (inside OpenCV) prints a line per broken packet of a damaged video; vtuber reports
    # a source that ends early in one line of its own (docs/reliability.md).
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def _named_command(argv: list[str]) -> str | None:
    """The subcommand module ``argv`` names (its first word that is not an option), or None."""
    word = next((a for a in argv if not a.startswith("-")), None)
    name = word.replace("-", "_") if word else None
    return name if name in COMMANDS else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line parser; with ``only`` (a :data:`COMMANDS` module), that subcommand's
    alone: a command imports only its own module (start-up, docs/performance.md)."""
    parser = argparse.ArgumentParser(
        prog="vtuber",
        description="Drive a VRM avatar from a webcam: MediaPipe tracking to VMC, a web viewer "
        "and recordings.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        try:
            mod = importlib.import_module(f"vtuber.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"vtuber.commands.{name}":
                continue  # not built yet
            raise
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_native_logs()
    from vtuber.errors import VtuberError
    from vtuber.stopping import term_as_interrupt

    term_as_interrupt()  # SIGTERM ends a command like Ctrl-C: files closed, summaries printed

    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_named_command(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="vtuber: %(levelname)s: %(message)s",
    )
    try:
        return int(args._run(args) or 0)
    except VtuberError as e:
        print(f"vtuber: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
