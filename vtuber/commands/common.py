"""Options shared by commands that drive sinks (track, replay) and the code that builds them."""

from __future__ import annotations

import argparse

from vtuber.sinks.base import Sink
from vtuber.sinks.vmc import VMCSink, parse_target


def add_sink_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("outputs")
    g.add_argument(
        "--vmc",
        action="append",
        metavar="HOST:PORT",
        help="send VMC to this receiver (repeatable; default 127.0.0.1:39539)",
    )
    g.add_argument("--no-vmc", action="store_true", help="do not send VMC")


def build_sinks(args: argparse.Namespace) -> list[Sink]:
    """The sinks the options ask for (not yet opened)."""
    sinks: list[Sink] = []
    if not args.no_vmc:
        targets = [parse_target(t) for t in (args.vmc or ["127.0.0.1:39539"])]
        sinks.append(VMCSink(targets))
    return sinks
