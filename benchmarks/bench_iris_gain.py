"""How far FaceMesh's iris landmark moves per eye width of true iris movement on the rendered
eye (vtuber.synth.face), per face: the yardstick check of docs/face_corpus.md's gaze figures.

For each face, still renders (640x480, face 250 px wide) with the iris shifted over a 5 x 5 grid
of gazes (+-20 deg across, +-12 deg up/down), head frontal and turned 20 deg; FaceMesh (still
mode) finds the iris centre and the eye corners; the gain is the slope of the iris centre's
offset from the corner midpoint (over the eye width, both eyes averaged) on the true shift,
across (gx) and up/down (gy), with the cross-talk of the other axis.

    .venv/bin/python benchmarks/bench_iris_gain.py [--faces training|validation|all|name,...]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

from vtuber.landmarks import face_mesh as fm  # noqa: E402
from vtuber.landmarks.facemesh import FaceMeshBackend  # noqa: E402
from vtuber.synth import corpus  # noqa: E402

SIZE = (640, 480)
SHIFT_X = 0.4 * np.sin(np.radians([-20, -10, 0, 10, 20]))
SHIFT_Y = 0.4 * np.sin(np.radians([-12, -6, 0, 6, 12]))
EYES = ((fm.EYE_OUTER_L, fm.EYE_INNER_L, fm.IRIS_L), (fm.EYE_OUTER_R, fm.EYE_INNER_R, fm.IRIS_R))


def iris_offset(p: np.ndarray) -> np.ndarray:
    """Iris centre minus corner midpoint over eye width, both eyes averaged: (image x, up)."""
    o = []
    for outer, inner, iris in EYES:
        mid = 0.5 * (p[outer, :2] + p[inner, :2])
        o.append((p[iris, :2] - mid) / np.linalg.norm(p[outer, :2] - p[inner, :2]))
    m = np.mean(o, axis=0)
    return np.array([m[0], -m[1]])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faces", default="training", help="training, validation, all, or names")
    args = ap.parse_args(argv)
    groups = {
        "training": corpus.TRAINING,
        "validation": corpus.VALIDATION,
        "all": corpus.IDENTITIES,
    }
    names = corpus.available(groups.get(args.faces) or tuple(args.faces.split(",")))
    print(f"{'face':15s} {'head':>4s} {'gx':>5s} {'gy':>5s} {'x<-y':>5s} {'y<-x':>5s}")
    with FaceMeshBackend(static_images=True) as backend:
        for name in names:
            base = corpus.renderer(name)
            rend = corpus.renderer(name, distance_cm=corpus.distance_for_width(base, 250, SIZE))
            for head_yaw in (0.0, 20.0):
                truth, got = [], []
                for sx in SHIFT_X:
                    for sy in SHIFT_Y:
                        img = rend.render(head_yaw, iris=(float(sx), float(sy)), size=SIZE)
                        got.append(iris_offset(backend.process(img, 0.0).face_pixels()))
                        truth.append((sx, sy))
                t, g = np.array(truth), np.array(got)
                coef, *_ = np.linalg.lstsq(np.c_[t, np.ones(len(t))], g, rcond=None)
                print(
                    f"{name:15s} {head_yaw:4.0f} {coef[0, 0]:5.2f} {coef[1, 1]:5.2f} "
                    f"{coef[1, 0]:5.2f} {coef[0, 1]:5.2f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
