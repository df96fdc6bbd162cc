"""Two performers in ONE viewer page (``vtuber track --performers 2 --viewer``, docs/viewer.md):
performer 2's frames go, tagged, on performer 1's stream to clients that ask for every performer
(``/ws?performers=all``, docs/websocket.md); the page shows both avatars side by side, each
following its own stream's head. A single-performer client sees nothing new. The page runs in a
real headless Chromium (tests/browser_driver.py); the frames come from the real pipeline over a
scene composed from the shared clip and a rendered head."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
from pathlib import Path

import numpy as np

from tests.browser_driver import Browser
from vtuber import quat
from vtuber.rig import PARENT, AvatarFrame, Bone
from vtuber.sinks.websocket import WebSocketSink

W, H, PANE = 640, 360, 320
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "viewer_two.png"
FPS = 25.0


def _two_ports() -> int:
    """A port p with p and p + 1 free (performer 2's own page is on the next port)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as s1, socket.socket() as s2:
            try:
                s1.bind(("127.0.0.1", port))
                s2.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


async def _messages(port: int, query: str, n: int) -> list[dict]:
    from websockets.asyncio.client import connect

    out = []
    async with connect(f"ws://127.0.0.1:{port}/ws{query}") as ws:
        for _ in range(n):
            out.append(json.loads(await asyncio.wait_for(ws.recv(), 5.0)))
    return out


def test_single_performer_clients_see_nothing_new_and_every_performer_clients_see_both():
    sink = WebSocketSink("127.0.0.1", 0, serve_page=False)
    second = sink.performer(2)
    sink.open()
    try:
        sink.send(AvatarFrame(t=0.0, index=1, bones={Bone.Head: (0.0, 0.1, 0.0, 0.995)}))
        second.send(AvatarFrame(t=0.0, index=2, bones={Bone.Head: (0.0, -0.2, 0.0, 0.98)}))
        plain = asyncio.run(_messages(sink.port, "", 2))
        every = asyncio.run(_messages(sink.port, "?performers=all", 3))
    finally:
        sink.close()
    hello, frame = plain
    assert "performers" not in hello and hello["type"] == "hello"
    assert frame["index"] == 1 and "performer" not in frame  # performer 1's, as before
    assert every[0]["performers"] == 2
    frames = {m["performer"]: m for m in every[1:]}
    assert frames[1]["index"] == 1 and frames[2]["index"] == 2
    assert frames[2]["bones"]["Head"] == [0.0, -0.2, 0.0, 0.98]


# -- the page, in a real browser, fed by the real pipeline ---------------------------------------


def world_head(frame: AvatarFrame) -> np.ndarray:
    """The head's world rotation relative to rest in three's basis (VRM 1.0 avatar): the product
    of the local rotations from the hips to the head (the default avatar's rest is the identity
    in every normalized bone), converted from Unity's basis (x, y, z, w) -> (x, -y, -z, w)."""
    pose = frame.full_pose()
    chain: list[Bone] = []
    b: Bone | None = Bone.Head
    while b is not None:
        chain.append(b)
        b = PARENT[b]
    q = np.array([0.0, 0.0, 0.0, 1.0])
    for bone in reversed(chain):
        q = quat.multiply(q, np.asarray(pose[bone]))
    return np.array([q[0], -q[1], -q[2], q[3]])


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(quat.angle_between(a, b)))


class Collect:
    def __init__(self) -> None:
        self.frames: list[AvatarFrame] = []

    def open(self) -> None:
        pass

    def send(self, frame: AvatarFrame) -> None:
        self.frames.append(frame)

    def close(self) -> None:
        pass


def test_one_page_shows_both_performers_each_following_their_own_stream(
    browser: Browser, clip_path: Path, tmp_path: Path
):
    from matplotlib.image import imread

    from vtuber.commands.common import add_sink_args, build_sinks
    from vtuber.commands.performer_args import performer_backend, performer_streams
    from vtuber.commands.smoothing_args import smoothing_config
    from vtuber.commands.track import add_track_args, make_tracker
    from vtuber.landmarks.facemesh import FaceMeshBackend
    from vtuber.pipeline import Pipeline
    from vtuber.smoothing import make_smoother
    from vtuber.sources import Frame
    from vtuber.synth.scenes import Scene, render_pane, video_pane

    frames = 40
    a = video_pane(clip_path, PANE, H, frames=frames)
    b = render_pane("grace_hopper", PANE, H, frames, distance_cm=30.0)
    scene = Scene(a, b, lambda i: 0, lambda i: 320, W, H, frames)  # A left, B right

    port = _two_ports()
    p = argparse.ArgumentParser()
    add_track_args(p)
    add_sink_args(p)
    args = p.parse_args(
        ["--performers", "2", "--no-vmc", "--viewer", "--viewer-port", str(port), "--quiet"]
    )
    sinks = build_sinks(args)
    streams = performer_streams(
        args, make_tracker, lambda: make_smoother(smoothing_config(args)), build_sinks, sinks
    )
    got = [Collect(), Collect()]
    sinks.append(got[0])  # type: ignore[arg-type]
    streams[0].sinks.append(got[1])  # type: ignore[arg-type]
    opened = sinks + streams[0].sinks
    for s in opened:
        s.open()
    try:
        browser("goto", url=f"http://127.0.0.1:{port}/")
        browser(
            "wait",
            js="const v = window.vtuberViewer; return !!(v && v.state.connection === 'connected'"
            " && v.avatars().length === 2 && v.avatars().every(a => a.loaded));",
            timeout=60000,
        )
        backend = performer_backend(args, FaceMeshBackend())
        imgs = (Frame(scene.frame(i), i / FPS, 0.0, i) for i in range(frames))
        try:
            Pipeline(imgs, backend, make_tracker(args), sinks, streams=streams).run()
        finally:
            backend.close()
        last = frames - 1
        browser(
            "wait",
            js=f"const s = window.vtuberViewer.avatars(); return s[0].lastIndex === {last} "
            f"&& s[1].lastIndex === {last};",
            timeout=20000,
        )
        browser.next_frames()  # so that vrm.update() has run after the last frames
        avatars = browser("eval", js="return window.vtuberViewer.avatars();")
        heads = [
            np.array(browser("eval", js=f"return window.vtuberViewer.headWorldDelta({k});"))
            for k in (1, 2)
        ]
        # docs/img/viewer_two.png only on request (VTUBER_UPDATE_DOCS=1): a run leaves the
        # checkout clean
        update = os.environ.get("VTUBER_UPDATE_DOCS") == "1"
        shot = DOCS_SCREENSHOT if update else tmp_path / "viewer_two.png"
        browser("screenshot", path=str(shot))
        errors = browser("drain")["errors"]  # type: ignore[index]
        # ?performers=1: performer 1 alone, on the plain stream (no tag, no second avatar)
        browser("goto", url=f"http://127.0.0.1:{port}/?performers=1")
        browser(
            "wait",
            js="const v = window.vtuberViewer; return !!(v && v.state.vrm && "
            "v.state.lastIndex >= 0);",
            timeout=60000,
        )
        alone = browser(
            "eval",
            js="const v = window.vtuberViewer; return [v.avatars().length, "
            "'performers' in v.state.hello, v.state.lastIndex, v.headWorldDelta(1)];",
        )
        errors += browser("drain")["errors"]  # type: ignore[index]
    finally:
        for s in opened:
            s.close()
    assert errors == []
    assert avatars[0]["headX"] < avatars[1]["headX"]  # type: ignore[index]  # side by side
    img = imread(shot)[..., :3]
    skin = (img[..., 0] > 0.9) & (img[..., 1] > 0.75) & (img[..., 2] > 0.6) & (img[..., 2] < 0.95)
    half = img.shape[1] // 2
    print(f"skin-coloured pixels: left half {skin[:, :half].mean():.3f}, right "
          f"{skin[:, half:].mean():.3f}")  # fmt: skip
    assert skin[:, :half].mean() > 0.01 and skin[:, half:].mean() > 0.01  # both drawn
    sent = [world_head(g.frames[-1]) for g in got]
    assert all(g.frames[-1].tracking.face for g in got)
    between = _angle(sent[0], sent[1])
    print(f"one page, two avatars: the two sent heads {between:.1f} deg apart; page vs sent: "
          f"{_angle(heads[0], sent[0]):.3f}, {_angle(heads[1], sent[1]):.3f} deg")  # fmt: skip
    assert between > 3.0  # the two people's heads differ: the check below can tell them apart
    for k in (0, 1):
        assert _angle(heads[k], sent[k]) < 0.1, k  # each avatar follows its own stream
        assert _angle(heads[k], sent[1 - k]) > 2.0, k
    assert isinstance(alone, list)
    assert alone[:3] == [1, False, frames - 1]
    assert _angle(np.array(alone[3]), sent[0]) < 0.1
