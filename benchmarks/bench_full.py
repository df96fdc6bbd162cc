"""Full mode (face + pose + hands + solvers) vs MediaPipe Holistic on the same decoded frames.

Usage: python benchmarks/bench_full.py [VIDEO] [--frames N] [--json]
(default VIDEO: ../shared/data/media/person_thumbsup_720p.mp4)

Both sides get the same BGR frames, decoded beforehand (decode is not timed). Ours: the
FullBodyBackend (which downscales to 640 px wide itself) + Tracker.solve in full mode. Holistic:
mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True) on the same frames,
at the source size and, for a like-for-like view, on frames downscaled to 640 px as ours does.
The runs alternate (ours, holistic, ours, holistic) and the best of the two is kept, so that a
load spike from another process on the machine hits neither side alone.
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

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"


def load(path: Path, n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < n:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img)
    cap.release()
    if not frames:
        sys.exit(f"bench_full: cannot read {path}")
    return frames


def run_ours(frames: list[np.ndarray], threads: bool = True) -> tuple[float, dict[str, int]]:
    from vtuber.config import TrackConfig
    from vtuber.landmarks.body import FullBodyBackend
    from vtuber.tracker import Tracker

    tracker = Tracker(TrackConfig(mode="full", mirror=False))
    found = {"face": 0, "pose": 0, "hands": 0}
    with FullBodyBackend(threads=threads) as be:
        tracker.solve(be.process(frames[0], 0.0))  # warm-up
        t0 = time.perf_counter()
        for i, img in enumerate(frames):
            lm = be.process(img, i / 30.0)
            tracker.solve(lm, index=i)
            found["face"] += lm.face.found
            found["pose"] += lm.pose.found
            found["hands"] += lm.left_hand.found + lm.right_hand.found
        dt = time.perf_counter() - t0
    return dt / len(frames), found


def run_holistic(
    frames: list[np.ndarray], width: int | None = None
) -> tuple[float, dict[str, int]]:
    import mediapipe as mp

    if width is not None:
        h, w = frames[0].shape[:2]
        frames = [cv2.resize(f, (width, round(h * width / w))) for f in frames]
    found = {"face": 0, "pose": 0, "hands": 0}
    with mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True) as hol:
        hol.process(cv2.cvtColor(frames[0], cv2.COLOR_BGR2RGB))  # warm-up
        t0 = time.perf_counter()
        for img in frames:
            r = hol.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            found["face"] += r.face_landmarks is not None
            found["pose"] += r.pose_landmarks is not None
            found["hands"] += (r.left_hand_landmarks is not None) + (
                r.right_hand_landmarks is not None
            )
        dt = time.perf_counter() - t0
    return dt / len(frames), found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", default=str(CLIP))
    ap.add_argument("--frames", type=int, default=195)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")
    frames = load(Path(args.video), args.frames)
    ours, hol, hol640 = [], [], []
    f_ours = f_hol = {}
    for _ in range(2):
        t, f_ours = run_ours(frames)
        ours.append(t)
        t, f_hol = run_holistic(frames)
        hol.append(t)
    t, _ = run_holistic(frames, width=640)
    hol640.append(t)
    serial, _ = run_ours(frames, threads=False)
    o, h, h6 = min(ours), min(hol), min(hol640)
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
