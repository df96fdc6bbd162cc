"""Options shared by commands that drive sinks (track, replay) and the code that builds them."""

from __future__ import annotations

import argparse
import logging

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
    g.add_argument(
        "--viewer",
        action="store_true",
        help="serve the web viewer (three-vrm; OBS browser source) and its WebSocket stream",
    )
    g.add_argument(
        "--viewer-host",
        default="127.0.0.1",
        help="address the viewer listens on (default 127.0.0.1: this machine only)",
    )
    g.add_argument("--viewer-port", type=int, default=8765, help="viewer HTTP+WebSocket port")
    g.add_argument(
        "--avatar", metavar="FILE.vrm", help="VRM 0.x/1.0 the viewer shows (default: vtuber's own)"
    )
    g.add_argument(
        "--record",
        metavar="FILE",
        help="also record the frames to FILE (.vtrec, docs/recording.md)",
    )
    g.add_argument(
        "--record-landmarks",
        action="store_true",
        help="with --record: store the raw landmarks too (to re-solve later; ~10 MB/min)",
    )
    add_overwrite_arg(g)


def add_overwrite_arg(p: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--overwrite`` / ``-y``: the one way to let a command replace an existing file."""
    p.add_argument(
        "--overwrite",
        "-y",
        action="store_true",
        help="replace an existing output file (without it, an existing file is never touched)",
    )


def add_face_model_arg(p: argparse.ArgumentParser, help: str) -> None:
    """``--face-model facemesh|landmarker``: which face model reads the face (``track``, and
    ``calibrate``, whose profile holds that model's measures; ``make_backend`` in track.py
    opens it)."""
    p.add_argument(
        "--face-model", choices=("facemesh", "landmarker"), default="facemesh", help=help
    )


class OscWarnings(logging.Filter):
    """While active, hides and counts python-osc's warnings (it logs one per unreadable message,
    with a byte dump, on the root logger), so junk in a recording costs one summary line."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "root" and "pythonosc" in record.pathname:
            self.count += 1
            return False
        return True

    def __enter__(self) -> OscWarnings:
        logging.getLogger().addFilter(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeFilter(self)


def input_paths(args: argparse.Namespace) -> tuple[str | None, ...]:
    """The files a command reads (an output may not be one of them)."""
    names = ("source", "file", "profile", "config", "avatar")
    return tuple(str(v) for n in names if isinstance(v := getattr(args, n, None), str))


def build_sinks(args: argparse.Namespace) -> list[Sink]:
    """The sinks the options ask for (not yet opened)."""
    sinks: list[Sink] = []
    if not args.no_vmc:
        targets = [parse_target(t) for t in (args.vmc or ["127.0.0.1:39539"])]
        sinks.append(VMCSink(targets))
    if getattr(args, "record", None):
        from vtuber.sinks.recorder import RecorderSink

        sinks.append(
            RecorderSink(
                args.record,
                landmarks=bool(getattr(args, "record_landmarks", False)),
                source=str(getattr(args, "source", None) or ""),
                mode=str(getattr(args, "mode", "face")),
                mirror=bool(getattr(args, "mirror", True)),
                overwrite=bool(getattr(args, "overwrite", False)),
                inputs=input_paths(args),
            )
        )
    if getattr(args, "viewer", False):
        sinks.append(build_viewer_sink(args))
    return sinks


def build_viewer_sink(args: argparse.Namespace) -> Sink:
    """The WebSocket sink behind --viewer; warns when it is reachable from other machines."""
    import logging
    import sys

    from vtuber.sinks.websocket import WebSocketSink
    from vtuber.web import is_loopback_host

    if not is_loopback_host(args.viewer_host):
        logging.getLogger(__name__).warning(
            "--viewer-host %s: the viewer and the avatar stream are reachable from other "
            "machines on this network (no password); use it only on a network you trust",
            args.viewer_host,
        )
    return WebSocketSink(
        args.viewer_host, args.viewer_port, avatar=args.avatar, announce=sys.stderr
    )
