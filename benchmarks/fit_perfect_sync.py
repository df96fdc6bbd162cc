"""Choose the perfect-sync fusion constants (vtuber/solvers/arkit.py: ``FUSE_EYE_GEOMETRY``,
``EYE_LEAD_RISE``, ``EYE_LEAD_FALL``, ``FUSE_JAW_GEOMETRY``, ``SUPPORT_RADIUS``,
``SUPPORT_FULL``, ``EYE_MODEL_BEYOND``, ``JAW_PATH_DEG``) on the face corpus's TRAINING identities
only (docs/face_corpus.md).

For every training face and seed it runs the real Face Landmarker on the rendered performance
(cached under --cache like benchmarks/bench_face_corpus.py) and vtuber's Tracker with no
smoothing once, recording what the tracker hands :class:`vtuber.solvers.arkit.Fusion` each frame
(the model's scores and the geometric readings: nothing the fusion outputs feeds back into them).
It then replays those frames through a fresh Fusion for every set of constants on a grid and
scores what would be sent: eyeBlinkLeft/Right F1 (>= 0.5 vs the true closure >= 0.5, partial
closures included) and jawOpen Spearman. It prints the grid (mean and worst over the training
sequences), the constants with the best mean, and, per held-out training identity, the figures
it gets with the constants chosen on the other four. ``JAW_PATH_DEG`` is fitted to a measurement,
not to the score: per pitch band, the slope of the geometric openness over the true opening
against a level head's (median over the sequences), and the jaw path angle whose foreshortening
cos(a - pitch) / cos(a) fits those medians best (least squares); the score's grid over the angle
is printed beside it for reference. It refuses validation faces
(vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_perfect_sync.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import itertools
import math
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
# EYE_MODEL_BEYOND (inf: the model's closure unbounded by the geometry's)
BEYOND_GRID = (0.25, 0.5, 0.75, 1.0, 1.5, float("inf"))
# JAW_PATH_DEG (None: no foreshortening correction); the committed angle is a measurement's fit
PATH_GRID = (None, 20.0, 30.0, 36.0, 40.0, 50.0, 60.0)
# Pitch bands (degrees, relative to the user's neutral) where the geometry's jaw slope is measured
# against the level head's (|pitch| < 5)
PITCH_BANDS = ((-25.0, -15.0), (-15.0, -10.0), (-10.0, -5.0), (5.0, 10.0), (10.0, 25.0))
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


def replay(
    run: Run, eye: EyeKey, jaw_w: float, path: float | None = arkit.JAW_PATH_DEG
) -> tuple[float, float, float]:
    """(F1 left, F1 right, jaw Spearman) of one sequence with these constants (``path`` None:
    no foreshortening correction of the geometric jaw)."""
    arkit.FUSE_EYE_GEOMETRY, arkit.EYE_LEAD_RISE, arkit.EYE_LEAD_FALL = eye
    arkit.FUSE_JAW_GEOMETRY = jaw_w
    gain = arkit.jaw_path_gain
    if path is None:
        arkit.jaw_path_gain = lambda pitch: 1.0  # type: ignore[assignment]
    else:
        arkit.JAW_PATH_DEG = path
    try:
        f = arkit.Fusion()
        out = np.array([f.update(*a) for a in run.inputs])  # type: ignore[arg-type]
    finally:
        arkit.jaw_path_gain = gain
    f1s = [scoring.f1(run.closed[:, e], out[:, e] >= 0.5) for e in (0, 1)]
    return f1s[0], f1s[1], float(spearmanr(run.mouth, out[:, 2]).statistic)


def jaw_path_fit(
    runs: list[Run],
) -> tuple[dict[tuple[float, float], tuple[float, float, int]], float]:
    """The geometry's jaw under-read by pitch band and the path angle fitted to it: per band,
    (median pitch in radians, median slope ratio, sequences measured), and the angle (degrees)."""
    ratios: dict[tuple[float, float], list[float]] = {b: [] for b in PITCH_BANDS}
    pitches: dict[tuple[float, float], list[float]] = {b: [] for b in PITCH_BANDS}
    for r in runs:
        g = np.array([a[1].jaw for a in r.inputs])  # type: ignore[attr-defined]
        p = np.degrees([a[1].pose[2] for a in r.inputs])  # type: ignore[attr-defined]
        level = np.abs(p) < 5.0
        base = np.polyfit(r.mouth[level], g[level], 1)[0]
        for b in PITCH_BANDS:
            m = (p >= b[0]) & (p < b[1])
            pitches[b] += p[m].tolist()
            if m.sum() >= 10 and r.mouth[m].std() > 0.1:
                ratios[b].append(float(np.polyfit(r.mouth[m], g[m], 1)[0] / base))
    bands = {
        b: (math.radians(float(np.median(pitches[b]))), float(np.median(ratios[b])), len(ratios[b]))
        for b in PITCH_BANDS
        if ratios[b]
    }

    def err(a: float) -> float:
        ar = math.radians(a)
        return sum((q - math.cos(ar - p) / math.cos(ar)) ** 2 for p, q, _ in bands.values())

    return bands, float(min(range(0, 71), key=err))


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
    beyond_c = arkit.EYE_MODEL_BEYOND
    beyond = {}
    for arkit.EYE_MODEL_BEYOND in BEYOND_GRID:
        beyond[arkit.EYE_MODEL_BEYOND] = [replay(r, eye_c, jaw_c)[:2] for r in runs]
    arkit.EYE_MODEL_BEYOND = beyond_c
    path_c = arkit.JAW_PATH_DEG
    paths = {a: [replay(r, eye_c, jaw_c, a)[2] for r in runs] for a in PATH_GRID}
    arkit.JAW_PATH_DEG = path_c
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
    print("model closure's bound above the geometry's: eyelid F1 mean, min")
    for k, rows in beyond.items():
        a = np.array(rows)
        print(f"{k:5.2f}  {a.mean():.4f} {a.min():.2f}")
    print(f"committed bound: {beyond_c}")
    bands, fitted = jaw_path_fit(runs)
    print("geometric jaw slope by head pitch over a level head's (median over sequences):")
    for b, (p, q, n) in bands.items():
        print(
            f"  pitch {b[0]:+.0f}..{b[1]:+.0f} deg (median {math.degrees(p):+.1f}): {q:.3f} ({n})"
        )
    print(f"jaw path angle fitted to them: {fitted:.0f} deg; committed {path_c}")
    print("jaw path angle: jaw Spearman mean, min (for reference; the angle is not chosen by it)")
    for a, rows in paths.items():
        print(f"{'none' if a is None else f'{a:.0f}':>5s}  {np.mean(rows):.4f} {np.min(rows):.3f}")
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
        pk = max(paths, key=lambda a: float(np.mean([paths[a][i] for i in keep])))
        print(
            f"  jaw path angle the score picks without it {pk}: jaw "
            f"{' '.join(f'{paths[pk][i]:.3f}' for i in out)}; committed "
            f"{' '.join(f'{paths[path_c][i]:.3f}' for i in out)}; none "
            f"{' '.join(f'{paths[None][i]:.3f}' for i in out)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
