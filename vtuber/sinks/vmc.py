"""VMC sink: sends each AvatarFrame as OSC bundles over UDP to one or more receivers."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

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


Resolver = Callable[[str, int], list[tuple[int, tuple[Any, ...]]]]


def resolve(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    """``(family, sockaddr)`` for each address family ``host`` resolves to (the first address of
    each family, in the resolver's order of preference)."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as e:
        raise ConfigError(f"cannot resolve VMC receiver host {host!r}: {e}") from e
    out: list[tuple[int, tuple[Any, ...]]] = []
    for family, _, _, _, sockaddr in info:
        if family in (socket.AF_INET, socket.AF_INET6) and all(f != family for f, _ in out):
            out.append((int(family), tuple(sockaddr)))
    if not out:
        raise ConfigError(f"VMC receiver host {host!r} has no IPv4 or IPv6 address")
    return out


def _show(sockaddr: tuple[Any, ...]) -> str:
    host = str(sockaddr[0])
    return f"[{host}]:{sockaddr[1]}" if ":" in host else f"{host}:{sockaddr[1]}"


class _Route:
    """One ``--vmc`` target. A single address is sent to with the shared socket of its family.
    A name with addresses in both families (``localhost`` -> ::1 and 127.0.0.1) gets a connected
    socket per address: datagrams go to the preferred one, and when the kernel reports that
    nothing listens there (ICMP port unreachable -> ECONNREFUSED) they go to the next one."""

    def __init__(self, label: str, addrs: list[tuple[int, tuple[Any, ...]]]) -> None:
        self.label = label
        self.addrs = addrs
        self.current = 0
        self.conns: list[socket.socket] = []

    @property
    def sockaddr(self) -> tuple[Any, ...]:
        return self.addrs[self.current][1]


class VMCSink(SinkBase):
    """Fans every frame out to the given ``(host, port)`` receivers over UDP: one socket per
    address family, so IPv4 and IPv6 receivers can be mixed.

    UDP send errors (receiver not running: ICMP port unreachable) are counted, not raised: a VMC
    receiver may start after the tracker. ``resolver`` maps (host, port) to ``(family,
    sockaddr)`` pairs (default :func:`resolve`: the system resolver).
    """

    def __init__(self, targets: list[tuple[str, int]], resolver: Resolver | None = None) -> None:
        if not targets:
            raise ConfigError("VMCSink needs at least one target")
        self.targets = list(targets)
        self.resolver = resolver or resolve
        self._socks: dict[int, socket.socket] = {}
        self._routes: list[_Route] = []
        self.errors = 0
        self.datagrams = 0

    def open(self) -> None:
        routes = []
        for host, port in self.targets:
            addrs = self.resolver(host, int(port))
            routes.append(_Route(f"{host}:{port}", addrs))
        self._routes = routes
        try:
            for r in routes:
                if len(r.addrs) == 1:
                    family = r.addrs[0][0]
                    if family not in self._socks:
                        self._socks[family] = socket.socket(family, socket.SOCK_DGRAM)
                else:
                    for family, sockaddr in r.addrs:
                        c = socket.socket(family, socket.SOCK_DGRAM)
                        r.conns.append(c)
                        c.connect(sockaddr)
        except OSError as e:
            self.close()
            raise ConfigError(f"cannot open a VMC socket: {e.strerror}") from e

    @property
    def addresses(self) -> list[tuple[Any, ...]]:
        """Where each target's datagrams go now (a name's current address)."""
        return [r.sockaddr for r in self._routes]

    def _failed(self, r: _Route, e: OSError) -> None:
        self.errors += 1
        if self.errors in (1, 10, 100) or self.errors % 1000 == 0:
            log.warning("VMC send to %s failed (%d so far): %s", _show(r.sockaddr), self.errors, e)

    def _send_multi(self, r: _Route, datagrams: list[bytes]) -> None:
        for d in datagrams:
            for _ in range(len(r.addrs)):
                try:
                    r.conns[r.current].send(d)
                    self.datagrams += 1
                    break
                except ConnectionRefusedError:
                    old = r.sockaddr
                    r.current = (r.current + 1) % len(r.addrs)
                    log.info(
                        "VMC: nothing listens on %s (%s); trying %s",
                        _show(old), r.label, _show(r.sockaddr),
                    )  # fmt: skip
                except OSError as e:
                    self._failed(r, e)
                    break

    def send_datagrams(self, datagrams: list[bytes]) -> None:
        if not self._routes:
            raise RuntimeError("VMCSink.send before open")
        for r in self._routes:
            if r.conns:
                self._send_multi(r, datagrams)
                continue
            family, addr = r.addrs[0]
            sock = self._socks[family]
            for d in datagrams:
                try:
                    sock.sendto(d, addr)
                    self.datagrams += 1
                except OSError as e:
                    self._failed(r, e)

    def send(self, frame: AvatarFrame, time_s: float | None = None) -> None:
        self.send_datagrams(encode_frame(frame, time_s))

    def close(self) -> None:
        for sock in self._socks.values():
            sock.close()
        self._socks.clear()
        for r in self._routes:
            for c in r.conns:
                c.close()
        self._routes = []
