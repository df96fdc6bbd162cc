"""WebSocket sink: serves the web viewer and broadcasts every AvatarFrame as JSON.

The message format is specified in docs/websocket.md (``FORMAT_VERSION``). The encoders
(:func:`encode_hello`, :func:`encode_frame`) are pure functions; :class:`WebSocketSink` runs a
``websockets`` server in its own asyncio loop on a thread.

Newest frame wins: the tracker's :meth:`WebSocketSink.send` encodes the frame once, stores it in a
one-slot buffer and wakes the per-client sender tasks; it never waits for a client. Each client
task sends the newest frame when its previous send has completed, so a slow or stalled client
skips frames instead of queueing them, and never holds up the others.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import threading
import time
from pathlib import Path
from typing import TextIO

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers, MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from vtuber.errors import ConfigError
from vtuber.rig import BLENDSHAPE_KEYS, BONE_ORDER, AvatarFrame
from vtuber.sinks.base import SinkBase
from vtuber.web import (
    AVATAR_PATH,
    WS_PATH,
    AccessPolicy,
    content_type,
    find_default_avatar,
    find_node_modules,
    resolve_path,
)

log = logging.getLogger(__name__)

FORMAT_NAME = "vtuber-avatar"
FORMAT_VERSION = "1.2"  # 1.1: optional "events" / "active" (gestures); 1.2: performers
EVERY_PERFORMER = "performers=all"  # /ws?performers=all: every performer's frames, tagged
DEFAULT_PORT = 8765
MAX_CLIENT_MESSAGE = 4096  # bytes; clients only send small control messages
_BONE_NAMES = [b.name for b in BONE_ORDER]


# ------------------------------------------------------------------------------------ encoding
def encode_hello(avatar_url: str = AVATAR_PATH, performers: int | None = None) -> str:
    """The first message every client gets: format, version, bone and expression names;
    ``performers``: how many performers the stream carries (only for a client that asked for
    every performer's frames, docs/websocket.md)."""
    msg: dict[str, object] = {
        "type": "hello",
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "basis": "unity",
        "bones": _BONE_NAMES,
        "expressions": list(BLENDSHAPE_KEYS),
        "avatar": avatar_url,
    }
    if performers is not None:
        msg["performers"] = performers
    return json.dumps(msg, separators=(",", ":"))


def tag_performer(text: str, performer: int) -> str:
    """An encoded ``frame`` message with ``"performer": performer`` added (1-based)."""
    return f'{text[:-1]},"performer":{performer}}}'


def _r(v: float) -> float:
    return round(v, 5)


def encode_frame(
    frame: AvatarFrame,
    wall_capture: float | None = None,
    active: dict[str, list[str]] | None = None,
) -> str:
    """One ``frame`` message (docs/websocket.md): every bone's local rotation (rest pose filled
    in), Unity basis, xyzw; expression weights as the frame carries them.

    Args:
        frame: the avatar frame (already mirrored as the pipeline chose).
        wall_capture: Unix time (s) at capture, for latency on the page; default: derived from
            ``frame.t_capture`` (perf_counter) and now, or now when it is 0.
        active: the gestures / viewer events active after this frame, by kind (sent as
            ``"active"`` when any is; the frame's own start/end edges go in ``"events"``).
    """
    if wall_capture is None:
        now_pc = time.perf_counter()
        age = now_pc - frame.t_capture if frame.t_capture else 0.0
        wall_capture = time.time() - age
    bones = frame.full_pose()
    tr = frame.tracking
    msg = {
        "type": "frame",
        "t": frame.t,
        "index": frame.index,
        "captured": round(wall_capture, 4),
        "tracking": {
            "face": tr.face,
            "body": tr.body,
            "leftHand": tr.left_hand,
            "rightHand": tr.right_hand,
        },
        "root": {
            "p": [_r(v) for v in frame.root_position],
            "q": [_r(v) for v in frame.root_rotation],
        },
        "bones": {
            n: [_r(v) for v in bones[b]] for n, b in zip(_BONE_NAMES, BONE_ORDER, strict=True)
        },
        "expressions": {k: _r(float(v)) for k, v in frame.blendshapes.items()},
    }
    if frame.t_capture:  # capture -> this message sent, in ms (the page shows its p95)
        msg["sent_ms"] = round(1000.0 * (time.perf_counter() - frame.t_capture), 2)
    if frame.events:
        msg["events"] = [{"kind": e.kind, "name": e.name, "active": e.active} for e in frame.events]
    if active and any(active.values()):
        msg["active"] = {k: v for k, v in active.items() if v}
    return json.dumps(msg, separators=(",", ":"))


# ------------------------------------------------------------------------------------ the sink
class _Client:
    __slots__ = ("ws", "wake", "sent", "skipped")

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.wake = asyncio.Event()
        self.sent = 0
        self.skipped = 0


class _PerformerView(SinkBase):
    """A further performer's frames on a :class:`WebSocketSink`'s stream
    (:meth:`WebSocketSink.performer`)."""

    def __init__(self, sink: WebSocketSink, number: int) -> None:
        self.sink = sink
        self.number = number

    def send(self, frame: AvatarFrame) -> None:
        self.sink.publish_performer(self.number, encode_frame(frame))


class WebSocketSink(SinkBase):
    """Serves the viewer page and streams frames to every connected client.

    Args:
        host: address to listen on (default loopback only; see docs/viewer.md before opening it).
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`open`).
        avatar: the VRM the page loads; default vtuber's own avatar.
        serve_page: also answer HTTP GETs for the page, its modules and the avatar.
        announce: where to print the page's URL once it is served (the CLI passes stderr).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        avatar: Path | str | None = None,
        serve_page: bool = True,
        announce: TextIO | None = None,
    ) -> None:
        if not 0 <= port < 65536:
            raise ConfigError(f"viewer port {port} is out of range")
        self.host = host
        self.port = port
        self.serve_page = serve_page
        self.announce = announce
        self._avatar_arg = Path(avatar) if avatar is not None else None
        self.avatar: Path | None = None
        self.node_modules: Path | None = None
        self.policy = AccessPolicy(host, port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._clients: set[_Client] = set()
        self._latest: str | None = None
        self._active: dict[str, list[str]] = {}  # gestures / viewer events now active, by kind
        self.frames = 0
        # Further performers (--performers 2): number -> (frames published, latest tagged frame)
        self._others: dict[int, tuple[int, str]] = {}
        self.performers = 1
        self.refused = 0
        self.ignored_messages = 0

    # -- lifecycle (tracker thread)
    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def open(self) -> None:
        if self.serve_page:
            if self._avatar_arg is not None:
                if not self._avatar_arg.is_file():
                    raise ConfigError(f"avatar file not found: {self._avatar_arg}")
                self.avatar = self._avatar_arg.resolve()
            else:
                self.avatar = find_default_avatar()
            self.node_modules = find_node_modules()
        ready = threading.Event()
        error: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._thread_main, args=(ready, error), name="vtuber-websocket", daemon=True
        )
        self._thread.start()
        ready.wait(10.0)
        if error:
            self._thread.join(1.0)
            e = error[0]
            raise ConfigError(f"cannot serve the viewer on {self.host}:{self.port}: {e}") from e
        if not ready.is_set():
            raise ConfigError("the viewer server did not start within 10 s")
        if self.announce is not None:
            print(
                f"vtuber: viewer at {self.url}  (OBS: {self.url}?transparent=1)", file=self.announce
            )

    def send(self, frame: AvatarFrame) -> None:
        """Encode and publish ``frame``; returns at once (newest frame wins)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("WebSocketSink.send before open")
        for e in frame.events:
            names = self._active.setdefault(e.kind, [])
            if e.active and e.name not in names:
                names.append(e.name)
            elif not e.active and e.name in names:
                names.remove(e.name)
        self.publish(encode_frame(frame, active=self._active))

    def performer(self, number: int) -> SinkBase:
        """A sink for performer ``number``'s frames (2 with ``--performers 2``) on this stream:
        sent, tagged ``"performer": number``, only to clients that asked for every performer
        (``/ws?performers=all``, the viewer page showing both avatars); other clients see
        nothing of them. Open and close it with this sink (it is a view of it)."""
        if number < 2:
            raise ConfigError(f"performer {number}: this sink itself is performer 1")
        self.performers = max(self.performers, number)
        return _PerformerView(self, number)

    def publish_performer(self, number: int, text: str) -> None:
        """Publish performer ``number``'s encoded frame to the clients of every performer."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("WebSocketSink.publish_performer before open")
        count = self._others.get(number, (0, ""))[0] + 1
        self._others[number] = (count, tag_performer(text, number))
        if self._clients:
            try:
                loop.call_soon_threadsafe(self._wake_all)
            except RuntimeError:  # loop closed while shutting down
                pass

    def publish(self, text: str) -> None:
        """Publish an already encoded message (tests, replay of stored JSON)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("WebSocketSink.publish before open")
        self._latest = text
        self.frames += 1
        if self._clients:
            try:
                loop.call_soon_threadsafe(self._wake_all)
            except RuntimeError:  # loop closed while shutting down
                pass

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and self._thread is not None:
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
            self._thread.join(5.0)
        self._thread = None
        self._loop = None

    @property
    def client_count(self) -> int:
        return len(self._clients)

    # -- server (its own thread and loop)
    def _thread_main(self, ready: threading.Event, error: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(ready, error))
        except BaseException as e:  # noqa: BLE001 - reported to open() through `error`
            if not ready.is_set():
                error.append(e)
                ready.set()
            else:
                log.error("viewer server stopped: %s", e)
        finally:
            loop.close()

    async def _serve(self, ready: threading.Event, error: list[BaseException]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(
            self._handler,
            self.host,
            self.port,
            process_request=self._process_request,
            max_size=MAX_CLIENT_MESSAGE,
            max_queue=4,
            compression=None,
            server_header="vtuber",
            logger=logging.getLogger("vtuber.websocket.server"),
        ) as server:
            if self.port == 0:
                self.port = server.sockets[0].getsockname()[1]
            self.policy = AccessPolicy(self.host, self.port)
            ready.set()
            await self._stop.wait()
            server.close(close_connections=True)
            await server.wait_closed()

    def _wake_all(self) -> None:
        for c in self._clients:
            c.wake.set()

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        """Answer a plain HTTP request, or let a WebSocket upgrade through. A malformed request
        (odd method, duplicated Host/Origin, a path the file system rejects) gets a 4xx and at
        most one debug log line, never a 500 or a traceback."""
        if request.method != "GET":
            return self._malformed(405, f"method {request.method[:16]!r}")
        try:
            return self._answer(request)
        except MultipleValuesError as e:
            return self._malformed(400, f"duplicated {e} header")
        except (OSError, ValueError, UnicodeError) as e:  # e.g. a path segment too long
            return self._malformed(404, f"{type(e).__name__} for path {request.path[:64]!r}")

    def _malformed(self, status: int, what: str) -> Response:
        log.debug("viewer: %d for a malformed request (%s)", status, what)
        return _response(status, f"vtuber: {_REASONS[status].lower()}\n".encode(), "text/plain")

    def _answer(self, request: Request) -> Response | None:
        host = request.headers.get("Host", "")
        if not self.policy.host_allowed(host):
            self.refused += 1
            return _response(403, b"vtuber: unknown Host refused\n", "text/plain")
        path = request.path.split("?", 1)[0]
        if path == WS_PATH:
            if not self.policy.origin_allowed(request.headers.get("Origin")):
                self.refused += 1
                log.warning("refused a WebSocket from Origin %s", request.headers.get("Origin"))
                return _response(403, b"vtuber: foreign Origin refused\n", "text/plain")
            return None  # go on with the WebSocket handshake
        if not self.serve_page or self.avatar is None:
            return _response(404, b"not found\n", "text/plain")
        f = resolve_path(request.path, self.node_modules, self.avatar)
        if f is None:
            return _response(404, b"not found\n", "text/plain")
        try:
            body = f.read_bytes()
        except OSError:
            return _response(404, b"not found\n", "text/plain")
        return _response(200, body, content_type(f))

    async def _handler(self, ws: ServerConnection) -> None:
        client = _Client(ws)
        # A client of every performer (the page showing them all) gets them tagged; any other
        # gets exactly the single-performer stream.
        query = ws.request.path.partition("?")[2].split("&") if ws.request is not None else []
        every = EVERY_PERFORMER in query
        await ws.send(encode_hello(performers=self.performers) if every else encode_hello())
        self._clients.add(client)
        reader = asyncio.create_task(self._read(ws))
        seen_others: dict[int, int] = {}
        try:
            seen = -1
            while True:
                if every:
                    for number, (count, text) in list(self._others.items()):
                        if seen_others.get(number) != count:
                            seen_others[number] = count
                            await ws.send(text)
                            client.sent += 1
                if self._latest is None or self.frames == seen:
                    client.wake.clear()
                    waiter = asyncio.create_task(client.wake.wait())
                    done, _ = await asyncio.wait(
                        {waiter, reader}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if reader in done:
                        waiter.cancel()
                        break
                    continue
                if seen >= 0:
                    client.skipped += self.frames - seen - 1
                seen = self.frames
                text = self._latest
                await ws.send(tag_performer(text, 1) if every else text)
                client.sent += 1
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            reader.cancel()

    async def _read(self, ws: ServerConnection) -> None:
        """Read and drop client messages: the stream is one-way; anything a client sends
        (malformed or not) is counted and ignored. Returns when the client goes away."""
        try:
            async for _msg in ws:
                self.ignored_messages += 1
        except ConnectionClosed:
            pass


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
}


def _response(status: int, body: bytes, ctype: str) -> Response:
    reason = _REASONS.get(status, "")
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
        ]
    )
    return Response(status, reason, headers, body)
