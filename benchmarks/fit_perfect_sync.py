"""Choose the perfect-sync fusion weights (vtuber/solvers/arkit.py: ``FUSE_EYE_GEOMETRY``,
``FUSE_JAW_GEOMETRY``) on the face corpus's TRAINING identities only (docs/face_corpus.md).

For every training face and seed it runs the real Face Landmarker on the rendered performance
(cached under --cache like benchmarks/bench_face_corpus.py) and vtuber's Tracker with no
smoothing, for each pair of weights on a grid, and scores what would be sent: eyeBlinkLeft/Right
F1 (>= 0.5 vs the true closure >= 0.5, partial closures included) and jawOpen Spearman. It prints
the grid (mean and worst over the training sequences), the pair with the best mean, and, per
held-out training identity, the figures it gets with the pair chosen on the other four. It
refuses validation faces (vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_perfect_sync.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

from vtuber.solvers import arkit  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402

EYE_GRID = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
JAW_GRID = (0.0, 0.5, 0.7, 1.0)


def figures(name: str, seed: int, cache: Path, eye_w: float, jaw_w: float) -> tuple[float, ...]:
    """(F1 left, F1 right, jaw Spearman) of one training sequence with these weights."""
    from _common import cached_landmarks  # benchmarks/ is on sys.path

    seq = corpus.make_sequence(name, seed, seconds=10.0)
    lms = cached_landmarks(seq, "landmarker", cache, 10.0)
    arkit.FUSE_EYE_GEOMETRY, arkit.FUSE_JAW_GEOMETRY = eye_w, jaw_w
    s = scoring.score(seq, scoring.track(lms), perfect_sync=True)
    assert s.arkit_blink_f1 is not None and s.arkit_jaw_spearman is not None
    return (*s.arkit_blink_f1, s.arkit_jaw_spearman)


def main(argv: list[str] | None = None) -> int:
    corpus.begin_fitting()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2, help="sequences per training face")
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    names = corpus.available(corpus.TRAINING)
    runs = [(n, 1000 * k + corpus.IDENTITIES.index(n)) for n in names for k in range(args.seeds)]
    committed = (arkit.FUSE_EYE_GEOMETRY, arkit.FUSE_JAW_GEOMETRY)
    # table[(eye_w, jaw_w)][run] = (F1 L, F1 R, jaw)
    table: dict[tuple[float, float], list[tuple[float, ...]]] = {}
    # The eyelid weight touches only the eyelids and the jaw weight only the jaw: each grid is
    # run with the other weight at its committed value.
    pairs = {(ew, committed[1]) for ew in EYE_GRID} | {(committed[0], jw) for jw in JAW_GRID}
    for ew, jw in sorted(pairs):
        table[ew, jw] = [figures(n, s, cache, ew, jw) for n, s in runs]
    arkit.FUSE_EYE_GEOMETRY, arkit.FUSE_JAW_GEOMETRY = committed

    def summary(rows: list[tuple[float, ...]]) -> tuple[float, float, float, float]:
        a = np.array(rows)
        return (
            float(a[:, :2].mean()),
            float(a[:, :2].min()),
            float(a[:, 2].mean()),
            float(a[:, 2].min()),
        )

    print(f"training sequences: {', '.join(f'{n}/{s}' for n, s in runs)}")
    print("eye w jaw w F1 mean F1 min jaw mean jaw min")
    for (ew, jw), rows in table.items():
        f, fmin, j, jmin = summary(rows)
        print(f"{ew:5.2f} {jw:5.2f} {f:7.3f} {fmin:6.2f} {j:8.3f} {jmin:7.2f}")

    def best(keep: list[int]) -> tuple[float, float]:
        """The eye weight with the best mean F1 and the jaw weight with the best mean Spearman
        over the runs in ``keep`` (the two are chosen independently: they touch different keys)."""
        ew = max(EYE_GRID, key=lambda e: np.mean([table[e, committed[1]][i][:2] for i in keep]))
        jw = max(JAW_GRID, key=lambda j: np.mean([table[committed[0], j][i][2] for i in keep]))
        return ew, jw

    print(f"chosen on all training faces (eye, jaw): {best(list(range(len(runs))))}")
    print(f"committed: {committed}")
    for held in names:
        keep = [i for i, (n, _) in enumerate(runs) if n != held]
        out = [i for i, (n, _) in enumerate(runs) if n == held]
        ew, jw = best(keep)
        fh = [(*table[ew, committed[1]][i][:2], table[committed[0], jw][i][2]) for i in out]
        fc = [table[committed][i] for i in out]
        print(
            f"held out {held:14s}: weights ({ew}, {jw}) -> F1 "
            f"{' '.join(f'{x[0]:.2f}/{x[1]:.2f}' for x in fh)}, jaw "
            f"{' '.join(f'{x[2]:.2f}' for x in fh)}; committed -> F1 "
            f"{' '.join(f'{x[0]:.2f}/{x[1]:.2f}' for x in fc)}, jaw "
            f"{' '.join(f'{x[2]:.2f}' for x in fc)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
