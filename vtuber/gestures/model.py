"""The hand-gesture classifier: a small numpy multilayer perceptron (docs/gestures.md).

Model: standardise the features (training mean / std), one hidden layer of ``hidden`` ReLU units,
a softmax over the classes (the last class is ``"none"``: no gesture). Training: cross-entropy with
a small L2 penalty, Adam, mini-batches of 256, a fixed seed, so the same samples give the same
model. Inference is two small matrix products (a few microseconds per hand).

A model file is a ``.npz`` holding ``classes`` (str), ``mean``, ``std``, ``w1``, ``b1``, ``w2``,
``b2`` (float32) and ``format`` (= :data:`FORMAT`). The built-in model
(``vtuber/data/gesture_hands.npz``, 25 kB) is trained on the synthetic hand set
(vtuber/synth/hands.py) by ``vtuber gestures train --builtin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.errors import FormatError
from vtuber.gestures.features import N_HAND_FEATURES

F64 = NDArray[np.float64]
FORMAT = "vtuber-gestures-1"
NONE = "none"
BUILTIN_FILE = "gesture_hands.npz"


@dataclass
class GestureModel:
    """A trained classifier. ``classes[-1]`` is always ``"none"``."""

    classes: tuple[str, ...]
    mean: F64
    std: F64
    w1: F64
    b1: F64
    w2: F64
    b2: F64

    def __post_init__(self) -> None:
        # One contiguous float64 copy of each, and the standardisation folded into layer 1.
        self._w1 = np.ascontiguousarray(self.w1 / self.std[:, None])
        self._b1 = self.b1 - (self.mean / self.std) @ self.w1

    def proba(self, x: F64) -> F64:
        """Class probabilities for features ``x`` (n_features,) or (N, n_features)."""
        h = np.maximum(x @ self._w1 + self._b1, 0.0)
        z = h @ self.w2 + self.b2
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        out: F64 = e / e.sum(axis=-1, keepdims=True)
        return out

    def predict(self, x: F64) -> list[str]:
        return [self.classes[i] for i in np.atleast_2d(self.proba(x)).argmax(axis=1)]

    def save(self, path: str | Path) -> None:
        np.savez_compressed(
            path,
            format=np.array(FORMAT),
            classes=np.array(self.classes),
            **{
                k: getattr(self, k).astype(np.float32)
                for k in ("mean", "std", "w1", "b1", "w2", "b2")
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> GestureModel:
        """Read a model file; a missing, foreign or damaged file raises FormatError."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["format"]) != FORMAT:
                    raise FormatError(f"{path}: not a vtuber gesture model ({z['format']})")
                arrays = {
                    k: z[k].astype(np.float64) for k in ("mean", "std", "w1", "b1", "w2", "b2")
                }
                classes = tuple(str(c) for c in z["classes"])
        except FormatError:
            raise
        except FileNotFoundError as e:
            raise FormatError(f"gesture model not found: {path}") from e
        except (OSError, KeyError, ValueError) as e:
            raise FormatError(f"{path}: not a readable gesture model ({e})") from e
        if not classes or classes[-1] != NONE or arrays["w2"].shape[1] != len(classes):
            raise FormatError(f"{path}: inconsistent gesture model")
        if arrays["mean"].shape != (N_HAND_FEATURES,) or arrays["w1"].shape[0] != N_HAND_FEATURES:
            raise FormatError(
                f"{path}: a gesture model for {arrays['w1'].shape[0]} features, not the "
                f"{N_HAND_FEATURES} hand features of this vtuber"
            )
        return cls(classes=classes, **arrays)


def builtin_path() -> Path:
    return Path(str(resources.files("vtuber.data").joinpath(BUILTIN_FILE)))


def load_builtin() -> GestureModel:
    return GestureModel.load(builtin_path())


def train(
    x: F64,
    labels: list[str],
    classes: tuple[str, ...] | None = None,
    hidden: int = 64,
    epochs: int = 40,
    lr: float = 3e-3,
    l2: float = 1e-4,
    seed: int = 0,
) -> GestureModel:
    """Fit the MLP on features ``x`` (N, F) with string ``labels``. ``classes`` fixes the order
    (``"none"`` is moved last, and added when absent, with no samples)."""
    names = list(dict.fromkeys(classes or labels))
    if NONE in names:
        names.remove(NONE)
    names.append(NONE)
    index = {c: i for i, c in enumerate(names)}
    y = np.array([index[lab] for lab in labels])
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-6
    xs = (x - mean) / std
    rng = np.random.default_rng(seed)
    n, f = xs.shape
    k = len(names)
    params = [
        rng.normal(0.0, np.sqrt(2.0 / f), (f, hidden)),
        np.zeros(hidden),
        rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, k)),
        np.zeros(k),
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    # Balance the classes: each sample weighs 1 / (its class's share).
    counts = np.bincount(y, minlength=k).astype(np.float64)
    sw = (n / (k * np.maximum(counts, 1.0)))[y]
    onehot = np.eye(k)[y]
    step = 0
    b1m, b2m, eps = 0.9, 0.999, 1e-8
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, 256):
            idx = order[s : s + 256]
            xb, tb, wb = xs[idx], onehot[idx], sw[idx][:, None]
            w1, bb1, w2, bb2 = params
            a = xb @ w1 + bb1
            h = np.maximum(a, 0.0)
            z = h @ w2 + bb2
            z -= z.max(axis=1, keepdims=True)
            pr = np.exp(z)
            pr /= pr.sum(axis=1, keepdims=True)
            dz = (pr - tb) * wb / len(idx)
            grads = [np.zeros(0)] * 4
            grads[2] = h.T @ dz + l2 * w2
            grads[3] = dz.sum(axis=0)
            dh = (dz @ w2.T) * (a > 0)
            grads[0] = xb.T @ dh + l2 * w1
            grads[1] = dh.sum(axis=0)
            step += 1
            for i in range(4):
                m[i] = b1m * m[i] + (1 - b1m) * grads[i]
                v[i] = b2m * v[i] + (1 - b2m) * grads[i] ** 2
                mh = m[i] / (1 - b1m**step)
                vh = v[i] / (1 - b2m**step)
                params[i] = params[i] - lr * mh / (np.sqrt(vh) + eps)
    return GestureModel(tuple(names), mean, std, *params)


def per_class_report(
    truth: list[str], predicted: list[str], classes: tuple[str, ...]
) -> dict[str, tuple[float, float, int]]:
    """Per class: (precision, recall, support) of ``predicted`` against ``truth``."""
    out = {}
    t = np.array(truth)
    p = np.array(predicted)
    for c in classes:
        tp = int(np.sum((t == c) & (p == c)))
        npred = int(np.sum(p == c))
        nt = int(np.sum(t == c))
        out[c] = (tp / npred if npred else float("nan"), tp / nt if nt else float("nan"), nt)
    return out


def recall_at_precision(
    model: GestureModel, x: F64, truth: list[str], cls: str, min_precision: float = 0.95
) -> tuple[float, float]:
    """The best recall of class ``cls`` over confidence thresholds (a frame counts as ``cls``
    when ``cls`` wins with probability >= the threshold) whose precision is >= ``min_precision``
    on features ``x`` labelled ``truth``; returns (recall, threshold), (0.0, 1.0) when none."""
    pr = model.proba(np.atleast_2d(x))
    k = model.classes.index(cls)
    score = np.where(pr.argmax(axis=1) == k, pr[:, k], -1.0)
    order = np.argsort(-score, kind="stable")
    hit = np.asarray(truth)[order] == cls
    n_true = max(int(hit.sum()), 1)
    tp = np.cumsum(hit)
    precision = tp / np.arange(1, len(hit) + 1)
    ok = (precision >= min_precision) & (score[order] >= 0.0)
    # A threshold takes all frames scoring >= it: only the last of equal scores is a cut.
    ok[:-1] &= score[order][:-1] != score[order][1:]
    if not ok.any():
        return 0.0, 1.0
    best = int(np.argmax(np.where(ok, tp, -1)))
    return float(tp[best] / n_true), float(score[order][best])
