"""Fit the audio lip sync's vowel network (vtuber/data/lipsync_vowels.json), docs/lipsync.md.

Data: espeak-ng reads the FIT sentences with the FIT voices only (vtuber.synth.speech: 96 voices,
48 espeak-ng variants none of which is a held-out voice's, 22 sentences none of which is held
out); ``yardstick.begin_fitting()`` makes any read of held-out speech an error. Labels: the phone
at the centre of each hop's window (diphthongs by their nucleus), voiced hops only.

Two networks are written:

1. the stock one (``MODEL_PATH``), for talkers without a voice profile;
2. the one for voice profiles (``CANONICAL_PATH``, speaker-adaptive training): each fitting voice's
   vocal-tract warp is found as ``vtuber calibrate --audio`` finds a user's (its five isolated
   vowels, under network 1), and the network is fitted on the fitting voices, each warped by its
   own; a profile is this network with the user's warp.

Each network is the average of ``NETWORK_SEEDS`` fitted with other seeds. The analyser's features
of each take are cached under ``CACHE/features`` (keyed by the samples, settings and analysis
code), so a refit with other labels or network settings skips the analysis.

Run: ``.venv/bin/python benchmarks/fit_lipsync_vowels.py [--cache DIR] [--canonical-only]``
(about 15 min on 2 busy cores, more with no features cached), then
``benchmarks/bench_lipsync.py`` for the figures on held-out voices and sentences.
``--validate [--seeds N] [--hidden N] [--epochs N] [--smooth X]`` writes nothing: it fits the
stock network on half the fitting voices (every second variant, the first 45 % of each take)
and judges it on the other half (the last 45 %), the split settings are chosen on.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from vtuber.audio import yardstick
from vtuber.audio.analysis import (
    CANONICAL_PATH,
    HIDDEN,
    HOP,
    MODEL_PATH,
    RATE,
    VOWEL_NAMES,
    WIN,
    AnalyzerConfig,
    VowelModel,
    frame_features,
    load_model,
)
from vtuber.audio.calibrate import learn_vowels
from vtuber.audio.fitting import (
    AUGMENT_WARPS,
    NETWORK_SEEDS,
    STOCK_EPOCHS,
    centre_times,
    fit_averaged,
    fit_network,
    network_inputs,
    take_features,
)
from vtuber.synth.speech import FIT_SENTENCES, FIT_VOICES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="folder for the generated WAV files")
    ap.add_argument(
        "--canonical-only", action="store_true", help="keep network 1, refit network 2 only"
    )
    ap.add_argument(
        "--validate",
        action="store_true",
        help="write nothing: fit on half the fitting voices and judge on the other half",
    )
    ap.add_argument("--hidden", type=int, default=HIDDEN, help="(--validate) hidden units")
    ap.add_argument("--epochs", type=int, default=STOCK_EPOCHS, help="(--validate) epochs")
    ap.add_argument(
        "--warps",
        type=float,
        nargs="+",
        default=AUGMENT_WARPS,
        help="(--validate) vocal-tract perturbation warps (1 = the voice as it is)",
    )
    ap.add_argument(
        "--seeds", type=int, default=NETWORK_SEEDS, help="(--validate) networks averaged"
    )
    ap.add_argument(
        "--smooth", type=float, default=AnalyzerConfig.vowel_smooth, help="(--validate)"
    )
    args = ap.parse_args()
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "vtuber_lipsync_yardstick")
    yardstick.begin_fitting()
    t0 = time.time()
    takes = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in FIT_VOICES]
    print(f"{len(takes)} takes, {sum(len(t.samples) for t in takes) / 16000 / 60:.0f} min")
    if args.validate:
        validate(
            takes,
            cache / "features",
            args.hidden,
            args.epochs,
            args.seeds,
            args.smooth,
            tuple(args.warps),
        )
        return
    if args.canonical_only:
        stock = load_model()
    else:
        stock = fit_stock(takes, cache / "features")
    # Network 2: each fitting voice warped by its own calibration warp (found under network 1).
    warps = [learn_vowels(yardstick.calibration_take(v, cache), stock)[0].warp for v in FIT_VOICES]
    print(
        f"fitting voices' warps: {min(warps):.3f} .. {max(warps):.3f} (median {np.median(warps)})"
    )
    x, y = network_inputs(
        _labelled(takes), stock.ceps_mean, VOWEL_NAMES, warps=warps, cache=cache / "features"
    )
    model = fit_averaged(x, y, stock.ceps_mean)
    _write(model, x, y, CANONICAL_PATH, t0)


def _labelled(takes: list[yardstick.Take]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (tk.samples, tk.utterance.kind_at(centre_times(len(tk.samples) // HOP))) for tk in takes
    ]


def _write(model: VowelModel, x: np.ndarray, y: np.ndarray, path: Path, t0: float) -> None:
    acc = float(np.mean(np.argmax(model.scores(x), axis=1) == y))
    path.write_text(json.dumps(model.to_json()) + "\n")
    took = time.time() - t0
    print(f"wrote {path}: hop accuracy on the fitting data {acc:.3f} ({took:.0f} s)")


def fitting_ceps_mean(takes: list[yardstick.Take]) -> np.ndarray:
    """The fitting voices' mean cepstrum over their clearly voiced hops (the talker
    normalization's target)."""
    raw = []
    for tk in takes:
        x = np.concatenate([np.zeros(WIN), tk.samples.astype(np.float64)])
        n = len(tk.samples) // HOP
        idx = np.arange(n)[:, None] * HOP + HOP + np.arange(WIN)[None, :]
        level, per, ceps = frame_features(x[idx])
        raw.append(ceps[(per > 0.5) & (level > -40)])
    return np.asarray(np.concatenate(raw).mean(axis=0))


def validate(
    takes: list[yardstick.Take],
    feature_cache: Path,
    hidden: int,
    epochs: int,
    seeds: int,
    smooth: float,
    augment_warps: tuple[float, ...] = AUGMENT_WARPS,
) -> None:
    """Judge the stock network's settings on fitting voices only: fit (with the perturbation)
    on the voices of every second fitting variant reading the first 45 % of their take, judge on
    the voices of the other variants reading the last 45 % (other sentences). Scored like the
    yardstick: every vowel hop (label at the hop's end), right when the mouth is open with the
    right largest shape (the analyzer's voicing, one-hop hold and posterior smoothing), also
    on settled hops (the whole window inside the vowel)."""
    ceps_mean = fitting_ceps_mean(takes)
    fit_i = [i for i in range(len(takes)) if (i // 2) % 2 == 0]
    judge_i = [i for i in range(len(takes)) if (i // 2) % 2 == 1]
    xs, ys = [], []
    for w in augment_warps:
        for i in fit_i:
            tk = takes[i]
            feats, voiced = take_features(tk.samples, ceps_mean, warp=w, cache=feature_cache)
            n = len(feats)
            lab = tk.utterance.kind_at(centre_times(n))
            t = (np.arange(n) + 1) * HOP / RATE
            ok = voiced & np.isin(lab, VOWEL_NAMES) & (t < 0.45 * len(tk.samples) / RATE)
            xs.append(feats[ok])
            ys.append(np.array([VOWEL_NAMES.index(str(k)) for k in lab[ok]], dtype=np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    t0 = time.time()
    models = [
        fit_network(x, y, ceps_mean, hidden=hidden, epochs=epochs, seed=s) for s in range(seeds)
    ]
    print(f"fitted {seeds} x {hidden} units, {epochs} epochs on {len(y)} hops, warps "
          f"{augment_warps} ({time.time() - t0:.0f} s)")  # fmt: skip
    right = total = s_right = s_total = 0
    for i in judge_i:
        tk = takes[i]
        feats, voiced = take_features(tk.samples, ceps_mean, cache=feature_cache)
        n = len(feats)
        scores = np.mean([m.scores(feats) for m in models], axis=0)
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
        truth = tk.truth(n)
        settled = tk.settled(n)
        t = (np.arange(n) + 1) * HOP / RATE
        judged = np.isin(truth, VOWEL_NAMES) & (t > 0.55 * len(tk.samples) / RATE)
        p, was_voiced = np.full(5, 0.2), False
        for k in range(n):
            if voiced[k]:
                p = smooth * p + (1.0 - smooth) * probs[k]
            is_open = bool(voiced[k]) or was_voiced  # (the one-hop hold)
            was_voiced = bool(voiced[k])
            if judged[k]:
                hit = is_open and VOWEL_NAMES[int(np.argmax(p))] == str(truth[k])
                right += int(hit)
                total += 1
                s_right += int(hit and settled[k])
                s_total += int(settled[k])
    print(f"judged voices, later sentences: right vowel {right / total:.3f} of {total} vowel "
          f"hops, {s_right / s_total:.3f} of {s_total} settled ones")  # fmt: skip


def fit_stock(takes: list[yardstick.Take], feature_cache: Path | None = None) -> VowelModel:
    """Network 1, on the fitting voices as they are; the normalization's target mean too."""
    t0 = time.time()
    ceps_mean = fitting_ceps_mean(takes)
    # Each fitting voice as it is and warped by AUGMENT_WARPS (vocal-tract length perturbation).
    labelled = _labelled(takes)
    warps = [w for w in AUGMENT_WARPS for _ in labelled]
    x, y = network_inputs(
        labelled * len(AUGMENT_WARPS), ceps_mean, VOWEL_NAMES, warps=warps, cache=feature_cache
    )
    print(
        f"{len(y)} voiced vowel hops ({np.bincount(y, minlength=5).tolist()} A I U E O), "
        f"warps {AUGMENT_WARPS}"
    )
    model = fit_averaged(x, y, ceps_mean, epochs=STOCK_EPOCHS)
    _write(model, x, y, MODEL_PATH, t0)
    return model


if __name__ == "__main__":
    main()
