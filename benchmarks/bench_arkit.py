"""Benchmark: the perfect-sync solver (vtuber.solvers.arkit.ArkitSolver.update) per frame, the
model's scores alone and fused with the geometry (arkit.Fusion: the pose-dependent levels, refit
every 30 frames, the eyelids' lead against the landmarker's lag and the jaw agreement). Part of
the face solvers' budget (<= 0.5 ms per frame for all of them, benchmarks/bench_face_solvers.py
for the geometric ones).

Inputs are a seeded random walk of the 52 scores, the eye closures, the jaw and the head pose
(the cost does not depend on the values).

    .venv/bin/python benchmarks/bench_arkit.py [--frames 3000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vtuber.solvers.adaptation import pose_features
from vtuber.solvers.arkit import ArkitSolver, Geometry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=3000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.frames
    raw = np.clip(0.2 + np.cumsum(rng.normal(0, 0.01, (n, 52)), axis=0), 0, 1).astype(np.float32)
    geo = [
        Geometry(
            (float(a), float(b)),
            float(j),
            pose_features(float(y), float(p)),
        )
        for a, b, j, y, p in rng.uniform(0, 1, (n, 5)) * (1, 1, 1, 0.6, 0.3)
    ]
    results = {}
    for label, with_geo in (("model only", False), ("fused with geometry", True)):
        s = ArkitSolver()
        t0 = time.perf_counter()
        for i in range(n):
            s.update(raw[i], geo[i] if with_geo else None)
        results[label] = (time.perf_counter() - t0) / n * 1e3
    for label, ms in results.items():
        print(f"ArkitSolver.update, {label}: {ms:.3f} ms/frame ({n} frames)")


if __name__ == "__main__":
    main()
