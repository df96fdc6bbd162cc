"""A live session for minutes: capture -> datagram latency over time, and the tracker's memory.

Usage: .venv/bin/python benchmarks/bench_live.py [--minutes 10] [--fps 30] [--mode face]
       [--face-model facemesh] [--serial] [--json] [--window 60 (seconds per "minute")]

There is no camera on this machine, so the camera is the shared clip played through
CameraSource's documented camera seam (``capture=``, vtuber/sources.py): a capture object that
delivers the clip's frames (resized to 640x480, looped) at ``--fps`` like a webcam, decoding in
the camera's thread as a camera driver would. Everything after ``read()`` is vtuber's live path:
the newest-frame slot, the landmark model one frame ahead (vtuber/lookahead.py; ``--serial``:
on the pipeline's thread instead), tracker, smoothing, mirror, VMC over UDP to a loopback
receiver. Per minute it prints the frames, fps, capture -> sent latency (p50/p95), the model's
own time (p50/p95) and the process's RSS, and (look-ahead) where each frame's latency went:
``wait`` (captured -> the model took it), ``model``, ``after`` (the model finished -> its last
datagram sent: the hand-over to the pipeline's thread, solve, smooth, mirror, encode, send),
each as p50/p95. At the end: RSS at the last minute vs the first, and
the latency p95 of the last minute vs the first (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from typing import Any

import cv2
import numpy as np
from _common import CLIP

from vtuber.commands.smoothing_args import smoothing_config
from vtuber.commands.track import make_backend, make_tracker, single_threaded_opencv
from vtuber.lookahead import LookAhead
from vtuber.pipeline import Pipeline
from vtuber.sinks.vmc import VMCSink
from vtuber.smoothing import make_smoother
from vtuber.sources import CameraSource


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class ClipCamera:
    """A webcam stand-in: the clip's frames at ``fps``, 640x480, looped (OpenCV's capture API)."""

    def __init__(self, path: str, fps: float) -> None:
        self.path = path
        self.period = 1.0 / fps
        self.cap = cv2.VideoCapture(path)
        self.next_t = time.perf_counter()
        self.frames = 0

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return bool(self.cap.isOpened())

    def read(self) -> tuple[bool, Any]:
        self.next_t += self.period
        delay = self.next_t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            self.next_t = time.perf_counter()  # late: do not burst to catch up
        ok, img = self.cap.read()
        if not ok:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, img = self.cap.read()
        self.frames += 1
        return ok, cv2.resize(img, (640, 480), interpolation=cv2.INTER_AREA) if ok else None

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 1.0 / self.period if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.cap.release()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--window", type=float, default=60.0, help="seconds per report (60)")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--mode", default="face", choices=("face", "full"))
    ap.add_argument("--face-model", default="facemesh", choices=("facemesh", "landmarker"))
    ap.add_argument("--serial", action="store_true", help="no look-ahead thread")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not CLIP.is_file():
        sys.exit(f"bench_live: clip not found: {CLIP} (the shared data set)")
    targs = argparse.Namespace(
        mode=args.mode, face_model=args.face_model, mirror=True, fov=60.0, profile=None,
        smoothing=None, no_smoothing=False, config=None,
    )  # fmt: skip
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.settimeout(0.2)
    received = [0]
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            try:
                rx.recv(65536)
                received[0] += 1
            except (TimeoutError, OSError):
                continue

    threading.Thread(target=drain, daemon=True).start()
    single_threaded_opencv()  # as `vtuber track` runs
    cam = ClipCamera(str(CLIP), args.fps)
    src = CameraSource(0, capture=lambda index: cam)
    backend = make_backend(targs, src)
    ahead = None if args.serial else LookAhead(src, backend, history=4000)
    sink = VMCSink([("127.0.0.1", rx.getsockname()[1])])
    sink.open()
    minutes: list[dict[str, float]] = []
    t_start = time.perf_counter()
    mark = {"t": t_start, "frames": 0}
    model_times: list[float] = []
    split: dict[str, list[float]] = {"wait": [], "model": [], "after": []}

    def on_frame(av, lm, frame) -> bool:  # type: ignore[no-untyped-def]
        now = time.perf_counter()
        if ahead is not None and pipe.stats.latencies:
            t0, t1 = ahead.times
            sent = frame.t_capture + pipe.stats.latencies[-1]
            split["wait"].append(t0 - frame.t_capture)
            split["model"].append(t1 - t0)
            split["after"].append(sent - t1)
        if now - mark["t"] < args.window:
            return True
        st = pipe.stats
        n = max(1, st.frames - int(mark["frames"]))  # this window's frames (the newest kept)
        lat = np.array(st.latencies[-n:]) * 1000.0
        if ahead is not None:
            mod = np.array(list(ahead.model_s)[-len(lat) :]) * 1000.0
        else:
            mod = np.array(st.stage_times["landmarks"][-len(lat) :]) * 1000.0
        rec = {
            "minute": len(minutes) + 1,
            "frames": st.frames - mark["frames"],
            "fps": round((st.frames - mark["frames"]) / (now - mark["t"]), 1),
            "latency_p50_ms": round(float(np.percentile(lat, 50)), 2),
            "latency_p95_ms": round(float(np.percentile(lat, 95)), 2),
            "model_p50_ms": round(float(np.percentile(mod, 50)), 2),
            "model_p95_ms": round(float(np.percentile(mod, 95)), 2),
            "rss_mb": round(rss_mb(), 1),
            "load_avg_1min": round(os.getloadavg()[0], 2),
        }
        for k, v in split.items():
            if v:
                a = np.array(v) * 1000.0
                rec[f"{k}_p50_p95_ms"] = [round(float(np.percentile(a, q)), 2) for q in (50, 95)]
            v.clear()
        minutes.append(rec)
        model_times.append(rec["model_p50_ms"])
        if not args.json:
            print(json.dumps(rec), flush=True)
        mark.update(t=now, frames=st.frames)
        return len(minutes) < args.minutes

    smoother = make_smoother(smoothing_config(targs))
    frames_in = ahead if ahead is not None else src
    pipe = Pipeline(
        frames_in, ahead or backend, make_tracker(targs), [sink], smoother=smoother,
        on_frame=on_frame,
    )  # fmt: skip
    try:
        with src:
            pipe.run()
    finally:
        if ahead is not None:
            ahead.close()
        backend.close()
        sink.close()
        stop.set()
    first, last = minutes[0], minutes[-1]
    res = {
        "camera": f"{CLIP.name} at {args.fps} fps, 640x480, through CameraSource(capture=...)",
        "mode": args.mode,
        "face_model": args.face_model,
        "lookahead": ahead is not None,
        "cpus": os.cpu_count(),
        "minutes": minutes,
        "camera_frames": cam.frames,
        "datagrams_received": received[0],
        "rss_growth_pct_first_to_last_minute": round(
            100 * (last["rss_mb"] / first["rss_mb"] - 1), 2
        ),
        "latency_p95_first_last_ms": [first["latency_p95_ms"], last["latency_p95_ms"]],
        "latency_p95_minus_model_p50_ms": [
            round(m["latency_p95_ms"] - m["model_p50_ms"], 2) for m in minutes
        ],
    }
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(
            f"RSS minute 1 {first['rss_mb']} MB -> minute {last['minute']} {last['rss_mb']} MB "
            f"({res['rss_growth_pct_first_to_last_minute']:+.2f} %); latency p95 "
            f"{first['latency_p95_ms']} -> {last['latency_p95_ms']} ms; p95 - model p50 per "
            f"minute: {res['latency_p95_minus_model_p50_ms']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
