"""Choose the online warp's settings (vtuber/audio/adapt.py) on fitting voices only.

The split is ``fit_lipsync_vowels.py --validate``'s (every accent on both sides): a stock-like
network is fitted on the voices of fitting variants 0-3, 8-11 ... (and every second made voice)
reading the first 45 % of their take, with the stock network's perturbation, input noise, label
smoothing and sharpening (one seed instead of five, to save time), and each setting of the
online warp is judged on the voices of variants 4-7, 12-15 ... reading the last 45 % of their
take (other sentences), each judged voice starting afresh there (no speech heard yet, warp 1).
Scored like the yardstick: every vowel hop, right when the mouth is open with the right largest
shape; also after the first ``WARM`` seconds of each judged voice's audio.

Run: ``nice -n 5 .venv/bin/python benchmarks/tune_online_warp.py [--cache DIR]`` (~10 min on 2
busy cores; the network is kept in ``build/online_warp_split.json`` for later runs).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from vtuber.audio import yardstick
from vtuber.audio.adapt import GRID, OnlineWarp, OnlineWarpConfig
from vtuber.audio.analysis import (
    DELAY,
    HOP,
    RATE,
    VOWEL_KEYS,
    VOWEL_NAMES,
    Analyzer,
    VowelModel,
)
from vtuber.audio.calibrate import learn_vowels
from vtuber.audio.fitting import (
    AUGMENT_WARPS,
    STOCK_EPOCHS,
    STOCK_LABEL_SMOOTH,
    STOCK_NOISE,
    STOCK_SHARPEN,
    TRACT_WARPS,
    fit_network,
    plan_inputs,
    sharpen,
    voiced_ceps_mean,
    vowel_hops,
)
from vtuber.synth.speech import FIT_SENTENCES, FIT_VOICES, TRACT_VOICES

WARM = 10.0  # seconds


def ceps_mean_of(takes: list[yardstick.Take]) -> np.ndarray:
    return voiced_ceps_mean([tk.samples for tk in takes])


def split_network(takes, tract, fit_i, feature_cache: Path, out: Path) -> VowelModel:  # type: ignore[no-untyped-def]
    if out.exists():
        return VowelModel.from_json(json.loads(out.read_text()))
    ceps_mean = ceps_mean_of(takes)
    plan = [(w, takes[i]) for w in AUGMENT_WARPS for i in fit_i]
    plan += [(w, tk) for w in TRACT_WARPS for tk in tract[::2]]
    x, y = plan_inputs(plan, ceps_mean, cache=feature_cache, head=0.45)
    t0 = time.time()
    m = fit_network(
        x, y, ceps_mean, epochs=STOCK_EPOCHS, seed=0, noise=STOCK_NOISE,
        label_smooth=STOCK_LABEL_SMOOTH,
    )  # fmt: skip
    m = sharpen(m, STOCK_SHARPEN)
    print(f"fitted the split's network on {len(y)} hops ({time.time() - t0:.0f} s)")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(m.to_json()) + "\n")
    return m


def split_profile_network(takes, fit_i, stock: VowelModel, cache: Path, out: Path) -> VowelModel:  # type: ignore[no-untyped-def]
    """The profile network's counterpart on the split: the fitted half's voices, each warped by
    its own calibration warp under the split's stock network, first 45 % of each take."""
    if out.exists():
        return VowelModel.from_json(json.loads(out.read_text()))
    xs, ys, warps = [], [], []
    for i in fit_i:
        tk = takes[i]
        w = learn_vowels(yardstick.calibration_take(tk.voice, cache), stock)[0].warp
        warps.append(w)
        xk, yk = vowel_hops(
            tk.samples, tk.utterance.kind_at, stock.ceps_mean, warp=w, cache=cache / "features",
            head=0.45,
        )  # fmt: skip
        xs.append(xk)
        ys.append(yk)
    x, y = np.concatenate(xs), np.concatenate(ys)
    m = fit_network(x, y, stock.ceps_mean, epochs=20, seed=0)
    print(f"split profile network on {len(y)} hops; warps {min(warps)} .. {max(warps)}")
    out.write_text(json.dumps(m.to_json()) + "\n")
    return m


def judged_runs(takes, judge_i, model: VowelModel):  # type: ignore[no-untyped-def]
    """Per judged voice: (voiced, open, probs (n, len(GRID), 5), truth (n,))."""
    runs = []
    for i in judge_i:
        tk = takes[i]
        n_all = len(tk.samples) // HOP
        h0 = int(round(0.55 * n_all))
        samples = tk.samples[h0 * HOP :]
        per_warp = []
        for w in GRID:
            a = Analyzer(replace(model, warp=w))
            per_warp.append(a.push(samples))
        n = len(per_warp[0])
        voiced = np.array([s.voiced for s in per_warp[0]])
        opened = np.array([s.open for s in per_warp[0]])
        probs = (
            np.array([[[s[k].vowels[v] for v in VOWEL_KEYS] for s in per_warp] for k in range(n)])
            / np.maximum(opened, 1e-9)[:, None, None]
        )
        # (the hops' times count from h0; each judged at the instant it represents)
        truth = tk.truth(n_all, delay=DELAY)[h0 : h0 + n]
        runs.append((voiced, opened, probs, truth))
    return runs


def judge(
    runs, cfg: OnlineWarpConfig | None, by: int = 1, out: int = 0
) -> tuple[float, float, list[float]]:  # type: ignore[no-untyped-def]
    """Right vowel on all judged vowel hops and after WARM s; the final warp per voice
    (``cfg`` None: no adaptation, warp 1). ``by``/``out``: the network (0 stock, 1 profile)
    that picks the warp / whose vowels are sent."""
    right = total = w_right = w_total = 0
    warps = []
    i1 = GRID.index(1.0)
    for voiced, opened, both, truth in runs:
        est = OnlineWarp(GRID, cfg) if cfg else None
        probs = both[out]
        for k in range(len(voiced)):
            if est is not None:
                est.update(bool(voiced[k]), both[by][k] if voiced[k] else None)
                p = est.mix(list(probs[k]))
            else:
                p = probs[k, i1]
            if str(truth[k]) in VOWEL_NAMES:
                hit = opened[k] > yardstick.OPEN_EPS and VOWEL_NAMES[int(np.argmax(p))] == str(
                    truth[k]
                )
                right += int(hit)
                total += 1
                if k >= WARM * RATE / HOP:
                    w_right += int(hit)
                    w_total += 1
        warps.append(est.warp if est else 1.0)
    return right / total, w_right / w_total, warps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default=None, help="folder of the generated WAV files")
    ap.add_argument("--network", default="build/online_warp_split.json")
    args = ap.parse_args()
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "vtuber_lipsync_yardstick")
    yardstick.begin_fitting()
    takes = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in FIT_VOICES]
    tract = [yardstick.make_take(v, FIT_SENTENCES, cache) for v in TRACT_VOICES]
    fit_i = [i for i in range(len(takes)) if (i // 2) % 8 < 4]
    judge_i = [i for i in range(len(takes)) if (i // 2) % 8 >= 4]
    model = split_network(takes, tract, fit_i, cache / "features", Path(args.network))
    prof = split_profile_network(
        takes, fit_i, model, cache, Path(args.network).with_name("online_warp_split_profile.json")
    )
    t0 = time.time()
    runs_path = Path(args.network).with_name("online_warp_runs.npz")
    if runs_path.exists():
        with np.load(runs_path, allow_pickle=True) as z:
            runs = list(z["runs"])
    else:
        r0, r1 = judged_runs(takes, judge_i, model), judged_runs(takes, judge_i, prof)
        runs = [(a[0], a[1], (a[2], b[2]), a[3]) for a, b in zip(r0, r1, strict=True)]
        arr = np.empty(len(runs), dtype=object)
        arr[:] = runs
        np.savez(runs_path, runs=arr)
    print(f"{len(runs)} judged voices analysed at {len(GRID)} warps ({time.time() - t0:.0f} s)")
    for out in (0, 1):
        acc, warm, _ = judge(runs, None, out=out)
        print(f"no adaptation, network {out}: right vowel {acc:.4f}, after {WARM:.0f} s {warm:.4f}")
    for by, out, memory, prior, rate in itertools.product(
        (1, 0), (0, 1), (10.0, 30.0), (0.0, 0.01, 0.03), (0.25, 1.0)
    ):
        cfg = OnlineWarpConfig(memory=memory, prior=prior, rate=rate)
        acc, warm, warps = judge(runs, cfg, by, out)
        print(
            f"judge {by} out {out} memory {memory:3.0f} s prior {prior:.2f} rate {rate:.2f}: "
            f"right vowel {acc:.4f}, after {WARM:.0f} s {warm:.4f}; final warps "
            f"{np.min(warps):.3f} .. {np.max(warps):.3f} (median {np.median(warps):.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
