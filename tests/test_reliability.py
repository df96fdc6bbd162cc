"""Nothing lost, nothing frozen (docs/reliability.md): every guarantee, tried as a careless user
and a hostile tester would. Marked ``reliability`` (``pytest -m reliability``); runs in CI.

Real parts only: real files and a real tmpfs for the full disk (skipped, with the reason, when
not root), real UDP sockets on 127.0.0.1 and ::1, the real viewer server, real signals to real
``vtuber`` processes, the shared clip when present.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from vtuber.errors import ConfigError, FormatError
from vtuber.landmarks import Landmarks
from vtuber.outfile import atomic_output, check_output
from vtuber.recording import (
    MAGIC,
    TAG_FRAM,
    TAG_LAYT,
    TAG_NAME,
    RecordingWriter,
    parse_recording,
    read_recording,
)
from vtuber.rig import AvatarFrame, Bone, Tracking
from vtuber.vmc import encode_frame

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"


def run_cli(*args: str, timeout: float = 120, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtuber", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,  # type: ignore[call-overload]
    )


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def one_line_error(r: subprocess.CompletedProcess[str], what: str) -> None:
    """Exit 2 with exactly one ``vtuber: error:`` line containing ``what``, no traceback."""
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("vtuber: error:")]
    assert len(errors) == 1 and what in errors[0], r.stderr


# ------------------------------------------------------------------------ synthetic recordings
def synthetic_frames(n: int, seed: int = 7) -> list[AvatarFrame]:
    """Frames exercising every chunk type: three layouts, custom keys (NAME chunks) first used
    at frames 15 and 39, full-body frames with positions, landmarks on every 10th frame."""
    rng = np.random.default_rng(seed)

    def q() -> tuple[float, float, float, float]:
        v = rng.normal(size=4)
        v /= np.linalg.norm(v)
        return tuple(float(np.float32(x)) for x in v)  # type: ignore[return-value]

    frames = []
    for i in range(n):
        f = AvatarFrame(t=3.0 + i / 30.0, index=i, tracking=Tracking(face=True))
        k = i % 4
        if k in (0, 1):
            f.bones = {Bone.Neck: q(), Bone.Head: q()}
            f.blendshapes = {"blinkLeft": float(np.float32(rng.random())), "aa": 0.5}
        elif k == 2:
            f.bones = {b: q() for b in Bone}
            f.positions = {Bone.Hips: (0.0, float(np.float32(rng.random())), 0.0)}
            f.blendshapes = {"happy": 0.25}
        else:
            f.bones = {Bone.Head: q()}
            f.blendshapes = {"aa": 0.25}
            if i >= 15:
                f.blendshapes["customTongue"] = 0.75
            if i >= 39:
                f.blendshapes["customCheek"] = 0.5
        if i % 10 == 0:
            lm = Landmarks(t=f.t, width=640, height=480)
            lm.face.found = True
            lm.face.points = rng.random((478, 3)).astype(np.float32)
            f.landmarks = lm
        frames.append(f)
    return frames


def frame_key(f: AvatarFrame) -> tuple[object, ...]:
    return (
        f.index,
        f.t,
        tuple((b, tuple(v)) for b, v in f.bones.items()),
        tuple((b, tuple(v)) for b, v in f.positions.items()),
        tuple(f.blendshapes.items()),
        tuple(f.root_position),
        tuple(f.root_rotation),
    )


def chunk_map(data: bytes) -> list[tuple[bytes, int, int]]:
    """(tag, start, end) of every chunk of a clean file, walked from the spec's framing."""
    out, pos = [], 12
    while pos < len(data):
        tag = data[pos : pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        out.append((tag, pos, pos + 12 + length))
        pos += 12 + length
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[AvatarFrame]]:
    path = tmp_path_factory.mktemp("syn") / "take.vtrec"
    with RecordingWriter(path, landmarks=True, source="synthetic") as w:
        for f in synthetic_frames(64):
            w.write_frame(f)
    rec = read_recording(path)
    assert rec.error is None and len(rec.frames) == 64
    return path.read_bytes(), rec.frames


# ------------------------------------------------------------------------ 1. never overwrite
def test_outfile_refuses_existing_files_and_inputs_and_keeps_them_on_failure(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "take.vtrec"
    existing.write_bytes(b"a precious take")
    with pytest.raises(ConfigError, match="already exists.*--overwrite"):
        check_output(existing)
    link = tmp_path / "alias.mp4"
    os.link(existing, link)  # the same file under another name
    with pytest.raises(ConfigError, match="it is the input"):
        check_output(link, overwrite=True, inputs=(str(existing),))
    with pytest.raises(ConfigError, match="does not exist"):
        check_output(tmp_path / "missing" / "x.bvh")
    # A write that fails half-way leaves the existing file byte-identical and no temp file.
    with pytest.raises(RuntimeError), atomic_output(existing, overwrite=True) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("the export crashed")
    assert existing.read_bytes() == b"a precious take"
    assert sorted(os.listdir(tmp_path)) == ["alias.mp4", "take.vtrec"]  # no temporary file left
    with atomic_output(existing, overwrite=True) as tmp:
        tmp.write_bytes(b"new")
    assert existing.read_bytes() == b"new" and sorted(os.listdir(tmp_path)) == [
        "alias.mp4",
        "take.vtrec",
    ]


def test_writer_renames_into_place_only_after_the_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "take.vtrec"
    w = RecordingWriter(path, keep_empty=False)
    w.open()
    assert not path.exists() and w.tmp_path.exists()  # header written under the temp name
    w.write_frame(AvatarFrame(t=0.0, index=0, bones={Bone.Head: (0.0, 0.0, 0.0, 1.0)}))
    assert path.exists() and not w.tmp_path.exists()  # in place with its first frame
    w.close()
    assert read_recording(path).end is not None
    # Nothing written: no file at all (a start that failed changes nothing on disk).
    empty = tmp_path / "empty.vtrec"
    w = RecordingWriter(empty, keep_empty=False)
    w.open()
    w.close()
    assert not empty.exists() and os.listdir(tmp_path) == ["take.vtrec"]
    with pytest.raises(ConfigError, match="already exists"):
        RecordingWriter(path).open()


def test_two_recorders_on_one_name_lose_nothing(tmp_path: Path) -> None:
    """A name taken while recording (another run finished first): the first keeps the name, the
    second keeps recording under its temporary name and says where."""
    from vtuber.sinks.recorder import RecorderSink

    path = tmp_path / "take.vtrec"
    a, b = RecorderSink(path), RecorderSink(path)
    a.open()
    b.open()
    for f in synthetic_frames(5):
        a.send(f)
        b.send(f)
    a.close()
    b.close()
    assert b.writer.conflict is not None and "appeared while writing" in str(b.writer.conflict)
    assert b.writer.where != path and b.writer.where.parent == tmp_path
    for p in (path, b.writer.where):
        rec = read_recording(p)
        assert rec.error is None and len(rec.frames) == 5 and rec.end is not None


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


def test_track_record_never_replaces_a_take(
    tmp_path: Path, clip_path: Path, busy_port: int
) -> None:
    take = tmp_path / "take.vtrec"
    with RecordingWriter(take) as w:  # a 43 KB-class take of real-looking frames
        for f in synthetic_frames(100):
            w.write_frame(f)
    before = digest(take)
    common = ["track", "--source", str(clip_path), "--fast", "--max-frames", "5", "--quiet"]
    # 1. Without --overwrite: refused, one line.
    one_line_error(run_cli(*common, "--no-vmc", "--record", str(take)), "already exists")
    # 2. A start that fails (the viewer port is taken) even with -y: the take is untouched.
    r = run_cli(*common, "--no-vmc", "--record", str(take), "-y", "--viewer",
                "--viewer-port", str(busy_port))  # fmt: skip
    one_line_error(r, "cannot serve the viewer")
    assert digest(take) == before
    # 3. Recording onto the source video: refused, the video untouched.
    video = tmp_path / "clip.mp4"
    shutil.copyfile(clip_path, video)
    vbefore = digest(video)
    r = run_cli("track", "--source", "clip.mp4", "--fast", "--no-vmc", "--record",
                "./clip.mp4", "-y", cwd=str(tmp_path))  # fmt: skip
    one_line_error(r, "it is the input")
    assert digest(video) == vbefore
    assert sorted(os.listdir(tmp_path)) == ["clip.mp4", "take.vtrec"]  # no temp files left
    # 4. -y is the explicit way to replace.
    r = run_cli(*common, "--no-vmc", "--record", str(take), "-y")
    assert r.returncode == 0, r.stderr
    assert len(read_recording(take).frames) == 5


def test_record_vmc_export_and_calibrate_never_replace_a_file(tmp_path: Path) -> None:
    take = tmp_path / "take.vtrec"
    shutil.copyfile(FIX / "golden_v1.vtrec", take)
    before = digest(take)
    one_line_error(run_cli("record-vmc", "--listen", "1", "--out", str(take)), "already exists")
    out = tmp_path / "take.bvh"
    out.write_text("mine")
    one_line_error(run_cli("export", str(take), "-o", str(out)), "already exists")
    one_line_error(run_cli("export", str(take), "-o", str(take), "-f", "jsonl", "-y"), "input")
    one_line_error(run_cli("calibrate", "--source", "7", "--out", str(take)), "already exists")
    one_line_error(
        run_cli("calibrate", "--source", str(take), "--out", str(take), "-y"), "it is the input"
    )
    # Starts that fail even with -y: a busy UDP port, a file that is not a recording, a camera
    # that does not exist. Every existing file stays as it was.
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    one_line_error(
        run_cli("record-vmc", "--listen", f"127.0.0.1:{busy.getsockname()[1]}", "--out",
                str(take), "-y"),
        "cannot listen",
    )  # fmt: skip
    busy.close()
    junk = tmp_path / "junk.vtrec"
    junk.write_bytes(b"not a recording at all")
    one_line_error(run_cli("export", str(junk), "-o", str(out), "-y"), "not a vtuber recording")
    one_line_error(run_cli("calibrate", "--source", "7", "--out", str(out), "-y"), "camera 7")
    junk.unlink()
    assert digest(take) == before and out.read_text() == "mine"
    r = run_cli("export", str(take), "-o", str(out), "-y")
    assert r.returncode == 0 and out.read_text().startswith("HIERARCHY"), r.stderr
    assert sorted(os.listdir(tmp_path)) == ["take.bvh", "take.vtrec"]


# ------------------------------------------------------------------------ 2. full disk
DISK_BYTES = 32 * 1024


def _mount_tmpfs(mnt: Path) -> str:
    """Mount a DISK_BYTES tmpfs on ``mnt``; returns why not ("" on success)."""
    if os.geteuid() != 0:
        return "not root"
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mnt)],
        capture_output=True,
    )
    return "" if r.returncode == 0 else (r.stderr.decode().strip() or "mount failed")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 32 KiB tmpfs: writes past it fail with ENOSPC (needs root, as in CI)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    why = _mount_tmpfs(mnt)
    if why:
        pytest.skip(f"this test mounts a small tmpfs and needs root (CI runs as root): {why}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_BYTES, DISK_BYTES))


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None] | None, str]]:
    """(folder, preexec for the vtuber process, the error it must report). As root: a real
    32 KiB tmpfs (ENOSPC, "No space left on device"). Without root: the kernel's file-size limit
    (RLIMIT_FSIZE) fails the process's writes past 32 KiB the same way (EFBIG, "File too
    large"): a real write error either way."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    why = _mount_tmpfs(mnt)
    if why:
        yield mnt, _limit_file_size, "File too large"
        return
    try:
        yield mnt, None, "No space left on device"
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


class Receiver:
    """A UDP socket on loopback collecting datagrams on a thread-free poll."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]

    def drain(self, quiet: float = 0.3) -> list[bytes]:
        self.sock.settimeout(quiet)
        out = []
        try:
            while True:
                out.append(self.sock.recv(65535))
        except TimeoutError:
            pass
        return out

    def close(self) -> None:
        self.sock.close()


def frames_sent(datagrams: list[bytes]) -> int:
    return sum(d.count(b"/VMC/Ext/T\x00") for d in datagrams)


def test_full_disk_stops_only_the_recording(
    full_disk: tuple[Path, Callable[[], None] | None, str], clip_path: Path
) -> None:
    disk, preexec, reason = full_disk
    rx = Receiver()
    take = disk / "take.vtrec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "track", "--source", str(clip_path), "--fast",
         "--record", str(take), "--vmc", f"127.0.0.1:{rx.port}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=preexec,
    )  # fmt: skip
    got: list[bytes] = []
    while proc.poll() is None:
        got += rx.drain(0.2)
    got += rx.drain(0.3)
    err = proc.stderr.read() if proc.stderr else ""
    rx.close()
    assert "Traceback" not in err
    stopped = [ln for ln in err.splitlines() if "recording stopped" in ln]
    assert len(stopped) == 1 and reason in stopped[0], err
    assert proc.returncode == 1  # the run says its recording is incomplete
    # VMC kept streaming: every one of the clip's 195 frames reached the receiver.
    assert frames_sent(got) == 195
    rec = read_recording(take)
    n = int(stopped[0].split("keeps the ")[1].split()[0])
    assert 20 < n < 195 and len(rec.frames) == n  # every frame written before the error
    assert [f.index for f in rec.frames] == list(range(n))
    assert rec.error is None  # the torn chunk was cut off: the file ends on a chunk boundary


def test_status_line_marks_a_stopped_recording(small_disk: Path) -> None:
    from io import StringIO

    from vtuber.pipeline import Stats, StatusLine
    from vtuber.sinks.recorder import RecorderSink

    sink = RecorderSink(small_disk / "take.vtrec")
    sink.open()
    frame = synthetic_frames(3)[2]  # a full-body frame (~1.3 KB)
    for _ in range(200):
        sink.send(frame)  # never raises
    sink.close()
    assert sink.error is not None and sink.status_mark == "REC STOPPED"
    line = StringIO()
    StatusLine(line, period=0).update(Stats(frames=1), frame, sink.status_mark)
    assert "REC STOPPED" in line.getvalue()
    assert len(read_recording(small_disk / "take.vtrec").frames) == sink.frames > 0


def test_record_vmc_on_a_full_disk_keeps_what_it_wrote(
    full_disk: tuple[Path, Callable[[], None] | None, str],
) -> None:
    disk, preexec, reason = full_disk
    probe = Receiver()
    port = probe.port
    probe.close()
    out = disk / "perf.vtrec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "record-vmc", "--listen", f"127.0.0.1:{port}",
         "--out", str(out), "--duration", "20"],
        stderr=subprocess.PIPE, text=True, preexec_fn=preexec,
    )  # fmt: skip
    assert proc.stderr is not None and "recording VMC" in proc.stderr.readline()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dgs = encode_frame(synthetic_frames(3)[2])
    for _ in range(200):  # ~230 KB: more than the disk holds
        if proc.poll() is not None:
            break
        for d in dgs:
            tx.sendto(d, ("127.0.0.1", port))
        time.sleep(0.002)
    tx.close()
    assert proc.wait(timeout=30) == 1
    err = proc.stderr.read()
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "recording stopped" in ln]
    assert len(lines) == 1 and reason in lines[0], err
    rec = read_recording(out)
    n = int(lines[0].split("keeps the ")[1].split()[0])
    assert n > 10 and len(rec.datagrams) == n and rec.error is None


# ------------------------------------------------------------------------ 3. resynchronise
def corrupt(data: bytes, rng: np.random.Generator) -> tuple[bytes, list[tuple[int, int]], str]:
    """One random corruption; returns the bytes, the ORIGINAL byte ranges it touched (a chunk
    overlapping one is damaged) and its kind."""
    n = len(data)
    kind = str(rng.choice(["flip", "overwrite", "zero", "delete", "insert", "truncate"]))
    a = int(rng.integers(0, n))
    if kind == "flip":
        pos = sorted({int(p) for p in rng.integers(0, n, size=int(rng.integers(1, 9)))})
        b = bytearray(data)
        for p in pos:
            b[p] ^= int(rng.integers(1, 256))
        return bytes(b), [(p, p + 1) for p in pos], kind
    length = int(rng.integers(1, 3000))
    e = min(n, a + length)
    if kind == "overwrite":
        return data[:a] + rng.bytes(e - a) + data[e:], [(a, e)], kind
    if kind == "zero":
        return data[:a] + bytes(e - a) + data[e:], [(a, e)], kind
    if kind == "delete":
        return data[:a] + data[e:], [(a, e)], kind
    if kind == "insert":
        return data[:a] + rng.bytes(int(rng.integers(1, 600))) + data[a:], [(a, a)], kind
    return data[:a], [(a, n)], kind  # truncate


def intact_indices(
    data: bytes, chunks: list[tuple[bytes, int, int]], touched: list[tuple[int, int]], kind: str
) -> set[int]:
    """Frame numbers whose FRAM chunk, the LAYT it uses and every NAME chunk before that LAYT
    are untouched by the corruption (what the reader must keep)."""

    def hit(s: int, e: int) -> bool:
        for a, b in touched:
            if kind == "insert":
                if s < a < e:
                    return True
            elif a < e and s < b:
                return True
        return False

    layout_ok: dict[int, bool] = {}
    names_ok = True
    intact: set[int] = set()
    k = 0
    for tag, s, e in chunks:
        if tag == TAG_NAME:
            names_ok = names_ok and not hit(s, e)
        elif tag in (TAG_LAYT, TAG_FRAM):
            (lid,) = struct.unpack_from("<H", data, s + 8)
            if tag == TAG_LAYT:
                layout_ok[lid] = names_ok and not hit(s, e)
            else:
                if layout_ok.get(lid, False) and not hit(s, e):
                    intact.add(k)
                k += 1
    return intact


def test_fuzz_1000_corruptions_keep_every_intact_frame(
    synthetic: tuple[bytes, list[AvatarFrame]],
) -> None:
    data, originals = synthetic
    chunks = chunk_map(data)
    want_keys = [frame_key(f) for f in originals]
    rng = np.random.default_rng(20261204)
    kept_total = intact_total = 0
    kinds: dict[str, int] = {}
    for case in range(1000):
        bad, touched, kind = corrupt(data, rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        label = f"case {case} ({kind} {touched[:3]})"
        if bad[:8] == MAGIC and len(bad) >= 12 and struct.unpack_from("<H", bad, 8)[0] != 1:
            # The version field now claims another major: refused by the format's rule.
            with pytest.raises(FormatError, match="version"):
                parse_recording(bad, "fuzz.vtrec")
            continue
        try:
            rec = parse_recording(bad, "fuzz.vtrec")
        except FormatError as e:  # only when not one chunk survived
            msg = str(e)
            assert any(w in msg for w in ("not a vtuber", "no header", "0 frames are usable")), (
                label
            )
            assert not intact_indices(data, chunks, touched, kind), label
            continue
        got = {f.index: f for f in rec.frames}
        intact = intact_indices(data, chunks, touched, kind)
        missing = intact - set(got)
        assert not missing, f"{label}: intact frames lost: {sorted(missing)[:10]}"
        for i, f in got.items():  # nothing invented: every frame read is an original frame
            assert frame_key(f) == want_keys[i], f"{label}: frame {i} differs"
            if f.landmarks is not None:
                have, want = f.landmarks, originals[i].landmarks
                assert isinstance(have, Landmarks) and isinstance(want, Landmarks)
                assert np.array_equal(have.face.points, want.face.points), label
        if len(rec.frames) < len(originals) and kind != "truncate":
            assert rec.error is not None and "damaged bytes" in str(rec.error), label
        kept_total += len(rec.frames)
        intact_total += len(intact)
    assert kept_total >= intact_total > 40_000  # most cases keep nearly all 64 frames
    assert min(kinds.values()) > 100  # every kind of corruption was tried


def test_a_lost_name_chunk_never_mislabels_later_blendshapes(tmp_path: Path) -> None:
    """Losing a NAME chunk shifts the names declared after it; frames that would be read with
    the wrong blendshape names are skipped, frames using earlier names are kept."""
    keys = [["aa"], ["aa", "xA"], ["aa", "xC"], ["aa", "xD"], ["xC"], ["aa"]]
    path = tmp_path / "names.vtrec"
    with RecordingWriter(path) as w:
        for i, k in enumerate(keys):
            w.write_frame(
                AvatarFrame(t=i / 30, index=i, bones={Bone.Head: (0.0, 0.0, 0.0, 1.0)},
                            blendshapes={n: 0.25 for n in k})
            )  # fmt: skip
    data = bytearray(path.read_bytes())
    data[data.find(TAG_NAME) + 14] ^= 0xFF  # the NAME chunk that declares xA
    rec = parse_recording(bytes(data), "names.vtrec")
    assert [(f.index, list(f.blendshapes)) for f in rec.frames] == [(0, ["aa"]), (5, ["aa"])]
    assert "NAME chunk" in str(rec.error) and "2 frames are usable" in str(rec.error)


def test_damage_in_the_middle_keeps_the_rest_and_names_the_range(
    tmp_path: Path, clip_path: Path
) -> None:
    """The issue's case: a real take of the clip (195 frames) damaged in the middle."""
    take = tmp_path / "take.vtrec"
    r = run_cli("track", "--source", str(clip_path), "--fast", "--no-vmc", "--quiet",
                "--record", str(take))  # fmt: skip
    assert r.returncode == 0, r.stderr
    data = bytearray(take.read_bytes())
    frams = [c for c in chunk_map(bytes(data)) if c[0] == TAG_FRAM]
    assert len(frams) == 195
    a, b = frams[92][1] + 20, frams[95][1] + 5  # frames 92..95 damaged
    data[a:b] = bytes(b - a)
    take.write_bytes(bytes(data))
    rec = read_recording(take)
    assert [f.index for f in rec.frames] == [i for i in range(195) if not 92 <= i <= 95]
    msg = str(rec.error)
    assert f"damaged bytes {frams[92][1]}-{frams[96][1] - 1}" in msg, msg
    assert "4 frames skipped" in msg and "191 frames are usable" in msg, msg
    # export and replay use every intact frame, with one line about the damage.
    out = tmp_path / "take.jsonl"
    r = run_cli("export", str(take), "-o", str(out))
    assert r.returncode == 1 and len(out.read_text().splitlines()) == 191, r.stderr
    assert sum("damaged bytes" in ln for ln in r.stderr.splitlines()) == 1
    rx = Receiver()
    r = run_cli("replay", str(take), "--speed", "20", "--vmc", f"127.0.0.1:{rx.port}")
    got = rx.drain(0.5)
    rx.close()
    assert r.returncode == 1 and frames_sent(got) == 191, r.stderr
    assert sum("damaged bytes" in ln for ln in r.stderr.splitlines()) == 1


# ------------------------------------------------------------------------ 4. address families
def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback (::1) here")


@needs_ipv6
def test_vmc_to_ipv6_and_ipv4_at_once() -> None:
    r6, r4 = Receiver("::1"), Receiver("127.0.0.1")
    r = run_cli("replay", str(FIX / "golden_v1.vtrec"), "--speed", "20",
                "--vmc", f"[::1]:{r6.port}", "--vmc", f"127.0.0.1:{r4.port}")  # fmt: skip
    g6, g4 = r6.drain(), r4.drain()
    r6.close()
    r4.close()
    assert r.returncode == 0, r.stderr
    assert frames_sent(g6) == frames_sent(g4) == 8 and g6 == g4


@needs_ipv6
def test_a_name_with_both_families_reaches_the_receiver_that_listens() -> None:
    from vtuber.sinks.vmc import VMCSink, resolve

    rx = Receiver("127.0.0.1")  # listens on IPv4 only; nothing on [::1]:port
    both = [
        name
        for name in ("localhost", "ip6-localhost", "localhost6")
        if {f for f, _ in _try_resolve(resolve, name, rx.port)} == {2, 10}
    ]
    # This machine's resolver may give no name both families (its /etc/hosts decides); then a
    # resolver returning what such a name gives (::1 first, as RFC 6724 orders it) stands in.
    resolver = None
    if not both:

        def resolver(host: str, port: int) -> list[tuple[int, tuple[object, ...]]]:
            return [(socket.AF_INET6, ("::1", port, 0, 0)), (socket.AF_INET, ("127.0.0.1", port))]

    frame = synthetic_frames(1)[0]
    sink = VMCSink([(both[0] if both else "dual-stack-name", rx.port)], resolver)
    sink.open()
    try:
        for _ in range(10):
            sink.send(frame)
            time.sleep(0.01)
        assert sink.addresses[0][0] == "127.0.0.1"  # moved to the address that listens
    finally:
        sink.close()
    got = rx.drain()
    rx.close()
    assert frames_sent(got) >= 9  # at most the first frame went to [::1] before the switch


def _try_resolve(fn, name: str, port: int):  # type: ignore[no-untyped-def]
    try:
        return fn(name, port)
    except ConfigError:
        return []


# ------------------------------------------------------------------ 5. a source that ends early
@pytest.fixture(scope="module")
def truncated_clip(clip_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clip cut at 20% of its bytes (its index comes first, so it still opens)."""
    out = tmp_path_factory.mktemp("trunc") / "cut.mp4"
    data = clip_path.read_bytes()
    out.write_bytes(data[: int(len(data) * 0.2)])
    return out


def test_a_truncated_video_is_reported_and_fails_a_batch_run(
    truncated_clip: Path, tmp_path: Path
) -> None:
    take = tmp_path / "take.vtrec"
    r = run_cli("track", "--source", str(truncated_clip), "--fast", "--no-vmc",
                "--record", str(take))  # fmt: skip
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "ended early" in ln]
    assert len(lines) == 1 and "of 195 frames could be read" in lines[0], r.stderr
    assert "partial file" not in r.stderr and "NAL unit" not in r.stderr  # no FFmpeg chatter
    read = int(lines[0].split("ended early: ")[1].split()[0])
    assert 5 < read < 150
    assert len(read_recording(take).frames) == read  # what was read is recorded and kept
    r = run_cli("track", "--source", str(truncated_clip), "--fast", "--no-vmc", "--quiet",
                "--allow-partial")  # fmt: skip
    assert r.returncode == 0 and f"{read} of 195" in r.stderr, r.stderr


# ------------------------------------------------------------------------ 6. record-vmc
def test_record_vmc_listens_on_loopback_by_default() -> None:
    from vtuber.cli import build_parser
    from vtuber.commands.record_vmc import parse_listen

    args = build_parser().parse_args(["record-vmc", "--out", "x.vtrec"])
    assert parse_listen(args.listen) == ("127.0.0.1", 39539)
    assert parse_listen("39540") == ("127.0.0.1", 39540)
    assert parse_listen("0.0.0.0:39539") == ("0.0.0.0", 39539)


def test_record_vmc_counts_what_the_kernel_drops(tmp_path: Path) -> None:
    from vtuber.commands.record_vmc import open_socket, receive_buffer, record

    sock = open_socket("127.0.0.1", 0, rcvbuf=4096)  # tiny on purpose: the burst overflows it
    port = sock.getsockname()[1]
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(3000):  # sent before the recorder reads: most cannot fit
        tx.sendto(b"/VMC/Ext/T\x00\x00,f\x00\x00" + struct.pack(">f", i), ("127.0.0.1", port))
    with RecordingWriter(tmp_path / "burst.vtrec", kind="vmc") as w:
        res = record(sock, w, duration=1.0)
    tx.close()
    sock.close()
    assert res.drops > 0 and res.datagrams + res.drops == 3000  # every datagram accounted for
    assert len(read_recording(tmp_path / "burst.vtrec").datagrams) == res.datagrams
    big = open_socket("127.0.0.1", 0)
    assert receive_buffer(big) >= 1 << 20  # the default asks for 8 MiB (the kernel may cap it)
    big.close()


def test_record_vmc_keeps_arrival_times_when_it_falls_behind(tmp_path: Path) -> None:
    """A stalled recorder (SIGSTOP: a busy machine) still stamps each datagram with the time
    the kernel received it, not the time it got round to reading it."""
    probe = Receiver()
    port = probe.port
    probe.close()
    out = tmp_path / "stall.vtrec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "record-vmc", "--listen", f"127.0.0.1:{port}",
         "--out", str(out), "--duration", "30"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None and "recording VMC" in proc.stderr.readline()
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    msg = b"/VMC/Ext/T\x00\x00,f\x00\x00\x00\x00\x00\x00"
    tx.sendto(msg, ("127.0.0.1", port))
    time.sleep(0.3)
    proc.send_signal(signal.SIGSTOP)
    try:
        for _ in range(3):  # arrive 0.3 s apart while the recorder cannot read
            time.sleep(0.3)
            tx.sendto(msg, ("127.0.0.1", port))
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGCONT)
    tx.close()
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    ts = [t for t, _ in read_recording(out).datagrams]
    gaps = np.diff(ts)
    assert len(ts) == 4 and np.all(gaps > 0.2), gaps  # read together, stamped 0.3 s apart


# ------------------------------------------------------------------------ 7. junk summaries
def junk_take(path: Path) -> None:
    rng = np.random.default_rng(3)
    with RecordingWriter(path, kind="vmc") as w:
        for i, f in enumerate(synthetic_frames(30)):
            for d in encode_frame(f):
                w.write_datagram(d, i / 30)
            w.write_datagram(b"/junk\x00\x00\x00,q\x00\x00" + rng.bytes(8), i / 30)
            w.write_datagram(rng.bytes(40), i / 30)


def test_export_and_replay_summarise_junk_in_one_line(tmp_path: Path) -> None:
    take = tmp_path / "junk.vtrec"
    junk_take(take)
    r = run_cli("export", str(take), "-o", str(tmp_path / "junk.jsonl"))
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "dgram" not in r.stderr and "Unhandled" not in r.stderr  # no per-message dumps
    assert len(r.stderr.strip().splitlines()) == 2, r.stderr  # the junk line + the summary
    assert "skipped" in r.stderr and "not OSC" in r.stderr
    assert len((tmp_path / "junk.jsonl").read_text().splitlines()) == 30
    r = run_cli("replay", str(take), "--speed", "20", "--no-vmc", "--viewer", "--viewer-port",
                "0", "--quiet")  # fmt: skip
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "dgram" not in r.stderr and "Unhandled" not in r.stderr
    assert sum("not OSC" in ln for ln in r.stderr.splitlines()) == 1, r.stderr


# ------------------------------------------------------------------------ 8. the viewer's HTTP side
def http(port: int, raw: bytes) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(raw)
        out = b""
        try:
            while chunk := c.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out.split(b"\r\n", 1)[0].decode("latin-1")


def test_viewer_answers_malformed_requests_with_4xx_and_no_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from vtuber.sinks.websocket import WebSocketSink

    sink = WebSocketSink("127.0.0.1", 0)
    sink.open()
    host = f"Host: 127.0.0.1:{sink.port}\r\n".encode()
    ws = (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")  # fmt: skip
    cases = {
        "long path": b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n" + host + b"\r\n",
        "long module path": b"GET /node_modules/three/" + b"b" * 400 + b".js HTTP/1.1\r\n"
        + host + b"\r\n",
        "duplicate Host": b"GET / HTTP/1.1\r\n" + host + host + b"\r\n",
        "duplicate Origin": b"GET /ws HTTP/1.1\r\n" + host + ws
        + b"Origin: http://127.0.0.1\r\nOrigin: http://evil.example\r\n\r\n",
        "POST": b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 0\r\n\r\n",
        "DELETE": b"DELETE /avatar.vrm HTTP/1.1\r\n" + host + b"\r\n",
        "odd method": b"BREW /pot HTTP/1.1\r\n" + host + b"\r\n",
        "traversal": b"GET /node_modules/../../../etc/passwd HTTP/1.1\r\n" + host + b"\r\n",
        "NUL": b"GET /%00 HTTP/1.1\r\n" + host + b"\r\n",
    }  # fmt: skip
    try:
        with caplog.at_level("DEBUG"):
            for name, raw in cases.items():
                status = http(sink.port, raw)
                code = int(status.split()[1]) if status.startswith("HTTP/1.1 ") else 0
                assert 400 <= code < 500, f"{name}: {status!r}"
            assert http(sink.port, b"GET / HTTP/1.1\r\n" + host + b"\r\n").endswith("200 OK")
    finally:
        sink.close()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert len([r for r in caplog.records if r.levelno >= 30]) <= len(cases)  # <= 1 line each


# ------------------------------------------------------------------------ 9. SIGINT and SIGTERM
def wait_for(path: Path, timeout: float = 60) -> None:
    t0 = time.monotonic()
    while not path.exists():
        assert time.monotonic() - t0 < timeout, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signals_end_track_cleanly(sig: int, clip_path: Path, tmp_path: Path) -> None:
    take = tmp_path / "take.vtrec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "track", "--source", str(clip_path), "--no-vmc",
         "--record", str(take)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(take)  # in place once its first frame is written
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err
    name = signal.Signals(sig).name
    summary = [ln for ln in err.splitlines() if f"(stopped by {name})" in ln]
    assert len(summary) == 1 and "frames in" in summary[0], err
    rec = read_recording(take)
    assert rec.error is None and rec.end is not None  # closed with its END marker
    assert rec.end["frames"] == len(rec.frames) > 0
    assert f"vtuber: {len(rec.frames)} frames in" in summary[0]


def test_sigterm_ends_record_vmc_and_replay_cleanly(tmp_path: Path) -> None:
    probe = Receiver()
    port = probe.port
    probe.close()
    out = tmp_path / "perf.vtrec"
    rec_proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "record-vmc", "--listen", f"127.0.0.1:{port}",
         "--out", str(out)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert rec_proc.stderr is not None and "recording VMC" in rec_proc.stderr.readline()
    replay_out = tmp_path / "again.vtrec"
    rep_proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "replay", str(FIX / "golden_v1.vtrec"), "--loop",
         "--vmc", f"127.0.0.1:{port}", "--record", str(replay_out)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(replay_out)
    time.sleep(1.0)
    rep_proc.send_signal(signal.SIGTERM)
    _, rep_err = rep_proc.communicate(timeout=30)
    time.sleep(0.2)
    rec_proc.send_signal(signal.SIGTERM)
    _, rec_err = rec_proc.communicate(timeout=30)
    for code, err in ((rep_proc.returncode, rep_err), (rec_proc.returncode, rec_err)):
        assert code == 0 and "Traceback" not in err and "stopped by SIGTERM" in err, err
    again = read_recording(replay_out)
    assert again.error is None and again.end is not None and len(again.frames) >= 8
    perf = read_recording(out)
    assert perf.error is None and perf.end is not None
    assert perf.end["datagrams"] == len(perf.datagrams) > 0
    assert "0 dropped by the kernel" in rec_err
