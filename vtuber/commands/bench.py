"""``vtuber bench``: per-stage timing of the real pipeline on a file, next to bare MediaPipe.

Runs the same code path as ``vtuber track --fast`` (decode on its own thread, landmarks, solve,
smoothing, mirror, VMC encode + UDP send to a loopback receiver) and then, on the same decoded
frames, the landmark backend alone — the reference our own overhead is measured against.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time

import numpy as np

from vtuber.commands import track
from vtuber.commands.smoothing_args import smoothing_config
from vtuber.errors import ConfigError
from vtuber.pipeline import Pipeline
from vtuber.sinks.vmc import VMCSink
from vtuber.smoothing import make_smoother
from vtuber.sources import open_source


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench",
        help="time every pipeline stage on a video file",
        description="Time decode, landmarks, solve, smoothing and send on a video, report the "
        "end-to-end fps and latency, and the bare landmark model on the same frames.",
    )
    track.add_track_args(p)
    p.add_argument(
        "--frames", type=int, default=600, help="frames to measure, looping the clip (default 600)"
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(fast=True)
    return p


def _bare_inference_ms(args: argparse.Namespace, n: int) -> float:
    """Mean ms per frame of the landmark backend alone, on the first n frames (pre-decoded)."""
    src = open_source(args.source, fast=True)
    with src:
        frames = []
        for f in src:
            frames.append(f)
            if len(frames) >= n:
                break
    backend = track.make_backend(args, src)
    try:
        backend.process(frames[0].image, frames[0].t)  # warm-up (model start-up)
        t0 = time.perf_counter()
        for f in frames[1:]:
            backend.process(f.image, f.t)
        dt = time.perf_counter() - t0
    finally:
        backend.close()
    return 1000.0 * dt / max(1, len(frames) - 1)


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        raise ConfigError("bench needs --source FILE (a video file or image folder)")
    args.fast = True
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sink = VMCSink([rx.getsockname()[:2]])
    # Loop short clips so that the figures are steady-state ones (start-up amortised).
    src = open_source(args.source, fast=True, loop=True)
    backend = track.make_backend(args, src)
    tracker = track.make_tracker(args)
    smoother = make_smoother(smoothing_config(args))
    try:
        with src, sink:
            pipe = Pipeline(src, backend, tracker, [sink], mirror=args.mirror, smoother=smoother)
            stats = pipe.run(max_frames=args.frames)
    finally:
        backend.close()
        rx.close()
    bare = _bare_inference_ms(args, min(stats.frames, args.frames))
    ms = stats.stage_ms()
    ours = ms["solve"] + ms["smooth"] + ms["send"]
    res = {
        "source": args.source,
        "mode": args.mode,
        "frames": stats.frames,
        "faces": stats.faces,
        "fps": round(stats.fps, 1),
        "stage_ms": {k: round(v, 3) for k, v in ms.items()},
        "ours_ms": round(ours, 3),
        "ours_cpu_ms": round(1000.0 * float(np.mean(stats.ours_cpu)), 3) if stats.ours_cpu else 0,
        "bare_landmarks_ms": round(bare, 3),
        "latency_ms_p50": round(stats.latency_ms(50), 2),
        "latency_ms_p95": round(stats.latency_ms(95), 2),
        "vmc_datagrams": sink.datagrams,
    }
    if args.json:
        print(json.dumps(res))
        return 0
    out = sys.stdout
    out.write(f"source      {res['source']}  ({stats.frames} frames, face in {stats.faces})\n")
    out.write(f"mode        {args.mode}\n")
    for k, v in ms.items():
        out.write(f"  {k:<10}{v:8.3f} ms/frame\n")
    out.write(f"ours        {ours:8.3f} ms/frame (solve + smooth + send, wall)\n")
    out.write(
        f"ours CPU    {res['ours_cpu_ms']:8.3f} ms/frame (the same work, this thread's CPU time)\n"
    )
    out.write(f"bare model  {bare:8.3f} ms/frame (landmark backend alone, same frames)\n")
    out.write(f"end-to-end  {stats.fps:8.1f} fps\n")
    out.write(
        f"latency     p50 {res['latency_ms_p50']:.1f} ms, p95 {res['latency_ms_p95']:.1f} ms "
        "(frame decoded -> sent)\n"
    )
    return 0
