"""Face Landmarker (perfect sync) vs FaceMesh: frames per second on the same clip, and head pose
from the model's facial transformation matrix vs vtuber's solvePnP solver on rendered faces.

Usage: .venv/bin/python benchmarks/bench_landmarker.py [--frames 150] [--clip FILE] [--no-head]

Part 1 decodes the clip first (decode is not timed), then runs each mode through the same
pipeline as ``vtuber track --fast`` (landmarks, tracker, smoothing, mirror, VMC encode + loopback
send) and reports fps and per-stage milliseconds. Without ../shared/data the clip is replaced by
rendered frames of a turning face.

Part 2 renders 25 seeded random poses (yaw +-35, pitch +-20, roll +-20 deg) of both package
photos and reports the angle between each method's rotation (relative to the unturned render) and
the true rotation, in degrees.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402
from _common import CLIP, read_frames  # noqa: E402

S = np.diag([1.0, -1.0, -1.0])  # OpenGL camera <-> OpenCV camera / MediaPipe model axes


def load_frames(clip: Path, n: int) -> tuple[list[np.ndarray], str]:
    if clip.is_file():
        frames = read_frames(clip, n)
        return frames, f"{clip.name} ({frames[0].shape[1]}x{frames[0].shape[0]})"
    from vtuber.synth.face import FaceRenderer

    r = FaceRenderer.from_photo("grace_hopper")
    frames = [r.render(25.0 * np.sin(i / 15.0), 0.0, 0.0, seed=i) for i in range(n)]
    return frames, "rendered turning face (640x480; shared clip absent)"


def run_mode(name: str, frames: list[np.ndarray]) -> dict[str, float]:
    from vtuber.pipeline import Pipeline
    from vtuber.sinks.vmc import VMCSink
    from vtuber.smoothing import SmoothingConfig, make_smoother
    from vtuber.sources import Frame
    from vtuber.tracker import Tracker

    if name == "landmarker":
        from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

        backend = FaceLandmarkerBackend()
    else:
        from vtuber.landmarks.facemesh import FaceMeshBackend

        backend = FaceMeshBackend()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    sink = VMCSink([("127.0.0.1", rx.getsockname()[1])])
    sink.open()
    src = [Frame(img, t=i / 25.0, t_capture=0.0, index=i) for i, img in enumerate(frames)]
    # Warm up (graph start, first inference) outside the timing.
    Pipeline(src[:5], backend, Tracker(), [sink]).run()
    pipe = Pipeline(src, backend, Tracker(), [sink], smoother=make_smoother(SmoothingConfig()))
    stats = pipe.run()
    sink.close()
    rx.close()
    backend.close()
    ms = stats.stage_ms()
    return {
        "fps": round(stats.fps, 1),
        "landmarks_ms": round(ms["landmarks"], 2),
        "solve_ms": round(ms["solve"], 2),
        "smooth_ms": round(ms["smooth"], 2),
        "send_ms": round(ms["send"], 2),
        "faces": stats.faces,
        "frames": stats.frames,
    }


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    c = (np.trace(a @ b.T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def head_pose_errors(n: int = 25, seed: int = 1) -> dict[str, dict[str, float]]:
    """Median / mean / max rotation error (deg) of the matrix and of solvePnP, per photo."""
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend
    from vtuber.solvers.head import solve_head_pose
    from vtuber.synth.face import PHOTOS, FaceRenderer, true_rotation

    rng = np.random.default_rng(seed)
    poses = [(0.0, 0.0, 0.0)] + [
        tuple(rng.uniform([-35, -20, -20], [35, 20, 20])) for _ in range(n - 1)
    ]
    out: dict[str, dict[str, float]] = {}
    for photo in PHOTOS:
        r = FaceRenderer.from_photo(photo)
        err: dict[str, list[float]] = {"matrix": [], "pnp": []}
        neutral = None
        with FaceLandmarkerBackend(static_images=True) as be:
            for i, p in enumerate(poses):
                lm = be.process(r.render(*p, noise=2.0, seed=i), 0.0)
                if not lm.face.found:
                    continue
                rm = S @ lm.face.matrix[:3, :3].astype(np.float64) @ S
                rp = solve_head_pose(lm.face_pixels(), lm.width, lm.height).rotation
                if neutral is None:
                    neutral = (rm, rp)
                    continue
                t = true_rotation(*p)
                err["matrix"].append(angle_deg(rm @ neutral[0].T, t))
                err["pnp"].append(angle_deg(rp @ neutral[1].T, t))
        for k, v in err.items():
            out[f"{photo}/{k}"] = {
                "median_deg": round(float(np.median(v)), 2),
                "mean_deg": round(float(np.mean(v)), 2),
                "max_deg": round(float(np.max(v)), 2),
                "n": len(v),
            }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--no-head", action="store_true", help="skip the head pose comparison")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    frames, what = load_frames(args.clip, args.frames)
    result: dict[str, object] = {"clip": what, "cpus": os.cpu_count()}
    for mode in ("facemesh", "landmarker"):
        result[mode] = run_mode(mode, frames)
    if not args.no_head:
        result["head_pose"] = head_pose_errors()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"clip: {what}, {len(frames)} frames, {os.cpu_count()} CPUs")
    for mode in ("facemesh", "landmarker"):
        r = result[mode]
        assert isinstance(r, dict)
        print(
            f"{mode:10s} {r['fps']:6.1f} fps | landmarks {r['landmarks_ms']:6.2f} ms | "
            f"solve {r['solve_ms']:5.2f} ms | smooth {r['smooth_ms']:5.2f} ms | "
            f"send {r['send_ms']:5.2f} ms | faces {r['faces']}/{r['frames']}"
        )
    if not args.no_head:
        print("head pose error vs the rendered truth (deg):")
        hp = result["head_pose"]
        assert isinstance(hp, dict)
        for k, v in hp.items():
            print(f"  {k:22s} median {v['median_deg']:5.2f} mean {v['mean_deg']:5.2f} "
                  f"max {v['max_deg']:5.2f} (n={v['n']})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
