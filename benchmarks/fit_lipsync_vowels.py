"""Fit the audio lip sync's vowel network (vtuber/data/lipsync_vowels.json), docs/lipsync.md.

Data: espeak-ng reads the FIT sentences with the FIT voices only (vtuber.synth.speech: 96 voices,
48 espeak-ng variants none of which is a held-out voice's, 22 sentences none of which is held
out), and network 1 also with the 32 voices made with other vocal-tract lengths
(``TRACT_VOICES``); ``yardstick.begin_fitting()`` makes any read of held-out speech an error.
Labels: the phone at the centre of each hop's window (diphthongs by their nucleus), voiced hops
only.

Two networks are written:

1. the stock one (``MODEL_PATH``), for talkers without a voice profile;
2. the one for voice profiles (``CANONICAL_PATH``, speaker-adaptive training): each fitting voice's
   vocal-tract warp is found as ``vtuber calibrate --audio`` finds a user's (its five isolated
   vowels, under network 1), and the network is fitted on the fitting voices, each warped by its
   own; a profile is this network with the user's warp.

Both normalize the talker's cepstral mean and variance (``--variance-norm yes``, the default
from ``fitting.STOCK_VARIANCE_NORM``; ``no``: the mean only, as before the eleventh round); the
profile network follows the stock network it is fitted with. Each network is the average of
``NETWORK_SEEDS`` fitted with other seeds. The analyser's features
of each take are cached under ``CACHE/features`` (keyed by the samples, settings and analysis
code), so a refit with other labels or network settings skips the analysis.

Run: ``.venv/bin/python benchmarks/fit_lipsync_vowels.py [--cache DIR] [--canonical-only |
--stock-only] [--jobs N]`` (network 1 alone took ~40 min on 2 busy cores, more with no features
cached; ``--write-inputs DIR`` then ``--from-inputs DIR`` fits network 1 elsewhere), then
``benchmarks/bench_lipsync.py`` for the figures on held-out voices and sentences.
``--validate [--seeds N] [--first-seed N] [--hidden N] [--epochs N] [--smooth X] [--warps W ...]
[--noise X] [--label-smooth X] [--no-tract] [--dump NPZ]`` writes nothing: it fits the stock
network on half the fitting voices (half the variants, every accent on both sides, and every
second made voice, the first 45 % of each take) and judges it on the other half (the last 45 %,
and the first 45 % as well: sentences the fitted voices read), the split settings are chosen on
(``--dump``: the judged voices' scores, voicing and truth hop by hop, to score other decision
rules offline).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from vtuber.audio import yardstick
from vtuber.audio.analysis import (
    CANONICAL_PATH,
    DELAY,
    HIDDEN,
    HOP,
    LAGS,
    MODEL_PATH,
    RATE,
    VOWEL_NAMES,
    AnalyzerConfig,
    VowelModel,
    hop_ends,
    load_model,
)
from vtuber.audio.calibrate import learn_vowels
from vtuber.audio.fitting import (
    AUGMENT_WARPS,
    NETWORK_SEEDS,
    STOCK_EPOCHS,
    STOCK_LABEL_SMOOTH,
    STOCK_NOISE,
    STOCK_SHARPEN,
    STOCK_VARIANCE_NORM,
    TRACT_WARPS,
    average_networks,
    fit_averaged,
    fit_network,
    label_times,
    network_inputs,
    plan_inputs,
    sharpen,
    take_features,
    voiced_ceps_mean,
    voiced_ceps_sd,
)
from vtuber.synth.speech import FIT_SENTENCES, FIT_VOICES, TRACT_VOICES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="folder for the generated WAV files")
    ap.add_argument(
        "--canonical-only", action="store_true", help="keep network 1, refit network 2 only"
    )
    ap.add_argument(
        "--stock-only", action="store_true", help="refit network 1 only, keep network 2"
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
        "--first-seed", type=int, default=0, help="(--validate) the first network's seed"
    )
    ap.add_argument(
        "--smooth", type=float, default=AnalyzerConfig.vowel_smooth, help="(--validate)"
    )
    ap.add_argument("--noise", type=float, default=STOCK_NOISE, help="(--validate) input noise")
    ap.add_argument("--label-smooth", type=float, default=STOCK_LABEL_SMOOTH, help="(--validate)")
    ap.add_argument(
        "--delay",
        type=float,
        default=DELAY * 1000,
        help="(--validate) audio delay, ms: labels and truth at the hop's end less it",
    )
    ap.add_argument(
        "--lags", type=int, nargs="+", default=list(LAGS), help="(--validate) network lags"
    )
    ap.add_argument(
        "--centre-labels",
        action="store_true",
        help="(--validate) labels at the window's centre (as before the delay)",
    )
    ap.add_argument(
        "--voice-lags",
        type=int,
        nargs="+",
        default=[AnalyzerConfig.voice_lag],
        help="(--validate) hops the voicing sent lags the newest hop, each judged",
    )
    ap.add_argument(
        "--no-tract", action="store_true", help="(--validate) without speech.TRACT_VOICES"
    )
    ap.add_argument(
        "--variance-norm",
        choices=("yes", "no"),
        default="yes" if STOCK_VARIANCE_NORM else "no",
        help="normalize the talker's cepstral variance as well as its mean (network 1; "
        "network 2 follows network 1)",
    )
    ap.add_argument(
        "--write-inputs",
        metavar="DIR",
        help="write network 1's inputs (float16, in chunks) to DIR and stop",
    )
    ap.add_argument(
        "--from-inputs",
        metavar="DIR",
        help="fit network 1 from the inputs --write-inputs wrote (reads no speech: numpy only)",
    )
    ap.add_argument(
        "--warps-by",
        metavar="JSON",
        help="(network 2) find the fitting voices' warps under this network, not network 1",
    )
    ap.add_argument(
        "--dump", metavar="NPZ", help="(--validate) save the judged voices' scores and truth"
    )
    ap.add_argument("--jobs", type=int, default=1, help="networks fitted in parallel processes")
    ap.add_argument("--out", default=None, help="(--from-inputs) network 1's file")
    args = ap.parse_args()
    t0 = time.time()
    variance = args.variance_norm == "yes"
    if args.from_inputs:
        x, y, ceps_mean, ceps_sd = load_inputs(Path(args.from_inputs))
        model = fit_stock_network(x, y, ceps_mean, args.jobs, ceps_sd)
        _write(model, x, y, Path(args.out) if args.out else MODEL_PATH, t0)
        return
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "vtuber_lipsync_yardstick")
    yardstick.begin_fitting()
    takes = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in FIT_VOICES]
    tract = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in TRACT_VOICES]
    print(f"{len(takes)} + {len(tract)} takes, "
          f"{sum(len(t.samples) for t in takes + tract) / 16000 / 60:.0f} min")  # fmt: skip
    if args.write_inputs:
        save_inputs(
            Path(args.write_inputs), *stock_inputs(takes, cache / "features", tract, variance)
        )
        return
    if args.validate:
        validate(
            takes,
            cache / "features",
            args.hidden,
            args.epochs,
            args.seeds,
            args.smooth,
            tuple(args.warps),
            None if args.no_tract else tract,
            args.noise,
            args.label_smooth,
            args.delay / 1000.0,
            args.centre_labels,
            tuple(args.lags),
            tuple(args.voice_lags),
            args.dump,
            args.first_seed,
            variance,
        )
        return
    if args.canonical_only:
        stock = load_model()
    else:
        x, y, ceps_mean, ceps_sd = stock_inputs(takes, cache / "features", tract, variance)
        stock = fit_stock_network(x, y, ceps_mean, args.jobs, ceps_sd)
        _write(stock, x, y, MODEL_PATH, t0)
    if args.stock_only:
        return
    # Network 2: each fitting voice warped by its own calibration warp (found under network 1, or
    # under the network --warps-by names).
    judge = load_model(args.warps_by) if args.warps_by else stock
    warps = [learn_vowels(yardstick.calibration_take(v, cache), judge)[0].warp for v in FIT_VOICES]
    print(
        f"fitting voices' warps: {min(warps):.3f} .. {max(warps):.3f} (median {np.median(warps)})"
    )
    x, y = network_inputs(
        _labelled(takes),
        stock.ceps_mean,
        VOWEL_NAMES,
        warps=warps,
        cache=cache / "features",
        ceps_sd=stock.ceps_sd,
    )
    model = fit_averaged(x, y, stock.ceps_mean, ceps_sd=stock.ceps_sd)
    _write(model, x, y, CANONICAL_PATH, t0)


def _labelled(takes: list[yardstick.Take]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (tk.samples, tk.utterance.kind_at(label_times(len(tk.samples) // HOP, DELAY)))
        for tk in takes
    ]


def _write(model: VowelModel, x: np.ndarray, y: np.ndarray, path: Path, t0: float) -> None:
    acc = float(np.mean(np.argmax(model.scores(x), axis=1) == y))
    path.write_text(json.dumps(model.to_json()) + "\n")
    took = time.time() - t0
    print(f"wrote {path}: hop accuracy on the fitting data {acc:.3f} ({took:.0f} s)")


def fitting_norm(
    takes: list[yardstick.Take], variance: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """The fitting voices' mean cepstrum over their clearly voiced hops (the talker
    normalization's target) and, with ``variance``, the standard deviations the talker's
    running estimate settles at on them (the variance normalization's target and start)."""
    samples = [tk.samples for tk in takes]
    mean = voiced_ceps_mean(samples)
    if not variance:
        return mean, None
    sd = voiced_ceps_sd(samples, mean, AnalyzerConfig().cmn_rate)
    print(f"talker variance normalization: target SD {np.round(sd, 3).tolist()}")
    return mean, sd


def validate(
    takes: list[yardstick.Take],
    feature_cache: Path,
    hidden: int,
    epochs: int,
    seeds: int,
    smooth: float,
    augment_warps: tuple[float, ...] = AUGMENT_WARPS,
    extra: list[yardstick.Take] | None = None,
    noise: float = STOCK_NOISE,
    label_smooth: float = STOCK_LABEL_SMOOTH,
    delay: float = DELAY,
    centre_labels: bool = False,
    lags: tuple[int, ...] = LAGS,
    voice_lags: tuple[int, ...] = (AnalyzerConfig.voice_lag,),
    dump: str | None = None,
    first_seed: int = 0,
    variance: bool = STOCK_VARIANCE_NORM,
) -> float:
    """Judge the stock network's settings on fitting voices only: fit (with the perturbation)
    on the voices of half the fitting variants reading the first 45 % of their take, judge on
    the voices of the other variants reading the last 45 % (other sentences). The halves are
    variants 0-3, 8-11 ... and 4-7, 12-15 ... of FIT_VOICES' order, so that every accent is on
    both sides (FIT_VOICES gives accents in turn: taking every second variant, as the split did
    until the fourth round, put four accents on each side only). Scored like the
    yardstick: every vowel hop (label at the hop's end), right when the mouth is open with the
    right largest shape (the analyzer's voicing, one-hop hold and posterior smoothing), also
    on settled hops (the whole window inside the vowel). Also scored on the judged voices'
    first 45 % ("first": the sentences the fitted voices read, in other voices): the halves
    hold every vowel in about the same proportion (speech.FIT_SENTENCES' order). The networks'
    seeds: ``first_seed`` onwards; ``variance``: the talker variance normalization too."""
    ceps_mean, ceps_sd = fitting_norm(takes, variance)
    fit_i = [i for i in range(len(takes)) if (i // 2) % 8 < 4]
    judge_i = [i for i in range(len(takes)) if (i // 2) % 8 >= 4]
    # (with ``extra``: every second of those voices fitted on too, warped by TRACT_WARPS)
    plan = [(w, takes[i]) for w in augment_warps for i in fit_i]
    plan += [(w, tk) for w in TRACT_WARPS for tk in (extra or [])[::2]]
    x, y = plan_inputs(
        plan,
        ceps_mean,
        cache=feature_cache,
        head=0.45,
        delay=None if centre_labels else delay,
        lags=lags,
        ceps_sd=ceps_sd,
    )
    t0 = time.time()
    models = [
        fit_network(x, y, ceps_mean, lags=lags, hidden=hidden, epochs=epochs, seed=s,
                    noise=noise, label_smooth=label_smooth)
        for s in range(first_seed, first_seed + seeds)
    ]  # fmt: skip
    print(f"fitted {seeds} x {hidden} units (seeds {first_seed}..{first_seed + seeds - 1}), "
          f"{epochs} epochs on {len(y)} hops, warps {augment_warps}, lags {lags}, noise "
          f"{noise}, label smoothing {label_smooth}, variance normalization {variance} "
          f"({time.time() - t0:.0f} s)")  # fmt: skip
    judged_takes = []
    for i in judge_i:
        tk = takes[i]
        feats, voiced = take_features(
            tk.samples, ceps_mean, lags, cache=feature_cache, ceps_sd=ceps_sd
        )
        scores = STOCK_SHARPEN * np.mean([m.scores(feats) for m in models], axis=0)
        judged_takes.append((tk, voiced, scores))
    d = delay
    if dump:
        _dump(Path(dump), judged_takes, d, judge_i)
    result = 0.0
    for vlag in voice_lags:
        right = total = s_right = s_total = f_right = f_total = 0
        tp = fp = fn = sil = sil_open = 0
        for tk, voiced, scores in judged_takes:
            n = len(voiced)
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            probs = e / e.sum(axis=1, keepdims=True)
            truth = tk.truth(n, delay=d)
            settled = tk.settled(n, delay=d)
            t = hop_ends(n)
            judged = np.isin(truth, VOWEL_NAMES) & (t > 0.55 * len(tk.samples) / RATE)
            first = np.isin(truth, VOWEL_NAMES) & (t < 0.45 * len(tk.samples) / RATE)
            later = t > 0.55 * len(tk.samples) / RATE
            # the voicing sent with hop k is hop k - vlag's (and its one-hop hold)
            v_sent = np.concatenate([np.zeros(vlag, bool), voiced[: n - vlag]])
            opened = v_sent | np.concatenate([[False], v_sent[:-1]])
            gt = np.isin(truth, [*VOWEL_NAMES, "voiced"])
            tp += int(np.sum(later & opened & gt))
            fp += int(np.sum(later & opened & ~gt))
            fn += int(np.sum(later & ~opened & gt))
            sil += int(np.sum(later & (truth == "silence")))
            sil_open += int(np.sum(later & (truth == "silence") & opened))
            p = np.full(5, 0.2)
            for k in range(n):
                if voiced[k]:
                    p = smooth * p + (1.0 - smooth) * probs[k]
                hit = bool(opened[k]) and VOWEL_NAMES[int(np.argmax(p))] == str(truth[k])
                f_right += int(hit and first[k])
                f_total += int(first[k])
                if judged[k]:
                    right += int(hit)
                    total += 1
                    s_right += int(hit and settled[k])
                    s_total += int(settled[k])
        print(f"judged voices, later sentences (delay {d * 1000:.0f} ms, voicing lag {vlag} "
              f"hops): right vowel {right / total:.3f} of {total} vowel hops, "
              f"{s_right / s_total:.3f} of {s_total} settled ones; open F1 "
              f"{2 * tp / (2 * tp + fp + fn):.3f}, silent open {sil_open / sil:.3f} of "
              f"{sil}; first sentences: right vowel {f_right / f_total:.3f} of "
              f"{f_total}")  # fmt: skip
        result = right / total
    return result


def _dump(
    path: Path,
    judged: list[tuple[yardstick.Take, np.ndarray, np.ndarray]],
    delay: float,
    voice_index: list[int],
) -> None:
    """The judged voices' scores, voicing, truth (at the represented instant), settled flags, the
    share of its take each hop ends at and its voice (index in FIT_VOICES), hop by hop."""
    keys = ("scores", "voiced", "truth", "settled", "pos", "voice")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for (tk, voiced, scores), vi in zip(judged, voice_index, strict=True):
        n = len(voiced)
        parts["scores"].append(scores)
        parts["voiced"].append(voiced)
        parts["truth"].append(tk.truth(n, delay=delay).astype(str))
        parts["settled"].append(tk.settled(n, delay=delay))
        parts["pos"].append((np.arange(n) + 1) * HOP / len(tk.samples))
        parts["voice"].append(np.full(n, vi))
    np.savez(path, **{k: np.concatenate(v) for k, v in parts.items()})
    print(f"wrote {path}")


def stock_inputs(
    takes: list[yardstick.Take],
    feature_cache: Path | None = None,
    extra: list[yardstick.Take] | None = None,
    variance: bool = STOCK_VARIANCE_NORM,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Network 1's inputs (float16: the precision it is fitted at, so inputs written with
    --write-inputs fit the same network), labels and the normalization's target mean: the
    fitting voices (``takes``) and ``extra`` (TRACT_VOICES, other vocal-tract lengths), each as
    it is and warped by AUGMENT_WARPS (vocal-tract length perturbation); the normalization's
    target mean (and, with ``variance``, SD) from ``takes`` alone."""
    ceps_mean, ceps_sd = fitting_norm(takes, variance)
    fit, more = _labelled(takes), _labelled(extra or [])
    labelled = fit * len(AUGMENT_WARPS) + more * len(TRACT_WARPS)
    warps = [w for w in AUGMENT_WARPS for _ in fit] + [w for w in TRACT_WARPS for _ in more]
    x, y = network_inputs(
        labelled, ceps_mean, VOWEL_NAMES, warps=warps, cache=feature_cache, ceps_sd=ceps_sd
    )
    print(
        f"{len(y)} voiced vowel hops ({np.bincount(y, minlength=5).tolist()} A I U E O), "
        f"warps {AUGMENT_WARPS}, made voices' {TRACT_WARPS}"
    )
    return x.astype(np.float16), y.astype(np.int8), ceps_mean, ceps_sd


_CHUNK_ROWS = 620_000  # (a chunk file stays under 46 MB)


def save_inputs(
    folder: Path, x: np.ndarray, y: np.ndarray, ceps_mean: np.ndarray, ceps_sd: np.ndarray | None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    extra = {} if ceps_sd is None else {"ceps_sd": ceps_sd}
    for k, i in enumerate(range(0, len(y), _CHUNK_ROWS)):
        np.savez(folder / f"inputs_{k}.npz", x=x[i : i + _CHUNK_ROWS], y=y[i : i + _CHUNK_ROWS],
                 ceps_mean=ceps_mean, **extra)  # fmt: skip
    print(f"wrote {len(y)} inputs to {folder}")


def load_inputs(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    files = sorted(folder.glob("inputs_*.npz"), key=lambda f: int(f.stem.split("_")[1]))
    parts = [np.load(f) for f in files]
    x = np.concatenate([p["x"] for p in parts])
    sd = parts[0]["ceps_sd"] if "ceps_sd" in parts[0] else None
    return x, np.concatenate([p["y"] for p in parts]), parts[0]["ceps_mean"], sd


# (for the worker processes)
_FIT: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None = None


def _fit_seed(seed: int) -> VowelModel:
    assert _FIT is not None
    x, y, ceps_mean, ceps_sd = _FIT
    return fit_network(x, y, ceps_mean, epochs=STOCK_EPOCHS, seed=seed, noise=STOCK_NOISE,
                       label_smooth=STOCK_LABEL_SMOOTH, ceps_sd=ceps_sd)  # fmt: skip


def fit_stock_network(
    x16: np.ndarray,
    y: np.ndarray,
    ceps_mean: np.ndarray,
    jobs: int = 1,
    ceps_sd: np.ndarray | None = None,
) -> VowelModel:
    """Network 1: NETWORK_SEEDS networks (seeds 0 ..) fitted on the inputs, averaged and
    sharpened by STOCK_SHARPEN; with ``jobs`` > 1 fitted in that many processes (the same
    networks); ``ceps_sd``: the talker variance normalization the inputs were made with."""
    global _FIT
    _FIT = (x16.astype(np.float64), y.astype(np.int64), ceps_mean, ceps_sd)
    seeds = list(range(NETWORK_SEEDS))
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            models = pool.map(_fit_seed, seeds)
    else:
        models = [_fit_seed(s) for s in seeds]
    return sharpen(average_networks(models), STOCK_SHARPEN)


if __name__ == "__main__":
    main()
