"""Exporters: a recording's frames to BVH, VRMA (VRM Animation) and JSON Lines.

Shared here: the Unity -> right-handed basis conversion and decoding raw VMC recordings into frames.
Unity's basis is left-handed (x right, y up, z forward); the exports use a right-handed basis with
y up obtained by negating x — the convention of UniVRM for VRM 1.0 / glTF: a position
``(x, y, z)`` becomes ``(-x, y, z)`` and a rotation ``(x, y, z, w)`` becomes ``(x, -y, -z, w)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vtuber.recording import Recording
from vtuber.rig import AvatarFrame, Bone, Tracking

FORMATS = ("bvh", "vrma", "jsonl")


def unity_to_rh_pos(p: Sequence[float]) -> tuple[float, float, float]:
    """Unity (left-handed) position -> right-handed, y up (x negated)."""
    return (-float(p[0]), float(p[1]), float(p[2]))


def unity_to_rh_quat(q: Sequence[float]) -> tuple[float, float, float, float]:
    """Unity (left-handed) rotation (x, y, z, w) -> right-handed, y up (x negated)."""
    return (float(q[0]), -float(q[1]), -float(q[2]), float(q[3]))


def unity_to_rh_quats(q: np.ndarray) -> np.ndarray:
    """Vectorized :func:`unity_to_rh_quat` over (..., 4) arrays."""
    return q * np.array([1.0, -1.0, -1.0, 1.0], dtype=q.dtype)


def recording_frames(rec: Recording) -> list[AvatarFrame]:
    """The frames of a recording; for raw VMC recordings, frames decoded from the datagrams."""
    if rec.kind == "vmc":
        return frames_from_vmc(rec.datagrams)
    return rec.frames


def frames_from_vmc(datagrams: Sequence[tuple[float, bytes]]) -> list[AvatarFrame]:
    """Decode a raw VMC stream into frames: bones, blendshapes and root accumulate, and a frame
    is emitted at each ``/VMC/Ext/T`` (or, for senders that never send it, at each
    ``/VMC/Ext/Blend/Apply``), stamped with the datagram's arrival time. Unknown addresses and
    malformed datagrams are skipped."""
    from pythonosc.osc_packet import OscPacket, ParseError

    from vtuber.rig import VRM0_TO_VRM1

    has_t = any(b"/VMC/Ext/T\x00" in d for _, d in datagrams)
    boundary = "/VMC/Ext/T" if has_t else "/VMC/Ext/Blend/Apply"
    bones: dict[Bone, tuple[float, float, float, float]] = {}
    positions: dict[Bone, tuple[float, float, float]] = {}
    blend: dict[str, float] = {}
    root_p: tuple[float, float, float] = (0.0, 0.0, 0.0)
    root_q: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    ok = True
    out: list[AvatarFrame] = []
    for t, data in datagrams:
        try:
            msgs = [m.message for m in OscPacket(data).messages]
        except (ParseError, ValueError, IndexError):
            continue
        for m in msgs:
            a, p = m.address, m.params
            try:
                if a == "/VMC/Ext/Bone/Pos" and len(p) >= 8 and p[0] in Bone.__members__:
                    b = Bone[p[0]]
                    positions[b] = (p[1], p[2], p[3])
                    bones[b] = (p[4], p[5], p[6], p[7])
                elif a == "/VMC/Ext/Root/Pos" and len(p) >= 8:
                    root_p, root_q = (p[1], p[2], p[3]), (p[4], p[5], p[6], p[7])
                elif a == "/VMC/Ext/Blend/Val" and len(p) >= 2:
                    name = str(p[0])
                    if name in VRM0_TO_VRM1:  # VRM 0.x names -> the frame's VRM 1.0 keys
                        name = VRM0_TO_VRM1[name]
                    blend[name] = float(p[1])
                elif a == "/VMC/Ext/OK" and p:
                    ok = bool(p[0])
            except (TypeError, ValueError):
                continue
            if a == boundary:
                out.append(
                    AvatarFrame(
                        t=t,
                        index=len(out),
                        tracking=Tracking(face=ok),
                        bones=dict(bones),
                        positions=dict(positions),
                        root_position=root_p,
                        root_rotation=root_q,
                        blendshapes=dict(blend),
                    )
                )
    return out
