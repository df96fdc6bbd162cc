"""Fit the audio lip sync's vowel network (vtuber/data/lipsync_vowels.json), docs/lipsync.md.

Data: espeak-ng reads the FIT sentences with the FIT voices only (vtuber.synth.speech: 96 voices,
48 espeak-ng variants none of which is a held-out voice's, 22 sentences none of which is held
out); ``yardstick.begin_fitting()`` makes any read of held-out speech an error. Labels: the phone
at the centre of each hop's window (diphthongs by their nucleus), voiced hops only.

Run: ``.venv/bin/python benchmarks/fit_lipsync_vowels.py [--cache DIR] [--epochs N]``, then
``benchmarks/bench_lipsync.py`` for the figures on held-out voices and sentences.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from vtuber.audio import yardstick
from vtuber.audio.analysis import HOP, MODEL_PATH, VOWEL_NAMES, WIN, frame_features
from vtuber.audio.fitting import centre_times, fit_network, network_inputs
from vtuber.synth.speech import FIT_SENTENCES, FIT_VOICES


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="folder for the generated WAV files")
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "vtuber_lipsync_yardstick")
    yardstick.begin_fitting()
    t0 = time.time()
    takes = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in FIT_VOICES]
    print(f"{len(takes)} takes, {sum(len(t.samples) for t in takes) / 16000 / 60:.0f} min")
    raw = []
    for tk in takes:  # the fitting voices' mean cepstrum (the normalization's target)
        x = np.concatenate([np.zeros(WIN), tk.samples.astype(np.float64)])
        n = len(tk.samples) // HOP
        idx = np.arange(n)[:, None] * HOP + HOP + np.arange(WIN)[None, :]
        level, per, ceps = frame_features(x[idx])
        raw.append(ceps[(per > 0.5) & (level > -40)])
    ceps_mean = np.concatenate(raw).mean(axis=0)
    data = [
        (tk.samples, tk.utterance.kind_at(centre_times(len(tk.samples) // HOP))) for tk in takes
    ]
    x, y = network_inputs(data, ceps_mean, VOWEL_NAMES)
    print(f"{len(y)} voiced vowel hops ({np.bincount(y, minlength=5).tolist()} A I U E O)")
    model = fit_network(x, y, ceps_mean, epochs=args.epochs)
    acc = float(np.mean(np.argmax(model.scores(x), axis=1) == y))
    MODEL_PATH.write_text(json.dumps(model.to_json()) + "\n")
    took = time.time() - t0
    print(f"wrote {MODEL_PATH}: hop accuracy on the fitting data {acc:.3f} ({took:.0f} s)")


if __name__ == "__main__":
    main()
