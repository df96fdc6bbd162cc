"""Benchmark: the face expression solvers (blink, gaze, mouth/vowels, brows, emotions) per frame.

Landmarks come from real FaceMesh on rendered faces (a blinking, talking, turning head), computed
once up front; only :meth:`vtuber.solvers.expressions.FaceSolver.update` is timed (the head pose
is solved beforehand, as the tracker does), with what the tracker gives it from the image (the
mouth's darkness at every cut, the eyes' pixels); ``--landmarks-only``: the landmark points alone,
as this bench measured before 2026-12-06. Target: <= 0.5 ms per frame.

    .venv/bin/python benchmarks/bench_face_solvers.py [--frames 60] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60, help="distinct rendered frames")
    ap.add_argument("--repeat", type=int, default=20, help="passes over them")
    ap.add_argument("--landmarks-only", action="store_true", help="no image measures")
    args = ap.parse_args()

    from vtuber.landmarks.facemesh import FaceMeshBackend
    from vtuber.solvers.expressions import FaceSolver
    from vtuber.solvers.head import HeadTracker
    from vtuber.synth.face import FaceRenderer

    r = FaceRenderer.from_photo("astronaut")
    head = HeadTracker()
    data = []
    with FaceMeshBackend() as backend:
        for i in range(args.frames):
            k = i / args.frames * 2 * np.pi
            img = r.render(
                20 * np.sin(k), 8 * np.sin(2 * k), 0.0,
                eye_close=(max(0.0, np.sin(3 * k)),) * 2, mouth_open=max(0.0, np.sin(5 * k)),
            )  # fmt: skip
            lm = backend.process(img, i / 30.0)
            if lm.face.found:
                pts = lm.face_pixels()
                f = lm.face
                extra = (f.mouth_dark, f.eye_shut, (False, False), f.mouth_dim)
                if args.landmarks_only:
                    extra = ()
                data.append((pts, head.update(pts, lm.width, lm.height).rotation, extra))
    solver = FaceSolver()
    for pts, rot, extra in data:  # warm up (and finish the adaptive profile)
        solver.update(pts, rot, 0.0, 0.0, *extra)
    for _ in range(3):
        for pts, rot, extra in data:
            solver.update(pts, rot, 0.0, 0.0, *extra)
    times = []
    for _ in range(args.repeat):
        for pts, rot, extra in data:
            t0 = time.perf_counter()
            solver.update(pts, rot, 0.0, 0.0, *extra)
            times.append(time.perf_counter() - t0)
    ms = 1000.0 * np.array(times)
    print(
        f"face solvers: {ms.mean():.3f} ms/frame mean, median {np.median(ms):.3f}, "
        f"p95 {np.percentile(ms, 95):.3f} over {ms.size} calls ({len(data)} distinct frames); "
        f"target <= 0.5 ms"
    )


if __name__ == "__main__":
    main()
