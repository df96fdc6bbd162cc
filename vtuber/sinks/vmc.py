"""VMC sink: sends each AvatarFrame as OSC bundles over UDP to one or more receivers."""

from __future__ import annotations

import logging
import socket

from vtuber.errors import ConfigError
from vtuber.rig import AvatarFrame
from vtuber.sinks.base import SinkBase
from vtuber.vmc import DEFAULT_PORT, encode_frame

log = logging.getLogger(__name__)


def parse_target(text: str) -> tuple[str, int]:
    """'HOST:PORT', 'HOST' or ':PORT' -> (host, port); default 127.0.0.1:39539."""
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = text, ""
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_s) if port_s else DEFAULT_PORT
    except ValueError as e:
        raise ConfigError(f"bad VMC target {text!r}: the port must be a number") from e
    if not 0 < port < 65536:
        raise ConfigError(f"bad VMC target {text!r}: port {port} is out of range")
    return host, port


class VMCSink(SinkBase):
    """Fans every frame out to the given ``(host, port)`` receivers over one UDP socket.

    UDP send errors (receiver not running: ICMP port unreachable) are counted, not raised: a VMC
    receiver may start after the tracker.
    """

    def __init__(self, targets: list[tuple[str, int]]) -> None:
        if not targets:
            raise ConfigError("VMCSink needs at least one target")
        self.targets = list(targets)
        self._sock: socket.socket | None = None
        self._addrs: list[tuple[str, int]] = []
        self.errors = 0
        self.datagrams = 0

    def open(self) -> None:
        addrs: list[tuple[str, int]] = []
        family = socket.AF_INET
        for host, port in self.targets:
            try:
                info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            except socket.gaierror as e:
                raise ConfigError(f"cannot resolve VMC receiver host {host!r}: {e}") from e
            family = info[0][0]
            sockaddr = info[0][4]
            addrs.append((str(sockaddr[0]), int(sockaddr[1])))
        self._addrs = addrs
        self._sock = socket.socket(family, socket.SOCK_DGRAM)

    def send_datagrams(self, datagrams: list[bytes]) -> None:
        sock = self._sock
        if sock is None:
            raise RuntimeError("VMCSink.send before open")
        for addr in self._addrs:
            for d in datagrams:
                try:
                    sock.sendto(d, addr)
                    self.datagrams += 1
                except OSError as e:
                    self.errors += 1
                    if self.errors in (1, 10, 100) or self.errors % 1000 == 0:
                        log.warning(
                            "VMC send to %s:%d failed (%d so far): %s", *addr, self.errors, e
                        )

    def send(self, frame: AvatarFrame, time_s: float | None = None) -> None:
        self.send_datagrams(encode_frame(frame, time_s))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
