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

Run: ``.venv/bin/python benchmarks/fit_lipsync_vowels.py [--cache DIR] [--canonical-only]``
(7-12 min on 2 busy cores), then ``benchmarks/bench_lipsync.py`` for the figures on held-out
voices and sentences.
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
    HOP,
    MODEL_PATH,
    VOWEL_NAMES,
    WIN,
    VowelModel,
    frame_features,
    load_model,
)
from vtuber.audio.calibrate import learn_vowels
from vtuber.audio.fitting import (
    AUGMENT_WARPS,
    STOCK_EPOCHS,
    centre_times,
    fit_network,
    network_inputs,
)
from vtuber.synth.speech import FIT_SENTENCES, FIT_VOICES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="folder for the generated WAV files")
    ap.add_argument(
        "--canonical-only", action="store_true", help="keep network 1, refit network 2 only"
    )
    args = ap.parse_args()
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "vtuber_lipsync_yardstick")
    yardstick.begin_fitting()
    t0 = time.time()
    takes = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in FIT_VOICES]
    print(f"{len(takes)} takes, {sum(len(t.samples) for t in takes) / 16000 / 60:.0f} min")
    if args.canonical_only:
        stock = load_model()
    else:
        stock = fit_stock(takes)
    # Network 2: each fitting voice warped by its own calibration warp (found under network 1).
    warps = [learn_vowels(yardstick.calibration_take(v, cache), stock)[0].warp for v in FIT_VOICES]
    print(
        f"fitting voices' warps: {min(warps):.3f} .. {max(warps):.3f} (median {np.median(warps)})"
    )
    x, y = network_inputs(_labelled(takes), stock.ceps_mean, VOWEL_NAMES, warps=warps)
    model = fit_network(x, y, stock.ceps_mean)
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


def fit_stock(takes: list[yardstick.Take]) -> VowelModel:
    """Network 1, on the fitting voices as they are; the normalization's target mean too."""
    t0 = time.time()
    raw = []
    for tk in takes:  # the fitting voices' mean cepstrum (the normalization's target)
        x = np.concatenate([np.zeros(WIN), tk.samples.astype(np.float64)])
        n = len(tk.samples) // HOP
        idx = np.arange(n)[:, None] * HOP + HOP + np.arange(WIN)[None, :]
        level, per, ceps = frame_features(x[idx])
        raw.append(ceps[(per > 0.5) & (level > -40)])
    ceps_mean = np.concatenate(raw).mean(axis=0)
    # Each fitting voice as it is and warped by AUGMENT_WARPS (vocal-tract length perturbation).
    labelled = _labelled(takes)
    warps = [w for w in AUGMENT_WARPS for _ in labelled]
    x, y = network_inputs(labelled * len(AUGMENT_WARPS), ceps_mean, VOWEL_NAMES, warps=warps)
    print(
        f"{len(y)} voiced vowel hops ({np.bincount(y, minlength=5).tolist()} A I U E O), "
        f"warps {AUGMENT_WARPS}"
    )
    model = fit_network(x, y, ceps_mean, epochs=STOCK_EPOCHS)
    _write(model, x, y, MODEL_PATH, t0)
    return model


if __name__ == "__main__":
    main()
