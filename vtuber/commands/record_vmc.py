"""``vtuber record-vmc``: record any VMC performer's datagrams, byte for byte, into a .vtrec."""

from __future__ import annotations

import argparse
import socket
import sys

from vtuber.errors import ConfigError
from vtuber.recording import RecordingWriter, now
from vtuber.vmc import DEFAULT_PORT


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "record-vmc",
        help="record a VMC performer (VSeeFace, XR Animator, ...) to a .vtrec file",
        description="Listen for VMC (OSC over UDP) like a marionette and store every datagram "
        "unchanged, with its arrival time, so `vtuber replay` re-sends identical bytes.",
    )
    p.add_argument(
        "--listen",
        default=str(DEFAULT_PORT),
        metavar="[HOST:]PORT",
        help=f"UDP address to listen on (default 0.0.0.0:{DEFAULT_PORT})",
    )
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="the recording to write")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--quiet", action="store_true", help="no status line")
    return p


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = "", text
    try:
        port = int(port_s)
    except ValueError as e:
        raise ConfigError(f"bad --listen {text!r}: the port must be a number") from e
    if not 0 < port < 65536:
        raise ConfigError(f"bad --listen {text!r}: port {port} is out of range")
    return host.strip("[]") or "0.0.0.0", port


def record(
    sock: socket.socket,
    writer: RecordingWriter,
    duration: float | None = None,
    status: bool = False,
) -> int:
    """Receive datagrams into the writer until ``duration`` elapses (or Ctrl-C)."""
    sock.settimeout(0.1)
    t0 = now()
    last_status = 0.0
    try:
        while duration is None or now() - t0 < duration:
            try:
                data = sock.recv(65535)
            except TimeoutError:
                data = b""
            t = now() - t0
            if data:
                writer.write_datagram(data, t)
            if status and t - last_status >= 0.5:
                last_status = t
                sys.stderr.write(
                    f"\rvtuber: recording VMC: {writer.datagrams} datagrams, {t:.0f} s\x1b[K"
                )
                sys.stderr.flush()
    except KeyboardInterrupt:
        pass
    return writer.datagrams


def run(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, port))
    except OSError as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from e
    status = not args.quiet and sys.stderr.isatty()
    if not args.quiet:
        print(f"vtuber: recording VMC from udp {host}:{port} to {args.out} (Ctrl-C stops)",
              file=sys.stderr)  # fmt: skip
    with sock, RecordingWriter(args.out, kind="vmc", source=f"udp {host}:{port}") as w:
        n = record(sock, w, args.duration, status)
    if not args.quiet:
        print(f"\nvtuber: recorded {n} datagrams to {args.out}", file=sys.stderr)
    return 0
