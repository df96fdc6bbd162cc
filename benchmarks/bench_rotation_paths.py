"""CPU time of the per-frame rotation paths (issue 16: every rotation formula in vtuber/quat.py,
the per-frame path keeping its speed).

Usage: .venv/bin/python benchmarks/bench_rotation_paths.py [--repeats 40]

Prints, as the best of ``--repeats`` runs (thread CPU time, less disturbed than wall time by the
other processes of a shared machine):
- one quaternion through quat's numpy forms vs their plain-float ``*_tuple`` twins (why both
  exist: the solvers call the twins once per bone per frame);
- the body + hand solvers (``solve_landmarks``) and the head split (``tracker.split_head``) per
  frame, on the golden fixture's stored MediaPipe landmarks of the first 60 frames of the real
  clip person_thumbsup_720p.mp4 (tests/fixtures/golden_body_landmarks.npz; 29 frames have a hand).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.make_golden_body import landmarks_from  # noqa: E402
from vtuber import quat  # noqa: E402
from vtuber.solvers.body import BodyConfig, solve_landmarks  # noqa: E402
from vtuber.tracker import split_head  # noqa: E402


def best_us(fn: Callable[[], object], number: int, repeats: int) -> float:
    """Best per-call thread CPU time in microseconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time()
        for _ in range(number):
            fn()
        best = min(best, (time.thread_time() - t0) / number)
    return 1e6 * best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()
    rng = np.random.default_rng(16)
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    qt = tuple(float(v) for v in q)
    m = quat.to_matrix(q)
    mt = m.tolist()
    v = (0.3, -0.2, 0.5)
    pairs = {
        "multiply": (lambda: quat.multiply(q, q), lambda: quat.multiply_tuple(qt, qt)),
        "to_matrix": (lambda: quat.to_matrix(q), lambda: quat.to_matrix_tuple(qt)),
        "from_matrix": (lambda: quat.from_matrix(m), lambda: quat.from_matrix_tuple(mt)),
        "to_rotvec": (lambda: quat.to_rotvec(q), lambda: quat.to_rotvec_tuple(qt)),
        "from_rotvec": (lambda: quat.from_rotvec(v), lambda: quat.from_rotvec_tuple(v)),
        "power": (lambda: quat.power(q, 0.35), lambda: quat.power_tuple(qt, 0.35)),
    }
    print(f"{'one quaternion':<16}{'numpy us':>10}{'tuple us':>10}{'ratio':>8}")
    for name, (np_fn, t_fn) in pairs.items():
        a, b = best_us(np_fn, 2000, args.repeats), best_us(t_fn, 2000, args.repeats)
        print(f"{name:<16}{a:>10.2f}{b:>10.2f}{a / b:>8.1f}")

    arrays = dict(np.load(ROOT / "tests" / "fixtures" / "golden_body_landmarks.npz"))
    lms = [landmarks_from(arrays, i) for i in range(len(arrays["t"]))]
    cfg = BodyConfig()

    def body() -> None:
        for lm in lms:
            solve_landmarks(lm, cfg)

    per_frame = best_us(body, 1, args.repeats) / len(lms)
    print(f"body + hands solve: {per_frame:.1f} us/frame over {len(lms)} clip frames")
    print(f"split_head: {best_us(lambda: split_head(q, 0.35), 2000, args.repeats):.2f} us")


if __name__ == "__main__":
    main()
