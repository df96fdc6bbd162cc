"""The recording file format (docs/recording.md): writer and reader.

A recording is ``VTUBEREC`` + u16 major + u16 minor, then length-prefixed, CRC-32-checked chunks:
HEAD (JSON), NAME (more blendshape names), LAYT (frame layouts), FRAM (avatar frames as packed
little-endian float32), LMRK (optional raw landmarks), VMCD (raw VMC datagrams) and END.

The writer appends each chunk with one unbuffered ``write`` (in the OS page cache at once: a
killed process loses nothing already written) and a background thread ``fsync``s every
``fsync_interval`` seconds (a power loss loses at most that). It writes under a temporary name and
renames the file into place once the first frame is on disk (vtuber.outfile: an existing file is
never replaced unless ``overwrite``), and a write error (full disk) cuts the torn chunk off so the
file ends on a chunk boundary. The reader is chosen by the major version; past a torn or corrupt
region it resynchronises on the next chunk marker whose CRC passes, keeps every intact chunk and
describes each damaged byte range in :attr:`Recording.damage` / :attr:`Recording.error`.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from vtuber import __version__
from vtuber.errors import FormatError, OutputError, SourceError
from vtuber.landmarks import (
    ARKIT_COUNT,
    FACE_POINTS,
    HAND_POINTS,
    POSE_POINTS,
    FaceLandmarks,
    HandLandmarks,
    Landmarks,
    PoseLandmarks,
)
from vtuber.outfile import check_output, commit, discard, temp_path
from vtuber.rig import BLENDSHAPE_KEYS, AvatarFrame, Bone, FrameEvent, Tracking

MAGIC = b"VTUBEREC"
MAJOR = 1
MINOR = 0
MAX_CHUNK = 16 * 1024 * 1024

TAG_HEAD = b"HEAD"
TAG_NAME = b"NAME"
TAG_LAYT = b"LAYT"
TAG_FRAM = b"FRAM"
TAG_LMRK = b"LMRK"
TAG_VMCD = b"VMCD"
TAG_END = b"END "
TAG_EVNT = b"EVNT"  # gesture events of the FRAM just before it (docs/gestures.md)

_FILE_HEAD = struct.Struct("<8sHH")
_CHUNK_HEAD = struct.Struct("<4sI")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
_F64 = struct.Struct("<d")
_FRAM_FIXED = struct.Struct("<HBBId7f")  # layout, flags, reserved, index, t, root (44 bytes)
_LMRK_FIXED = struct.Struct("<dHHBB")

BONE_TABLE: tuple[str, ...] = tuple(b.name for b in Bone)  # HumanBodyBones number order

# LMRK part bits
LM_FACE, LM_FACE_EXTRA, LM_POSE, LM_LEFT_HAND, LM_RIGHT_HAND = 1, 2, 4, 8, 16
LM_FACE_MOUTH = 32  # the face's mouth_dark (vtuber.landmarks.cavity), when it was measured
LM_FACE_EYES = 64  # the face's eye_shut (vtuber.landmarks.eyelids), when it was measured
LM_FACE_DIM = 128  # the face's mouth_dim (vtuber.landmarks.cavity), when it was measured


EVENT_KINDS = ("gesture", "key", "viewer")  # EVNT kind codes 0, 1, 2
_EVNT_HEAD = struct.Struct("<BBiH")  # kind, active, keycode, name length


def encode_events(events: tuple[FrameEvent, ...]) -> bytes:
    """EVNT payload: u16 count, then per event u8 kind, u8 active, i32 keycode, u16 length and
    the UTF-8 name (docs/recording.md)."""
    out = [_U16.pack(len(events))]
    for e in events:
        name = e.name.encode("utf-8")
        out.append(_EVNT_HEAD.pack(EVENT_KINDS.index(e.kind), int(e.active), e.keycode, len(name)))
        out.append(name)
    return b"".join(out)


def decode_events(p: bytes) -> tuple[FrameEvent, ...]:
    (count,) = _U16.unpack_from(p, 0)
    q = 2
    out = []
    for _ in range(count):
        kind, active, keycode, ln = _EVNT_HEAD.unpack_from(p, q)
        q += _EVNT_HEAD.size
        name = p[q : q + ln].decode("utf-8")
        q += ln
        if kind >= len(EVENT_KINDS) or len(name) == 0:
            raise ValueError("bad EVNT event")
        out.append(FrameEvent(EVENT_KINDS[kind], name, bool(active), keycode))
    if q != len(p):
        raise ValueError("EVNT size mismatch")
    return tuple(out)


def chunk(tag: bytes, payload: bytes) -> bytes:
    """One framed chunk: tag, u32 length, payload, CRC-32 over tag + length + payload."""
    head = _CHUNK_HEAD.pack(tag, len(payload))
    return head + payload + _U32.pack(zlib.crc32(payload, zlib.crc32(head)))


def _flags(tr: Tracking) -> int:
    return int(tr.face) | int(tr.body) << 1 | int(tr.left_hand) << 2 | int(tr.right_hand) << 3


def _tracking(flags: int) -> Tracking:
    return Tracking(bool(flags & 1), bool(flags & 2), bool(flags & 4), bool(flags & 8))


def encode_landmarks(lm: Landmarks) -> bytes:
    """LMRK payload for one image's landmarks (docs/recording.md §6)."""
    parts = 0
    arrays: list[np.ndarray] = []
    if lm.face.found:
        parts |= LM_FACE
        arrays.append(lm.face.points)
        if lm.face.has_blendshapes:
            parts |= LM_FACE_EXTRA
            arrays += [lm.face.blendshapes, lm.face.matrix]
        if math.isfinite(lm.face.mouth_dark):
            parts |= LM_FACE_MOUTH
            arrays.append(np.array([lm.face.mouth_dark]))
        if all(math.isfinite(v) for v in lm.face.eye_shut):
            parts |= LM_FACE_EYES
            arrays.append(np.array(lm.face.eye_shut))
        if all(math.isfinite(v) for v in lm.face.mouth_dim):
            parts |= LM_FACE_DIM
            arrays.append(np.array(lm.face.mouth_dim))
    if lm.pose.found:
        parts |= LM_POSE
        arrays += [lm.pose.points, lm.pose.world]
    for bit, hand in ((LM_LEFT_HAND, lm.left_hand), (LM_RIGHT_HAND, lm.right_hand)):
        if hand.found:
            parts |= bit
            arrays += [hand.points, hand.world, np.array([hand.score])]
    body = b"".join(np.ascontiguousarray(a, dtype="<f4").tobytes() for a in arrays)
    return _LMRK_FIXED.pack(lm.t, lm.width, lm.height, parts, 0) + body


def decode_landmarks(p: bytes) -> Landmarks:
    """Inverse of :func:`encode_landmarks`; raises FormatError on a size mismatch."""
    t, w, h, parts, _ = _LMRK_FIXED.unpack_from(p)
    sizes = []
    if parts & LM_FACE:
        sizes.append(FACE_POINTS * 3)
        if parts & LM_FACE_EXTRA:
            sizes += [ARKIT_COUNT, 16]
        if parts & LM_FACE_MOUTH:
            sizes.append(1)
        if parts & LM_FACE_EYES:
            sizes.append(2)
        if parts & LM_FACE_DIM:
            sizes.append(3)
    if parts & LM_POSE:
        sizes += [POSE_POINTS * 4, POSE_POINTS * 3]
    for bit in (LM_LEFT_HAND, LM_RIGHT_HAND):
        if parts & bit:
            sizes += [HAND_POINTS * 3, HAND_POINTS * 3, 1]
    if len(p) != _LMRK_FIXED.size + 4 * sum(sizes):
        raise FormatError("LMRK chunk size does not match its parts")
    flat = np.frombuffer(p, dtype="<f4", offset=_LMRK_FIXED.size).astype(np.float32)
    pos = 0

    def take(n: int, shape: tuple[int, ...]) -> np.ndarray:
        nonlocal pos
        a = flat[pos : pos + n].reshape(shape).copy()
        pos += n
        return a

    lm = Landmarks(t=t, width=w, height=h)
    if parts & LM_FACE:
        lm.face = FaceLandmarks(found=True, points=take(FACE_POINTS * 3, (FACE_POINTS, 3)))
        if parts & LM_FACE_EXTRA:
            lm.face.blendshapes = take(ARKIT_COUNT, (ARKIT_COUNT,))
            lm.face.matrix = take(16, (4, 4))
            lm.face.has_blendshapes = True
        if parts & LM_FACE_MOUTH:
            lm.face.mouth_dark = float(take(1, (1,))[0])
        if parts & LM_FACE_EYES:
            a, b = take(2, (2,)).tolist()
            lm.face.eye_shut = (float(a), float(b))
        if parts & LM_FACE_DIM:
            d0, d1, d2 = take(3, (3,)).tolist()
            lm.face.mouth_dim = (float(d0), float(d1), float(d2))
    if parts & LM_POSE:
        pts = take(POSE_POINTS * 4, (POSE_POINTS, 4))
        lm.pose = PoseLandmarks(True, pts, take(POSE_POINTS * 3, (POSE_POINTS, 3)))
    for bit, attr in ((LM_LEFT_HAND, "left_hand"), (LM_RIGHT_HAND, "right_hand")):
        if parts & bit:
            pts = take(HAND_POINTS * 3, (HAND_POINTS, 3))
            world = take(HAND_POINTS * 3, (HAND_POINTS, 3))
            setattr(lm, attr, HandLandmarks(True, pts, world, float(take(1, (1,))[0])))
    return lm


# ------------------------------------------------------------------------------------ writer
@dataclass
class _Layout:
    id: int
    struct: struct.Struct
    bones: tuple[Bone, ...]
    positions: tuple[Bone, ...]
    keys: tuple[str, ...]


class RecordingWriter:
    """Appends frames or raw VMC datagrams to a ``.vtrec`` file.

    Args:
        path: the file. It is written under a temporary name (vtuber.outfile) and renamed to
            ``path`` once the first frame or datagram is on disk.
        kind: ``"frames"`` or ``"vmc"``.
        source, fps, mode, mirror: header information (informational).
        landmarks: write an LMRK chunk after each frame that carries ``frame.landmarks``.
        fsync_interval: seconds between background fsyncs (≤ 1 keeps the power-loss promise).
        overwrite: replace an existing ``path`` (otherwise :meth:`open` refuses with ConfigError).
        keep_empty: on close with nothing written, still create ``path`` (False: leave no file,
            so a run that fails before its first frame changes nothing on disk).
        inputs: files the command reads; writing onto one of them is refused.

    A write error (full disk, I/O error) raises OutputError once, after cutting the torn chunk
    off the file; the file keeps every chunk written before it and later writes are refused.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        kind: str = "frames",
        source: str = "",
        fps: float = 30.0,
        mode: str = "face",
        mirror: bool = True,
        landmarks: bool = False,
        fsync_interval: float = 0.5,
        extra_header: dict[str, object] | None = None,
        overwrite: bool = False,
        keep_empty: bool = True,
        inputs: tuple[str | Path | None, ...] = (),
    ) -> None:
        if kind not in ("frames", "vmc"):
            raise ValueError(f"unknown recording kind {kind!r}")
        self.path = Path(path)
        self.overwrite = overwrite
        self.keep_empty = keep_empty
        self.inputs = inputs
        self.tmp_path = temp_path(self.path)
        self.committed = False
        self.failed: OutputError | None = None
        self.conflict: OutputError | None = None  # the file could not be put in place
        self.landmarks = landmarks
        self.header: dict[str, object] = {
            "format": "vtuber-recording",
            "version": [MAJOR, MINOR],
            "kind": kind,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generator": f"vtuber {__version__}",
            "source": source,
            "fps": float(fps),
            "mode": mode,
            "mirror": bool(mirror),
            "basis": "unity",
            "bones": list(BONE_TABLE),
            "blendshapes": list(BLENDSHAPE_KEYS),
            "landmarks": bool(landmarks),
        }
        if extra_header:
            self.header.update(extra_header)
        self.fsync_interval = fsync_interval
        self._blend_index = {k: i for i, k in enumerate(BLENDSHAPE_KEYS)}
        self._layouts: dict[tuple[object, ...], _Layout] = {}
        self._fd: int | None = None
        self._stop = threading.Event()
        self._dirty = False
        self._syncer: threading.Thread | None = None
        self.frames = 0
        self.datagrams = 0
        self.bytes = 0
        self._t_first: float | None = None
        self._t_last = 0.0

    # -- lifecycle
    def open(self) -> None:
        check_output(self.path, overwrite=self.overwrite, inputs=self.inputs)
        try:
            self._fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as e:
            raise OutputError(f"cannot create recording {self.path}: {e.strerror}") from e
        head = json.dumps(self.header, separators=(",", ":")).encode("utf-8")
        try:
            self._write(_FILE_HEAD.pack(MAGIC, MAJOR, MINOR) + chunk(TAG_HEAD, head))
            os.fsync(self._fd)
        except (OSError, OutputError) as e:
            os.close(self._fd)
            self._fd = None
            discard(self.tmp_path)
            if isinstance(e, OutputError):
                raise
            raise OutputError(f"cannot write recording {self.path}: {e.strerror}") from e
        self._syncer = threading.Thread(target=self._sync_loop, name="vtrec-fsync", daemon=True)
        self._syncer.start()

    def close(self) -> None:
        """Write the END summary (unless writing failed), fsync, and put the file in place.

        With nothing written and ``keep_empty`` false, the temporary file is removed instead."""
        if self._fd is None:
            return
        dur = self._t_last - self._t_first if self._t_first is not None else 0.0
        summary = {"frames": self.frames, "datagrams": self.datagrams, "duration": dur}
        if self.failed is None:
            try:
                self._write(chunk(TAG_END, json.dumps(summary).encode("utf-8")))
            except OutputError:
                pass  # the file ends after its last frame: valid, just not closed cleanly
        self._stop.set()
        if self._syncer is not None:
            self._syncer.join()
        try:
            os.fsync(self._fd)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None
        if self.committed:
            return
        if self.frames == 0 and self.datagrams == 0 and (not self.keep_empty or self.failed):
            discard(self.tmp_path)
            return
        self._commit()  # also after a write error: what was written goes in place

    def _commit(self) -> None:
        if self.committed:
            return
        self.committed = True  # tried once: on failure the data stays in tmp_path
        try:
            commit(self.tmp_path, self.path, overwrite=self.overwrite)
        except OutputError as e:
            # Another file took the name meanwhile (or the rename failed): nothing is lost,
            # recording goes on in the temporary file and `conflict` says where it is.
            self.conflict = e

    @property
    def where(self) -> Path:
        """Where the recording is on disk now (``tmp_path`` until it is renamed into place, or
        after a :attr:`conflict`)."""
        return self.tmp_path if self.conflict is not None or not self.committed else self.path

    def __enter__(self) -> RecordingWriter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sync_loop(self) -> None:
        while not self._stop.wait(self.fsync_interval):
            fd = self._fd
            if self._dirty and fd is not None:
                self._dirty = False
                try:
                    os.fsync(fd)
                except OSError:
                    return

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise RuntimeError("RecordingWriter used before open or after close")
        if self.failed is not None:
            raise self.failed
        view = memoryview(data)
        start = self.bytes
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
                self.bytes += n
        except OSError as e:
            # Cut the torn chunk off (shrinking works on a full disk): the file ends on a chunk
            # boundary and keeps everything written before.
            try:
                os.ftruncate(self._fd, start)
                self.bytes = start
            except OSError:
                pass
            self.failed = OutputError(f"cannot write recording {self.path}: {e.strerror or e}")
            raise self.failed from e
        self._dirty = True

    def _first_written(self) -> None:
        """The first frame/datagram is written: fsync it and rename the file into place."""
        fd = self._fd
        if fd is not None:
            try:
                os.fsync(fd)
            except OSError as e:
                self.failed = OutputError(f"cannot write recording {self.path}: {e.strerror}")
                raise self.failed from e
        self._commit()

    def _time(self, t: float) -> None:
        if self._t_first is None:
            self._t_first = t
        self._t_last = t

    # -- frames
    def _layout(self, frame: AvatarFrame) -> tuple[_Layout, bytes]:
        key = (tuple(frame.bones), tuple(frame.positions), tuple(frame.blendshapes))
        lay = self._layouts.get(key)
        if lay is not None:
            return lay, b""
        pre = b""
        new = [k for k in frame.blendshapes if k not in self._blend_index]
        if new:
            names = [k.encode("utf-8") for k in new]
            pre += chunk(
                TAG_NAME,
                _U16.pack(len(names)) + b"".join(_U16.pack(len(n)) + n for n in names),
            )
            for k in new:
                self._blend_index[k] = len(self._blend_index)
        bones, pos, keys = key
        lid = len(self._layouts)
        if lid > 0xFFFF:
            raise FormatError("more than 65536 distinct frame layouts in one recording")
        body = (
            _U16.pack(lid)
            + bytes([len(bones)])
            + bytes(int(b) for b in bones)
            + bytes([len(pos)])
            + bytes(int(b) for b in pos)
            + _U16.pack(len(keys))
            + b"".join(_U16.pack(self._blend_index[k]) for k in keys)
        )
        n = 4 * len(bones) + 3 * len(pos) + len(keys)
        lay = _Layout(lid, struct.Struct(f"<HBBId{7 + n}f"), bones, pos, keys)  # type: ignore[arg-type]
        self._layouts[key] = lay
        return lay, pre + chunk(TAG_LAYT, body)

    def encode_frame(self, frame: AvatarFrame) -> bytes:
        """The chunks for one frame (LAYT/NAME first when new, FRAM, LMRK if enabled)."""
        lay, pre = self._layout(frame)
        rp, rq = frame.root_position, frame.root_rotation
        vals: list[float] = [rp[0], rp[1], rp[2], rq[0], rq[1], rq[2], rq[3]]
        for q in frame.bones.values():
            vals.extend(q)
        for p in frame.positions.values():
            vals.extend(p)
        vals.extend(frame.blendshapes.values())
        payload = lay.struct.pack(lay.id, _flags(frame.tracking), 0, frame.index & 0xFFFFFFFF,
                                  frame.t, *vals)  # fmt: skip
        out = pre + chunk(TAG_FRAM, payload)
        if self.landmarks and isinstance(frame.landmarks, Landmarks):
            out += chunk(TAG_LMRK, encode_landmarks(frame.landmarks))
        if frame.events:
            out += chunk(TAG_EVNT, encode_events(frame.events))
        return out

    def write_frame(self, frame: AvatarFrame) -> None:
        """Append one frame (one write; in the OS page cache when this returns)."""
        self._write(self.encode_frame(frame))
        self.frames += 1
        self._time(frame.t)
        if not self.committed:
            self._first_written()

    def write_datagram(self, data: bytes, t: float) -> None:
        """Append one raw VMC datagram received at ``t`` seconds (recorder's clock)."""
        self._write(chunk(TAG_VMCD, _F64.pack(t) + bytes(data)))
        self.datagrams += 1
        self._time(t)
        if not self.committed:
            self._first_written()


# ------------------------------------------------------------------------------------ reader
@dataclass(frozen=True)
class Damage:
    """One damaged byte range ``[start, end)`` of a recording and what the reader lost there.

    ``skipped`` counts the frame (or datagram) chunks found in the range (by their marker);
    ``after`` is how many frames (datagrams) were read before it; ``truncated`` marks a torn
    tail (the file ends inside a chunk: a killed writer, not corruption)."""

    start: int
    end: int
    what: str
    skipped: int
    after: int
    truncated: bool = False


@dataclass
class Recording:
    """What a file holds: every intact chunk, past any damaged region.

    ``frames`` carry ``landmarks`` when the file has LMRK chunks; ``datagrams`` are
    ``(t, bytes)`` for VMC recordings; ``damage`` lists the damaged byte ranges (empty if clean)
    and ``error`` describes them in one message (None if clean); ``truncated`` is True when the
    only damage is a cut-off tail rather than a CRC/format error.
    """

    path: str
    header: dict[str, object]
    version: tuple[int, int]
    frames: list[AvatarFrame] = field(default_factory=list)
    datagrams: list[tuple[float, bytes]] = field(default_factory=list)
    end: dict[str, object] | None = None
    error: FormatError | None = None
    truncated: bool = False
    valid_bytes: int = 0
    damage: list[Damage] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return str(self.header.get("kind", "frames"))

    @property
    def fps(self) -> float:
        return float(self.header.get("fps", 30.0))  # type: ignore[arg-type]

    @property
    def duration(self) -> float:
        ts = [f.t for f in self.frames] or [t for t, _ in self.datagrams]
        return ts[-1] - ts[0] if ts else 0.0

    @property
    def skipped(self) -> int:
        """Frame (or datagram) chunks lost in damaged regions."""
        return sum(d.skipped for d in self.damage)


_KNOWN_TAGS = (TAG_FRAM, TAG_LMRK, TAG_VMCD, TAG_LAYT, TAG_NAME, TAG_END, TAG_HEAD, TAG_EVNT)
_UNIT_TAGS = (TAG_FRAM, TAG_LMRK, TAG_EVNT, TAG_VMCD)  # the bytes of frames / datagrams


def _check_chunk(data: bytes, pos: int) -> tuple[str, bool] | None:
    """None when a valid chunk (framing + CRC) starts at ``pos``; else (what is wrong, whether
    the file ends inside it)."""
    n = len(data)
    if n - pos < 12:
        return "truncated chunk header", True
    tag, length = _CHUNK_HEAD.unpack_from(data, pos)
    if not all(0x20 <= c <= 0x7E for c in tag):
        return f"invalid chunk tag {tag!r}", False
    if length > MAX_CHUNK:
        return f"implausible chunk length {length}", False
    name = tag.decode("ascii")
    if n - pos < 12 + length:
        return f"truncated {name} chunk", True
    end = pos + 8 + length
    if zlib.crc32(memoryview(data)[pos:end]) != _U32.unpack_from(data, end)[0]:
        return f"CRC mismatch in {name} chunk", False
    return None


def _resync(data: bytes, start: int) -> int | None:
    """Offset of the first valid chunk of a known type at or after ``start`` (found by its
    marker, confirmed by its CRC), or None."""
    finds: dict[bytes, int] = {}
    for t in _KNOWN_TAGS:
        i = data.find(t, start)
        if i >= 0:
            finds[t] = i
    while finds:
        t, i = min(finds.items(), key=lambda kv: kv[1])
        if _check_chunk(data, i) is None:
            return i
        j = data.find(t, i + 1)
        if j < 0:
            del finds[t]
        else:
            finds[t] = j
    return None


def _read_v1(rec: Recording, data: bytes, pos: int) -> None:
    # Until a HEAD is read, vtuber's own tables (what every vtuber writer declares).
    bone_table: list[Bone | None] = [Bone.__members__.get(b) for b in BONE_TABLE]
    blend: list[str] = list(BLENDSHAPE_KEYS)
    layouts: dict[int, tuple[struct.Struct, list[Bone | None], list[Bone | None], list[str]]] = {}
    have_head = False
    after_frame = False  # the chunk just before was a FRAM that was read (LMRK belongs to it)
    n = len(data)
    unit_bytes = 0  # bytes of the frame (or datagram) chunks read: sizes the damaged ranges
    exact: set[int] = set()  # damage records whose count is known (one invalid chunk)
    # Blendshape names declared after damage may be misaligned (a lost NAME chunk shifts later
    # ones): once a layout refers past the table, names from `names_at_damage` on are suspect.
    names_at_damage: int | None = None
    suspect_from: int | None = None

    def damaged(start: int, end: int, what: str, truncated: bool, skipped: int | None) -> None:
        nonlocal after_frame, names_at_damage
        after_frame = False
        if skipped is None:
            skipped = data.count(TAG_FRAM, start, end) + data.count(TAG_VMCD, start, end)
        done = len(rec.frames) + len(rec.datagrams)
        rec.damage.append(Damage(start, end, what, skipped, done, truncated))
        if names_at_damage is None:
            names_at_damage = len(blend)

    while pos < n:
        bad = _check_chunk(data, pos)
        if bad is not None:
            nxt = _resync(data, pos + 1)
            damaged(pos, n if nxt is None else nxt, bad[0], bad[1] and nxt is None, None)
            if nxt is None:
                break
            pos = nxt
            continue
        tag, length = _CHUNK_HEAD.unpack_from(data, pos)
        p = data[pos + 8 : pos + 8 + length]
        end = pos + 12 + length
        was_frame = after_frame
        after_frame = False
        try:
            if tag == TAG_HEAD:
                if not have_head and not rec.frames and not rec.datagrams:
                    header = json.loads(p.decode("utf-8"))
                    if not isinstance(header, dict):
                        raise ValueError("HEAD is not a JSON object")
                    names: list[object] = list(header.get("bones", []))
                    keys0: list[object] = list(header.get("blendshapes", []))
                    bone_table = [Bone.__members__.get(str(b)) for b in names]
                    blend = [str(k) for k in keys0]
                    rec.header = header
                    have_head = True
            elif tag == TAG_FRAM:
                lid = _U16.unpack_from(p)[0]
                st, bones, pos_b, keys = layouts[lid]
                if len(p) != st.size:
                    raise ValueError(f"FRAM size {len(p)} does not match layout {lid}")
                v = st.unpack(p)
                _, flags, _, index, t = v[:5]
                vals = v[5:]
                k = 7
                brot = {}
                for b in bones:
                    if b is not None:
                        brot[b] = vals[k : k + 4]
                    k += 4
                bpos = {}
                for b in pos_b:
                    if b is not None:
                        bpos[b] = vals[k : k + 3]
                    k += 3
                rec.frames.append(
                    AvatarFrame(
                        t=t,
                        index=index,
                        tracking=_tracking(flags),
                        bones=brot,  # type: ignore[arg-type]
                        positions=bpos,  # type: ignore[arg-type]
                        root_position=vals[0:3],  # type: ignore[arg-type]
                        root_rotation=vals[3:7],  # type: ignore[arg-type]
                        blendshapes=dict(zip(keys, vals[k:], strict=True)),
                    )
                )
                after_frame = True
            elif tag == TAG_VMCD:
                rec.datagrams.append((_F64.unpack_from(p)[0], bytes(p[8:])))
            elif tag == TAG_LAYT:
                lid = _U16.unpack_from(p)[0]
                q = 2
                nb = p[q]
                bones = [bone_table[i] for i in p[q + 1 : q + 1 + nb]]
                q += 1 + nb
                npos = p[q]
                pos_b = [bone_table[i] for i in p[q + 1 : q + 1 + npos]]
                q += 1 + npos
                (ns,) = _U16.unpack_from(p, q)
                idx = struct.unpack_from(f"<{ns}H", p, q + 2)
                if q + 2 + 2 * ns != len(p) or len(bones) != nb or len(pos_b) != npos:
                    raise ValueError("LAYT size mismatch")
                if suspect_from is not None and any(i >= suspect_from for i in idx):
                    raise ValueError("it names blendshapes declared after a lost NAME chunk")
                if any(i >= len(blend) for i in idx):
                    if names_at_damage is not None:  # a NAME chunk was lost in the damage
                        suspect_from = names_at_damage
                    raise ValueError("blendshape index outside the name table")
                keys = [blend[i] for i in idx]
                nvals = 4 * nb + 3 * npos + ns
                layouts[lid] = (struct.Struct(f"<HBBId{7 + nvals}f"), bones, pos_b, keys)
            elif tag == TAG_NAME:
                (cnt,) = _U16.unpack_from(p)
                q = 2
                added = []
                for _ in range(cnt):
                    (ln,) = _U16.unpack_from(p, q)
                    added.append(p[q + 2 : q + 2 + ln].decode("utf-8"))
                    q += 2 + ln
                if q != len(p):
                    raise ValueError("NAME size mismatch")
                blend += added
            elif tag == TAG_LMRK:
                if was_frame and rec.frames:
                    rec.frames[-1].landmarks = decode_landmarks(p)
                    after_frame = True  # an EVNT may follow
            elif tag == TAG_EVNT:
                if was_frame and rec.frames:
                    rec.frames[-1].events = decode_events(p)
            elif tag == TAG_END:
                rec.end = json.loads(p.decode("utf-8"))
            # unknown tags: skipped (CRC already checked)
        except (KeyError, IndexError, ValueError, struct.error, FormatError) as e:
            name = tag.decode("ascii")
            if isinstance(e, KeyError):
                e = ValueError(f"undeclared layout {e}")
            one = 1 if tag in (TAG_FRAM, TAG_VMCD) else 0
            exact.add(len(rec.damage))
            damaged(pos, end, f"invalid {name} chunk ({e})", False, one)
        else:
            rec.valid_bytes = end
            if tag in _UNIT_TAGS:
                unit_bytes += end - pos
        pos = end
    units = len(rec.frames) + len(rec.datagrams)
    if units and unit_bytes:
        rec.damage = [
            d if i in exact else replace(d, skipped=_lost(rec, d, unit_bytes / units))
            for i, d in enumerate(rec.damage)
        ]
    if not have_head and (rec.frames or rec.datagrams or layouts):
        # The header was lost: vtuber's own tables were assumed (they are what vtuber writes).
        rec.header = {
            "format": "vtuber-recording",
            "version": [MAJOR, MINOR],
            "kind": "vmc" if rec.datagrams and not rec.frames else "frames",
            "bones": list(BONE_TABLE),
            "blendshapes": list(BLENDSHAPE_KEYS),
            "header_lost": True,
        }


def _lost(rec: Recording, d: Damage, unit: float) -> int:
    """How many frames (datagrams) a damaged range held: at least the markers found in it; else
    its size over the average frame's bytes, capped by the gap in frame numbers around it."""
    est = max(d.skipped, round((d.end - d.start) / unit))
    if rec.frames and 0 < d.after < len(rec.frames):
        gap = rec.frames[d.after].index - rec.frames[d.after - 1].index - 1
        if gap >= d.skipped:
            est = min(est, gap)
    return est


def _describe(rec: Recording) -> None:
    """Sets ``rec.error`` (one message naming every damaged range) and ``rec.truncated``."""
    if not rec.damage:
        return
    vmc = bool(rec.datagrams) or rec.header.get("kind") == "vmc"
    unit = "datagram" if vmc else "frame"

    def count(n: int) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'}"

    parts = []
    for d in rec.damage[:3]:
        rng = f"bytes {d.start}-{d.end - 1}" if d.end > d.start else f"byte {d.start}"
        parts.append(
            f"{d.what} at byte {d.start} (after {unit} {d.after}): damaged {rng}, "
            f"{count(d.skipped)} skipped"
        )
    if len(rec.damage) > 3:
        parts.append(f"{len(rec.damage) - 3} more damaged regions")
    usable = len(rec.datagrams) if vmc else len(rec.frames)
    total = f" ({count(rec.skipped)} skipped in all)" if len(rec.damage) > 1 else ""
    rec.truncated = len(rec.damage) == 1 and rec.damage[0].truncated
    rec.error = FormatError(
        f"{rec.path}: {'; '.join(parts)}; {count(usable)} {'is' if usable == 1 else 'are'} "
        f"usable{total}"
    )


_READERS: dict[int, Callable[[Recording, bytes, int], None]] = {1: _read_v1}


def parse_recording(data: bytes, name: str = "<bytes>") -> Recording:
    """Parse a recording's bytes. Raises FormatError only when nothing is usable (not a
    recording, unknown major version, no intact chunk); damage goes to ``Recording.damage`` and
    ``Recording.error``."""
    pre: list[Damage] = []
    if len(data) >= _FILE_HEAD.size and data[:8] == MAGIC:
        _, major, minor = _FILE_HEAD.unpack_from(data)
        reader = _READERS.get(major)
        if reader is None:
            raise FormatError(
                f"{name}: recording format version {major}.{minor} is newer than this vtuber "
                f"understands (major {sorted(_READERS)})"
            )
        pos = _FILE_HEAD.size
    else:
        # A damaged signature: still a recording if intact chunks follow (their CRCs say so).
        nxt = _resync(data, 0) if len(data) >= 12 else None
        if nxt is None:
            raise FormatError(f"{name}: not a vtuber recording (no VTUBEREC magic at byte 0)")
        major, minor, reader, pos = MAJOR, MINOR, _read_v1, nxt
        pre.append(Damage(0, nxt, "damaged file signature", 0, 0))
    rec = Recording(path=name, header={}, version=(major, minor), damage=pre)
    reader(rec, data, pos)
    _describe(rec)
    if not rec.header:
        raise FormatError(str(rec.error) if rec.error else f"{name}: no header")
    return rec


def read_recording(path: str | Path) -> Recording:
    """Read a ``.vtrec`` file (see :func:`parse_recording`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SourceError(f"cannot read recording {path}: {e.strerror}") from e
    return parse_recording(data, str(path))


def now() -> float:
    """The recorder's clock (seconds, monotonic)."""
    return time.perf_counter()
