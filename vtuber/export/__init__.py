"""Exporters: a recording's frames to BVH, VRMA (VRM Animation) and JSON Lines.

Shared here: the Unity -> right-handed basis conversion, decoding raw VMC recordings into frames
(:mod:`vtuber.vmc` does the decoding) and resampling frames to a fixed rate (BVH is fixed-rate).
Unity's basis is left-handed (x right, y up, z forward); the exports use a right-handed basis with
y up obtained by negating x — the convention of UniVRM for VRM 1.0 / glTF: a position
``(x, y, z)`` becomes ``(-x, y, z)`` and a rotation ``(x, y, z, w)`` becomes ``(x, -y, -z, w)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vtuber import quat
from vtuber.errors import ConfigError
from vtuber.recording import Recording
from vtuber.rig import AvatarFrame, Bone
from vtuber.vmc import VMCDecoder, frame_boundary

FORMATS = ("bvh", "vrma", "jsonl")


def unity_to_rh_pos(p: Sequence[float]) -> tuple[float, float, float]:
    """Unity (left-handed) position -> right-handed, y up (x negated)."""
    return (-float(p[0]), float(p[1]), float(p[2]))


def unity_to_rh_quats(q: np.ndarray) -> np.ndarray:
    """Unity (left-handed) rotations (..., 4) -> right-handed, y up (x negated): for a rotation,
    negating x is the reflection through the YZ plane, :func:`vtuber.quat.mirror_x`."""
    return quat.mirror_x(q)


def recording_frames(rec: Recording) -> list[AvatarFrame]:
    """The frames of a recording; for raw VMC recordings, frames decoded from the datagrams."""
    return decode_recording(rec)[0]


def decode_recording(rec: Recording) -> tuple[list[AvatarFrame], int]:
    """:func:`recording_frames` and how many datagrams were junk (not OSC: skipped), for the
    one-line summary the export command prints."""
    if rec.kind != "vmc":
        return rec.frames, 0
    dec = VMCDecoder(frame_boundary(d for _, d in rec.datagrams))
    out: list[AvatarFrame] = []
    for t, data in rec.datagrams:
        out.extend(dec.feed(data, t))
    return out, dec.skipped


def median_rate(frames: Sequence[AvatarFrame], default: float = 30.0) -> float:
    """Frames per second from the median interval between frame times (robust to dropped
    frames); ``default`` when it cannot be told (one frame, or no positive interval)."""
    if len(frames) < 2:
        return default
    steps = np.diff([f.t for f in frames])
    steps = steps[steps > 0]
    return float(1.0 / np.median(steps)) if len(steps) else default


def resample(frames: Sequence[AvatarFrame], fps: float) -> list[AvatarFrame]:
    """The motion at the fixed times ``t0 + k / fps`` for k = 0 .. round(duration * fps), so a
    take with dropped or late frames keeps its real duration (within half a frame) and speed.

    Between two recorded frames, bone and root rotations are slerped, positions and blendshape
    weights interpolated linearly (a blendshape a frame does not carry counts as 0); each output
    frame carries every bone any input frame carries (the rest pose where one did not) and the
    tracking flags of the nearer input frame."""
    if not fps > 0 or not np.isfinite(fps) or fps > 1000:
        raise ConfigError(f"--fps must be between 0 and 1000, not {fps}")
    if len(frames) < 2:
        return list(frames)
    ts = np.array([f.t for f in frames], dtype=np.float64)
    if np.any(np.diff(ts) < 0):
        order = np.argsort(ts, kind="stable")
        frames = [frames[i] for i in order]
        ts = ts[order]
    n_out = int(round((ts[-1] - ts[0]) * fps)) + 1
    out_t = ts[0] + np.arange(n_out) / fps
    i0 = np.clip(np.searchsorted(ts, out_t, side="right") - 1, 0, len(ts) - 2)
    i1 = i0 + 1
    span = ts[i1] - ts[i0]
    a = np.clip((out_t - ts[i0]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    a = np.where(span > 0, a, 0.0)

    bones = [b for b in Bone if any(b in f.bones for f in frames)]
    q = np.array([[f.bone(b) for b in bones] for f in frames], dtype=np.float64)
    q_out = quat.slerp(q[i0], q[i1], a[:, None]) if bones else np.zeros((n_out, 0, 4))
    pos_bones = [b for b in Bone if any(b in f.positions for f in frames)]
    p = np.array([[f.position(b) for b in pos_bones] for f in frames], dtype=np.float64)
    p_out = p[i0] + (p[i1] - p[i0]) * a[:, None, None] if pos_bones else np.zeros((n_out, 0, 3))
    rp = np.array([f.root_position for f in frames], dtype=np.float64)
    rp_out = rp[i0] + (rp[i1] - rp[i0]) * a[:, None]
    rq = np.array([f.root_rotation for f in frames], dtype=np.float64)
    rq_out = quat.slerp(rq[i0], rq[i1], a)
    keys: list[str] = []
    for f in frames:
        keys.extend(k for k in f.blendshapes if k not in keys)
    w = np.array([[f.blendshapes.get(k, 0.0) for k in keys] for f in frames], dtype=np.float64)
    w_out = w[i0] + (w[i1] - w[i0]) * a[:, None] if keys else np.zeros((n_out, 0))

    out: list[AvatarFrame] = []
    for k in range(n_out):
        near = frames[int(i1[k]) if a[k] >= 0.5 else int(i0[k])]
        out.append(
            AvatarFrame(
                t=float(out_t[k]),
                index=k,
                tracking=near.tracking,
                bones={b: tuple(map(float, q_out[k, j])) for j, b in enumerate(bones)},  # type: ignore[misc]
                positions={b: tuple(map(float, p_out[k, j])) for j, b in enumerate(pos_bones)},  # type: ignore[misc]
                root_position=tuple(map(float, rp_out[k])),  # type: ignore[arg-type]
                root_rotation=tuple(map(float, rq_out[k])),  # type: ignore[arg-type]
                blendshapes={name: float(w_out[k, j]) for j, name in enumerate(keys)},
            )
        )
    return out
