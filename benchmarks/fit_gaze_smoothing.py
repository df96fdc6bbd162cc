"""Choose the gaze smoothing preset from measurements (docs/smoothing.md, "Gaze: how the preset
was chosen").

Data: the face corpus's rendered performances (vtuber.synth.corpus; 10 s, 30 fps, true gaze per
frame from ``Sequence.iris`` -> ``vtuber.synth.face.gaze_angles``), tracked by the Tracker from
benchmarks/bench_smoothing.py's cached landmarks (the same cache and cache version). The search
sees only the TRAINING identities (grace_hopper, astronaut, obama, kit_harington, kate_siegel);
the VALIDATION identities are never read here (``corpus.begin_fitting``):
benchmarks/bench_smoothing.py reports the chosen preset on them.

Measures (the sent LeftEye bone's gaze, yaw / pitch as vtuber.synth.scoring reads it, against
the truth, yaw negated: the anatomical eye bone's yaw > 0 is the person's right):

- error: mean angular gaze error (deg) over every frame with a face found and both eyes open
  (no closure within 2 frames: a closed eye has no gaze), saccades included -- a glance must
  arrive fast.
- saccade error: the same over the frames within 2 of an iris move only.
- still jitter: over steady fixations (the iris unmoved for 2 frames either side, eyes open), the
  mean frame-to-frame change of the sent gaze (deg); the truth does not move there, so all of it
  is noise. Reported as the reduction against raw (1 - smoothed / raw).

Objective, written down before the search: mean error on the training performances no more
than 0.05 deg above raw and no more than the One Euro filter's, and (added after the first
search on the training faces, before any validation figure: that search's choice smoothed the
saccades as much as the One Euro filter, 0.4 deg above raw there, the mean error rewarding heavy
smoothing of the tracker's noise as the 0.3 lerp's shows) the saccade-frame error no more than
``--saccade-tol`` (0.2) deg above raw; among the settings that meet all, the largest
still-jitter reduction. If none meets them, the one with the least excess is printed.

Search: the hand-set v1 preset (``V1_GAZE``), then ``--candidates`` settings drawn
log-uniformly (seed 21) over noise, accel, adapt_sigma, adapt_memory_s, speed_ref, lag_k,
still_tau_s and still_speed (no gating: a saccade is a real one-frame event), then ``--refine``
around the best (log-normal factor, sigma 0.3, seed 22). Rows: off (raw), the One Euro filter,
the 0.3 lerp, v1 and the committed medium preset.

Run: ``.venv/bin/python benchmarks/fit_gaze_smoothing.py [--performances N] [--candidates N]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from vtuber.pipeline import Smoother
from vtuber.rig import AvatarFrame, Bone, Tracking
from vtuber.smoothing import (
    KalmanSmoother,
    LerpSmoother,
    OneEuroSmoother,
    SignalSettings,
    SmoothingConfig,
    preset_signals,
)

EYES = (Bone.LeftEye, Bone.RightEye)
ERROR_TOL = 0.05  # deg above raw allowed on the training performances (the objective)
SACCADE_TOL = 0.2  # deg above raw allowed on the saccade frames (the objective)
# The hand-set v1 gaze preset (before this fit): the search starts from it.
V1_GAZE = SignalSettings(noise=1.5, accel=30.0, adapt_sigma=2.5, adapt_memory_s=0.05)
SEARCHED = (
    ("noise", 0.2, 6.0),
    ("accel", 5.0, 3000.0),
    ("adapt_sigma", 1.5, 4.0),
    ("adapt_memory_s", 0.02, 0.3),
    ("speed_ref", 5.0, 500.0),
    ("lag_k", 0.3, 1.5),
    ("still_tau_s", 0.05, 0.5),
    ("still_speed", 2.0, 100.0),
)


def bench() -> ModuleType:
    """benchmarks/bench_smoothing.py (its corpus loader and cache)."""
    from _common import bench_module  # benchmarks/ is on sys.path

    return bench_module("bench_smoothing")


@dataclass
class Performance:
    """One render's eye-only frames, its expected gaze (N, 2) and its frame masks."""

    where: str
    frames: list[AvatarFrame]
    truth: np.ndarray
    judged: np.ndarray  # found, both eyes open (2 frames away from any closure)
    steady: np.ndarray  # judged and the iris unmoved for 2 frames either side
    saccade: np.ndarray  # judged and within 2 frames of an iris move


def performance(b: ModuleType, name: str, seed: int, cache: Path | None) -> Performance:
    seq, full = b.corpus_frames(name, seed, cache)
    found = np.array([f.tracking.face for f in full])
    frames = [
        AvatarFrame(
            t=f.t,
            index=f.index,
            tracking=Tracking(face=f.tracking.face),
            bones={e: f.bones[e] for e in EYES if f.tracking.face and e in f.bones},
        )
        for f in full
    ]
    truth, judged, steady, saccade = b.gaze_truth(seq, found)
    return Performance(f"{name} {seed}", frames, truth, judged, steady, saccade)


def load(b: ModuleType, names: tuple[str, ...], k: int, cache: Path | None) -> list[Performance]:
    return [performance(b, n, b.performance_seed(n, i), cache) for n in names for i in range(k)]


def measure(
    b: ModuleType, make: Callable[[], Smoother] | None, perfs: list[Performance]
) -> dict[str, float]:
    """Pooled over the performances: mean error, saccade error, still jitter (deg)."""
    err, sac, jit = [], [], []
    for p in perfs:
        out = p.frames if make is None else b.smooth(make, p.frames)
        e, j = b.gaze_measures(out, p.truth, p.judged, p.steady)
        err.append(e[p.judged])
        sac.append(e[p.saccade])
        jit.append(j)
    return {
        "error": float(np.concatenate(err).mean()),
        "saccade error": float(np.concatenate(sac).mean()),
        "jitter": float(np.concatenate(jit).mean()),
    }


def kalman(gaze: SignalSettings) -> Callable[[], Smoother]:
    sig = {**preset_signals("medium"), "gaze": gaze}
    return lambda: KalmanSmoother(SmoothingConfig(signals=sig))


def baselines(b: ModuleType, perfs: list[Performance]) -> dict[str, dict[str, float]]:
    return {
        "off": measure(b, None, perfs),
        "one euro": measure(b, lambda: OneEuroSmoother(SmoothingConfig(filter="one_euro")), perfs),
        "lerp 0.3": measure(b, lambda: LerpSmoother(0.3), perfs),
        "v1": measure(b, kalman(V1_GAZE), perfs),
        "preset": measure(b, kalman(preset_signals("medium")["gaze"]), perfs),
    }


def draw(rng: np.random.Generator, base: SignalSettings) -> SignalSettings:
    kw: dict[str, Any] = {
        k: float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) for k, lo, hi in SEARCHED
    }
    return replace(base, **kw)


def near(rng: np.random.Generator, s: SignalSettings) -> SignalSettings:
    d = asdict(s)
    kw: dict[str, Any] = {
        k: float(d[k] * np.exp(0.3 * rng.standard_normal())) for k, _, _ in SEARCHED
    }
    return replace(s, **kw)


def short(s: SignalSettings) -> str:
    d = asdict(s)
    return " ".join(f"{k} {d[k]:.3g}" for k, _, _ in SEARCHED)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--performances", type=int, default=4, help="per training face")
    ap.add_argument("--candidates", type=int, default=40)
    ap.add_argument("--refine", type=int, default=20)
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    ap.add_argument("--saccade-tol", type=float, default=SACCADE_TOL, help="deg above raw")
    args = ap.parse_args(argv)
    from vtuber.synth import corpus

    corpus.begin_fitting()  # validation faces are refused from here on
    b = bench()
    cache = Path(args.cache)
    train = load(b, corpus.TRAINING, args.performances, cache)
    base = baselines(b, train)
    print(f"training: {len(train)} performances ({args.performances} per face)")
    for k, v in base.items():
        print(f"  {k:10s} " + "  ".join(f"{m} {x:.3f}" for m, x in v.items()))
    limit = min(base["off"]["error"] + ERROR_TOL, base["one euro"]["error"])
    raw_j = base["off"]["jitter"]

    sac_limit = base["off"]["saccade error"] + args.saccade_tol

    def score(s: SignalSettings) -> tuple[bool, float, float, dict[str, float]]:
        m = measure(b, kalman(s), train)
        over = max(m["error"] - limit, m["saccade error"] - sac_limit)
        return over <= 0.0, 1.0 - m["jitter"] / raw_j, over, m

    cur = V1_GAZE
    tried = [(cur, *score(cur))]
    rng = np.random.default_rng(21)
    for _ in range(args.candidates):
        s = draw(rng, cur)
        tried.append((s, *score(s)))

    def best() -> tuple[SignalSettings, bool, float, float, dict[str, float]]:
        ok = [t for t in tried if t[1]]
        return max(ok, key=lambda t: t[2]) if ok else min(tried, key=lambda t: t[3])

    rng = np.random.default_rng(22)
    for _ in range(args.refine):
        s = near(rng, best()[0])
        tried.append((s, *score(s)))
    s, ok, red, _, m = best()
    print(
        f"error limit {limit:.3f} deg (raw + {ERROR_TOL} and One Euro's), saccade error limit"
        f" {sac_limit:.3f} (raw + {args.saccade_tol}); {len(tried)} tried"
    )
    print(f"chosen ({'meets' if ok else 'MISSES'} the limits): {short(s)}")
    print("  training " + "  ".join(f"{k} {x:.3f}" for k, x in m.items()) + f"  red {red:.1%}")
    for k in base:
        print(f"  {k:10s} jitter reduction {1.0 - base[k]['jitter'] / raw_j:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
