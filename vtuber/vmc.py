"""VMC protocol: AvatarFrame -> OSC bundles and back (pure functions, no sockets).

The mapping is specified in docs/vmc.md. One frame becomes, in this order:
``/VMC/Ext/Root/Pos``, one ``/VMC/Ext/Bone/Pos`` per humanoid bone (all 55, rest pose filled in),
``/VMC/Ext/Blend/Val`` per blendshape (VRM 1.0 presets are sent under their VRM 0.x name AND their
VRM 1.0 name, as the spec asks; ARKit names as they are), ``/VMC/Ext/Blend/Apply``,
``/VMC/Ext/OK`` (loaded=1, calibState=3, calibMode=0, trackingStatus=1 while the face or body is
tracked, else 0) and ``/VMC/Ext/T``. Messages are packed in order into OSC bundles of at most
:data:`MAX_DATAGRAM` bytes.

python-osc's builders are the reference encoder; the per-frame path here writes the same bytes from
precomputed message prefixes (python-osc takes ~1.3 ms to build the 55 bone messages of one frame,
the precomputed path ~0.1 ms), and a bone the frame leaves at its rest pose (51 of 55 in face
mode) is one precomputed message; each message is kept with its OSC size prefix, ready for the
bundle (0.050 -> 0.026 ms a face-mode frame, docs/performance.md). tests/test_vmc.py checks byte
equality against python-osc.

Decoding (:class:`VMCDecoder`, fed datagrams in arrival order) turns a VMC stream from any sender
back into AvatarFrames: used by ``vtuber replay`` of ``record-vmc`` recordings into the viewer and
by the exporters. :func:`shift_vmc_time` moves a recorded stream's ``/VMC/Ext/T`` values in place
(``vtuber replay`` of a looped or trimmed ``record-vmc`` recording).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from vtuber.rig import (
    BONE_ORDER,
    IDENTITY,
    REST_POSE,
    TPOSE_OFFSETS,
    VRM0_TO_VRM1,
    VRM1_TO_VRM0,
    AvatarFrame,
    Bone,
    Tracking,
)

MAX_DATAGRAM = 1500  # bytes: one Ethernet MTU, as the VMC spec asks
DEFAULT_PORT = 39539  # marionette (receiver) port

ADDR_ROOT = "/VMC/Ext/Root/Pos"
ADDR_BONE = "/VMC/Ext/Bone/Pos"
ADDR_BLEND_VAL = "/VMC/Ext/Blend/Val"
ADDR_BLEND_APPLY = "/VMC/Ext/Blend/Apply"
ADDR_OK = "/VMC/Ext/OK"
ADDR_TIME = "/VMC/Ext/T"
ADDR_KEY = "/VMC/Ext/Key"  # int active (1 pressed, 0 released), string name, int keycode

_BUNDLE_HEAD = b"#bundle\x00" + struct.pack(">Q", 1)  # time tag 1 = "immediately"
_F7 = struct.Struct(">7f")
_F1 = struct.Struct(">f")
_I4 = struct.Struct(">4i")
_SIZE = struct.Struct(">i")


def osc_string(s: str) -> bytes:
    """OSC string: UTF-8, NUL-terminated, padded to a multiple of 4 bytes."""
    b = s.encode("utf-8") + b"\x00"
    return b + b"\x00" * (-len(b) % 4)


def _prefix(address: str, tags: str, name: str | None = None) -> bytes:
    p = osc_string(address) + osc_string("," + tags)
    return p + osc_string(name) if name is not None else p


_BONE_PREFIX = {b: _prefix(ADDR_BONE, "sfffffff", b.name) for b in Bone}
_ROOT_PREFIX = _prefix(ADDR_ROOT, "sfffffff", "root")
_BLEND_PREFIX: dict[str, bytes] = {}
_APPLY = _prefix(ADDR_BLEND_APPLY, "")
_OK_PREFIX = _prefix(ADDR_OK, "iiii")
# /VMC/Ext/OK arguments after "loaded" (V2.5): calibration state 3 = calibrated, mode 0 = normal.
CALIB_STATE_CALIBRATED = 3
CALIB_MODE_NORMAL = 0
_T_PREFIX = _prefix(ADDR_TIME, "f")
_KEY_TAGS = osc_string(ADDR_KEY) + osc_string(",isi")
_I1 = struct.Struct(">i")


def key_message(active: bool, name: str, keycode: int = 0) -> bytes:
    """``/VMC/Ext/Key`` (int active: 1 pressed / 0 released, string name, int keycode): the
    key event a gesture sends (docs/gestures.md) so a receiver's hotkeys fire."""
    return _KEY_TAGS + _I1.pack(1 if active else 0) + osc_string(name) + _I1.pack(int(keycode))


def _blend_prefix(name: str) -> bytes:
    p = _BLEND_PREFIX.get(name)
    if p is None:
        p = _BLEND_PREFIX[name] = _prefix(ADDR_BLEND_VAL, "sf", name)
    return p


def blendshape_names(key: str) -> tuple[str, ...]:
    """The VMC names a frame key is sent under (VRM 0.x first for VRM 1.0 presets)."""
    v0 = VRM1_TO_VRM0.get(key)
    return (v0, key) if v0 is not None else (key,)


def _sized(message: bytes) -> bytes:
    """A message with the OSC size prefix it carries inside a bundle."""
    return _SIZE.pack(len(message)) + message


# The per-frame path builds "sized" messages (size prefix + message, as a bundle holds them).
# A blendshape value message is 4 + len(prefix) + 4 bytes: the size prefix is constant per name.
_SIZED_BONE_PREFIX = {b: _SIZE.pack(len(p) + _F7.size) + p for b, p in _BONE_PREFIX.items()}
# A bone at rest (not in the frame's bones nor positions) is sent as the same bytes every frame.
_SIZED_REST_BONE = {
    b: _SIZED_BONE_PREFIX[b] + _F7.pack(*TPOSE_OFFSETS[b], *REST_POSE.get(b, IDENTITY))
    for b in BONE_ORDER
}
_SIZED_ROOT_PREFIX = _SIZE.pack(len(_ROOT_PREFIX) + _F7.size) + _ROOT_PREFIX
_SIZED_APPLY = _sized(_APPLY)
_SIZED_OK_PREFIX = _SIZE.pack(len(_OK_PREFIX) + _I4.size) + _OK_PREFIX
_SIZED_T_PREFIX = _SIZE.pack(len(_T_PREFIX) + _F1.size) + _T_PREFIX
_SIZED_BLEND: dict[str, tuple[bytes, ...]] = {}  # frame key -> its sized name prefixes


def _sized_blend(key: str) -> tuple[bytes, ...]:
    """The sized ``/VMC/Ext/Blend/Val`` prefixes (size, address, tags, name) a frame key is sent
    under, in :func:`blendshape_names` order."""
    out = _SIZED_BLEND.get(key)
    if out is None:
        out = _SIZED_BLEND[key] = tuple(
            _SIZE.pack(len(p) + _F1.size) + p for p in map(_blend_prefix, blendshape_names(key))
        )
    return out


def _sized_messages(frame: AvatarFrame, time_s: float | None) -> list[bytes]:
    """The frame's messages in the documented order, each with its size prefix."""
    rp, rq = frame.root_position, frame.root_rotation
    out = [_SIZED_ROOT_PREFIX + _F7.pack(rp[0], rp[1], rp[2], rq[0], rq[1], rq[2], rq[3])]
    bones, positions, pack = frame.bones, frame.positions, _F7.pack
    if not bones and not positions:
        out.extend(_SIZED_REST_BONE.values())
    else:
        for b in BONE_ORDER:
            # The same choice as AvatarFrame.bone / .position (a missing or empty entry: rest).
            q = bones.get(b)
            p = positions.get(b)
            if not q and not p:
                out.append(_SIZED_REST_BONE[b])
                continue
            q = q or REST_POSE.get(b, IDENTITY)
            p = p or TPOSE_OFFSETS[b]
            out.append(_SIZED_BONE_PREFIX[b] + pack(p[0], p[1], p[2], q[0], q[1], q[2], q[3]))
    pack1 = _F1.pack
    for key, value in frame.blendshapes.items():
        packed = pack1(value)
        for prefix in _SIZED_BLEND.get(key) or _sized_blend(key):
            out.append(prefix + packed)
    out.append(_SIZED_APPLY)
    for ev in frame.events:  # gesture key events (docs/gestures.md), before OK and T
        if ev.kind == "key":
            out.append(_sized(key_message(ev.active, ev.name, ev.keycode)))
    tracking = 1 if frame.tracking.face or frame.tracking.body else 0
    out.append(_SIZED_OK_PREFIX + _I4.pack(1, CALIB_STATE_CALIBRATED, CALIB_MODE_NORMAL, tracking))
    out.append(_SIZED_T_PREFIX + pack1(frame.t if time_s is None else time_s))
    return out


def frame_messages(frame: AvatarFrame, time_s: float | None = None) -> list[bytes]:
    """Encode one frame as a list of OSC messages, in the documented order.

    Args:
        frame: the avatar frame.
        time_s: value of ``/VMC/Ext/T`` in seconds (default: ``frame.t``). Replay passes a
            monotonic time here when looping.
    """
    return [m[4:] for m in _sized_messages(frame, time_s)]


def bundle(messages: Iterable[bytes]) -> bytes:
    """Wrap messages in one OSC bundle with time tag 'immediately'."""
    parts = [_BUNDLE_HEAD]
    for m in messages:
        parts.append(_SIZE.pack(len(m)))
        parts.append(m)
    return b"".join(parts)


def _pack_sized(sized: list[bytes], limit: int) -> list[bytes]:
    """Pack sized messages (each already carrying its size prefix), in order, into as few
    bundles of at most ``limit`` bytes as possible. A single message longer than the limit
    (impossible for the messages vtuber sends) goes alone."""
    out: list[bytes] = []
    head = len(_BUNDLE_HEAD)
    start, size = 0, head
    for i, m in enumerate(sized):
        need = len(m)
        if i > start and size + need > limit:
            out.append(_BUNDLE_HEAD + b"".join(sized[start:i]))
            start, size = i, head
        size += need
    if start < len(sized):
        out.append(_BUNDLE_HEAD + b"".join(sized[start:]))
    return out


def encode_frame(frame: AvatarFrame, time_s: float | None = None) -> list[bytes]:
    """AvatarFrame -> the datagrams to send (each an OSC bundle of at most 1500 bytes)."""
    return _pack_sized(_sized_messages(frame, time_s), MAX_DATAGRAM)


class VMCDecoder:
    """A VMC stream -> AvatarFrames. Bones, blendshapes and the root accumulate across messages
    (senders may spread a frame over several datagrams); a frame is emitted at each ``boundary``
    message (``/VMC/Ext/T`` by default; :func:`frame_boundary` picks ``/VMC/Ext/Blend/Apply``
    for senders that never send T), stamped with the time passed to :meth:`feed`. VRM 0.x
    blendshape names become the frame's VRM 1.0 keys. Unknown addresses and malformed datagrams
    are skipped (``skipped`` counts the datagrams)."""

    def __init__(self, boundary: str = ADDR_TIME) -> None:
        self.boundary = boundary
        self.bones: dict[Bone, tuple[float, float, float, float]] = {}
        self.positions: dict[Bone, tuple[float, float, float]] = {}
        self.blend: dict[str, float] = {}
        self.root_p: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.root_q: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
        self.ok = True
        self.count = 0
        self.skipped = 0

    def feed(self, data: bytes, t: float) -> list[AvatarFrame]:
        """Decode one datagram (a message or a bundle); returns the frames it completes."""
        from pythonosc.osc_packet import OscPacket, ParseError

        try:
            msgs = [m.message for m in OscPacket(data).messages]
        except (ParseError, ValueError, IndexError, struct.error):
            self.skipped += 1
            return []
        out: list[AvatarFrame] = []
        for m in msgs:
            a, p = m.address, m.params
            try:
                if a == ADDR_BONE and len(p) >= 8 and p[0] in Bone.__members__:
                    b = Bone[p[0]]
                    self.positions[b] = (float(p[1]), float(p[2]), float(p[3]))
                    self.bones[b] = (float(p[4]), float(p[5]), float(p[6]), float(p[7]))
                elif a == ADDR_ROOT and len(p) >= 8:
                    self.root_p = (float(p[1]), float(p[2]), float(p[3]))
                    self.root_q = (float(p[4]), float(p[5]), float(p[6]), float(p[7]))
                elif a == ADDR_BLEND_VAL and len(p) >= 2:
                    name = str(p[0])
                    self.blend[VRM0_TO_VRM1.get(name, name)] = float(p[1])
                elif a == ADDR_OK and p:
                    self.ok = bool(p[0])
            except (TypeError, ValueError):
                continue
            if a == self.boundary:
                out.append(
                    AvatarFrame(
                        t=t,
                        index=self.count,
                        tracking=Tracking(face=self.ok),
                        bones=dict(self.bones),
                        positions=dict(self.positions),
                        root_position=self.root_p,
                        root_rotation=self.root_q,
                        blendshapes=dict(self.blend),
                    )
                )
                self.count += 1
        return out


def shift_vmc_time(datagram: bytes, shift: float) -> bytes:
    """The datagram with every ``/VMC/Ext/T`` value increased by ``shift`` seconds (other bytes
    unchanged). Works on single messages and bundles: the message is found by its address."""
    if shift == 0 or _T_PREFIX not in datagram:
        return datagram
    out = bytearray(datagram)
    at = out.find(_T_PREFIX)
    while at >= 0:
        v = at + len(_T_PREFIX)
        if v + 4 <= len(out):
            (t,) = _F1.unpack_from(out, v)
            _F1.pack_into(out, v, t + shift)
        at = out.find(_T_PREFIX, v)
    return bytes(out)


def frame_boundary(datagrams: Iterable[bytes]) -> str:
    """The message that ends a frame in this stream: ``/VMC/Ext/T`` when the sender sends it,
    else ``/VMC/Ext/Blend/Apply``."""
    t_msg = osc_string(ADDR_TIME)
    return ADDR_TIME if any(t_msg in d for d in datagrams) else ADDR_BLEND_APPLY
