"""WebSocket sink: message encoding, access policy, and a real server on loopback (real clients from
the ``websockets`` package and raw sockets)."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import threading
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from vtuber.rig import BLENDSHAPE_KEYS, REST_POSE, AvatarFrame, Bone, Tracking
from vtuber.sinks.websocket import FORMAT_VERSION, WebSocketSink, encode_frame, encode_hello
from vtuber.web import AccessPolicy, resolve_path

ROOT = Path(__file__).resolve().parents[1]
AVATAR = ROOT / "avatars" / "default.vrm"


def _yaw(deg: float) -> tuple[float, float, float, float]:
    h = math.radians(deg) / 2
    return (0.0, math.sin(h), 0.0, math.cos(h))


# ------------------------------------------------------------------------------ encoding
def test_hello_names_version_bones_and_expressions() -> None:
    h = json.loads(encode_hello())
    assert h["type"] == "hello" and h["format"] == "vtuber-avatar"
    assert h["version"] == FORMAT_VERSION and FORMAT_VERSION.startswith("1.")
    assert sorted(h["bones"]) == sorted(b.name for b in Bone)
    assert h["bones"].index("Hips") < h["bones"].index("Head")  # parents first
    assert h["expressions"] == list(BLENDSHAPE_KEYS)
    assert h["basis"] == "unity"


def test_frame_message_carries_bones_rest_pose_and_expressions() -> None:
    f = AvatarFrame(
        t=1.25,
        index=7,
        tracking=Tracking(face=True),
        bones={Bone.Head: _yaw(-20.0)},
        blendshapes={"blinkLeft": 0.75, "jawOpen": 0.125},
        root_position=(0.1, 0.0, 0.0),
    )
    m = json.loads(encode_frame(f, wall_capture=1000.5))
    assert m["type"] == "frame" and m["index"] == 7 and m["t"] == 1.25
    assert m["captured"] == 1000.5
    assert m["tracking"] == {"face": True, "body": False, "leftHand": False, "rightHand": False}
    assert len(m["bones"]) == len(Bone)
    assert m["bones"]["Head"] == pytest.approx(list(_yaw(-20.0)), abs=1e-5)
    # bones the frame does not carry are sent at their rest pose (arms down), not as T-pose
    assert m["bones"]["LeftUpperArm"] == pytest.approx(list(REST_POSE[Bone.LeftUpperArm]), abs=1e-5)
    assert m["bones"]["Neck"] == [0.0, 0.0, 0.0, 1.0]
    assert m["expressions"] == {"blinkLeft": 0.75, "jawOpen": 0.125}
    assert m["root"]["p"] == [0.1, 0.0, 0.0]


def test_frame_capture_time_is_wall_clock_of_the_capture() -> None:
    f = AvatarFrame(t=0.0, t_capture=time.perf_counter() - 0.040)
    m = json.loads(encode_frame(f))
    assert time.time() - m["captured"] == pytest.approx(0.040, abs=0.015)


# ------------------------------------------------------------------------------ access policy
def test_origin_policy_loopback() -> None:
    pol = AccessPolicy("127.0.0.1", 8765)
    assert pol.origin_allowed(None)  # non-browser clients send no Origin
    assert pol.origin_allowed("http://127.0.0.1:8765")
    assert pol.origin_allowed("http://localhost:8765")
    assert not pol.origin_allowed("http://localhost:9999")  # another local page
    assert not pol.origin_allowed("https://evil.example")
    assert not pol.origin_allowed("http://evil.example:8765")  # DNS rebinding
    assert not pol.origin_allowed("null")
    assert not pol.origin_allowed("http://192.168.1.20:8765")  # not reachable when loopback-bound
    assert pol.host_allowed("127.0.0.1:8765") and pol.host_allowed("localhost:8765")
    assert not pol.host_allowed("evil.example:8765")


def test_origin_policy_opened_up() -> None:
    pol = AccessPolicy("0.0.0.0", 8765)
    assert pol.open_to_network
    assert pol.origin_allowed("http://192.168.1.20:8765")  # the page opened from the LAN
    assert not pol.origin_allowed("http://evil.example:8765")
    named = AccessPolicy("studio-pc.local", 8765)
    assert named.origin_allowed("http://studio-pc.local:8765")


def test_paths_never_leave_the_served_folders(tmp_path: Path) -> None:
    nm = tmp_path / "node_modules"
    (nm / "three").mkdir(parents=True)
    (nm / "three" / "x.js").write_text("ok")
    (nm / "secret").mkdir()
    (nm / "secret" / "s.js").write_text("no")
    av = tmp_path / "a.vrm"
    av.write_bytes(b"glTF")
    assert resolve_path("/node_modules/three/x.js", nm, av) == (nm / "three" / "x.js").resolve()
    assert resolve_path("/avatar.vrm", nm, av) == av
    assert resolve_path("/node_modules/secret/s.js", nm, av) is None
    assert resolve_path("/node_modules/three/../secret/s.js", nm, av) is None
    assert resolve_path("/node_modules/three/%2e%2e/secret/s.js", nm, av) is None
    assert resolve_path("/../../etc/passwd", nm, av) is None
    assert resolve_path("/index.html", nm, av) is not None


# ------------------------------------------------------------------------------ real server
@pytest.fixture
def sink():
    if not AVATAR.is_file():
        pytest.skip("avatars/default.vrm missing (run avatars/make_default_avatar.py)")
    s = WebSocketSink("127.0.0.1", 0, avatar=AVATAR, serve_page=False)
    s.open()
    yield s
    s.close()


class Publisher:
    """Publishes frames from a thread at ``hz``, like the tracker does; records send() times."""

    def __init__(self, sink: WebSocketSink, hz: float = 100.0) -> None:
        self.sink, self.period = sink, 1.0 / hz
        self.count = 0
        self.send_times: list[float] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            f = AvatarFrame(t=self.count * self.period, index=self.count, blendshapes={"aa": 0.5})
            t0 = time.perf_counter()
            self.sink.send(f)
            self.send_times.append(time.perf_counter() - t0)
            self.count += 1
            time.sleep(self.period)

    def __enter__(self) -> Publisher:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join(2)


def _raw_request(port: int, lines: list[str], rcvbuf: int | None = None) -> socket.socket:
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return s


def _read_status(s: socket.socket) -> str:
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test_foreign_origin_refused_own_origin_and_no_origin_accepted(sink: WebSocketSink) -> None:
    url = f"ws://127.0.0.1:{sink.port}/ws"

    async def main() -> None:
        with pytest.raises(InvalidStatus) as e:
            async with connect(url, origin="http://evil.example"):
                pass
        assert e.value.response.status_code == 403
        with pytest.raises(InvalidStatus):
            async with connect(url, origin=f"http://localhost:{sink.port + 1}"):
                pass
        for origin in (f"http://127.0.0.1:{sink.port}", f"http://localhost:{sink.port}", None):
            async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
                hello = json.loads(await ws.recv())
                assert hello["type"] == "hello"

    asyncio.run(main())
    assert sink.refused == 2


def test_dns_rebinding_host_refused(sink: WebSocketSink) -> None:
    s = _raw_request(sink.port, ["GET /ws HTTP/1.1", f"Host: evil.example:{sink.port}"])
    assert " 403 " in _read_status(s)
    s.close()


def test_http_serves_page_modules_and_avatar(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    try:
        s = WebSocketSink("127.0.0.1", 0, avatar=AVATAR)
        s.open()
    except Exception as e:  # node_modules absent on this machine
        pytest.skip(f"viewer files not available: {e}")
    try:
        page = urllib.request.urlopen(s.url, timeout=5)
        assert page.headers["Content-Type"].startswith("text/html")
        assert b"importmap" in page.read()
        js = urllib.request.urlopen(s.url + "node_modules/@pixiv/three-vrm/package.json", timeout=5)
        assert json.loads(js.read())["name"] == "@pixiv/three-vrm"
        assert urllib.request.urlopen(s.url + "avatar.vrm", timeout=5).read() == AVATAR.read_bytes()
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(s.url + "node_modules/.package-lock.json", timeout=5)
        assert e.value.code == 404
        raw = _raw_request(s.port, ["GET /node_modules/three/../../package.json HTTP/1.1",
                                    f"Host: 127.0.0.1:{s.port}"])  # fmt: skip
        assert " 404 " in _read_status(raw)
        raw.close()
    finally:
        s.close()


def test_malformed_input_is_ignored_and_others_keep_receiving(sink: WebSocketSink) -> None:
    url = f"ws://127.0.0.1:{sink.port}/ws"

    async def main() -> None:
        async with connect(url) as bad, connect(url) as good:
            await bad.recv()
            await good.recv()
            for junk in ("{not json", '{"type": "frame", "bones": 5}', "", b"\x00\xff" * 100):
                await bad.send(junk)
            await asyncio.sleep(0.1)
            sink.send(AvatarFrame(t=1.0, index=42))
            for ws in (bad, good):  # both still connected and served
                m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert m["index"] == 42
            # An oversized message closes only the sender's connection.
            await bad.send("x" * 100_000)
            await asyncio.sleep(0.2)
            sink.send(AvatarFrame(t=2.0, index=43))
            m = json.loads(await asyncio.wait_for(good.recv(), 5))
            assert m["index"] == 43

    asyncio.run(main())
    assert sink.ignored_messages >= 4


def test_fifty_clients_churn_while_frames_flow(sink: WebSocketSink) -> None:
    url = f"ws://127.0.0.1:{sink.port}/ws"
    cycles = 3
    ok = 0

    async def client(k: int) -> None:
        nonlocal ok
        for _ in range(cycles):
            async with connect(url) as ws:
                assert json.loads(await ws.recv())["type"] == "hello"
                last = -1
                for _ in range(2):
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    assert m["type"] == "frame" and m["index"] > last
                    last = m["index"]
            ok += 1

    async def main() -> None:
        await asyncio.gather(*(client(k) for k in range(50)))

    with Publisher(sink, hz=60) as pub:
        asyncio.run(main())
    assert ok == 50 * cycles
    assert pub.count > 0
    deadline = time.time() + 5
    while sink.client_count and time.time() < deadline:
        time.sleep(0.05)
    assert sink.client_count == 0


def _steady_reader_share(sink: WebSocketSink, seconds: float) -> tuple[float, int]:
    """Run a reading client for ``seconds`` while frames flow; (share of frames it got, lag)."""
    url = f"ws://127.0.0.1:{sink.port}/ws"
    got = 0
    last = -1

    async def main() -> None:
        nonlocal got, last
        async with connect(url) as ws:
            await ws.recv()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                try:
                    m = json.loads(await asyncio.wait_for(ws.recv(), 1))
                except TimeoutError:
                    continue
                got += 1
                last = m["index"]

    with Publisher(sink, hz=100) as pub:
        start = pub.count
        asyncio.run(main())
        published = pub.count - start
        lag = pub.count - 1 - last
    return got / max(published, 1), lag


def test_a_client_that_never_reads_does_not_slow_the_others(sink: WebSocketSink) -> None:
    base_share, _ = _steady_reader_share(sink, 1.5)
    # A client that completes the handshake and then never reads, with a tiny receive buffer.
    stalled = _raw_request(
        sink.port,
        ["GET /ws HTTP/1.1", f"Host: 127.0.0.1:{sink.port}", "Upgrade: websocket",
         "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
         "Sec-WebSocket-Version: 13"],
        rcvbuf=4096,
    )  # fmt: skip
    try:
        assert " 101 " in _read_status(stalled)
        with Publisher(sink, hz=200) as pub:  # fill its buffers: ~0.5 MB/s of frames
            time.sleep(1.0)
        stalled_share, lag = _steady_reader_share(sink, 1.5)
        assert sink.client_count == 1  # the stalled client is still connected ...
        (stuck,) = list(sink._clients)
        behind = sink.frames - stuck.sent
        assert behind > pub.count // 2  # ... and skips frames instead of queueing them
        buffered = stuck.ws.transport.get_write_buffer_size()
        print(
            f"\nsteady reader got {base_share:.0%} of frames alone, {stalled_share:.0%} next to a "
            f"stalled client (lag {lag} frames); stalled client is {behind} frames behind, "
            f"{buffered} bytes buffered for it; send() max {1e3 * max(pub.send_times):.2f} ms"
        )
        assert stalled_share >= 0.8 * base_share
        assert lag <= 5
        assert buffered < 256 * 1024  # bounded: no growing queue
        assert max(pub.send_times) < 0.05  # send() hands over; it never waits for a client
    finally:
        stalled.close()
