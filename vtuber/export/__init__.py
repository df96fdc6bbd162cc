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
from vtuber.rig import AvatarFrame
from vtuber.vmc import decode_frames

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
    """Decode a raw VMC stream into frames (kept for callers; the decoder lives in
    :func:`vtuber.vmc.decode_frames`)."""
    return decode_frames(datagrams)
