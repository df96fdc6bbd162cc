"""Full mode (face + pose + hands + solvers) vs MediaPipe Holistic on the same decoded frames.

Usage: python benchmarks/bench_full.py [VIDEO] [--frames N] [--json]
(default VIDEO: ../shared/data/media/person_thumbsup_720p.mp4)

Both sides get the same BGR frames, decoded beforehand (decode is not timed). Ours: the
FullBodyBackend (which downscales to 640 px wide itself) + Tracker.solve in full mode. Holistic:
mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True) on the same frames,
at the source size and, for a like-for-like view, on frames downscaled to 640 px as ours does.
The runners take turns on chunks of 10 frames (each still sees every frame in order), so that a
load spike from another process on the machine falls on every side alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from _common import CLIP, read_frames


def load(path: Path, n: int) -> list[np.ndarray]:
    frames = read_frames(path, n)
    if not frames:
        sys.exit(f"bench_full: cannot read {path}")
    return frames


class Ours:
    """FullBodyBackend + Tracker.solve in full mode (what ``vtuber track --mode full`` runs)."""

    def __init__(self, threads: bool = True) -> None:
        from vtuber.config import TrackConfig
        from vtuber.landmarks.body import FullBodyBackend
        from vtuber.tracker import Tracker

        self.tracker = Tracker(TrackConfig(mode="full"))
        self.backend = FullBodyBackend(threads=threads)
        self.found = {"face": 0, "pose": 0, "hands": 0}

    def __call__(self, img: np.ndarray, i: int) -> None:
        lm = self.backend.process(img, i / 30.0)
        self.tracker.solve(lm, index=i)
        self.found["face"] += lm.face.found
        self.found["pose"] += lm.pose.found
        self.found["hands"] += lm.left_hand.found + lm.right_hand.found

    def close(self) -> None:
        self.backend.close()


class Holistic:
    """mp.solutions.holistic, model_complexity=1, refined face (iris), optionally downscaled."""

    def __init__(self, width: int | None = None) -> None:
        import mediapipe as mp

        self.width = width
        self.hol = mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True)
        self.found = {"face": 0, "pose": 0, "hands": 0}

    def __call__(self, img: np.ndarray, i: int) -> None:
        if self.width is not None:
            h, w = img.shape[:2]
            img = cv2.resize(img, (self.width, round(h * self.width / w)))
        r = self.hol.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        self.found["face"] += r.face_landmarks is not None
        self.found["pose"] += r.pose_landmarks is not None
        self.found["hands"] += (r.left_hand_landmarks is not None) + (
            r.right_hand_landmarks is not None
        )

    def close(self) -> None:
        self.hol.close()


def interleaved(frames: list[np.ndarray], runners: dict, chunk: int = 10) -> dict[str, float]:
    """Mean seconds per frame of each runner; the runners take turns on chunks of ``chunk``
    frames (each sees every frame, in order), so a load spike from another process on the
    machine falls on all of them alike."""
    total = dict.fromkeys(runners, 0.0)
    for run in runners.values():
        run(frames[0], 0)  # warm-up: model start-up
        run.found = dict.fromkeys(run.found, 0)
    for start in range(0, len(frames), chunk):
        for name, run in runners.items():
            t0 = time.perf_counter()
            for i in range(start, min(start + chunk, len(frames))):
                run(frames[i], i)
            total[name] += time.perf_counter() - t0
    return {k: v / len(frames) for k, v in total.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", default=str(CLIP))
    ap.add_argument("--frames", type=int, default=195)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    frames = load(Path(args.video), args.frames)
    runners = {
        "ours": Ours(),
        "holistic": Holistic(),
        "holistic_640": Holistic(640),
        "ours_no_threads": Ours(threads=False),
    }
    try:
        t = interleaved(frames, runners)
    finally:
        for r in runners.values():
            r.close()
    o, h, h6, serial = t["ours"], t["holistic"], t["holistic_640"], t["ours_no_threads"]
    f_ours, f_hol = runners["ours"].found, runners["holistic"].found
    res = {
        "video": args.video,
        "frames": len(frames),
        "size": list(frames[0].shape[1::-1]),
        "cpus": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "ours_ms": round(1000 * o, 2),
        "ours_fps": round(1 / o, 1),
        "ours_no_threads_ms": round(1000 * serial, 2),
        "holistic_ms": round(1000 * h, 2),
        "holistic_fps": round(1 / h, 1),
        "holistic_640_ms": round(1000 * h6, 2),
        "speedup_vs_holistic": round(h / o, 2),
        "speedup_vs_holistic_640": round(h6 / o, 2),
        "found_ours": f_ours,
        "found_holistic": f_hol,
    }
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"{res['frames']} frames {res['size'][0]}x{res['size'][1]}, {res['cpus']} CPUs, "
          f"load {res['load_avg_1min']}")  # fmt: skip
    print(f"full mode (ours)  {res['ours_ms']:7.2f} ms/frame  {res['ours_fps']:6.1f} fps"
          f"   (no threads: {res['ours_no_threads_ms']:.2f} ms)")  # fmt: skip
    print(f"Holistic          {res['holistic_ms']:7.2f} ms/frame  {res['holistic_fps']:6.1f} fps")
    print(f"Holistic @640     {res['holistic_640_ms']:7.2f} ms/frame")
    print(f"speed-up          {res['speedup_vs_holistic']:.2f}x  "
          f"({res['speedup_vs_holistic_640']:.2f}x vs Holistic @640)")  # fmt: skip
    print(f"found: ours {f_ours}  holistic {f_hol}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
