"""Fit the head-pose bias constants (vtuber/solvers/head.py) on the face corpus's TRAINING
identities only (docs/face_corpus.md), with a leave-one-identity-out check.

For every training face and seed it runs real FaceMesh on the rendered performance (cached by
benchmarks/bench_face_corpus.py) and vtuber's HeadTracker, and records each frame's two raw
estimates relative to the neutral head (the first frame's reading, as vtuber.tracker's
StartingHead sets it without a profile): solvePnP against the generic model and the Kabsch
rotation of the user's own 3D landmarks. Then it fits, by least squares on the per-frame angle
error relative to the first frontal frame (the figure bench_face_corpus.py reports):
``ROTATION_GAIN`` + ``YAW_PITCH_COUPLING_DEG`` (solvePnP), ``ROTATION_GAIN_3D`` +
``YAW_PITCH_COUPLING_3D_DEG`` (Kabsch) and ``FUSION_WEIGHT``. It prints, per held-out training
identity, the error of the constants fitted on the other four, then the constants fitted on all
five. It refuses validation faces (vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_head_pose.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402
from scipy.optimize import least_squares  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

from vtuber.solvers import head  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402


def record(name: str, seed: int, cache: Path) -> dict[str, np.ndarray]:
    from _common import cached_landmarks  # benchmarks/ is on sys.path

    seq = corpus.make_sequence(name, seed, seconds=10.0)
    lms = cached_landmarks(seq, "facemesh", cache, 10.0)
    tracker = head.HeadTracker()
    pnp, k3d = [], []
    neutral = None
    for lm in lms:
        pose = tracker.update(lm.face_pixels(), lm.width, lm.height)
        if neutral is None:  # as vtuber.tracker does (StartingHead): the first reading
            neutral = pose.rotation
            tracker.neutral = neutral
        # Relative to the neutral, as HeadTracker.avatar_rotation corrects them.
        pnp.append(pose.rotation @ neutral.T)
        r3 = pose.rotation if pose.rotation_3d is None else pose.rotation_3d
        k3d.append(r3 @ neutral.T)
    truth = np.array([head.quat.to_matrix(q) for q in scoring.truth_head(seq, False)])
    return {"pnp": np.array(pnp), "k3d": np.array(k3d), "truth": truth}


def corrected(r: np.ndarray, gain: np.ndarray, coupling_deg: float) -> np.ndarray:
    """vtuber.solvers.head.correct_rotation on (n, 3, 3), vectorised."""
    rv = Rotation.from_matrix(r).as_rotvec() * gain
    m = Rotation.from_rotvec(rv).as_matrix()
    yaw = np.arctan2(m[:, 0, 2], m[:, 2, 2])
    a = np.radians(coupling_deg * (1.0 - np.cos(yaw)))
    return m @ Rotation.from_rotvec(np.stack([a, 0 * a, 0 * a], axis=1)).as_matrix()


def errors(data: list[dict[str, np.ndarray]], p: np.ndarray) -> np.ndarray:
    out = []
    for d in data:
        a = corrected(d["pnp"], p[0:3], p[3])
        b = corrected(d["k3d"], p[4:7], p[7])
        fused = (
            Rotation.from_rotvec(
                p[8] * Rotation.from_matrix(b @ a.transpose(0, 2, 1)).as_rotvec()
            ).as_matrix()
            @ a
        )
        rel = fused @ fused[0].T
        err = Rotation.from_matrix(rel @ d["truth"].transpose(0, 2, 1)).magnitude()
        out.append(np.degrees(err))
    return np.concatenate(out)


def fit(data: list[dict[str, np.ndarray]], p0: np.ndarray) -> np.ndarray:
    def resid(p: np.ndarray) -> np.ndarray:
        return errors(data, p)

    return np.asarray(least_squares(resid, p0, loss="soft_l1", f_scale=3.0).x)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    args = ap.parse_args()
    corpus.begin_fitting()
    cache = Path(args.cache)
    names = corpus.available(corpus.TRAINING)
    data = {
        n: [record(n, 1000 * k + corpus.IDENTITIES.index(n), cache)
            for k in range(args.seeds)]
        for n in names
    }  # fmt: skip
    current = np.array(
        [*head.ROTATION_GAIN, head.YAW_PITCH_COUPLING_DEG, *head.ROTATION_GAIN_3D,
         head.YAW_PITCH_COUPLING_3D_DEG, head.FUSION_WEIGHT]
    )  # fmt: skip
    plain = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    print(f"{'held out':15s} {'committed':>9s} {'no corr':>8s} {'fit on rest':>11s}")
    for n in names:
        rest = [d for m in names if m != n for d in data[m]]
        p = fit(rest, current)
        print(
            f"{n:15s} {errors(data[n], current).mean():9.2f} {errors(data[n], plain).mean():8.2f} "
            f"{errors(data[n], p).mean():11.2f}"
        )
    p = fit([d for n in names for d in data[n]], current)
    print("fitted on all training faces:")
    print(f"ROTATION_GAIN = {np.round(p[0:3], 3).tolist()}, YAW_PITCH_COUPLING_DEG = {p[3]:.1f}")
    print(f"ROTATION_GAIN_3D = {np.round(p[4:7], 3).tolist()}, YAW_PITCH_COUPLING_3D = {p[7]:.1f}")
    print(f"FUSION_WEIGHT = {p[8]:.3f}")


if __name__ == "__main__":
    main()
