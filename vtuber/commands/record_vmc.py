"""``vtuber record-vmc``: record any VMC performer's datagrams, byte for byte, into a .vtrec.

Listens on 127.0.0.1 unless told otherwise (``--listen 0.0.0.0:39539`` opens it to the network),
asks for a large receive buffer (so bursts of 10,000+ datagrams/s are not lost while a write
waits for the disk) and counts what the kernel still drops (Linux: ``SO_RXQ_OVFL`` on every
datagram plus the socket's drop counter in ``/proc/net/udp``); the summary says how many.
A write error (full disk) stops the recording with one line; the file keeps what was written.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vtuber.commands.common import add_overwrite_arg
from vtuber.errors import ConfigError, OutputError
from vtuber.recording import RecordingWriter, now
from vtuber.stopping import StopSignals
from vtuber.vmc import DEFAULT_PORT
from vtuber.web import is_loopback_host

DEFAULT_HOST = "127.0.0.1"
RCVBUF = 8 * 1024 * 1024  # requested receive buffer; the kernel caps it (Linux: rmem_max)
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40 if sys.platform.startswith("linux") else None)
# Kernel arrival times (struct timespec, CLOCK_REALTIME): a datagram's time is when it arrived,
# not when a busy recorder got round to reading it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
_TIMESPEC = struct.Struct("=qq")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "record-vmc",
        help="record a VMC performer (VSeeFace, XR Animator, ...) to a .vtrec file",
        description="Listen for VMC (OSC over UDP) like a marionette and store every datagram "
        "unchanged, with its arrival time, so `vtuber replay` re-sends identical bytes.",
    )
    p.add_argument(
        "--listen",
        default=f"{DEFAULT_HOST}:{DEFAULT_PORT}",
        metavar="[HOST:]PORT",
        help=f"UDP address to listen on (default {DEFAULT_HOST}:{DEFAULT_PORT}, this machine "
        f"only; --listen 0.0.0.0:{DEFAULT_PORT} accepts performers on the network)",
    )
    p.add_argument("--out", "-o", required=True, metavar="FILE", help="the recording to write")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--quiet", action="store_true", help="no status line")
    add_overwrite_arg(p)
    return p


def parse_listen(text: str) -> tuple[str, int]:
    """'[HOST:]PORT' -> (host, port); the host defaults to 127.0.0.1 (loopback only)."""
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = "", text
    try:
        port = int(port_s)
    except ValueError as e:
        raise ConfigError(f"bad --listen {text!r}: the port must be a number") from e
    if not 0 < port < 65536:
        raise ConfigError(f"bad --listen {text!r}: port {port} is out of range")
    return host.strip("[]") or DEFAULT_HOST, port


def open_socket(host: str, port: int, rcvbuf: int = RCVBUF) -> socket.socket:
    """A bound UDP socket with a large receive buffer and kernel drop reporting (where the OS
    has it). ConfigError when the address cannot be bound."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][0]
    except socket.gaierror as e:
        raise ConfigError(f"cannot listen on {host}:{port}: {e}") from e
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        for opt in (SO_RXQ_OVFL, SO_TIMESTAMPNS):
            if opt is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, opt, 1)
                except OSError:
                    pass
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from e
    return sock


def receive_buffer(sock: socket.socket) -> int:
    """The receive buffer the kernel granted, in bytes of payload (Linux reports double)."""
    n = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    return n // 2 if sys.platform.startswith("linux") else n


def kernel_drops(sock: socket.socket) -> int | None:
    """The socket's drop counter from /proc/net/udp(6) (Linux), or None where unavailable."""
    try:
        ino = str(os.fstat(sock.fileno()).st_ino)
    except OSError:
        return None
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) > 12 and f[9] == ino:
                return int(f[12])
    return None


@dataclass
class RecordResult:
    datagrams: int = 0
    drops: int = 0  # datagrams the kernel dropped (receive buffer full)
    stopped_by: str = ""  # "SIGINT" / "SIGTERM" / "" (duration reached)
    error: OutputError | None = None  # the write error that stopped the recording


def record(
    sock: socket.socket,
    writer: RecordingWriter,
    duration: float | None = None,
    status: bool = False,
) -> RecordResult:
    """Receive datagrams into the writer until ``duration`` elapses, a signal (SIGINT/SIGTERM)
    or a write error; counts kernel drops."""
    sock.settimeout(0.1)
    res = RecordResult()
    anc = socket.CMSG_SPACE(4) + socket.CMSG_SPACE(_TIMESPEC.size)
    t0 = now()
    wall0 = time.time()  # the same moment on the clock of the kernel's arrival times
    t_last = 0.0
    last_status = 0.0
    with StopSignals() as stop:
        while duration is None or now() - t0 < duration:
            if stop.requested:
                res.stopped_by = stop.name
                break
            try:
                data, ancdata, _, _ = sock.recvmsg(65535, anc)
            except TimeoutError:
                data, ancdata = b"", []
            t = now() - t0
            for level, kind, payload in ancdata:
                if level != socket.SOL_SOCKET:
                    continue
                if kind == SO_RXQ_OVFL and len(payload) >= 4:
                    res.drops = max(res.drops, struct.unpack("=I", payload[:4])[0])
                elif kind == SO_TIMESTAMPNS and len(payload) >= _TIMESPEC.size:
                    sec, nsec = _TIMESPEC.unpack_from(payload)
                    t = min(t, sec + nsec * 1e-9 - wall0)  # arrival, never after the read
            if data:
                t = t_last = max(t, t_last)  # non-decreasing, whatever the wall clock does
                try:
                    writer.write_datagram(data, t)
                except OutputError as e:
                    res.error = e
                    break
            if status and t - last_status >= 0.5:
                last_status = t
                drops = f", {res.drops} dropped" if res.drops else ""
                sys.stderr.write(
                    f"\rvtuber: recording VMC: {writer.datagrams} datagrams{drops}, {t:.0f} s\x1b[K"
                )
                sys.stderr.flush()
    final = kernel_drops(sock)
    if final is not None:
        res.drops = max(res.drops, final)
    res.datagrams = writer.datagrams
    return res


def run(args: argparse.Namespace) -> int:
    host, port = parse_listen(args.listen)
    writer = RecordingWriter(
        args.out,
        kind="vmc",
        source=f"udp {host}:{port}",
        overwrite=args.overwrite,
        keep_empty=False,
    )
    writer.open()  # refuses an existing file (without --overwrite) before anything else
    try:
        sock = open_socket(host, port)
    except BaseException:
        writer.close()  # nothing written: no file is created
        raise
    status = not args.quiet and sys.stderr.isatty()
    if not is_loopback_host(host):
        print(
            f"vtuber: warning: listening on {host}:{port}: any machine on your network can send "
            "to this recording (the default, 127.0.0.1, accepts this machine only)",
            file=sys.stderr,
        )
    with sock:
        try:
            if not args.quiet:
                print(
                    f"vtuber: recording VMC from udp {host}:{port} to {args.out} (Ctrl-C stops)",
                    file=sys.stderr,
                )
            res = record(sock, writer, args.duration, status)
        finally:
            writer.close()
        rcvbuf = receive_buffer(sock)
    if writer.conflict is not None:
        print(f"vtuber: warning: {writer.conflict}", file=sys.stderr)
    if res.error is not None:
        kept = (
            f"{writer.where} keeps the {res.datagrams} datagrams written before it"
            if res.datagrams
            else "nothing was recorded"
        )
        print(f"\nvtuber: error: recording stopped: {res.error}; {kept}", file=sys.stderr)
    if not args.quiet or res.drops:
        where = f"to {writer.where}" if res.datagrams else f"(none; {args.out} not created)"
        print(
            f"{chr(10) if status else ''}vtuber: recorded {res.datagrams} datagrams {where}; "
            f"{res.drops} dropped by the kernel (receive buffer {rcvbuf // 1024} "
            f"KiB)" + (f"; stopped by {res.stopped_by}" if res.stopped_by else ""),
            file=sys.stderr,
        )
    return 1 if res.error is not None else 0
