"""Replay: track -> record -> replay over real UDP gives the live bytes; timing; loops keep
/VMC/Ext/T monotonic; --start/--end; damaged files replay their valid part."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from vtuber.recording import RecordingWriter, read_recording
from vtuber.replay import ReplayOptions, replay
from vtuber.rig import AvatarFrame, Bone, Tracking
from vtuber.sinks.vmc import VMCSink
from vtuber.vmc import encode_frame, shift_vmc_time

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
T_MSG = b"/VMC/Ext/T\x00\x00,f\x00\x00"


class Receiver:
    """A UDP socket on loopback collecting (arrival perf_counter, bytes) in a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.got: list[tuple[float, bytes]] = []
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run, daemon=True)
        self._th.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                d = self.sock.recv(65535)
            except TimeoutError:
                continue
            self.got.append((time.perf_counter(), d))

    def stop(self, settle: float = 0.3) -> list[bytes]:
        time.sleep(settle)
        self._stop.set()
        self._th.join()
        self.sock.close()
        return [d for _, d in self.got]


def vmc_times(datagrams: list[bytes]) -> list[float]:
    out = []
    for d in datagrams:
        at = d.find(T_MSG)
        if at >= 0:
            out.append(struct.unpack_from(">f", d, at + len(T_MSG))[0])
    return out


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtuber", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture()
def short_video(tmp_path: Path, grace_bgr: np.ndarray) -> Path:
    """1 s of the shared clip at 320x180 (ffmpeg), else a still photo video when it is absent."""
    clip = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"
    out = tmp_path / "short.mp4"
    if clip.is_file():
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(clip), "-t", "1.0",
             "-vf", "scale=320:180", "-an", str(out)],
            check=True,
        )  # fmt: skip
        return out
    out = tmp_path / "short.avi"
    img = cv2.resize(grace_bgr, (240, 280))
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (240, 280))
    for i in range(20):
        vw.write(np.roll(img, i, axis=1))
    vw.release()
    return out


def test_track_record_replay_round_trip_is_byte_identical(tmp_path: Path, short_video: Path):
    rec_path = tmp_path / "live.vtrec"
    live = Receiver()
    r = run_cli("track", "--source", str(short_video), "--fast", "--quiet",
                "--vmc", f"127.0.0.1:{live.port}", "--record", str(rec_path))  # fmt: skip
    assert r.returncode == 0, r.stderr
    live_dgs = live.stop()
    rec = read_recording(rec_path)
    assert rec.error is None and rec.end is not None
    assert len(rec.frames) >= 20
    assert any(f.tracking.face for f in rec.frames)

    again = Receiver()
    r = run_cli("replay", str(rec_path), "--speed", "8", "--quiet",
                "--vmc", f"127.0.0.1:{again.port}")  # fmt: skip
    assert r.returncode == 0, r.stderr
    replay_dgs = again.stop()
    assert len(live_dgs) >= 2 * len(rec.frames)
    assert replay_dgs == live_dgs  # every datagram, byte for byte, in order


def _frames(n: int, fps: float = 30.0, jitter: float = 0.0, seed: int = 1) -> list[AvatarFrame]:
    rng = np.random.default_rng(seed)
    t = 5.0
    out = []
    for i in range(n):
        a = 0.3 * np.sin(i / 10)
        out.append(
            AvatarFrame(
                t=t,
                index=i,
                tracking=Tracking(face=True),
                bones={Bone.Head: (0.0, float(np.sin(a / 2)), 0.0, float(np.cos(a / 2)))},
                blendshapes={"aa": float(rng.random())},
            )
        )
        t += 1 / fps + (rng.uniform(-jitter, jitter) if jitter else 0.0)
    return out


def _write(path: Path, frames: list[AvatarFrame]) -> None:
    with RecordingWriter(path) as w:
        for f in frames:
            w.write_frame(f)


def test_replay_timing_follows_the_recording(tmp_path: Path) -> None:
    frames = _frames(90, jitter=0.008)
    path = tmp_path / "t.vtrec"
    _write(path, frames)
    rec = read_recording(path)
    rx = Receiver()
    with VMCSink([("127.0.0.1", rx.port)]) as sink:
        replay(rec, [sink])
    rx.stop(0.1)
    # One frame = several datagrams; the one carrying /VMC/Ext/T ends each frame.
    arrivals = [t for t, d in rx.got if T_MSG in d]
    assert len(arrivals) == 90
    got = np.diff(arrivals)
    want = np.diff([f.t for f in frames])
    err_ms = 1000 * np.abs(got - want)
    # Loose bound for a shared 2-core test machine; benchmarks/bench_replay.py measures p99.
    assert np.percentile(err_ms, 90) < 5.0, err_ms
    total = arrivals[-1] - arrivals[0]
    assert abs(total - (frames[-1].t - frames[0].t)) < 0.02


def test_loop_keeps_vmc_time_monotonic_and_first_pass_identical(tmp_path: Path) -> None:
    frames = _frames(12)
    path = tmp_path / "l.vtrec"
    _write(path, frames)
    rec = read_recording(path)
    rx = Receiver()
    with VMCSink([("127.0.0.1", rx.port)]) as sink:
        n = replay(rec, [sink], ReplayOptions(speed=10.0, loop=True, loops=3))
    dgs = rx.stop(0.1)
    assert n == 36
    ts = vmc_times(dgs)
    assert len(ts) == 36 and all(b > a for a, b in zip(ts, ts[1:], strict=False))
    first_pass = [d for f in frames for d in encode_frame(f)]
    assert dgs[: len(first_pass)] == first_pass
    # Second pass starts one frame interval after the first pass ends.
    assert ts[12] - ts[11] == pytest.approx(1 / 30, abs=1e-4)


def test_start_end_and_speed(tmp_path: Path) -> None:
    frames = _frames(60)  # 2 s
    path = tmp_path / "s.vtrec"
    _write(path, frames)
    rec = read_recording(path)
    rx = Receiver()
    t0 = time.perf_counter()
    with VMCSink([("127.0.0.1", rx.port)]) as sink:
        n = replay(rec, [sink], ReplayOptions(speed=2.0, start=0.5, end=1.5))
    took = time.perf_counter() - t0
    dgs = rx.stop(0.1)
    ts = vmc_times(dgs)
    # frames whose time from the first is in [0.5, 1.5]: 15..45
    assert (
        n == 31 and ts[0] == pytest.approx(frames[15].t) and ts[-1] == pytest.approx(frames[45].t)
    )
    assert 0.45 < took < 0.8  # 1 s of motion at 2x


def test_shift_vmc_time_changes_only_the_time_value() -> None:
    f = _frames(1)[0]
    dgs = encode_frame(f)
    shifted = [shift_vmc_time(d, 10.0) for d in dgs]
    assert vmc_times(shifted) == [pytest.approx(f.t + 10.0)]
    changed = [i for i, (a, b) in enumerate(zip(dgs, shifted, strict=True)) if a != b]
    assert len(changed) == 1
    a, b = dgs[changed[0]], shifted[changed[0]]
    assert len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 4


def test_truncated_file_replays_its_valid_part_with_one_error_line() -> None:
    rx = Receiver()
    r = run_cli("replay", str(FIX / "golden_v1_truncated.vtrec"), "--speed", "10",
                "--vmc", f"127.0.0.1:{rx.port}")  # fmt: skip
    dgs = rx.stop(0.1)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "truncated" in ln]
    assert len(lines) == 1 and "byte 10532" in lines[0] and "after frame 7" in lines[0]
    assert len(vmc_times(dgs)) == 7


def test_corrupt_file_replays_its_valid_part_and_fails(tmp_path: Path) -> None:
    data = bytearray((FIX / "golden_v1.vtrec").read_bytes())
    at = [i for i in range(len(data)) if data[i : i + 4] == b"FRAM"][2]
    data[at + 40] ^= 0x55
    bad = tmp_path / "bad.vtrec"
    bad.write_bytes(bytes(data))
    rx = Receiver()
    r = run_cli("replay", str(bad), "--speed", "10", "--vmc", f"127.0.0.1:{rx.port}")
    dgs = rx.stop(0.1)
    assert r.returncode == 1
    assert f"vtuber: error: {bad}: CRC mismatch in FRAM chunk at byte {at}" in r.stderr
    assert len(vmc_times(dgs)) == 7  # every intact frame: the reader resynchronises past it


def test_not_a_recording_is_one_error_line(tmp_path: Path) -> None:
    p = tmp_path / "x.vtrec"
    p.write_bytes(b"nope")
    r = run_cli("replay", str(p), "--no-vmc")
    assert r.returncode == 2 and "not a vtuber recording" in r.stderr
    assert "Traceback" not in r.stderr


def test_fast_conversion_shows_progress_and_records_landmarks(tmp_path: Path, short_video: Path):
    rec_path = tmp_path / "lm.vtrec"
    r = run_cli("track", "--source", str(short_video), "--fast", "--no-vmc",
                "--record", str(rec_path), "--record-landmarks")  # fmt: skip
    assert r.returncode == 0, r.stderr
    bars = [ln for ln in r.stderr.splitlines() if "ETA" in ln]
    assert bars and "100%" in bars[-1] and "fps" in bars[-1]
    rec = read_recording(rec_path)
    assert rec.header["landmarks"] is True and len(rec.frames) >= 20
    found = [f for f in rec.frames if f.landmarks is not None and f.landmarks.face.found]
    assert len(found) >= len(rec.frames) // 2
    pts = found[0].landmarks.face.points
    assert pts.shape == (478, 3) and 0.0 < float(pts[:, 0].mean()) < 1.0


def test_progress_text() -> None:
    from vtuber.progress import progress_text

    s = progress_text(50, 200, 2.0, width=10)
    assert s.startswith("[##--------]  25% 50/200 frames") and "25.0 fps" in s
    assert s.endswith("ETA 0:06")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def test_record_vmc_then_replay_into_the_viewer_sends_decoded_frames(tmp_path: Path) -> None:
    """record-vmc of a real UDP stream, then `replay --viewer --loop`: a WebSocket client gets
    the decoded frames (head yaw and mouth as sent), with times increasing across loops."""
    import asyncio
    import json

    from websockets.asyncio.client import connect

    sent = _frames(15)  # 0.5 s: head yaw 0..0.42 rad, random "aa"
    port = _free_port()
    out = tmp_path / "perf.vtrec"
    rec_proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "record-vmc", "--listen", f"127.0.0.1:{port}",
         "--out", str(out), "--duration", "2.5"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert rec_proc.stderr is not None
    assert "recording VMC" in rec_proc.stderr.readline()
    with VMCSink([("127.0.0.1", port)]) as sink:
        for f in sent:
            sink.send(f)
            time.sleep(1 / 30)
    assert rec_proc.wait(timeout=20) == 0
    rec = read_recording(out)
    assert rec.kind == "vmc" and len(rec.datagrams) >= 2 * len(sent)

    vport = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "replay", str(out), "--viewer", "--viewer-port",
         str(vport), "--no-vmc", "--loop", "--quiet"],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    got: list[dict] = []

    async def client() -> None:
        for _ in range(100):  # the server starts with the process
            try:
                async with connect(f"ws://127.0.0.1:{vport}/ws") as ws:
                    assert json.loads(await ws.recv())["type"] == "hello"
                    while len(got) < 40:
                        m = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        if m["type"] == "frame":
                            got.append(m)
                    return
            except ConnectionRefusedError:
                await asyncio.sleep(0.1)
        raise AssertionError("the viewer never accepted a connection")

    try:
        asyncio.run(client())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # 40 frames of a 15-frame recording: at least two loop passes, times still increasing.
    ts = [m["t"] for m in got]
    assert all(b > a for a, b in zip(ts, ts[1:], strict=False)), ts
    assert ts[-1] - ts[0] > 0.6
    want = {round(f.blendshapes["aa"], 4): f.bone(Bone.Head) for f in sent}
    for m in got:
        aa = round(m["expressions"]["aa"], 4)
        assert aa in want  # a sent frame, decoded whole (VRM 0.x "A" -> "aa")
        assert m["bones"]["Head"] == pytest.approx(list(want[aa]), abs=1e-5)
    assert len({round(m["expressions"]["aa"], 4) for m in got}) >= 10


def test_replay_of_a_vmc_recording_without_frames_into_the_viewer_is_one_error(
    tmp_path: Path,
) -> None:
    from vtuber.recording import RecordingWriter as W
    from vtuber.vmc import osc_string

    path = tmp_path / "noframes.vtrec"
    with W(path, kind="vmc") as w:
        w.write_datagram(osc_string("/Vendor/Thing") + osc_string(","), 1.0)
    r = run_cli("replay", str(path), "--viewer", "--viewer-port", str(_free_port()), "--no-vmc")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("vtuber: error: this VMC recording")
