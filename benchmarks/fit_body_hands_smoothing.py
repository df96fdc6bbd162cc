"""Choose the body and hand smoothing presets from measurements (docs/smoothing.md, "Body and
hands: how the presets were chosen").

Split: the settings are FITTED on seeded synthetic motion with a known truth and REPORTED on
the real clip (/work/shared/data/media/person_thumbsup_720p.mp4, ``--mode full``), which the
search never sees. The synthetic data is where lag and jitter can be measured against a truth
and drawn again with new noise; the real clip has no truth and about 15-30 moving frames per
bone, too few to fit eight settings on without fitting its noise.

1. Noise level: the per-axis standard deviation of each bone's rotation on the real clip's
   still frames (second differences of the rotation vector: a slow pose change cancels, white
   noise of sigma gives sigma * sqrt(6)); the body and hand levels are the median over the
   bones of each signal that move on the clip (``--noise`` prints them). The noise level (and
   its spread and shape, below) is all the fit takes from the clip.
2. Synthetic cases per signal (one bone, 30 fps, seeds fixed): still (5 s, the bone wandering
   3 deg at 0.2 Hz) at half, once and twice the level, with Gaussian noise on three axes and
   with Student-t noise on one axis (jitter = mean frame-to-frame angle of output x truth^-1,
   averaged over the six); ramps at four speeds eased in over 0.2 s with Gaussian noise at the
   level (lag = mean truth-minus-output along the ramp over the constant-speed part, in frames
   of motion; RUNS draws each); a step (frames until 90 % of it, its first frame = 1); a turn
   that starts on the frame the bone is first seen, noise-free (mean lag over frames 5-30, as
   bench_smoothing's chest turn). A first search with only a still bone at the median level
   (Gaussian, three axes) chose settings that passed the clip's noisier bones through (clip
   jitter reduction, hands 45.9 % against One Euro's 74.1 %): the spread and shape of the
   still cases were then widened to what the noise measurement shows (per-bone levels 0.4-1.9
   deg, most finger bones noisy on one axis). That was decided after seeing a clip figure, so
   the clip is not a fully unseen test for the second search (docs/smoothing.md says so).
3. Objective, written down before the search: every lag (each ramp speed, the step, the turn
   from acquisition) no worse than the One Euro filter's on the same draws; among the settings
   that meet that, the least still jitter. If none meets it, that is printed and the least
   jitter among the settings with the least worst lag excess is shown.
4. Search: the current preset, then ``--candidates`` settings drawn log-uniformly (seed 13)
   over noise, accel, adapt_sigma, adapt_memory_s, speed_ref, lag_k, still_tau_s and
   still_speed (gate_sigma and max_gated kept as they are), then ``--refine`` settings around
   the best of them (each setting scaled by a log-normal factor, sigma 0.3, seed 14).

Run: ``.venv/bin/python benchmarks/fit_body_hands_smoothing.py [--signal body|hands]
[--candidates N] [--noise]``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from vtuber import quat
from vtuber.rig import AvatarFrame, Bone, Tracking
from vtuber.smoothing import (
    KalmanSmoother,
    OneEuroSmoother,
    SignalSettings,
    SmoothingConfig,
    bone_signal,
    preset_signals,
)

FPS = 30.0
RUNS = 4  # noise draws per ramp speed
# Per signal: the bone the synthetic cases move, its tracking flag, ramp speeds (deg/s) and
# the step (deg). Body: an arm swings at up to ~130 deg/s (bench_smoothing's arm), a chest
# turns at ~25; fingers curl at up to several hundred deg/s.
CASES = {
    "body": (Bone.RightUpperArm, "body", (15.0, 45.0, 90.0, 180.0), 30.0),
    "hands": (Bone.RightIndexProximal, "right_hand", (30.0, 90.0, 180.0, 360.0), 45.0),
}
SEARCHED = (
    ("noise", 0.1, 4.0),
    ("accel", 2.0, 2000.0),
    ("adapt_sigma", 1.5, 4.0),
    ("adapt_memory_s", 0.02, 0.3),
    ("speed_ref", 2.0, 200.0),
    ("lag_k", 0.3, 1.5),
    ("still_tau_s", 0.05, 0.5),
    ("still_speed", 2.0, 60.0),
)


def bench() -> ModuleType:
    """benchmarks/bench_smoothing.py (the clip's cached landmarks and its metrics)."""
    from _common import bench_module  # benchmarks/ is on sys.path

    return bench_module("bench_smoothing")


def still_noise(rv: np.ndarray, still: np.ndarray) -> np.ndarray:
    """Per-axis noise standard deviation of an (N, 3) signal over runs of ``still`` frames,
    from second differences (a slow, steady change cancels; white noise of sigma gives
    sigma * sqrt(6))."""
    d2 = rv[2:] - 2.0 * rv[1:-1] + rv[:-2]
    ok = still[2:] & still[1:-1] & still[:-2]
    out: np.ndarray = d2[ok].std(axis=0) / np.sqrt(6.0)
    return out


def clip_noise(b: ModuleType, cache: Path) -> dict[str, float]:
    """Per signal (body, hands): the median over the clip's tracked bones of the per-axis
    still-frame noise (deg, RMS over the three axes)."""
    full = b.cached_frames(cache, "clip_full", lambda: None, full=True)
    levels: dict[str, list[float]] = {"body": [], "hands": []}
    for bone in Bone:
        sig = bone_signal(bone)
        fr = [f for f in full if bone in f.bones]
        if sig not in levels or len(fr) < 40:
            continue
        q = b.bone_q(fr, bone)
        still, moving = b.still_moving(q, 25.0)
        rv = np.degrees(quat.to_rotvec(quat.multiply(quat.conjugate(b.mean_rotation(q)), q)))
        if (still[2:] & still[1:-1] & still[:-2]).sum() < 10:
            continue
        per_axis = still_noise(rv, still)
        rms = float(np.sqrt(np.mean(per_axis**2)))
        if not moving.any():  # never moves on the clip (Spine, Chest: the user sits)
            continue
        print(f"  {bone.name:26s} {sig:5s} per-axis sigma {np.round(per_axis, 2)} rms {rms:.2f}")
        levels[sig].append(rms)
    return {k: float(np.median(v)) for k, v in levels.items()}


def frames_of(bone: Bone, flag: str, q: np.ndarray) -> list[AvatarFrame]:
    tr = Tracking(**{flag: True})
    return [
        AvatarFrame(t=i / FPS, index=i, tracking=tr, bones={bone: tuple(map(float, r))})  # type: ignore[dict-item]
        for i, r in enumerate(q)
    ]


def noisy(q: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return quat.multiply(quat.from_rotvec(np.radians(sigma) * rng.standard_normal((len(q), 3))), q)


def about_x(deg: np.ndarray) -> np.ndarray:
    """Rotations about x (a finger's curl axis, an arm's swing: any axis serves) from a base
    pose away from identity."""
    base = quat.from_rotvec(np.radians([10.0, 20.0, -30.0]))
    return quat.multiply(quat.from_rotvec(np.radians(deg)[:, None] * np.array([1.0, 0, 0])), base)


class Cases:
    """The seeded synthetic cases of one signal at noise ``sigma`` (deg per axis)."""

    def __init__(self, signal: str, sigma: float, seed: int = 7) -> None:
        bone, flag, speeds, step = CASES[signal]
        self.bone, self.speeds = bone, speeds
        rng = np.random.default_rng(seed)
        # Still: a bone wandering slowly (3 deg at 0.2 Hz, under 4 deg/s: "still" by the clip's
        # 10 deg/s rule) at half, once and twice the level, with Gaussian noise on three axes
        # and with Student-t (4 dof) noise on one axis (a finger's hinge, as most finger bones
        # of the clip), both of the same variance.
        n_still = int(5 * FPS)
        wander = 3.0 * np.sin(2.0 * np.pi * 0.2 * np.arange(n_still) / FPS)
        self.still_truth = about_x(wander)
        self.still = []
        for k in (0.5, 1.0, 2.0):
            self.still.append(frames_of(bone, flag, noisy(self.still_truth, rng, k * sigma)))
            t4 = rng.standard_t(4, n_still) / np.sqrt(2.0) * np.sqrt(3.0) * k * sigma
            one_axis = quat.from_rotvec(np.radians(t4)[:, None] * np.array([0.0, 0.0, 1.0]))
            q = quat.multiply(one_axis, self.still_truth)
            self.still.append(frames_of(bone, flag, q))
        self.ramps = []
        for v in speeds:
            # 0.5 s still, the speed eased in over 0.2 s, then constant for 1.5 s or 100 deg.
            t = np.arange(int((0.7 + min(1.5, 100.0 / v)) * FPS)) / FPS
            u = np.clip((t - 0.5) / 0.2, 0.0, 1.0)
            ang = np.cumsum(v * u * u * (3.0 - 2.0 * u)) / FPS
            truth = about_x(ang)
            runs = [frames_of(bone, flag, noisy(truth, rng, sigma)) for _ in range(RUNS)]
            self.ramps.append((v, ang, runs, t >= 0.7))
        steps = np.where(np.arange(60) < 30, 0.0, step)
        self.step_truth = about_x(steps)
        self.step = frames_of(bone, flag, noisy(self.step_truth, rng, sigma))
        v0 = speeds[0] if signal == "body" else speeds[1]
        self.turn_speed = v0 / FPS
        self.turn_truth = about_x(self.turn_speed * np.arange(60))
        self.turn = frames_of(bone, flag, self.turn_truth)

    def measure(self, make: type[KalmanSmoother], s: SignalSettings, signal: str) -> dict:
        cfg = SmoothingConfig(signals={**preset_signals("medium"), signal: s})
        filt = "one_euro" if make is OneEuroSmoother else "kalman"
        cfg = replace(cfg, filter=filt)

        def run(frames: list[AvatarFrame]) -> np.ndarray:
            sm = make(cfg)
            return np.array([sm.update(f).bone(self.bone) for f in frames])

        # Jitter: the mean frame-to-frame angle of the output's error (output x truth^-1),
        # after the first 0.5 s, averaged over the still cases.
        jit = []
        for frames in self.still:
            e = quat.multiply(run(frames), quat.conjugate(self.still_truth))
            jit.append(float(np.degrees(quat.angle_between(e[1:], e[:-1]))[15:].mean()))
        res = {"jitter": float(np.mean(jit))}
        for v, ang, runs, const in self.ramps:
            lags = []
            for frames in runs:
                o = run(frames)
                rel = quat.to_rotvec(quat.multiply(o, quat.conjugate(about_x(np.zeros(1)))))
                out_deg = np.degrees(rel[:, 0])
                lags.append(float(np.mean((ang - out_deg)[const])) / (v / FPS))
            res[f"lag {v:g}"] = float(np.mean(lags))
        o = run(self.step)
        prog = np.degrees(quat.angle_between(o, self.step_truth[:1]))[30:]
        full = float(np.degrees(quat.angle_between(self.step_truth[-1:], self.step_truth[:1]))[0])
        hit = np.flatnonzero(prog >= 0.9 * full)
        res["step"] = float(hit[0] + 1) if len(hit) else 99.0
        o = run(self.turn)
        e = np.degrees(quat.angle_between(o, self.turn_truth))
        res["turn"] = float(e[5:31].mean() / self.turn_speed)
        return res


def clip_report(
    b: ModuleType, cache: Path, signal: str, methods: list[tuple[str, SmoothingConfig]]
) -> None:
    """The real clip (never seen by the search): per bone of ``signal`` tracked in at least 40
    frames, the jitter reduction on its still frames and the lag behind the raw on its moving
    frames (bench_smoothing's measures), and their means over the bones."""
    full = b.cached_frames(cache, "clip_full", lambda: None, full=True)
    sums: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in methods}
    for bone in Bone:
        fr = [f for f in full if bone in f.bones]
        if bone_signal(bone) != signal or len(fr) < 40:
            continue
        raw = b.bone_q(fr, bone)
        st, mv = b.still_moving(raw, 25.0)
        if st.sum() <= 5 or mv.sum() <= 5:
            continue
        cells = []
        for name, cfg in methods:
            sm = OneEuroSmoother(cfg) if cfg.filter == "one_euro" else KalmanSmoother(cfg)
            out = np.array([sm.update(f).bone(bone) for f in fr])
            red = 100.0 * (1.0 - b.jitter_deg(out, st) / b.jitter_deg(raw, st))
            lag = b.shift_lag(out, raw, mv)
            sums[name].append((red, lag))
            cells.append(f"{name} {red:5.1f}% {lag:.1f}")
        print(f"  {bone.name:24s} {int(st.sum()):3d}/{int(mv.sum()):3d}  " + " | ".join(cells))
    for name, v in sums.items():
        if v:
            a = np.array(v)
            print(
                f"  mean over {len(v)} bones, {name}: jitter reduction {a[:, 0].mean():.1f} %,"
                f" lag {a[:, 1].mean():.2f} frames (max {a[:, 1].max():.1f})"
            )


def lag_keys(r: dict) -> list[str]:
    return [k for k in r if k != "jitter"]


def excess(r: dict, ref: dict) -> float:
    """The worst amount (frames) by which a lag exceeds the One Euro filter's (<= 0: none)."""
    return max(abs(r[k]) - abs(ref[k]) for k in lag_keys(r))


def draw(rng: np.random.Generator, base: SignalSettings) -> SignalSettings:
    vals: dict[str, Any] = {
        name: float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) for name, lo, hi in SEARCHED
    }
    return replace(base, **vals)


def row(r: dict) -> str:
    return " ".join(f"{k}={v:.3f}" for k, v in r.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signal", choices=("body", "hands"), action="append")
    ap.add_argument("--candidates", type=int, default=150)
    ap.add_argument("--refine", type=int, default=100)
    ap.add_argument("--noise", action="store_true", help="print the clip's noise levels only")
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    args = ap.parse_args(argv)
    from vtuber.synth import corpus

    corpus.begin_fitting()  # (synthetic motion and the real clip only: no corpus face is read)
    b = bench()
    if not b.CLIP.exists():
        print(f"(the clip is absent: {b.CLIP}; its noise levels cannot be measured)")
        return 0
    print("noise on the real clip's still frames (second differences):")
    level = clip_noise(b, Path(args.cache))
    print("levels (median per signal): " + ", ".join(f"{k} {v:.2f} deg" for k, v in level.items()))
    if args.noise:
        return 0
    for signal in args.signal or ["body", "hands"]:
        cases = Cases(signal, level[signal])
        cur = preset_signals("medium")[signal]
        ref = cases.measure(OneEuroSmoother, cur, signal)
        print(f"\n## {signal} (noise {level[signal]:.2f} deg per axis)")
        print(f"one euro: {row(ref)}")
        rng = np.random.default_rng(13)
        tried = [("current", cur)] + [(f"c{i}", draw(rng, cur)) for i in range(args.candidates)]
        scored = []
        for name, s in tried:
            r = cases.measure(KalmanSmoother, s, signal)
            scored.append((name, s, r, excess(r, ref)))
            if name == "current":
                print(f"current: {row(r)} excess {excess(r, ref):+.2f}")
        # Refinement: ``--refine`` settings around the best of the random search, each setting
        # scaled by a log-normal factor (sigma 0.3; seed 14).
        first = sorted(scored, key=lambda x: (x[3] > 0.0, x[2]["jitter"] if x[3] <= 0 else x[3]))
        centre = first[0][1]
        rng2 = np.random.default_rng(14)
        for i in range(args.refine):
            vals: dict[str, Any] = {
                n: float(
                    min(max(getattr(centre, n) * np.exp(0.3 * rng2.standard_normal()), lo), hi)
                )
                for n, lo, hi in SEARCHED
            }
            s = replace(centre, **vals)
            r = cases.measure(KalmanSmoother, s, signal)
            scored.append((f"r{i}", s, r, excess(r, ref)))
        ok = [x for x in scored if x[3] <= 0.0]
        if ok:
            print(f"{len(ok)} of {len(scored)} settings lag no more than One Euro; least jitter:")
            pick = sorted(ok, key=lambda x: x[2]["jitter"])
        else:
            print("no setting lags no more than One Euro everywhere; least excess:")
            pick = sorted(scored, key=lambda x: (round(x[3], 1), x[2]["jitter"]))
        for name, s, r, ex in pick[:5]:
            d = {
                k: round(v, 4)
                for k, v in asdict(s).items()
                if k in dict.fromkeys(n for n, _, _ in SEARCHED)
            }
            print(f"  {name}: {row(r)} excess {ex:+.2f}\n    {d}")
        best = pick[0][1]
        print(f"\nreal clip, {signal} (still/moving frames; jitter reduction, lag frames):")
        base = preset_signals("medium")
        clip_report(
            b,
            Path(args.cache),
            signal,
            [
                ("one euro", SmoothingConfig(signals=base, filter="one_euro")),
                ("current", SmoothingConfig(signals=base)),
                ("chosen", SmoothingConfig(signals={**base, signal: best})),
            ],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
