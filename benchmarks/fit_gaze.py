"""Fit the gaze constants (vtuber/solvers/eyes.py) on the face corpus's TRAINING identities only
(docs/face_corpus.md), with a leave-one-identity-out check.

For every training face and seed it runs real FaceMesh on the rendered performance (cached like
benchmarks/bench_face_corpus.py) and vtuber's HeadTracker, and records per frame and eye the raw
measures :func:`vtuber.solvers.eyes.gaze_offsets` combines: the iris centre's image-plane offset
from the eye-corner midpoint, the head rotation, the eye width and the lids' height. The user's
rest is the median over the frames with both eyes open (what vtuber.solvers.calibration's
FaceAdapter learns all session). Then it fits, minimising the gaze error in degrees on frames
with the eyes open and the gaze steady (the figure bench_face_corpus.py reports):

- ``IRIS_DEPTH``: how far the iris centre lies in front of the eye corners, in eye widths (the
  head's rotation carries it across the image; a grid search);
- ``LID_WEIGHT``: how much of the lids' heights joins the iris's in the vertical measure (the
  lids follow a vertical gaze, and FaceMesh finds lids more surely than the iris's height): the
  least-squares direction of the true vertical shift on the three measures;
- ``EyeConfig.iris_gain``: how far the horizontal and the combined vertical measure move per eye
  width of true iris movement (each regressed on the truth, so glances are not shrunk toward the
  straight-ahead frames that outnumber them).

It prints, per held-out training identity, the error of the committed constants, of the plain
model (no depth, no lids, gains 0.5 / 0.3) and of the constants fitted on the other four, then
the constants fitted on all five. It refuses validation faces (vtuber.synth.corpus.begin_fitting).

    .venv/bin/python benchmarks/fit_gaze.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

from vtuber.solvers import eyes, head  # noqa: E402
from vtuber.solvers.expressions import face_frame  # noqa: E402
from vtuber.synth import corpus  # noqa: E402
from vtuber.synth.face import EYE_WIDTH_MM, EYEBALL_RADIUS_MM  # noqa: E402

RATIO = EYEBALL_RADIUS_MM / EYE_WIDTH_MM  # true iris shift = RATIO * sin(gaze angle)


def record(name: str, seed: int, cache: Path) -> dict[str, np.ndarray]:
    """Per-frame landmarks, head rotation and truth of one performance."""
    from _common import cached_landmarks  # benchmarks/ is on sys.path

    seq = corpus.make_sequence(name, seed, seconds=10.0)
    lms = cached_landmarks(seq, "facemesh", cache, 10.0)
    tracker = head.HeadTracker()
    pts, rots, faces, found = [], [], [], []
    for lm in lms:
        found.append(lm.face.found)
        if not lm.face.found:
            pts.append(np.zeros((478, 3)))
            rots.append(np.eye(3))
            faces.append(np.zeros((478, 3)))
            continue
        p = lm.face_pixels()
        rot = tracker.update(p, lm.width, lm.height).rotation
        pts.append(p)
        rots.append(rot)
        faces.append(face_frame(p, rot))
    d = {"pts": np.array(pts), "rot": np.array(rots), "face": np.array(faces)}
    d["found"] = np.array(found, dtype=bool)
    n = len(lms)
    # Truth in the anatomical frame: x toward the person's right (the render's dx > 0 is their
    # left), y up.
    d["truth"] = np.stack([-seq.iris[:n, 0], seq.iris[:n, 1]], axis=1)
    iris = seq.iris[:n]
    moved = np.zeros(n, bool)
    moved[1:] = np.any(iris[1:] != iris[:-1], axis=1)
    closed = np.any(seq.eye_close[:n] > 0.0, axis=1)
    ok = np.array(found, dtype=bool)
    d["steady"] = ~_dilate(moved, 2) & ~_dilate(closed, 2) & ok
    # Frames the adapter learns the rest from: both eyes open (measured, as FaceAdapter does).
    op = np.array(
        [eyes.eye_openness(f) if ok else np.zeros(2) for f, ok in zip(faces, found, strict=True)]
    )
    level = np.percentile(op[d["found"]], 65, axis=0)
    d["rest_frames"] = d["found"] & np.all(op > 0.8 * level, axis=1)
    d["lids"] = np.array([eyes.lid_heights(f) if ok else np.zeros((2, 2)) for f, ok in
                          zip(faces, found, strict=True)])  # fmt: skip
    return d


def _dilate(mask: np.ndarray, k: int) -> np.ndarray:
    out = mask.copy()
    for s in range(1, k + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


def features(d: dict[str, np.ndarray], depth: float) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, 2) iris offsets in the head frame for ``depth`` (no lids) and (n, 2, 2) lid
    heights (upper, lower), each minus the user's rest (the median over the rest frames)."""
    off = np.array(
        [eyes.iris_offsets(p, r, f, depth=depth, lid_weight=(0.0, 0.0)) if ok else np.zeros((2, 2))
         for p, r, f, ok in zip(d["pts"], d["rot"], d["face"], d["found"], strict=True)]
    )  # fmt: skip
    lids = d["lids"]
    sel = d["rest_frames"]
    return off - np.median(off[sel], axis=0), lids - np.median(lids[sel], axis=0)


Params = tuple[float, tuple[float, float], tuple[float, float]]


def gaze_error(data: list[dict[str, np.ndarray]], p: Params) -> float:
    """Mean gaze error (degrees) over the steady open frames of ``data`` for ``p`` = (depth,
    (gain x, gain y), (upper, lower) lid weights), as vtuber.solvers.eyes.EyeSolver computes it
    (each eye's angles, averaged)."""
    depth, gain, lid_w = p
    errs = []
    for d in data:
        off, lids = features(d, depth)
        y = off[:, :, 1] + lid_w[0] * lids[:, :, 0] + lid_w[1] * lids[:, :, 1]
        yaw = np.degrees(np.arcsin(np.clip(off[:, :, 0] / gain[0] / RATIO, -1, 1))).mean(axis=1)
        pitch = np.degrees(np.arcsin(np.clip(y / gain[1] / RATIO, -1, 1))).mean(axis=1)
        t = np.degrees(np.arcsin(np.clip(d["truth"] / RATIO, -1, 1)))
        s = d["steady"]
        errs.append(np.hypot(yaw - t[:, 0], pitch - t[:, 1])[s])
    return float(np.concatenate(errs).mean())


def fit(data: list[dict[str, np.ndarray]], lids: bool = True) -> Params:
    """(depth, gains, lid weights) for ``data``: for each depth on a grid, the lid weights and
    gains by least squares (module doc); the depth with the least gaze error wins."""
    best: tuple[float, Params] | None = None
    for depth in np.arange(-0.2, 0.61, 0.05):
        xs, ys, ts = [], [], []
        for d in data:
            off, lh = features(d, float(depth))
            s = d["steady"]
            xs.append(off[s, :, 0].ravel())
            ys.append(np.stack([off[s, :, 1].ravel(), *(lh[s, :, k].ravel() for k in (0, 1))], 1))
            ts.append(np.repeat(d["truth"][s], 2, axis=0))
        x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
        # The vertical measure's direction: truth_y ~ a * iris_y + b * upper + c * lower, by
        # least squares; the lid weights are b / a and c / a.
        coef, *_ = np.linalg.lstsq(y if lids else y[:, :1], t[:, 1], rcond=None)
        if coef[0] <= 1e-6:
            continue
        w = np.concatenate([coef[1:] / coef[0], np.zeros(3 - len(coef))])
        m = y[:, 0] + w[0] * y[:, 1] + w[1] * y[:, 2]
        # Gains: how far each measure moves per unit of truth (regressed on the truth, so a
        # glance is not shrunk toward the straight-ahead frames that outnumber it).
        gx = float(x @ t[:, 0] / max(t[:, 0] @ t[:, 0], 1e-12))
        gy = float(m @ t[:, 1] / max(t[:, 1] @ t[:, 1], 1e-12))
        if gx <= 1e-6 or gy <= 1e-6:
            continue
        p: Params = (float(depth), (gx, gy), (float(w[0]), float(w[1])))
        e = gaze_error(data, p)
        if best is None or e < best[0]:
            best = (e, p)
    assert best is not None
    return best[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=2)
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
    cfg = eyes.EyeConfig()
    committed: Params = (eyes.IRIS_DEPTH, cfg.iris_gain, eyes.LID_WEIGHT)
    plain: Params = (0.0, (0.5, 0.3), (0.0, 0.0))
    print(f"{'held out':15s} {'committed':>9s} {'plain':>6s} {'iris only':>9s} {'with lids':>9s}")
    for n in names:
        rest = [d for m in names if m != n for d in data[m]]
        p = fit(rest)
        q = fit(rest, lids=False)
        print(
            f"{n:15s} {gaze_error(data[n], committed):9.2f} {gaze_error(data[n], plain):6.2f} "
            f"{gaze_error(data[n], q):9.2f} {gaze_error(data[n], p):9.2f}   fit on the rest: "
            f"depth {p[0]:.2f} gain ({p[1][0]:.2f}, {p[1][1]:.2f}) lids ({p[2][0]:.2f}, "
            f"{p[2][1]:.2f})"
        )
    for lids in (False, True):
        depth, gain, lid_w = fit([d for n in names for d in data[n]], lids=lids)
        print(f"fitted on all training faces ({'with' if lids else 'without'} lids):")
        print(f"IRIS_DEPTH = {depth:.2f}, iris_gain = ({gain[0]:.3f}, {gain[1]:.3f}), "
              f"LID_WEIGHT = ({lid_w[0]:.3f}, {lid_w[1]:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
