"""Command-line options of lock-on and ``--performers 2`` (docs/performers.md), and the parts
they build: the performer-selecting backend wrapper and the second performer's stream."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

from vtuber.errors import ConfigError
from vtuber.performers import PerformerBackend, PerformerTracker
from vtuber.pipeline import Stream

DEFAULT_VMC2 = "127.0.0.1:39540"


def add_performer_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("performers (docs/performers.md)")
    g.add_argument(
        "--performers",
        type=int,
        choices=(1, 2),
        default=1,
        help="people to track, each driving their own avatar (2: a second stream, --vmc2)",
    )
    g.add_argument(
        "--lock-on",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep following the performer (largest, most central face at start) while others "
        "enter or pass (default); --no-lock-on: whichever face MediaPipe finds",
    )
    g.add_argument(
        "--relock-after",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="a performer out of view this long may be replaced by someone else (default 5)",
    )
    g.add_argument(
        "--vmc2",
        action="append",
        metavar="HOST:PORT",
        help=f"with --performers 2: the second performer's VMC receiver (repeatable; default "
        f"{DEFAULT_VMC2}); --record FILE also writes FILE's .p2 twin, --viewer a second page "
        "on --viewer-port + 1",
    )


def check_performer_args(args: argparse.Namespace) -> None:
    """ConfigError for combinations that cannot work (before the camera opens)."""
    n = getattr(args, "performers", 1)
    if n > 1 and getattr(args, "face_model", "facemesh") != "facemesh":
        raise ConfigError("--performers 2 needs --face-model facemesh (one face per Landmarker)")
    if n > 1 and not getattr(args, "lock_on", True):
        raise ConfigError("--performers 2 needs lock-on (drop --no-lock-on)")
    if getattr(args, "vmc2", None) and n < 2:
        raise ConfigError("--vmc2 needs --performers 2")
    if not getattr(args, "relock_after", 5.0) >= 0:
        raise ConfigError("--relock-after must be 0 or more seconds")


def performer_backend(args: argparse.Namespace, backend):  # type: ignore[no-untyped-def]
    """``backend`` wrapped in a :class:`PerformerBackend` when lock-on is on (and the backend
    can see several faces); ``backend`` itself otherwise."""
    if not getattr(args, "lock_on", True) or not hasattr(backend, "set_max_faces"):
        return backend
    tracker = PerformerTracker(getattr(args, "performers", 1), getattr(args, "relock_after", 5.0))
    return PerformerBackend(backend, tracker)


def second_record_path(path: str) -> str:
    """The second performer's recording beside ``path``: ``take.vtrec`` -> ``take.p2.vtrec``."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.p2{p.suffix}"))


def performer_streams(
    args: argparse.Namespace, make_tracker, make_smoother, build_sinks, main_sinks=()
):  # type: ignore[no-untyped-def]
    """The further performers' :class:`Stream` s (sinks not yet opened): their own tracker,
    smoothing, VMC receivers (--vmc2), recording (--record's .p2 twin) and viewer page
    (--viewer: on --viewer-port + 1). ``main_sinks``: performer 1's; a viewer among them also
    carries performer 2's frames (its page shows both avatars side by side, docs/viewer.md)."""
    if getattr(args, "performers", 1) < 2:
        return []
    a2 = copy.copy(args)
    a2.vmc = args.vmc2 or [DEFAULT_VMC2]
    a2.record = second_record_path(args.record) if getattr(args, "record", None) else None
    if getattr(args, "viewer", False):  # performer 2's viewer page: the next port
        a2.viewer_port = args.viewer_port + 1
    sinks = build_sinks(a2)
    sinks += [s.performer(2) for s in main_sinks if hasattr(s, "performer")]
    return [Stream(1, make_tracker(args), sinks, make_smoother())]
