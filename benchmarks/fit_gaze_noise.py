"""Choose ``EyeConfig.gaze_noise_k`` (vtuber/solvers/eyes.py) on the face corpus's TRAINING
identities only (docs/face_corpus.md), with and without glasses.

For every training face, seed and condition (bare, glasses: ``Sequence.glasses``) it runs real
FaceMesh on the rendered performance (cached like benchmarks/bench_face_corpus.py) and vtuber's
Tracker with no smoothing, for each k of the grid, and scores the gaze (the mean error of
bench_face_corpus.py). It prints the grid (mean over the bare and over the glasses
performances), each identity's error at the k chosen on the other four (leave one identity out,
chosen on the bare performances: the common case), and the noise each bare performance's
estimate ends at. It refuses validation faces
(vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_gaze_noise.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

K_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def main(argv: list[str] | None = None) -> int:
    from _common import (  # benchmarks/ is on sys.path
        cached_landmarks,
        training_sequences,
    )

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2, help="performances per training face")
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    args = ap.parse_args(argv)
    corpus.begin_fitting()
    names = corpus.available(corpus.TRAINING)
    runs = [
        (glasses, name, seq, cached_landmarks(seq, "facemesh", Path(args.cache), 10.0))
        for glasses, name, _, seq in training_sequences(args.seeds, (False, True))
    ]
    err: dict[float, list[float]] = {}
    sigmas = []
    for kk in K_GRID:
        err[kk] = []
        for glasses, _name, seq, lms in runs:
            tracker = Tracker(TrackConfig())
            tracker.face.eye_config.gaze_noise_k = kk
            err[kk].append(scoring.score(seq, scoring.track(lms, tracker=tracker)).gaze_mean)
            if kk == K_GRID[0] and not glasses:
                sigmas.append([math.degrees(s) for s in tracker.face.eyes.noise.sigma])
    bare = np.array([not r[0] for r in runs])
    print(f"{'k':>4s} {'bare':>6s} {'glasses':>7s}")
    for kk in K_GRID:
        e = np.array(err[kk])
        print(f"{kk:4.1f} {e[bare].mean():6.3f} {e[~bare].mean():7.3f}")
    who = np.array([r[1] for r in runs])
    print("held out one identity (k chosen on the other four's bare performances):")
    for name in names:
        train = bare & (who != name)
        best = min(K_GRID, key=lambda kk: float(np.array(err[kk])[train].mean()))
        e = np.array(err[best])
        print(
            f"  {name:14s} k {best:3.1f}: bare {e[bare & (who == name)].mean():.2f}, glasses "
            f"{e[~bare & (who == name)].mean():.2f} (k 0: "
            f"{np.array(err[0.0])[bare & (who == name)].mean():.2f}, "
            f"{np.array(err[0.0])[~bare & (who == name)].mean():.2f})"
        )
    s = np.array(sigmas)
    print("gaze noise (yaw, pitch; deg) each bare performance ends at:", np.round(s, 2).tolist())
    print("median:", np.round(np.median(s, axis=0), 2).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
