"""Fit the eyes' own pose fit of their open level (``EYE_RIDGE``, ``EYE_REFIT`` in
vtuber/solvers/calibration.py) on the face corpus's TRAINING identities only
(docs/face_corpus.md), with a leave-one-identity-out check.

An eye's blink is read against its open level at the current head pose (``FaceAdapter``: a
quantile regression on the head's yaw, pitch and |yaw| over the last 450 frames). The ridge on
the pose terms and how often the fit is redone decide how closely that level follows what
FaceMesh reads at each pose. The criterion is the one the blink depends on and no blink decides:
the root mean square of (aperture / open level - 1) over every frame at least 3 frames from any
closure of that eye, averaged over the training eyes (two performances per face); among the
values within 1 % of the least, the strongest ridge (the pose terms extrapolate less). The script
records each performance's measures and head pose once with vtuber's Tracker (no smoothing),
replays them through a fresh ``FaceAdapter`` for each candidate, and then scores blink F1 and
false blinks with the Tracker at the chosen value and at the former one (ridge 20, refit every
15: the other measures' values). It refuses validation faces.

    .venv/bin/python benchmarks/fit_eye_rest.py [--seeds 2]
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import fitting_options, training_landmarks  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.solvers import calibration  # noqa: E402
from vtuber.solvers.adaptation import pose_features  # noqa: E402
from vtuber.solvers.calibration import FaceAdapter, FaceMeasures  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.tracker import Tracker  # noqa: E402

RIDGE = (20.0, 10.0, 5.0, 2.0, 1.0, 0.5)
REFIT = (15, 5)
GRID = [(r, e) for e in REFIT for r in RIDGE]
FORMER = (20.0, 15)
AWAY = 3  # frames from any closure of the eye for a frame to count as open
TOLERANCE = 0.01  # relative: errors this close count as equal


def record(tracker: Tracker, lms: list) -> list[tuple[tuple[float, ...], FaceMeasures]]:  # type: ignore[type-arg]
    """Each frame's (pose features, measures) as the tracker's face solver saw them."""
    seen: list[tuple[tuple[float, ...], FaceMeasures]] = []
    face = tracker.face
    solve = face.update

    def update(points, rotation, yaw=0.0, pitch=0.0, mouth_dark=float("nan")):  # type: ignore[no-untyped-def]
        r = solve(points, rotation, yaw, pitch, mouth_dark)
        seen.append((pose_features(yaw, pitch), r.measures))
        return r

    face.update = update  # type: ignore[method-assign]
    for i, lm in enumerate(lms):
        tracker.solve(lm, index=i)
    return seen


def open_error(seen: list, close: np.ndarray) -> list[float]:  # type: ignore[type-arg]
    """RMS of aperture / open level - 1 per eye over its open frames (a fresh FaceAdapter with
    the module's current constants, fed as FaceSolver feeds it)."""
    ad = FaceAdapter()
    rel = np.zeros((len(seen), 2))
    for i, (phi, m) in enumerate(seen):
        ad.start(m)
        rest = ad.rest(phi)
        r = (float(m.openness[0]) / max(rest[0], 1e-6), float(m.openness[1]) / max(rest[1], 1e-6))
        rel[i] = r
        ad.observe(phi, m, r)
    out = []
    for e in (0, 1):
        near = np.convolve((close[: len(seen), e] > 0).astype(float), np.ones(2 * AWAY + 1), "same")
        ok = near == 0
        out.append(float(np.sqrt(np.mean((rel[ok, e] - 1.0) ** 2))))
    return out


def set_constants(ridge: float, refit: int) -> None:
    calibration.EYE_RIDGE, calibration.EYE_REFIT = ridge, refit


def main(argv: list[str] | None = None) -> int:
    args = fitting_options(__doc__.split("\n")[0]).parse_args(argv)
    corpus.begin_fitting()
    performances = training_landmarks(args)
    if not performances:
        return 1
    names = list(dict.fromkeys(name for name, _, _, _ in performances))
    committed = (calibration.EYE_RIDGE, calibration.EYE_REFIT)
    runs = {}
    table: dict[tuple[str, int], list[list[float]]] = {}
    for name, k, seq, lms in performances:
        runs[name, k] = (seq, lms)
        seen = record(Tracker(TrackConfig()), lms)
        row = []
        for ridge, refit in GRID:
            set_constants(ridge, refit)
            row.append(open_error(seen, seq.eye_close))
        table[name, k] = row
    set_constants(*committed)

    def err(keys: list[tuple[str, int]], gi: int) -> float:
        return float(np.mean([x for key in keys for x in table[key][gi]]))

    def best(keys: list[tuple[str, int]]) -> int:
        # The strongest ridge (the least said by the pose terms) whose error is within
        # TOLERANCE of the least: where the data can not tell them apart, extrapolate less.
        scores = [err(keys, gi) for gi in range(len(GRID))]
        ok = [gi for gi, v in enumerate(scores) if v <= (1.0 + TOLERANCE) * min(scores)]
        return max(ok, key=lambda gi: (GRID[gi][0], -scores[gi]))

    keys = list(table)
    print(f"{'ridge':>5s} {'refit':>5s} {'open-eye RMS':>12s} {'worst eye':>9s}")
    for gi, (ridge, refit) in enumerate(GRID):
        worst = max(x for key in keys for x in table[key][gi])
        print(f"{ridge:5.1f} {refit:5d} {err(keys, gi):12.4f} {worst:9.4f}")
    print("\nleave one identity out: the held-out face's RMS at the value fitted on the others")
    fi = GRID.index(FORMER)
    for name in names:
        held = [key for key in keys if key[0] == name]
        gi = best([key for key in keys if key[0] != name])
        print(
            f"  {name:15s} ridge {GRID[gi][0]:.1f}, refit {GRID[gi][1]}: "
            f"{err(held, gi):.4f} (former {err(held, fi):.4f})"
        )
    gi = best(keys)
    print(f"\nfitted on all training faces: EYE_RIDGE = {GRID[gi][0]}, EYE_REFIT = {GRID[gi][1]}")
    print("\nblink F1 (left / right) and false blinks, Tracker, no smoothing:")
    for label, consts in (("former", FORMER), ("fitted", GRID[gi]), ("committed", committed)):
        set_constants(*consts)
        f1s, fb = [], 0
        for seq, lms in runs.values():
            s = scoring.score(seq, scoring.track(lms))
            f1s += list(s.blink_f1)
            fb += s.false_blinks_turning
        print(
            f"  {label:9s} ridge {consts[0]:4.1f} refit {consts[1]:2d}: mean F1 "
            f"{np.mean(f1s):.4f}, min {min(f1s):.3f}, false blinks {fb}"
        )
    set_constants(*committed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
