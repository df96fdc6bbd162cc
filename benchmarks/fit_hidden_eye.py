"""Choose ``EyeConfig.hidden_eye`` (vtuber/solvers/eyes.py) on the face corpus's TRAINING
identities only (docs/face_corpus.md), bare and with glasses, with a leave-one-identity-out check.

An eye the image barely shows (a head turned far: the far eye foreshortened and partly behind the
nose) takes the other eye's closure: below ``lo`` of the nearer eye's width in the image wholly,
between ``lo`` and ``hi`` in part (vtuber.solvers.eyes.eye_visibility). (0, 0) is the rule off.
For every training face and seed (``--seeds``, default 4: the far-eye failure shows in the third
and fourth performances of one face) it runs vtuber's Tracker (no smoothing) on the cached
FaceMesh landmarks with each candidate and scores blink F1 per eye and false blinks while the
head turns (vtuber.synth.scoring, bench_face_corpus.py's figures). The candidate chosen has the
best mean F1 over all the training eyes, bare and with glasses (ties: fewer false blinks, then
the first in the grid). It also prints each eye's visibility on the frames whose blink state
was wrong with the rule off. It refuses validation faces.

    .venv/bin/python benchmarks/fit_hidden_eye.py [--seeds 4]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import cached_landmarks, fitting_options, training_sequences  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.solvers.eyes import eye_visibility  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

GRID = [(0.0, 0.0), (0.1, 0.3), (0.2, 0.4), (0.3, 0.3), (0.3, 0.5), (0.4, 0.6), (0.5, 0.7)]


def main(argv: list[str] | None = None) -> int:
    args = fitting_options(__doc__.split("\n")[0], seeds=4).parse_args(argv)
    corpus.begin_fitting()
    runs = training_sequences(args.seeds, (False, True))
    if not runs:
        return 1
    # (worn, name, k) -> per candidate: (F1 of each eye, false blinks)
    table: dict[tuple[bool, str, int], list[tuple[list[float], int]]] = {}
    wrong_vis: list[float] = []
    right_vis: list[float] = []
    for worn, name, k, seq in runs:
        lms = cached_landmarks(seq, "facemesh", Path(args.cache), args.seconds)
        row = []
        for gi, hidden in enumerate(GRID):
            tracker = Tracker(TrackConfig())
            tracker.face.eye_config.hidden_eye = hidden
            sent = scoring.track(lms, tracker=tracker)
            s = scoring.score(seq, sent)
            row.append((list(s.blink_f1), s.false_blinks_turning))
            if gi == 0:  # the rule off: how visible the eyes were where the blink state was wrong
                for i in np.nonzero(sent.found)[0]:
                    vis = eye_visibility(lms[i].face_pixels())
                    for e in (0, 1):
                        ok = (seq.eye_close[i, e] >= 0.5) == (sent.blink[i, e] >= 0.5)
                        (right_vis if ok else wrong_vis).append(vis[e])
        table[worn, name, k] = row
        print(f"{name} {k} {'glasses' if worn else 'bare'}", flush=True)

    def f1s(keys: list[tuple[bool, str, int]], gi: int) -> list[float]:
        return [f for key in keys for f in table[key][gi][0]]

    def false_blinks(keys: list[tuple[bool, str, int]], gi: int) -> int:
        return sum(table[key][gi][1] for key in keys)

    def best(keys: list[tuple[bool, str, int]]) -> int:
        return max(
            range(len(GRID)),
            key=lambda gi: (round(float(np.mean(f1s(keys, gi))), 6), -false_blinks(keys, gi), -gi),
        )

    wv, rv = np.array(wrong_vis), np.array(right_vis)
    print(
        f"\neye frames with the blink state wrong (rule off): {wv.size}, of them with the eye "
        f"below 0.3 / 0.5 of the other's width: {(wv < 0.3).sum()} / {(wv < 0.5).sum()}; "
        f"right: {rv.size}, below 0.3 / 0.5: {(rv < 0.3).sum()} / {(rv < 0.5).sum()}"
    )
    keys = list(table)
    head = f"{'condition':9s} {'mean F1':>7s} {'min':>5s} {'>=0.9':>6s} false"
    print(f"\n{'lo':>4s} {'hi':>4s}  {head}")
    for gi, (lo, hi) in enumerate(GRID):
        for label, worn in (("bare", False), ("glasses", True)):
            sel = [key for key in keys if key[0] == worn]
            f = f1s(sel, gi)
            print(
                f"{lo:4.1f} {hi:4.1f}  {label:9s} {np.mean(f):7.3f} {min(f):5.2f} "
                f"{sum(x >= 0.9 for x in f):3d}/{len(f):<2d} {false_blinks(sel, gi):5d}"
            )
    print("\nleave one identity out: the held-out face's eyes at the rule chosen on the others")
    for name in dict.fromkeys(key[1] for key in keys):
        held = [key for key in keys if key[1] == name]
        gi = best([key for key in keys if key[1] != name])
        f, f0 = f1s(held, gi), f1s(held, 0)
        print(
            f"  {name:15s} ({GRID[gi][0]:.1f}, {GRID[gi][1]:.1f}): mean F1 {np.mean(f):.3f}, "
            f"min {min(f):.2f}, false blinks {false_blinks(held, gi)} "
            f"(rule off: {np.mean(f0):.3f}, {min(f0):.2f}, {false_blinks(held, 0)})"
        )
    lo, hi = GRID[best(keys)]
    print(f"\nchosen on all training faces: hidden_eye = ({lo:.1f}, {hi:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
