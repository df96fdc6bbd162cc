"""The recording format (docs/recording.md): golden files, round trips, torn tails, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from vtuber.errors import FormatError
from vtuber.recording import (
    MAGIC,
    RecordingWriter,
    chunk,
    parse_recording,
    read_recording,
)
from vtuber.rig import BLENDSHAPE_KEYS, AvatarFrame, Bone, Tracking
from vtuber.vmc import encode_frame

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"


def _frame_json(f: AvatarFrame) -> dict[str, object]:
    sys.path.insert(0, str(FIX))
    from make_fixtures import frame_json

    return frame_json(f)


def test_golden_file_reads_back_its_expected_content() -> None:
    expected = json.loads((FIX / "golden_v1.json").read_text())
    rec = read_recording(FIX / "golden_v1.vtrec")
    assert rec.error is None and rec.version == (1, 0)
    assert rec.header == expected["header"]
    assert rec.end == expected["end"]
    got = [_frame_json(f) for f in rec.frames]
    assert got == expected["frames"]  # exact float32 values, key order included
    assert list(rec.frames[7].blendshapes) == ["aa", "customTongue"]
    lm = rec.frames[3].landmarks
    assert lm is not None and lm.face.found and lm.face.points.shape == (478, 3)


def test_generator_is_deterministic_and_matches_the_committed_golden(tmp_path: Path) -> None:
    env = dict(os.environ)
    script = FIX / "make_fixtures.py"
    before = {p.name: p.read_bytes() for p in FIX.glob("golden*")}
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True, env=env)
    after = {p.name: p.read_bytes() for p in FIX.glob("golden*")}
    assert before == after


def test_truncated_golden_keeps_frames_before_the_break() -> None:
    rec = read_recording(FIX / "golden_v1_truncated.vtrec")
    full = read_recording(FIX / "golden_v1.vtrec")
    assert len(rec.frames) == 7 and rec.truncated and rec.end is None
    assert [_frame_json(f) for f in rec.frames] == [_frame_json(f) for f in full.frames[:7]]
    msg = str(rec.error)
    assert "truncated FRAM chunk at byte" in msg and "after frame 7" in msg
    offset = int(msg.split("at byte ")[1].split()[0])
    assert (FIX / "golden_v1.vtrec").read_bytes()[offset : offset + 4] == b"FRAM"


def test_every_cut_point_opens_with_a_prefix_of_the_frames() -> None:
    data = (FIX / "golden_v1.vtrec").read_bytes()
    full = read_recording(FIX / "golden_v1.vtrec")
    want = [_frame_json(f) for f in full.frames]
    hdr_end = data.find(b"LAYT")  # before the first LAYT the header is torn -> nothing usable
    for cut in range(hdr_end, len(data), 7):
        want = [_frame_json(f) for f in full.frames]
        rec = parse_recording(data[:cut])
        got = [_frame_json(f) for f in rec.frames]
        for g, w in zip(got, want, strict=False):  # a cut may drop the last frame's landmarks
            g.pop("landmarks"), w.pop("landmarks")
        assert got == want[: len(got)]
        assert rec.error is not None or rec.valid_bytes == cut  # else a clean chunk boundary


def test_corrupt_byte_is_reported_with_its_chunk_offset() -> None:
    data = bytearray((FIX / "golden_v1.vtrec").read_bytes())
    fram4 = [i for i in range(len(data)) if data[i : i + 4] == b"FRAM"][4]
    data[fram4 + 30] ^= 0xFF
    rec = parse_recording(bytes(data), "x.vtrec")
    full = read_recording(FIX / "golden_v1.vtrec")
    # The reader resynchronises on the next chunk: only the damaged frame is lost.
    assert not rec.truncated
    want = [_frame_json(f) for i, f in enumerate(full.frames) if i != 4]
    assert [_frame_json(f) for f in rec.frames] == want
    end = fram4 + 12 + int.from_bytes(data[fram4 + 4 : fram4 + 8], "little")  # the chunk's end
    msg = str(rec.error)
    assert f"CRC mismatch in FRAM chunk at byte {fram4} (after frame 4)" in msg
    assert f"damaged bytes {fram4}-{end - 1}, 1 frame skipped" in msg
    assert "7 frames are usable" in msg


def test_not_a_recording_and_newer_major_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not a vtuber recording"):
        parse_recording(b"hello world, not a file")
    data = bytearray((FIX / "golden_v1.vtrec").read_bytes())
    data[8] = 2
    with pytest.raises(FormatError, match="version 2.0 is newer"):
        parse_recording(bytes(data))


def test_unknown_chunks_are_skipped() -> None:
    data = (FIX / "golden_v1.vtrec").read_bytes()
    at = data.find(b"FRAM")
    patched = data[:at] + chunk(b"ZZZZ", b"future stuff") + data[at:]
    rec = parse_recording(patched)
    assert rec.error is None and len(rec.frames) == 8


def _random_frame(rng: np.random.Generator, i: int, full: bool) -> AvatarFrame:
    bones = list(Bone) if full else [Bone.Neck, Bone.Head, Bone.LeftEye, Bone.RightEye]
    q = rng.normal(size=(len(bones), 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    keys = BLENDSHAPE_KEYS  # 18 VRM presets + 52 ARKit
    return AvatarFrame(
        t=i / 30.0,
        index=i,
        tracking=Tracking(face=True, body=full),
        bones={b: tuple(float(v) for v in qq) for b, qq in zip(bones, q, strict=True)},  # type: ignore[misc]
        blendshapes={k: float(v) for k, v in zip(keys, rng.random(len(keys)), strict=True)},
    )


@pytest.mark.parametrize("full,limit_mb", [(False, 1.0), (True, 5.0)])
def test_size_per_minute_at_30fps(tmp_path: Path, full: bool, limit_mb: float) -> None:
    rng = np.random.default_rng(7)
    path = tmp_path / "m.vtrec"
    with RecordingWriter(path) as w:
        for i in range(1800):
            w.write_frame(_random_frame(rng, i, full))
    mb = path.stat().st_size / 1e6
    assert mb <= limit_mb, f"{mb:.2f} MB per minute"


def test_round_trip_gives_identical_vmc_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frames = [_random_frame(rng, i, full=i % 3 == 0) for i in range(30)]
    path = tmp_path / "r.vtrec"
    with RecordingWriter(path) as w:
        for f in frames:
            w.write_frame(f)
    rec = read_recording(path)
    assert rec.error is None and len(rec.frames) == 30
    for a, b in zip(frames, rec.frames, strict=True):
        assert encode_frame(a) == encode_frame(b)


_KILL_SCRIPT = r"""
import sys, time
from vtuber.recording import RecordingWriter
from vtuber.rig import AvatarFrame, Bone
w = RecordingWriter(sys.argv[1], fsync_interval=0.5)
w.open()
i = 0
t0 = time.perf_counter()
while True:
    w.write_frame(AvatarFrame(t=time.perf_counter() - t0, index=i,
                              bones={Bone.Head: (0.0, 0.0, 0.0, 1.0)}, blendshapes={"aa": 0.5}))
    print(i, flush=True)
    i += 1
    time.sleep(1 / 30)
"""


def test_sigkill_mid_recording_keeps_frames_up_to_the_kill(tmp_path: Path) -> None:
    path = tmp_path / "killed.vtrec"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    last = -1
    t_start = time.monotonic()
    while time.monotonic() - t_start < 30:
        line = proc.stdout.readline()
        if not line:
            break
        last = int(line)
        if last >= 60:  # ~2 s of frames
            break
    t_kill_seen = last
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert t_kill_seen >= 60, "recording process did not run"
    rec = read_recording(path)
    assert rec.end is None  # not closed cleanly
    # Every frame reported written before the kill is in the file (well within 1 s = 30 frames).
    assert len(rec.frames) >= t_kill_seen + 1
    assert [f.index for f in rec.frames] == list(range(len(rec.frames)))
    assert rec.frames[-1].t - rec.frames[t_kill_seen].t < 1.0


def test_file_starts_with_magic(tmp_path: Path) -> None:
    path = tmp_path / "e.vtrec"
    with RecordingWriter(path):
        pass
    data = path.read_bytes()
    assert data[:8] == MAGIC and data[8:12] == b"\x01\x00\x00\x00"
    rec = read_recording(path)
    assert rec.frames == [] and rec.end == {"frames": 0, "datagrams": 0, "duration": 0.0}
