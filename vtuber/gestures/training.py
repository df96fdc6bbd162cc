"""Gesture samples on disk, and training the built-in and custom models (docs/gestures.md).

A samples file (written by ``vtuber gestures record NAME``) is a ``.npz`` holding
``format`` (= :data:`SAMPLES_FORMAT`), ``label`` (the gesture name), ``world`` (N, 21, 3) float32
MediaPipe world hand points, ``is_left`` (N,) bool (the person's own hand), ``t`` (N,) float64
source times and ``source`` (what it was recorded from). One file per take; a folder of them is a
training set.

Held-out samples: the last ``holdout`` share of every take (consecutive frames are nearly the
same, so a random split would test on near-copies of training frames).

Custom models learn the custom classes together with the built-in classes and ``none`` from the
synthetic set (vtuber/synth/hands.py), so a new gesture is told apart from the built-in ones and
from a hand doing nothing in particular.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.errors import FormatError
from vtuber.gestures.features import hand_features_batch
from vtuber.gestures.model import NONE, GestureModel, per_class_report, train
from vtuber.synth.hands import BUILTIN_HAND_CLASSES, make_dataset

F64 = NDArray[np.float64]
SAMPLES_FORMAT = "vtuber-gesture-samples-1"
BUILTIN_SEED = 20261204
BUILTIN_PER_CLASS = 1500
CUSTOM_SYNTH_PER_CLASS = 250


@dataclass
class Take:
    label: str
    world: F64
    is_left: NDArray[np.bool_]
    t: F64
    source: str = ""

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            format=np.array(SAMPLES_FORMAT),
            label=np.array(self.label),
            world=self.world.astype(np.float32),
            is_left=self.is_left.astype(bool),
            t=self.t.astype(np.float64),
            source=np.array(self.source),
        )

    @classmethod
    def load(cls, path: str | Path) -> Take:
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["format"]) != SAMPLES_FORMAT:
                    raise FormatError(f"{path}: not a gesture samples file")
                world = z["world"].astype(np.float64)
                take = cls(str(z["label"]), world, z["is_left"], z["t"], str(z["source"]))
        except FormatError:
            raise
        except (OSError, KeyError, ValueError) as e:
            raise FormatError(f"{path}: not a readable gesture samples file ({e})") from e
        if world.ndim != 3 or world.shape[1:] != (21, 3) or len(take.is_left) != len(world):
            raise FormatError(f"{path}: gesture samples have the wrong shape {world.shape}")
        return take


def load_takes(folder: str | Path) -> list[Take]:
    paths = sorted(Path(folder).glob("*.npz"))
    if not paths:
        raise FormatError(f"no gesture samples (*.npz) in {folder}")
    return [Take.load(p) for p in paths]


def split_takes(
    takes: list[Take], holdout: float = 0.25
) -> tuple[tuple[F64, list[str]], tuple[F64, list[str]]]:
    """(train, held-out) features and labels; the last ``holdout`` of each take is held out."""
    xs_tr, ys_tr, xs_te, ys_te = [], [], [], []
    for tk in takes:
        n = len(tk.world)
        if n == 0:
            continue
        if holdout >= 1.0:  # all held out (takes of other videos), a 1-frame take too
            cut = 0
        else:
            cut = n - max(1, int(round(holdout * n))) if holdout > 0 and n > 1 else n
        x = hand_features_batch(tk.world, tk.is_left)
        xs_tr.append(x[:cut])
        ys_tr += [tk.label] * cut
        xs_te.append(x[cut:])
        ys_te += [tk.label] * (n - cut)
    nf = xs_tr[0].shape[1] if xs_tr else 0
    tr = np.concatenate(xs_tr) if xs_tr else np.zeros((0, nf))
    te = np.concatenate(xs_te) if xs_te else np.zeros((0, nf))
    return (tr, ys_tr), (te, ys_te)


def synthetic_set(seed: int, per_class: int) -> tuple[F64, list[str]]:
    """Features and labels of the synthetic built-in classes plus ``none``."""
    pts, left, labels = make_dataset(np.random.default_rng(seed), per_class)
    return hand_features_batch(pts, left), labels


def train_builtin(seed: int = BUILTIN_SEED, per_class: int = BUILTIN_PER_CLASS) -> GestureModel:
    x, y = synthetic_set(seed, per_class)
    return train(x, y, BUILTIN_HAND_CLASSES, seed=seed)


@dataclass
class CustomResult:
    model: GestureModel
    report: dict[str, tuple[float, float, int]]  # held-out: class -> (precision, recall, n)
    seconds: float  # wall time of the training
    n_train: int
    n_test: int
    cpu_seconds: float = 0.0  # this process's CPU time for it (steadier on a shared machine)


def train_custom(takes: list[Take], holdout: float = 0.25, seed: int = 0) -> CustomResult:
    """A model of the custom classes in ``takes`` plus the built-in ones, and its held-out
    per-class precision / recall (custom classes measured on the held-out recorded frames)."""
    t0, c0 = time.perf_counter(), time.process_time()
    (xtr, ytr), (xte, yte) = split_takes(takes, holdout)
    xs, ys = synthetic_set(seed + 1, CUSTOM_SYNTH_PER_CLASS)
    custom = tuple(dict.fromkeys(tk.label for tk in takes if tk.label != NONE))
    classes = custom + tuple(c for c in BUILTIN_HAND_CLASSES if c not in custom)
    model = train(np.concatenate([xtr, xs]), ytr + ys, classes, seed=seed)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    report, n_test = heldout_report(model, xte, yte, seed + 2)
    return CustomResult(model, report, seconds, len(ytr) + len(ys), n_test, cpu)


def heldout_report(
    model: GestureModel, x: F64, labels: list[str], seed: int, per_class: int = 100
) -> tuple[dict[str, tuple[float, float, int]], int]:
    """Per-class (precision, recall, n) of ``model`` on held-out recorded features ``x`` with
    their ``labels`` plus a fresh synthetic set of the built-in classes and ``none`` (seed
    ``seed``, ``per_class`` each: the negatives a custom class's precision is measured
    against). Also returns the number of samples."""
    xv, yv = synthetic_set(seed, per_class)
    xall = np.concatenate([x, xv]) if len(x) else xv
    yall = list(labels) + yv
    report = per_class_report(yall, model.predict(xall), model.classes)
    return report, len(yall)
