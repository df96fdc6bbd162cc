"""Fit ``EyeConfig.noise_k`` and ``link_at`` (vtuber/solvers/eyes.py) and the blink-depth prior
``CLOSED_FRACTION`` (vtuber/solvers/calibration.py) on the face corpus's TRAINING identities only
(docs/face_corpus.md), with a leave-one-identity-out check.

An open eye's aperture, as FaceMesh reads it, jitters from frame to frame by an amount that
depends on the face (lashes, lid shape, glasses, light): a few percent of the open level on
some, over ten percent on others. ``FaceAdapter`` learns each eye's jitter (``BlinkDepth.sigma``)
and :func:`vtuber.solvers.eyes.closure` starts its 0..1 scale ``noise_k`` jitters below the open
level, so a dip no larger than the eye's own noise is not a blink. Until the user's own blinks
are seen, the scale ends at the prior blink depth (the closed eye's aperture over the open one).
This script runs real FaceMesh on each training performance (cached like
benchmarks/bench_face_corpus.py), vtuber's Tracker with no smoothing for each candidate pair,
and scores per-eye blink F1 (closed when the truth is >= 0.5) and false blinks while the head
turns. The chosen pair maximises the mean F1 over the training eyes (ties: the first in the
grid). It also reports, per held-out training identity, the F1 of the pair chosen on the other
four. It refuses validation faces.

    .venv/bin/python benchmarks/fit_blink_noise.py [--seeds 2]
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import fitting_options, training_landmarks  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.solvers import calibration  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

NOISE_K = (0.5, 1.0, 1.5)
PRIOR = (0.3, 0.35, 0.4, 0.45, 0.5)
LINK = (0.35, 0.5, 2.0)  # EyeConfig.link_at; 2.0: never linked
GRID = [(g, p, lk) for lk in LINK for p in PRIOR for g in NOISE_K]


def main(argv: list[str] | None = None) -> int:
    args = fitting_options(__doc__.split("\n")[0]).parse_args(argv)
    corpus.begin_fitting()
    performances = training_landmarks(args)
    if not performances:
        return 1
    names = list(dict.fromkeys(name for name, _, _, _ in performances))
    # (name, k) -> per grid value: (F1 of each eye..., false blinks)
    table: dict[tuple[str, int], list[tuple[list[float], int]]] = {}
    for name, k, seq, lms in performances:
        row = []
        for g, p, lk in GRID:
            calibration.CLOSED_FRACTION = p
            tr = Tracker(TrackConfig())
            tr.face.eye_config.noise_k = g
            tr.face.eye_config.link_at = lk
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
    print(
        f"{'noise_k':>7s} {'prior':>5s} {'link':>4s} {'mean F1':>7s} {'min F1':>6s} {'false':>5s}"
    )
    for gi, (g, p, lk) in enumerate(GRID):
        f1s = [f for key in keys for f in table[key][gi][0]]
        fb = sum(table[key][gi][1] for key in keys)
        print(f"{g:7.2f} {p:5.2f} {lk:4.2f} {np.mean(f1s):7.3f} {min(f1s):6.3f} {fb:5d}")
    print("\nleave one identity out: F1 of the held-out face at the value fitted on the others")
    for name in names:
        held = [key for key in keys if key[0] == name]
        gi = best([key for key in keys if key[0] != name])
        print(
            f"  {name:15s} noise_k {GRID[gi][0]:.2f}, prior {GRID[gi][1]:.2f}, "
            f"link {GRID[gi][2]:.2f}: F1 {mean_f1(held, gi):.3f}"
        )
    g, p, lk = GRID[best(keys)]
    print(f"\nfitted on all training faces: noise_k = {g:.2f}, prior = {p:.2f}, link_at = {lk:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
