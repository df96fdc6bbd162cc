"""Fitting the vowel network (vtuber/data/lipsync_vowels.json) from labelled speech.

Used by ``benchmarks/fit_lipsync_vowels.py`` on the yardstick's FIT voices and sentences only
(docs/lipsync.md). Plain numpy: a one-hidden-layer network (ReLU), softmax cross-entropy, Adam,
weight decay, a fixed seed, so a refit gives the same model.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vtuber.audio import analysis
from vtuber.audio.analysis import (
    DELAY,
    HIDDEN,
    HOP,
    LAGS,
    N_CEPS,
    RATE,
    VOWEL_NAMES,
    WIN,
    Analyzer,
    VowelModel,
    hop_ends,
)

F64 = NDArray[np.float64]

# Vocal-tract length perturbation: the stock network is fitted on every fitting voice as it is and
# warped by these factors too (the mel bands moved as ``calibrate --audio`` moves them), so it
# meets more vocal-tract lengths than the fitting voices have; the voices made with other
# vocal-tract lengths (speech.TRACT_VOICES) by TRACT_WARPS. Chosen on a split of the fitting
# voices (docs/lipsync.md), with the input noise and label smoothing below.
AUGMENT_WARPS = (1.0, 0.93, 1.07, 0.86, 1.15, 0.8, 1.25)
TRACT_WARPS = (1.0, 0.93, 1.07)
STOCK_EPOCHS = 12
STOCK_NOISE = 0.3  # Gaussian noise (SD, standardized units) added to each batch's inputs
STOCK_LABEL_SMOOTH = 0.1  # share of each target spread over the five vowels
# The fitted network's scores are multiplied by this (its output layer): the noise and label
# smoothing leave its softmax less sure (the largest shape 65 % of the openness on average,
# 79 % before them); x1.8 gives 79 % again, with the same vowels right on the fitting split.
STOCK_SHARPEN = 1.8
# Each shipped network is the average of this many fitted with other seeds (their scores
# averaged; :func:`average_networks`). Chosen on a split of the fitting voices (docs/lipsync.md):
# 1, 3, 5 networks 0.600, 0.610, 0.612 of the judged vowel hops; one network of 128 units 0.591.
NETWORK_SEEDS = 5
# The stock network normalizes the talker's variance as well as its mean (``VowelModel.ceps_sd``,
# docs/lipsync.md, the eleventh round).
STOCK_VARIANCE_NORM = True


def feature_code() -> bytes:
    """What the cached features depend on: the source of the analysis code that makes them (the
    window, the mel bands and cepstra, the voicing gate and talker mean, ``Analyzer.hop_input``)
    and the settings they use; not the code after it (the delay, smoothing, openness), so a
    change there does not analyse the speech again."""
    a, cfg = analysis, analysis.AnalyzerConfig()
    parts = [inspect.getsource(f) for f in (a.warp_frequency, a.mel_filters, a.frame_features,
                                            a.Analyzer.__init__, a.Analyzer.push,
                                            a.Analyzer.hop_input)]  # fmt: skip
    keys = ("periodicity", "floor_margin", "ref_margin", "abs_floor", "ref_init", "ref_fall",
            "floor_window", "cmn_rate")  # fmt: skip
    parts.append(repr([(k, getattr(cfg, k)) for k in keys]))
    parts.append(repr((a.RATE, a.HOP, a.WIN, a.N_MELS, a.N_CEPS, a.TAPER_FALL)))
    return "\n".join(parts).encode() + a.WINDOW.tobytes()


# The lags the cached features are kept for (lag 0 first: each hop's own normalized cepstrum, from
# which inputs for any other lags are stacked, :func:`restack`).
CACHED_LAGS = (0, 2, 4)


def restack(x: F64, lags: Sequence[int]) -> F64:
    """Network inputs for ``lags`` from inputs for ``CACHED_LAGS`` of consecutive hops (a whole
    take): hop i's cepstrum is the first block of its own input, and lag k at hop i is hop
    max(i - k, 0)'s, as the analyzer's history gives it."""
    c = x[:, :N_CEPS]
    i = np.arange(len(x))
    return np.concatenate([c[np.maximum(i - k, 0)] for k in lags], axis=1)


def take_features(
    samples: NDArray[np.floating],
    ceps_mean: F64,
    lags: tuple[int, ...] = LAGS,
    warp: float = 1.0,
    cache: Path | None = None,
    *,
    ceps_sd: F64 | None = None,
) -> tuple[F64, NDArray[np.bool_]]:
    """The analyzer's network input and voicing at every hop of ``samples`` (with the talker
    normalization to ``ceps_mean`` and, if given, ``ceps_sd``, and the vocal-tract ``warp``).
    With ``cache`` (a folder),
    kept there under a key of the samples, these settings and the analysis code, so a refit
    with other labels or network settings does not analyse the speech again. Inputs for other
    ``lags`` are stacked from those for ``CACHED_LAGS`` (:func:`restack`: the same numbers)."""
    if tuple(lags) != CACHED_LAGS:
        x, voiced = take_features(samples, ceps_mean, CACHED_LAGS, warp, cache, ceps_sd=ceps_sd)
        return restack(x, lags), voiced
    path = None
    if cache is not None:
        h = hashlib.sha1(np.ascontiguousarray(samples).tobytes())
        h.update(np.asarray(ceps_mean, np.float64).tobytes())
        if ceps_sd is not None:
            h.update(b"sd" + np.asarray(ceps_sd, np.float64).tobytes())
        h.update(f"{lags}|{warp:.6f}".encode())
        h.update(feature_code())
        path = cache / f"feat_{h.hexdigest()[:16]}.npz"
        if path.exists():
            with np.load(path) as z:
                return z["x"], z["voiced"]
    model = VowelModel.untrained(ceps_mean, lags, ceps_sd)
    model.warp = float(warp)
    a = Analyzer(model, keep_features=True)
    a.push(samples)
    assert a.features is not None
    feats = np.stack([f for f, _ in a.features])
    voiced = np.array([v for _, v in a.features])
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, x=feats, voiced=voiced)
    return feats, voiced


def network_inputs(
    takes: Sequence[tuple[NDArray[np.floating], NDArray[np.str_]]],
    ceps_mean: F64,
    labels: Sequence[str],
    lags: tuple[int, ...] = LAGS,
    warps: Sequence[float] | None = None,
    cache: Path | None = None,
    *,
    ceps_sd: F64 | None = None,
) -> tuple[F64, NDArray[np.int64]]:
    """The analyzer's own network inputs on voiced hops whose label (at the instant the hop
    represents) is one of ``labels``, and the label indices. ``takes``: (16 kHz samples, the
    label at each hop's represented instant, see :func:`label_times`); ``warps``: each take's
    vocal-tract warp (default: none); ``cache``, ``ceps_sd``: see :func:`take_features`."""
    xs, ys = [], []
    for k, (samples, hop_labels) in enumerate(takes):
        warp = 1.0 if warps is None else float(warps[k])
        feats, voiced = take_features(samples, ceps_mean, lags, warp, cache, ceps_sd=ceps_sd)
        lab = hop_labels[: len(feats)]
        ok = voiced[: len(lab)] & np.isin(lab, list(labels))
        xs.append(feats[: len(lab)][ok])
        ys.append(np.array([labels.index(str(k)) for k in lab[ok]], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def vowel_hops(
    samples: NDArray[np.floating],
    kind_at: Callable[[F64], NDArray[np.str_]],
    ceps_mean: F64,
    *,
    warp: float = 1.0,
    cache: Path | None = None,
    head: float = 1.0,
    delay: float | None = DELAY,
    lags: tuple[int, ...] = LAGS,
    ceps_sd: F64 | None = None,
) -> tuple[F64, NDArray[np.int64]]:
    """The network inputs (for ``lags``) of a take's voiced hops whose represented instant (the
    hop's end less ``delay`` seconds; None: the window's centre) is a vowel (``kind_at``: the
    label at given times, e.g. ``Utterance.kind_at``), among the hops that end within the take's
    first ``head`` share, and the vowels' indices in ``VOWEL_NAMES``."""
    feats, voiced = take_features(samples, ceps_mean, lags, warp, cache, ceps_sd=ceps_sd)
    n = len(feats)
    lab = kind_at(centre_times(n) if delay is None else label_times(n, delay))
    t = hop_ends(n)
    ok = voiced & np.isin(lab, VOWEL_NAMES) & (t < head * len(samples) / RATE)
    return feats[ok], np.array([VOWEL_NAMES.index(str(k)) for k in lab[ok]], dtype=np.int64)


def plan_inputs(
    plan: Sequence[tuple[float, Any]],
    ceps_mean: F64,
    *,
    cache: Path | None = None,
    head: float = 1.0,
    delay: float | None = DELAY,
    lags: tuple[int, ...] = LAGS,
    ceps_sd: F64 | None = None,
) -> tuple[F64, NDArray[np.int64]]:
    """:func:`vowel_hops` of every (warp, take) of ``plan`` (a take: ``samples`` and an
    ``utterance`` with ``kind_at``, vtuber.audio.yardstick), stacked; the inputs rounded to
    float16 as the fitting scripts keep them."""
    xs, ys = [], []
    for w, tk in plan:
        xk, yk = vowel_hops(
            tk.samples,
            tk.utterance.kind_at,
            ceps_mean,
            warp=w,
            cache=cache,
            head=head,
            delay=delay,
            lags=lags,
            ceps_sd=ceps_sd,
        )
        xs.append(xk)
        ys.append(yk)
    return np.concatenate(xs).astype(np.float16).astype(np.float64), np.concatenate(ys)


def _voiced_ceps(takes: Sequence[NDArray[np.floating]]) -> list[F64]:
    """Each 16 kHz take's cepstra over its clearly voiced hops (periodicity > 0.5, level > -40
    dB), in order."""
    raw = []
    for samples in takes:
        x = np.concatenate([np.zeros(WIN), np.asarray(samples, dtype=np.float64)])
        n = len(samples) // HOP
        idx = np.arange(n)[:, None] * HOP + HOP + np.arange(WIN)[None, :]
        level, per, ceps = analysis.frame_features(x[idx])
        raw.append(ceps[(per > 0.5) & (level > -40)])
    return raw


def voiced_ceps_mean(takes: Sequence[NDArray[np.floating]]) -> F64:
    """The mean cepstrum over the clearly voiced hops (periodicity > 0.5, level > -40 dB) of
    these 16 kHz takes: the talker normalization's target when fitting on them."""
    return np.asarray(np.concatenate(_voiced_ceps(takes)).mean(axis=0))


def voiced_ceps_sd(takes: Sequence[NDArray[np.floating]], ceps_mean: F64, rate: float) -> F64:
    """The talker variance normalization's target and start (``VowelModel.ceps_sd``): the
    standard deviation of each coefficient that the analyzer's running estimate (learned at
    ``rate`` per voiced hop around the running mean, both starting from the pooled values)
    settles at on these takes' clearly voiced hops (as :func:`voiced_ceps_mean`), averaged (as a
    variance) over each take's voiced hops after its first 1 / ``rate`` (the estimate's time
    constant), so a talker's first seconds are normalized like the rest."""
    raw = _voiced_ceps(takes)
    pooled = np.mean([np.var(c, axis=0) for c in raw if len(c) > 1], axis=0)
    settled = []
    skip = round(1.0 / rate)
    for c in raw:
        mu, var = np.array(ceps_mean, dtype=np.float64), pooled.copy()
        for k, v in enumerate(c):
            analysis.talker_update(mu, var, v, rate)
            if k >= skip:
                settled.append(var.copy())
    return np.asarray(np.sqrt(np.mean(settled, axis=0)))


def centre_times(n: int) -> F64:
    """The time of the centre of each of ``n`` hops' windows (hop i ends at (i + 1) * HOP)."""
    return hop_ends(n) - 0.5 * WIN / RATE


def label_times(n: int, delay: float) -> F64:
    """The instant each of ``n`` hops represents: its end less ``delay`` seconds."""
    return hop_ends(n) - delay


def fit_network(
    x: F64,
    y: NDArray[np.int64],
    ceps_mean: F64,
    *,
    lags: tuple[int, ...] = LAGS,
    hidden: int = HIDDEN,
    epochs: int = 20,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    batch: int = 256,
    seed: int = 0,
    noise: float = 0.0,
    label_smooth: float = 0.0,
    ceps_sd: F64 | None = None,
) -> VowelModel:
    """Fit the vowel network on inputs ``x`` (n, len(lags) * N_CEPS) and labels 0..4 (``noise``:
    Gaussian noise of that SD added to the standardized inputs of each batch; ``label_smooth``:
    that share of each target spread over the five vowels; ``ceps_sd``: the talker variance
    normalization the inputs were made with, kept in the model)."""
    rng = np.random.default_rng(seed)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    d = z.shape[1]
    params = [
        rng.normal(0.0, 1.0 / np.sqrt(d), (d, hidden)),
        np.zeros(hidden),
        rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, 5)),
        np.zeros(5),
    ]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    onehot = (1.0 - label_smooth) * np.eye(5)[y] + label_smooth / 5.0
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(z))
        for b in range(0, len(z), batch):
            i = order[b : b + batch]
            xb = z[i]
            if noise > 0.0:
                xb = xb + rng.normal(0.0, noise, xb.shape)
            h = np.maximum(xb @ params[0] + params[1], 0.0)
            s = h @ params[2] + params[3]
            p = np.exp(s - s.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            g = (p - onehot[i]) / len(i)
            gh = (g @ params[2].T) * (h > 0)
            grads = [
                xb.T @ gh + weight_decay * params[0],
                gh.sum(axis=0),
                h.T @ g + weight_decay * params[2],
                g.sum(axis=0),
            ]
            step += 1
            for k, gr in enumerate(grads):
                m1[k] = 0.9 * m1[k] + 0.1 * gr
                m2[k] = 0.999 * m2[k] + 0.001 * gr**2
                mh, vh = m1[k] / (1 - 0.9**step), m2[k] / (1 - 0.999**step)
                params[k] -= lr * mh / (np.sqrt(vh) + 1e-8)
    return VowelModel(
        ceps_mean, mu, sd, params[0], params[1], params[2], params[3], lags, ceps_sd=ceps_sd
    )


def sharpen(model: VowelModel, factor: float) -> VowelModel:
    """The network with its scores multiplied by ``factor`` (a softmax temperature of
    1 / factor): the same largest vowel, a surer split of the openness."""
    return replace(model, w2=model.w2 * factor, b2=model.b2 * factor)


def average_networks(models: Sequence[VowelModel]) -> VowelModel:
    """One network whose scores are the mean of ``models``' scores (networks fitted on the same
    inputs with other seeds): their hidden units side by side, each output layer divided by
    their number. The same model format, only wider."""
    m0 = models[0]
    if any(
        m.lags != m0.lags
        or not np.array_equal(m.in_mean, m0.in_mean)
        or (m.ceps_sd is None) != (m0.ceps_sd is None)
        for m in models
    ):
        raise ValueError("networks fitted on other inputs cannot be averaged")
    k = len(models)
    return VowelModel(
        m0.ceps_mean, m0.in_mean, m0.in_scale,
        np.concatenate([m.w1 for m in models], axis=1), np.concatenate([m.b1 for m in models]),
        np.concatenate([m.w2 for m in models], axis=0) / k, np.mean([m.b2 for m in models], 0),
        m0.lags, m0.warp, m0.ceps_sd,
    )  # fmt: skip


def fit_averaged(
    x: F64,
    y: NDArray[np.int64],
    ceps_mean: F64,
    *,
    seeds: int = NETWORK_SEEDS,
    epochs: int = 20,
    ceps_sd: F64 | None = None,
) -> VowelModel:
    """:func:`fit_network` with seeds 0 .. ``seeds`` - 1, averaged (:func:`average_networks`)."""
    return average_networks(
        [fit_network(x, y, ceps_mean, epochs=epochs, seed=s, ceps_sd=ceps_sd) for s in range(seeds)]
    )
