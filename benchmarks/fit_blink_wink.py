"""Fit ``EyeConfig.wink_at`` (vtuber/solvers/eyes.py: the closure from which one eye closes on its
own, the other open) on the face corpus's TRAINING identities only (docs/face_corpus.md), with a
leave-one-identity-out check.

Both eyes closing together close at ``close_at`` (0.45); one eye alone only from ``wink_at`` up.
A person closes one eye alone deliberately and fully (a wink); a lone partial dip is more often
the landmarker misreading one eye. ``wink_at`` = ``close_at`` is the rule before it. The issue's
goal is per eye (blink F1 >= 0.9 on every eye, no false blink), so the value chosen maximises the
worst training eye's F1 (ties: the mean F1, then the first in the grid). This script runs real
FaceMesh on each training performance (cached like benchmarks/bench_face_corpus.py) and
vtuber's Tracker with no smoothing for each value, and reports the mean and worst F1 and the
false blinks while the head turns. It refuses validation faces.

    .venv/bin/python benchmarks/fit_blink_wink.py [--seeds 2]
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import fitting_options, training_landmarks  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

WINK_AT = (0.45, 0.5, 0.55, 0.6, 0.7, 0.8)


def main(argv: list[str] | None = None) -> int:
    args = fitting_options(__doc__.split("\n")[0]).parse_args(argv)
    corpus.begin_fitting()
    performances = training_landmarks(args)
    if not performances:
        return 1
    names = list(dict.fromkeys(name for name, _, _, _ in performances))
    # (name, k) -> per value: (F1 of each eye, false blinks)
    table: dict[tuple[str, int], list[tuple[list[float], int]]] = {}
    for name, k, seq, lms in performances:
        row = []
        for w in WINK_AT:
            tr = Tracker(TrackConfig())
            tr.face.eye_config.wink_at = w
            s = scoring.score(seq, scoring.track(lms, tracker=tr))
            row.append((list(s.blink_f1), s.false_blinks_turning))
        table[name, k] = row

    def f1s(keys: list[tuple[str, int]], gi: int) -> list[float]:
        return [f for key in keys for f in table[key][gi][0]]

    def best(keys: list[tuple[str, int]]) -> int:
        return max(
            range(len(WINK_AT)),
            key=lambda gi: (min(f1s(keys, gi)), float(np.mean(f1s(keys, gi))), -gi),
        )

    keys = list(table)
    print(f"{'wink_at':>7s} {'mean F1':>7s} {'min F1':>6s} {'false':>5s}")
    for gi, w in enumerate(WINK_AT):
        fb = sum(table[key][gi][1] for key in keys)
        f = f1s(keys, gi)
        print(f"{w:7.2f} {np.mean(f):7.4f} {min(f):6.3f} {fb:5d}")
    print("\nleave one identity out: the held-out face's eyes at the value fitted on the others")
    for name in names:
        held = [key for key in keys if key[0] == name]
        gi = best([key for key in keys if key[0] != name])
        f = f1s(held, gi)
        fb = sum(table[key][gi][1] for key in held)
        print(
            f"  {name:15s} wink_at {WINK_AT[gi]:.2f}: mean F1 {np.mean(f):.3f}, min "
            f"{min(f):.3f}, false blinks {fb} (wink_at = close_at: {np.mean(f1s(held, 0)):.3f}, "
            f"{min(f1s(held, 0)):.3f}, {sum(table[key][0][1] for key in held)})"
        )
    print(f"\nfitted on all training faces: wink_at = {WINK_AT[best(keys)]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
