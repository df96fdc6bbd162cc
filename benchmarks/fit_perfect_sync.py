"""Choose the perfect-sync fusion constants (vtuber/solvers/arkit.py: ``FUSE_EYE_GEOMETRY``,
``EYE_LEAD_RISE``, ``EYE_LEAD_FALL``, ``FUSE_JAW_GEOMETRY``, ``SUPPORT_RADIUS``,
``SUPPORT_FULL``) on the face corpus's TRAINING identities only (docs/face_corpus.md).

For every training face and seed it runs the real Face Landmarker on the rendered performance
(cached under --cache like benchmarks/bench_face_corpus.py) and vtuber's Tracker with no
smoothing once, recording what the tracker hands :class:`vtuber.solvers.arkit.Fusion` each frame
(the model's scores and the geometric readings: nothing the fusion outputs feeds back into them).
It then replays those frames through a fresh Fusion for every set of constants on a grid and
scores what would be sent: eyeBlinkLeft/Right F1 (>= 0.5 vs the true closure >= 0.5, partial
closures included) and jawOpen Spearman. It prints the grid (mean and worst over the training
sequences), the constants with the best mean, and, per held-out training identity, the figures
it gets with the constants chosen on the other four. It refuses validation faces
(vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_perfect_sync.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.solvers import arkit  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

EYE_GRID = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)  # FUSE_EYE_GEOMETRY (0: the model alone)
RISE_GRID = (0.0, 0.5, 1.0, 1.5)  # EYE_LEAD_RISE (0 and 0: no lead)
FALL_GRID = (0.0, 0.5, 1.0)  # EYE_LEAD_FALL
JAW_GRID = (0.0, 0.5, 0.7, 1.0)  # FUSE_JAW_GEOMETRY
# SUPPORT_RADIUS x SUPPORT_FULL (the model's eyelid share at poses not seen; inf: always full)
SUPPORT_GRID = tuple(itertools.product((0.1, 0.15, 0.2, 0.25, 0.3, float("inf")), (5, 10, 20)))
EyeKey = tuple[float, float, float]


@dataclass
class Run:
    """One training sequence: the truth on the frames with a face and the fusion's inputs."""

    name: str
    seed: int
    closed: NDArray[np.bool_]  # (n, 2) the person's eye at least half closed
    mouth: NDArray[np.float64]  # (n,) the true jaw opening
    inputs: list[tuple[object, ...]]  # Fusion.update's arguments, frame by frame


def record(name: str, seed: int, cache: Path) -> Run:
    from _common import cached_landmarks  # benchmarks/ is on sys.path

    seq = corpus.make_sequence(name, seed, seconds=10.0)
    lms = cached_landmarks(seq, "landmarker", cache, 10.0)
    tracker = Tracker(TrackConfig())
    fusion = tracker.arkit.fusion
    inputs: list[tuple[object, ...]] = []
    update = fusion.update

    def recording(raw, geo, dead_zone, pinned_open):  # type: ignore[no-untyped-def]
        inputs.append((np.array(raw, np.float32), geo, dead_zone, pinned_open))
        return update(raw, geo, dead_zone, pinned_open)

    fusion.update = recording  # type: ignore[method-assign]
    sent = scoring.track(lms, tracker=tracker)
    ok = sent.found
    if len(inputs) != int(ok.sum()):
        raise RuntimeError(f"{name}/{seed}: {len(inputs)} fused frames, {int(ok.sum())} faces")
    n = len(ok)
    return Run(name, seed, (seq.eye_close[:n] >= 0.5)[ok], seq.mouth[:n][ok], inputs)


def replay(run: Run, eye: EyeKey, jaw_w: float) -> tuple[float, float, float]:
    """(F1 left, F1 right, jaw Spearman) of one sequence with these constants."""
    arkit.FUSE_EYE_GEOMETRY, arkit.EYE_LEAD_RISE, arkit.EYE_LEAD_FALL = eye
    arkit.FUSE_JAW_GEOMETRY = jaw_w
    f = arkit.Fusion()
    out = np.array([f.update(*a) for a in run.inputs])  # type: ignore[arg-type]
    f1s = [scoring.f1(run.closed[:, e], out[:, e] >= 0.5) for e in (0, 1)]
    return f1s[0], f1s[1], float(spearmanr(run.mouth, out[:, 2]).statistic)


def main(argv: list[str] | None = None) -> int:
    corpus.begin_fitting()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2, help="sequences per training face")
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    names = corpus.available(corpus.TRAINING)
    runs = [
        record(n, 1000 * k + corpus.IDENTITIES.index(n), cache)
        for n in names
        for k in range(args.seeds)
    ]
    eye_c: EyeKey = (arkit.FUSE_EYE_GEOMETRY, arkit.EYE_LEAD_RISE, arkit.EYE_LEAD_FALL)
    jaw_c = arkit.FUSE_JAW_GEOMETRY
    # The eyelid constants touch only the eyelids and the jaw weight only the jaw: each grid is
    # run with the other at its committed value.
    eyes = {
        k: [replay(r, k, jaw_c)[:2] for r in runs]
        for k in itertools.product(EYE_GRID, RISE_GRID, FALL_GRID)
    }
    jaws = {w: [replay(r, eye_c, w)[2] for r in runs] for w in JAW_GRID}
    support_c = (arkit.SUPPORT_RADIUS, arkit.SUPPORT_FULL)
    support = {}
    for arkit.SUPPORT_RADIUS, arkit.SUPPORT_FULL in SUPPORT_GRID:
        support[(arkit.SUPPORT_RADIUS, arkit.SUPPORT_FULL)] = [
            replay(r, eye_c, jaw_c)[:2] for r in runs
        ]
    arkit.SUPPORT_RADIUS, arkit.SUPPORT_FULL = support_c
    arkit.FUSE_EYE_GEOMETRY, arkit.EYE_LEAD_RISE, arkit.EYE_LEAD_FALL = eye_c
    arkit.FUSE_JAW_GEOMETRY = jaw_c

    print(f"training sequences: {', '.join(f'{r.name}/{r.seed}' for r in runs)}")
    print("eye w  rise  fall  F1 mean  F1 min   (the 12 best, no lead, committed)")
    ranked = sorted(eyes, key=lambda k: -float(np.mean(eyes[k])))
    shown = ranked[:12] + [k for k in eyes if k[1:] == (0.0, 0.0)] + [eye_c]
    for k in dict.fromkeys(shown):
        a = np.array(eyes[k])
        print(f"{k[0]:5.2f} {k[1]:5.2f} {k[2]:5.2f}  {a.mean():7.3f} {a.min():7.2f}")
    print("jaw w  mean  min")
    for w, rows in jaws.items():
        print(f"{w:5.2f} {np.mean(rows):6.3f} {np.min(rows):5.2f}")

    def best(keep: list[int]) -> tuple[EyeKey, float]:
        """The eyelid constants with the best mean F1 and the jaw weight with the best mean
        Spearman over the runs in ``keep``."""
        e = max(eyes, key=lambda k: float(np.mean([eyes[k][i] for i in keep])))
        j = max(jaws, key=lambda w: float(np.mean([jaws[w][i] for i in keep])))
        return e, j

    print(
        f"chosen on all training faces (eye w, rise, fall; jaw w): {best(list(range(len(runs))))}"
    )
    print(f"committed: {eye_c}; {jaw_c}")
    print("support radius, frames: eyelid F1 mean, min (committed eyelid constants)")
    for k, rows in support.items():
        a = np.array(rows)
        print(f"{k[0]:5.2f} {k[1]:3d}  {a.mean():.4f} {a.min():.2f}")
    print(f"committed support: {support_c}")
    for held in names:
        keep = [i for i, r in enumerate(runs) if r.name != held]
        out = [i for i, r in enumerate(runs) if r.name == held]
        e, j = best(keep)

        def fmt(ek: EyeKey, jw: float, out: list[int] = out) -> str:
            return (
                f"F1 {' '.join(f'{eyes[ek][i][0]:.2f}/{eyes[ek][i][1]:.2f}' for i in out)}, jaw "
                f"{' '.join(f'{jaws[jw][i]:.2f}' for i in out)}"
            )

        print(f"held out {held:14s}: {e}; {j} -> {fmt(e, j)}; committed -> {fmt(eye_c, jaw_c)}")
        sk = max(support, key=lambda k: float(np.mean([support[k][i] for i in keep])))
        print(
            f"  support chosen without it {sk}: F1 {np.mean([support[sk][i] for i in out]):.3f}, "
            f"committed {np.mean([support[support_c][i] for i in out]):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
