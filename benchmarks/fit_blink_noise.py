"""Fit ``EyeConfig.noise_k`` (vtuber/solvers/eyes.py) on the face corpus's TRAINING identities
only (docs/face_corpus.md), with a leave-one-identity-out check.

An open eye's aperture, as FaceMesh reads it, jitters from frame to frame by an amount that
depends on the face (lashes, lid shape, glasses, light): a few percent of the open level on
some, over ten percent on others. ``FaceAdapter`` learns each eye's jitter (``BlinkDepth.sigma``)
and :func:`vtuber.solvers.eyes.closure` starts its 0..1 scale ``noise_k`` jitters below the open
level, so a dip no larger than the eye's own noise is not a blink. This script runs real
FaceMesh on each training performance (cached like benchmarks/bench_face_corpus.py), vtuber's
Tracker with no smoothing for each candidate ``noise_k``, and scores per-eye blink F1 (closed
when the truth is >= 0.5) and false blinks while the head turns. The chosen value maximises the
mean F1 over the training eyes (ties: the smaller). It also reports, per held-out training
identity, the F1 of the value chosen on the other four. It refuses validation faces.

    .venv/bin/python benchmarks/fit_blink_noise.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import cached_landmarks  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    args = ap.parse_args(argv)
    corpus.begin_fitting()
    names = corpus.available(corpus.TRAINING)
    if not names:
        print(f"no training faces in {corpus.shared_faces_dir()}", file=sys.stderr)
        return 1
    # (name, k) -> per grid value: (F1 of each eye..., false blinks)
    table: dict[tuple[str, int], list[tuple[list[float], int]]] = {}
    for name in names:
        for k in range(args.seeds):
            seq = corpus.make_sequence(name, 1000 * k + corpus.IDENTITIES.index(name))
            lms = cached_landmarks(seq, "facemesh", Path(args.cache), args.seconds)
            row = []
            for g in GRID:
                tr = Tracker(TrackConfig())
                tr.face.eye_config.noise_k = g
                s = scoring.score(seq, scoring.track(lms, tracker=tr))
                row.append((list(s.blink_f1), s.false_blinks_turning))
            table[name, k] = row

    def mean_f1(keys: list[tuple[str, int]], gi: int) -> float:
        return float(np.mean([f for key in keys for f in table[key][gi][0]]))

    def best(keys: list[tuple[str, int]]) -> int:
        scores = [mean_f1(keys, gi) for gi in range(len(GRID))]
        top = max(scores)
        return next(gi for gi, v in enumerate(scores) if v >= top - 1e-9)

    keys = list(table)
    print(f"{'noise_k':>7s} {'mean F1':>7s} {'min F1':>6s} {'false':>5s}   (training, all)")
    for gi, g in enumerate(GRID):
        f1s = [f for key in keys for f in table[key][gi][0]]
        fb = sum(table[key][gi][1] for key in keys)
        print(f"{g:7.2f} {np.mean(f1s):7.3f} {min(f1s):6.3f} {fb:5d}")
    print("\nleave one identity out: F1 of the held-out face at the value fitted on the others")
    for name in names:
        held = [key for key in keys if key[0] == name]
        gi = best([key for key in keys if key[0] != name])
        print(
            f"  {name:15s} noise_k {GRID[gi]:.2f}: F1 {mean_f1(held, gi):.3f} "
            f"(at 0: {mean_f1(held, 0):.3f})"
        )
    print(f"\nfitted on all training faces: noise_k = {GRID[best(keys)]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
