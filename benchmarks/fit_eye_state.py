"""Fit the eye network of vtuber/landmarks/eyelids.py and choose ``EyeConfig.pixel_weight``
(vtuber/solvers/eyes.py) and ``eyelids.START_FRAMES`` on the face corpus's TRAINING identities
only (docs/face_corpus.md), with and without glasses.

For every training face, seed and condition (bare, glasses: ``Sequence.glasses``) it takes the
cached FaceMesh landmarks and the eye patches cut where they put the eyes
(benchmarks/_common.py: rendered once), the features relative to the performance's open-eye
reference as vtuber.landmarks.eyelids.EyeShut makes them, and the truth's per-eye closure as a
soft label. Leaving one identity out at a time, it fits the network on the other four and runs
vtuber's Tracker (no smoothing) on the held-out identity's performances with each start and
weight of the grid (the patches through EyeShut exactly as live), printing blink F1 and false
blinks while turning (bench_face_corpus.py's figures) for the bare and the glasses
performances. ``--write`` then fits the network on all training faces and writes
vtuber/data/eye_state.npz. It refuses validation faces (vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_eye_state.py [--seeds 2] [--write]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.landmarks import eyelids  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

START_FRAMES = eyelids.START_FRAMES  # the shipped value

WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5)
STARTS = (10, 30, 90)  # eyelids.START_FRAMES
HIDDEN = 16
EPOCHS = 300
L2 = 1e-3
RATE = 0.01
BATCH = 2048

F32 = NDArray[np.float32]


def reference_features(patches: NDArray[np.uint8], found: NDArray[np.bool_]) -> F32:
    """(n, 2, FEATURES): each found frame's features less the reference EyeShut ends up holding
    (the median of the first TEMPLATE_FRAMES found frames); the rest NaN. (Live, the first
    frames are read against the median of those seen so far; here against the final one.)"""
    f = np.full((len(found), 2, eyelids.FEATURES), np.nan, np.float32)
    f[found] = np.stack([eyelids.both_eyes(p) for p in patches[found]])
    ref = np.median(f[found][: eyelids.TEMPLATE_FRAMES], axis=0)
    return f - ref


def fit(x: F32, y: NDArray[np.float64], seed: int = 0) -> eyelids.EyeNetwork:
    """One hidden tanh layer, logistic output, cross-entropy against the soft labels ``y``,
    Adam with weight decay, minibatches (plain numpy, seeded)."""
    rng = np.random.default_rng(seed)
    mean, scale = x.mean(0), x.std(0) + 1e-3
    xn = (x - mean) / scale
    n, d = xn.shape
    params = [
        rng.normal(0.0, 1.0 / np.sqrt(d), (d, HIDDEN)),
        np.zeros(HIDDEN),
        rng.normal(0.0, 1.0 / np.sqrt(HIDDEN), HIDDEN),
        np.zeros(1),
    ]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    for t in range(1, EPOCHS + 1):
        for idx in np.array_split(rng.permutation(n), max(1, n // BATCH)):
            xb, yb = xn[idx], y[idx]
            h = np.tanh(xb @ params[0] + params[1])
            p = 1.0 / (1.0 + np.exp(-(h @ params[2] + params[3][0])))
            dz = (p - yb) / len(idx)
            dh = np.outer(dz, params[2]) * (1.0 - h**2)
            grads = (
                xb.T @ dh + L2 * params[0],
                dh.sum(0),
                h.T @ dz + L2 * params[2],
                np.array([dz.sum()]),
            )
            for i, g in enumerate(grads):
                m1[i] = 0.9 * m1[i] + 0.1 * g
                m2[i] = 0.999 * m2[i] + 0.001 * g**2
                step = (m1[i] / (1 - 0.9**t)) / (np.sqrt(m2[i] / (1 - 0.999**t)) + 1e-8)
                params[i] = params[i] - RATE * step
    f32 = [np.asarray(p, np.float32) for p in params]
    return eyelids.EyeNetwork(
        np.asarray(mean, np.float32), np.asarray(scale, np.float32), *f32[:3], float(f32[3][0])
    )


def main(argv: list[str] | None = None) -> int:
    from _common import (  # benchmarks/ is on sys.path
        cached_eye_patches,
        cached_landmarks,
        eye_patches_file,
        training_sequences,
        with_eye_shut,
    )

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2, help="performances per training face")
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    ap.add_argument("--write", action="store_true", help="write vtuber/data/eye_state.npz")
    args = ap.parse_args(argv)
    corpus.begin_fitting()
    names = corpus.available(corpus.TRAINING)
    if not names:
        print(f"no training faces in {corpus.shared_faces_dir()}")
        return 1
    cache = Path(args.cache)
    runs = []
    for glasses, name, _, seq in training_sequences(args.seeds, (False, True)):
        # The patches are cut where FaceMesh put the eyes, as the backend cuts them live.
        lms = cached_landmarks(seq, "facemesh", cache, 10.0, eyes=False, contours=False)
        patches = cached_eye_patches(seq, lms, eye_patches_file(seq, cache, 10.0))
        found = np.array([lm.face.found for lm in lms])
        feats = reference_features(patches, found)
        truth = seq.eye_close[: len(lms)]
        runs.append((glasses, name, seq, lms, patches, found, feats, truth))

    def data(keep: list[bool]) -> tuple[F32, NDArray[np.float64]]:
        chosen = [r for r, kp in zip(runs, keep, strict=True) if kp]
        x = np.concatenate([r[6][r[5]].reshape(-1, eyelids.FEATURES) for r in chosen])
        y = np.concatenate([r[7][r[5]].reshape(-1) for r in chosen])
        return x, y

    grid = [(st, w) for st in STARTS for w in WEIGHTS if w > 0.0] + [(STARTS[-1], 0.0)]
    f1s: dict[tuple[int, float], list[tuple[float, float]]] = {g: [] for g in grid}
    false_blinks: dict[tuple[int, float], list[int]] = {g: [] for g in grid}
    order = []
    for held in names:
        net = fit(*data([r[1] != held for r in runs]))
        for r in runs:
            if r[1] != held:
                continue
            order.append(r)
            glasses, _name, seq, lms, patches = r[:5]
            for st, w in grid:
                eyelids.START_FRAMES = st
                with_eye_shut(lms, patches, net)
                tracker = Tracker(TrackConfig())
                tracker.face.eye_config.pixel_weight = w
                s = scoring.score(seq, scoring.track(lms, tracker=tracker))
                f1s[st, w].append(s.blink_f1)
                false_blinks[st, w].append(s.false_blinks_turning)
        print(f"held out {held}", flush=True)
    eyelids.START_FRAMES = START_FRAMES
    bare = np.array([not r[0] for r in order])
    print(f"start weight {'condition':9s} {'F1 mean':>7s} {'min':>5s} {'>=0.9':>6s} false")
    for st, w in sorted(grid):
        f = np.array(f1s[st, w])
        fb = np.array(false_blinks[st, w])
        for label, sel in (("bare", bare), ("glasses", ~bare)):
            print(
                f"{st:5d} {w:6.2f} {label:9s} {f[sel].mean():7.3f} {f[sel].min():5.2f} "
                f"{int((f[sel] >= 0.9).sum()):3d}/{f[sel].size:<2d} {int(fb[sel].sum()):5d}"
            )
    print(f"per performance (held out), F1 left/right at start {START_FRAMES}, each weight:")
    for i, r in enumerate(order):
        cells = " ".join(
            f"{f1s[START_FRAMES, w][i][0]:.2f}/{f1s[START_FRAMES, w][i][1]:.2f}"
            for w in WEIGHTS
            if (START_FRAMES, w) in f1s
        )
        print(f"  {r[2].name:14s} {r[2].seed:5d} {'glasses' if r[0] else 'bare   '} {cells}")
    if args.write:
        net = fit(*data([True] * len(runs)))
        net.save(eyelids.DEFAULT_NETWORK)
        print(f"wrote {eyelids.DEFAULT_NETWORK}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
