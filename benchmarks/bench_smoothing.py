"""Smoothing benchmark: the default preset against a One Euro filter, the 0.3 lerp and no
smoothing, on the same data in one run (docs/smoothing.md, "Measurements").

Data (30 fps unless said):

- synthetic head (0.5 deg Gaussian noise per axis): a still head (jitter), a 20 deg step
  (frames to 90 %), smooth yaw ramps at 10, 30, 60, 90 deg/s (lag in frames over the
  constant-speed part: the truth-minus-output angle along the ramp over the speed per frame);
- synthetic blendshapes (0.03 noise): a blink (0 -> 1 in one frame) and a syllable (0 -> 0.7 over
  two frames): onset delay = frames by which the output crosses half the step after the raw does;
- rendered still head with pixel noise and a rendered 20 deg turn (vtuber.synth.face,
  grace_hopper, a training face), through FaceMesh and the Tracker;
- rendered heads moving naturally (vtuber.synth.corpus.make_sequence, 10 s, yaw/pitch/roll up
  to 35/20/15 deg at up to 60 deg/s, blinks and speech), FaceMesh + Tracker: mean head error
  (deg) against the true pose, raw and smoothed, and blink / mouth onsets taken from the truth
  (the true closure or opening rising through 0.5 / 0.3; the delay read at half the raw's rise,
  the tracker's misses apart; the old raw-crossing figure printed beside it; docs/smoothing.md,
  "Onsets measured on the truth"), and the gaze (the sent LeftEye against the true gaze:
  mean error over the frames with both eyes open, saccades included, and the still jitter on
  steady fixations; checked against raw + ``GAZE_TOL`` and the One Euro filter; the gaze preset
  is chosen by benchmarks/fit_gaze_smoothing.py), on every face of the group x ``PERFORMANCES``
  seeded performances (seed 1000 k + corpus index, k = 0 .. PERFORMANCES - 1). Each performance
  is checked against raw + 0.3 deg; the One Euro comparison is per face, on the mean over its
  performances, with the paired standard error of the difference (docs/smoothing.md, "Deciding
  the render comparison"). Presets were chosen on the TRAINING faces (``--faces training``);
  the figures to report are the VALIDATION faces' (default: all five);
- the real clip (/work/shared/data/media/person_thumbsup_720p.mp4, 25 fps; skipped with a note
  when absent): jitter over its still parts; over its moving parts the lag behind the raw pose
  (the time shift, in frames, that best aligns output with raw) and the RMS difference;
- acquisition (a head, an upper arm and a finger first seen away from rest: the first frame
  against the raw one, frames to 90 % of the way from rest to the pose) and a 1.5 s dropout
  (held, then back at rest);
- body and hands: a synthetic arm swing with noise, a slow chest turn from acquisition (its
  lag), and a forward-kinematics hand (vtuber.synth.hands, 3 mm landmark noise, fingers solved
  by vtuber.solvers.hands; truth = the same solver on the noise-free points): error against the
  truth, jitter when still; and the
  real clip in ``--mode full`` (arm / hand / finger jitter on still parts, lag on moving parts;
  the body and hand presets are chosen by benchmarks/fit_body_hands_smoothing.py);
- cost: CPU ms per ``update`` for the face channel set and the full body (the least of
  ``COST_REPEATS`` interleaved rounds, their median and largest beside it, and the machine's
  load average).

Landmarks of renders and of the clip are cached (``--cache``, default /tmp/vtuber-corpus-cache,
the same files as benchmarks/bench_face_corpus.py), so a rerun takes a few minutes (a new
performance costs about 15 s of MediaPipe once).

Run: ``.venv/bin/python benchmarks/bench_smoothing.py [--quick] [--faces training|validation]
[--performances N] [--first-performance K]`` (``--quick``: synthetic data and cost only;
performances k = K .. K + N - 1). Exits 1 when a target of the
default is missed.
"""

from __future__ import annotations

import argparse
import functools
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from vtuber import quat  # noqa: E402
from vtuber.landmarks import Landmarks  # noqa: E402
from vtuber.pipeline import Smoother  # noqa: E402
from vtuber.rig import (  # noqa: E402
    ARKIT_NAMES,
    IDENTITY,
    REST_POSE,
    VRM1_PRESETS,
    AvatarFrame,
    Bone,
    Tracking,
)
from vtuber.smoothing import (  # noqa: E402
    KalmanSmoother,
    LerpSmoother,
    OneEuroSmoother,
    SmoothingConfig,
    make_smoother,
)
from vtuber.tracker import split_head  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"
NECK_SHARE = 0.35
STEP_DEG = 20.0
# 2: landmarks are cached (1: tracked frames, stale after a Tracker change); 3: the landmarks
# carry the mouth's darkness (FaceLandmarks.mouth_dark)
CACHE_VERSION = 3
IDENTITY_Q = np.array(IDENTITY, np.float64)
REST = {b: np.array(q, np.float64) for b, q in REST_POSE.items()}
COST_REPEATS = 7  # cost rounds; the check uses the least (see costs_ms)
# Gaze: the default's mean error on the renders may be at most this far above raw (deg), and no
# more than the One Euro filter's (fixed before the validation faces were measured).
GAZE_TOL = 0.1
SACCADE_TOL = 0.3  # ... and on the frames within 2 of a saccade, this far (a glance arrives)
RAMP_RUNS = 10  # noise draws per ramp speed (the mean lag of one draw varies by ~0.2 frame)
PERFORMANCES = 8  # seeded performances per face (docs/smoothing.md, "Deciding the render ...")
DECIDED_SE = 2.0  # a default - One Euro difference of this many standard errors is "decided"

Method = tuple[str, Callable[[], Smoother | None]]
DEFAULT = "default"
METHODS: list[Method] = [
    ("off", lambda: None),
    ("lerp 0.3", lambda: LerpSmoother(0.3)),
    ("one euro", lambda: OneEuroSmoother(SmoothingConfig(filter="one_euro"))),
    ("kalman low", lambda: KalmanSmoother(SmoothingConfig("low"))),
    ("kalman high", lambda: KalmanSmoother(SmoothingConfig("high"))),
    (DEFAULT, lambda: make_smoother(SmoothingConfig())),
]


def smooth(make: Callable[[], Smoother | None], frames: Sequence[AvatarFrame]) -> list[AvatarFrame]:
    s = make()
    return list(frames) if s is None else [s.update(f) for f in frames]


# ------------------------------------------------------------------------------------ metrics
def head_frame(q: np.ndarray, t: float, i: int, **blend: float) -> AvatarFrame:
    neck, head = split_head(np.asarray(q, np.float64), NECK_SHARE)
    return AvatarFrame(
        t=t,
        index=i,
        tracking=Tracking(face=True),
        bones={Bone.Neck: tuple(map(float, neck)), Bone.Head: tuple(map(float, head))},  # type: ignore[dict-item]
        blendshapes=dict(blend),
    )


def composed(frames: Sequence[AvatarFrame]) -> np.ndarray:
    """(N, 4) Neck*Head rotations (identity where absent)."""
    return np.array([quat.multiply(f.bone(Bone.Neck), f.bone(Bone.Head)) for f in frames])


def bone_q(frames: Sequence[AvatarFrame], b: Bone) -> np.ndarray:
    return np.array([f.bone(b) for f in frames])


def jitter_deg(q: np.ndarray, still: np.ndarray) -> float:
    """Mean frame-to-frame angle (deg) over consecutive pairs that are both still."""
    d = np.degrees(quat.angle_between(q[1:], q[:-1]))
    both = still[1:] & still[:-1]
    return float(d[both].mean())


def frames_to_90(q: np.ndarray, onset: int, before: np.ndarray, after: np.ndarray) -> int:
    """Frames from ``onset`` (counted as 1) until the rotation has covered 90 % of the step
    from ``before`` to ``after`` (progress measured along the step's own axis)."""
    step = quat.to_rotvec(quat.multiply(quat.conjugate(before), after))
    axis = step / np.linalg.norm(step)
    prog = quat.to_rotvec(quat.multiply(quat.conjugate(before), q)) @ axis / np.linalg.norm(step)
    hit = np.nonzero(prog[onset:] >= 0.9)[0]
    return int(hit[0]) + 1 if len(hit) else 10**6


def mean_rotation(q: np.ndarray) -> np.ndarray:
    q = np.where((q @ q[0])[:, None] < 0, -q, q)
    return quat.normalize(q.mean(axis=0))


def shift_lag(out: np.ndarray, raw: np.ndarray, mask: np.ndarray, max_shift: int = 6) -> float:
    """The time shift s (frames, to 0.1) minimizing the mean angle between out[k] and the raw
    pose at k - s (linear interpolation between frames) over the frames in ``mask``: how far
    the output trails the input."""
    idx = np.flatnonzero(mask)
    idx = idx[(idx >= max_shift + 1) & (idx < len(raw))]
    best, best_s = np.inf, 0.0
    for s in np.arange(0.0, max_shift + 1e-9, 0.1):
        k = int(np.floor(s))
        u = s - k
        a, b = raw[idx - k], raw[idx - k - 1]
        ref = quat.slerp(a, b, np.full(len(idx), u))
        e = float(np.degrees(quat.angle_between(out[idx], ref)).mean())
        if e < best:
            best, best_s = e, float(s)
    return best_s


def onset_delay(out: Sequence[float], raw: Sequence[float], onset: int, level: float) -> int:
    """Frames by which ``out`` first reaches ``level`` after ``raw`` does (from ``onset``)."""
    o = np.asarray(out[onset:]) >= level
    r = np.asarray(raw[onset:]) >= level
    if not o.any():
        return 10**6
    return int(np.argmax(o)) - int(np.argmax(r))


def crossing_delays(
    out: Sequence[float] | np.ndarray, raw: Sequence[float] | np.ndarray, level: float, key: str
) -> list[tuple[str, int, int]]:
    """For each frame where ``raw`` rises through ``level``: the frames until ``out`` is at or
    above it (capped at 10). Returned as (kind, delay, frame) with kind blink or the key."""
    r, o = np.asarray(raw), np.asarray(out)
    kind = "blink" if key.startswith("blink") else key
    out_d = []
    for k in np.flatnonzero((r[1:] >= level) & (r[:-1] < level)) + 1:
        hit = np.flatnonzero(o[k : k + 10] >= level)
        out_d.append((kind, int(hit[0]) if len(hit) else 10, int(k)))
    return out_d


def truth_onsets(truth: Sequence[float], level: float) -> list[tuple[int, int, int]]:
    """The real events of a render: each frame ``t0`` where the TRUE eye closure or mouth
    opening rises through ``level``, with the frame ``s`` where that rise starts (the truth's
    last local minimum before ``t0``) and the frame ``e`` where it ends (its next local maximum,
    a plateau included). Returned as (s, t0, e). A tracker blip with the truth closed is not an
    event (docs/smoothing.md, "Onsets measured on the truth")."""
    t = np.asarray(truth, np.float64)
    events = []
    for t0 in np.flatnonzero((t[1:] >= level) & (t[:-1] < level)) + 1:
        s = int(t0)
        while s > 0 and t[s - 1] < t[s]:
            s -= 1
        e = int(t0)
        while e + 1 < len(t) and t[e + 1] >= t[e]:
            e += 1
        events.append((s, int(t0), e))
    return events


EVENT_AFTER = 1  # frames after the truth's peak still counted as the event's (the raw's peak)


def event_onset(
    out: Sequence[float] | np.ndarray,
    raw: Sequence[float] | np.ndarray,
    s: int,
    e: int,
    level: float,
) -> tuple[int, float, int] | None:
    """One true event (``truth_onsets``' s .. e): the smoother's delay, the peak it lost, and
    the delay as first read (the rule of 18:21 UTC; docs/smoothing.md, "Onsets measured on the
    truth").

    None when the raw weight does not rise through ``level`` within the event (frames s .. e +
    EVENT_AFTER: it never reaches the level, or is already there at s): the tracker's miss, no
    onset for the smoother to delay. Otherwise the delay is read at half the raw's rise,
    ``half = (raw[s] + peak) / 2`` (peak: the raw's largest value in the event; half the step
    is where the synthetic blink and syllable onsets are read too): the event's onset is the
    frame where the raw weight crosses ``half`` for good, i.e. the first frame from which it
    stays at or above it up to its peak, and the delay is the frames from there until the
    output is at or above ``half`` (0 if it already is; 10 = not within 10 frames: the event
    flattened). The first reading took the raw's first frame at or above ``half`` instead,
    which a raw wobble that touches ``half`` before the rise (and falls back) makes marginal.
    The peak lost is the raw's peak minus the output's largest value in the event."""
    r_, o_ = np.asarray(raw, np.float64), np.asarray(out, np.float64)
    w = slice(s, min(e + EVENT_AFTER + 1, len(r_)))
    peak = float(r_[w].max())
    if r_[s] >= level or peak < level:
        return None
    half = 0.5 * (r_[s] + peak)
    ip = int(np.argmax(r_[w]))  # the peak's frame, from s
    below = np.flatnonzero(r_[w][: ip + 1] < half)  # never empty: raw[s] < half
    r_held = s + int(below[-1]) + 1
    r_first = s + int(np.argmax(r_[w] >= half))

    def delay(r: int) -> int:
        hit = np.flatnonzero(o_[r : r + 10] >= half)
        return int(hit[0]) if len(hit) else 10

    return delay(r_held), peak - float(o_[w].max()), delay(r_first)


def onset_where(run: str, i: int, raw: np.ndarray, out: np.ndarray, level: float) -> str:
    """Where an onset is and what it looks like: the frame, how long the raw weight stays at
    or above ``level``, its peak over that stretch above the level and the output's peak
    there (the output's shortfall is what a late onset of a short peak is made of)."""
    above = np.flatnonzero(raw[i:] < level)
    n = int(above[0]) if len(above) else len(raw) - i
    return (
        f"{run} frame {i}: raw at or above {level:g} for {n} frame(s), its peak"
        f" {raw[i : i + n].max():.3f}, the output's {out[i : i + n].max():.3f}"
    )


def table(title: str, cols: list[str], rows: list[tuple[str, list[str]]]) -> None:
    print(f"\n## {title}")
    print(f"{'method':<12} " + " ".join(f"{c:>14}" for c in cols))
    for label, vals in rows:
        print(f"{label:<12} " + " ".join(f"{v:>14}" for v in vals))


# -------------------------------------------------------------------------- synthetic (head)
def noisy_rot(q: np.ndarray, rng: np.random.Generator, sigma: float = 0.5) -> np.ndarray:
    return quat.multiply(quat.from_rotvec(np.radians(sigma) * rng.standard_normal(3)), q)


def yaw(deg: float | np.ndarray) -> np.ndarray:
    return quat.from_axis_angle([0.0, 1.0, 0.0], np.radians(deg))


def synthetic_head(res: dict[str, dict[str, float]], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    fps = 30.0
    still = [head_frame(noisy_rot(yaw(0.0), rng), i / fps, i) for i in range(300)]
    yaws = [0.0] * 60 + [STEP_DEG] * 60
    step = [head_frame(noisy_rot(yaw(y), rng), i / fps, i) for i, y in enumerate(yaws)]
    raw_j = jitter_deg(composed(still), np.ones(300, bool))
    ramps = (10.0, 30.0, 60.0, 90.0)
    ramp_data = []
    for v in ramps:
        # 1 s still, speed eased in over 0.2 s (smoothstep), then 1.5 s at v deg/s.
        t = np.arange(int(2.7 * fps)) / fps
        u = np.clip((t - 1.0) / 0.2, 0.0, 1.0)
        speed = v * u * u * (3.0 - 2.0 * u)
        ang = np.cumsum(speed) / fps
        truth = yaw(ang)
        runs = [
            [head_frame(noisy_rot(q, rng), float(t[i]), i) for i, q in enumerate(truth)]
            for _ in range(RAMP_RUNS)
        ]
        ramp_data.append((v, ang, runs, t >= 1.2))
    rows = []
    for label, make in METHODS:
        r = res.setdefault(label, {})
        j = jitter_deg(composed(smooth(make, still)), np.ones(300, bool))
        r["synthetic jitter reduction %"] = 100.0 * (1.0 - j / raw_j)
        raw = composed(step)
        r["synthetic step frames"] = frames_to_90(
            composed(smooth(make, step)), 60, mean_rotation(raw[50:60]), mean_rotation(raw[63:75])
        )
        vals = [f"{r['synthetic jitter reduction %']:.1f}%", str(r["synthetic step frames"])]
        for v, ang, runs, const in ramp_data:
            lags = []
            for frames in runs:
                out_yaw = np.degrees(quat.to_rotvec(composed(smooth(make, frames)))[:, 1])
                lags.append(float(np.mean((ang - out_yaw)[const])) / (v / fps))
            lag = float(np.mean(lags))
            r[f"ramp {v:g} lag frames"] = lag
            vals.append(f"{lag:.2f}")
        rows.append((label, vals))
    table(
        "synthetic head (0.5 deg noise, 30 fps)",
        ["jitter red.", "step frames"] + [f"lag@{v:g}deg/s" for v in ramps],
        rows,
    )


def synthetic_blendshapes(res: dict[str, dict[str, float]], seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    n, on = 40, 20
    blink = np.where(np.arange(n) >= on, 1.0, 0.0)
    mouth = np.clip((np.arange(n) - on + 1) / 2.0, 0.0, 1.0) * 0.7
    noise = rng.normal(0.0, 0.03, (2, n))
    frames = [
        head_frame(
            yaw(0.0),
            i / 30.0,
            i,
            blinkLeft=float(np.clip(blink[i] + noise[0, i], 0, 1)),
            aa=float(np.clip(mouth[i] + noise[1, i], 0, 1)),
        )
        for i in range(n)
    ]
    rows = []
    for label, make in METHODS:
        out = smooth(make, frames)
        r = res.setdefault(label, {})
        bo = [f.blendshapes.get("blinkLeft", 0.0) for f in out]
        mo = [f.blendshapes.get("aa", 0.0) for f in out]
        br = [f.blendshapes.get("blinkLeft", 0.0) for f in frames]
        mr = [f.blendshapes.get("aa", 0.0) for f in frames]
        r["blink onset delay"] = onset_delay(bo, br, on - 2, 0.5)
        r["mouth onset delay"] = onset_delay(mo, mr, on - 2, 0.35)
        # Noise left on the closed eye / open mouth (std over the last 10 frames).
        r["blink noise"] = float(np.std(bo[-10:]))
        rows.append(
            (
                label,
                [
                    str(r["blink onset delay"]),
                    str(r["mouth onset delay"]),
                    f"{np.std(mo[-10:]):.3f}",
                ],
            )
        )
    table(
        "synthetic blendshape onsets (0.03 noise): frames behind raw",
        ["blink delay", "mouth delay", "mouth noise"],
        rows,
    )


def acquisition_dropout(res: dict[str, dict[str, float]], seed: int = 3) -> None:
    """Acquisition: a head (25 deg yaw), an upper arm and an index finger first seen away from
    rest (0.5 / 2 / 4 deg noise): the angle of the first smoothed frame to the raw one, and the
    frames (the first counted as 1) until the output has covered 90 % of the way from the rest
    pose to the user's true pose (no drift from neutral: 1).
    Dropout: a head held at 20 deg is lost for 1.5 s: the largest move of the output over the
    first 0.2 s (held: near 0), and the time until the output is back at rest (absent)."""
    rng = np.random.default_rng(seed)
    fps = 30.0
    arm0 = quat.from_rotvec([0.0, 0.0, np.radians(-20.0)])  # 50 deg from the rest pose
    fin0 = quat.from_rotvec([0.0, 0.0, np.radians(-50.0)])
    frames = []
    for i in range(15):
        bones: dict[Bone, Any] = {
            Bone.RightUpperArm: tuple(map(float, noisy_rot(arm0, rng, 2.0))),
            Bone.RightIndexProximal: tuple(map(float, noisy_rot(fin0, rng, 4.0))),
        }
        f = head_frame(noisy_rot(yaw(25.0), rng), i / fps, i)
        bones.update(f.bones)
        frames.append(
            AvatarFrame(
                t=i / fps,
                index=i,
                tracking=Tracking(face=True, body=True, right_hand=True),
                bones=bones,
            )
        )
    held = [head_frame(yaw(20.0), i / fps, i) for i in range(30)]
    lost = [AvatarFrame(t=(30 + i) / fps, index=30 + i) for i in range(45)]
    rows = []
    for label, make in METHODS:
        rr = res.setdefault(label, {})
        out = smooth(make, frames)
        vals = []
        for key, get, rest, truth in (
            ("head", composed, IDENTITY_Q, yaw(25.0)),
            ("arm", lambda fr: bone_q(fr, Bone.RightUpperArm), REST[Bone.RightUpperArm], arm0),
            ("finger", lambda fr: bone_q(fr, Bone.RightIndexProximal), IDENTITY_Q, fin0),
        ):
            q = get(out)
            e = np.degrees(quat.angle_between(q, get(frames)))
            rr[f"acquisition {key} first frame error"] = float(e[0])
            rr[f"acquisition {key} frames"] = float(frames_to_90(q, 0, rest, truth))
            vals += [f"{e[0]:.2f}", f"{rr[f'acquisition {key} frames']:.0f}"]
        sm = make()
        if sm is None:
            rr["dropout held move"] = float("nan")
            rr["dropout at rest s"] = 0.0
        else:
            last = composed([sm.update(f) for f in held])[-1]
            outs = [sm.update(f) for f in lost]
            q = composed(outs)
            rr["dropout held move"] = float(
                np.degrees(quat.angle_between(q[: int(0.2 * fps)], last)).max()
            )
            gone = [i for i, f in enumerate(outs) if Bone.Head not in f.bones]
            rr["dropout at rest s"] = (gone[0] + 1) / fps if gone else float("inf")
        vals += [f"{rr['dropout held move']:.2f}", f"{rr['dropout at rest s']:.2f}"]
        rows.append((label, vals))
    table(
        "acquisition (first frame's angle to raw, deg / frames to 90 % of the way from rest to "
        "the pose) and a 1.5 s dropout (move while held, deg / back at rest after, s)",
        ["head err", "head fr", "arm err", "arm fr", "finger err", "finger fr", "held", "rest s"],
        rows,
    )


# ------------------------------------------------------------------------ rendered and real
def _landmarks(
    images: Callable[[int], np.ndarray], n: int, fps: float, full: bool = False
) -> list[Landmarks]:
    """Real MediaPipe landmarks of ``n`` images (FaceMesh; PoseLandmarker + hands if ``full``)."""
    if full:
        from vtuber.landmarks.body import FullBodyBackend

        backend: object = FullBodyBackend()
    else:
        from vtuber.landmarks.facemesh import FaceMeshBackend

        backend = FaceMeshBackend()
    try:
        return [backend.process(images(i), i / fps) for i in range(n)]  # type: ignore[attr-defined]
    finally:
        backend.close()  # type: ignore[attr-defined]


def cached_frames(
    cache: Path | None,
    key: str,
    make: Callable[[], list[Landmarks]],
    full: bool = False,
) -> list[AvatarFrame]:
    """Frames tracked from landmarks: the landmarks come from the cache, else ``make()`` (then
    stored); the tracking is redone every run, so a change of the Tracker shows up here."""
    from vtuber.tracker import TrackConfig, Tracker

    path = None if cache is None else cache / f"smoothing_v{CACHE_VERSION}_{key}.pkl"
    if path is not None and path.is_file():
        with open(path, "rb") as fh:
            lms: list[Landmarks] = pickle.load(fh)
    else:
        lms = make()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as fh:
                pickle.dump(lms, fh)
    tracker = Tracker(TrackConfig(mode="full")) if full else Tracker()
    return [tracker.solve(lm, index=i) for i, lm in enumerate(lms)]


def rendered_still_step(res: dict[str, dict[str, float]], cache: Path | None) -> None:
    from vtuber.synth.face import FaceRenderer

    r = FaceRenderer.from_photo("grace_hopper")
    still = cached_frames(
        cache, "render_still", lambda: _landmarks(lambda i: r.render(noise=8.0, seed=i), 90, 30.0)
    )
    step = cached_frames(
        cache,
        "render_step",
        lambda: _landmarks(
            lambda i: r.render(yaw=0.0 if i < 30 else STEP_DEG, noise=8.0, seed=1000 + i), 60, 30.0
        ),
    )
    raw_j = jitter_deg(composed(still), np.ones(len(still), bool))
    raw = composed(step)
    before, after = mean_rotation(raw[20:30]), mean_rotation(raw[33:45])
    rows = []
    for label, make in METHODS:
        rr = res.setdefault(label, {})
        j = jitter_deg(composed(smooth(make, still)), np.ones(len(still), bool))
        rr["rendered jitter reduction %"] = 100.0 * (1.0 - j / raw_j)
        rr["rendered step frames"] = frames_to_90(composed(smooth(make, step)), 30, before, after)
        rows.append(
            (label, [f"{rr['rendered jitter reduction %']:.1f}%", str(rr["rendered step frames"])])
        )
    table(
        "rendered face, grace_hopper (pixel noise 8, 30 fps)", ["jitter red.", "step frames"], rows
    )


def performance_seed(name: str, k: int) -> int:
    """The seed of an identity's k-th performance: 1000 k + its corpus index (the seeds of
    benchmarks/bench_face_corpus.py, so the two benchmarks share the cached landmarks)."""
    from vtuber.synth import corpus

    return 1000 * k + corpus.IDENTITIES.index(name)


def corpus_frames(name: str, seed: int, cache: Path | None) -> tuple[object, list[AvatarFrame]]:
    """A corpus identity's 10 s performance ``seed``, tracked (landmarks cached by
    benchmarks/_common.py, shared with bench_face_corpus.py)."""
    from _common import cached_landmarks

    from vtuber.synth import corpus
    from vtuber.tracker import Tracker

    seq = corpus.make_sequence(name, seed, seconds=10.0)
    # Cache version 3: renders from before the teeth (version 4 changed only the inside of the
    # mouth, and adds the mouth's darkness, which the head and blink figures here do not read;
    # pinned so the many cached performances this bench uses are not all rebuilt).
    lms = cached_landmarks(seq, "facemesh", cache, 10.0, version=3)
    tr = Tracker()
    return seq, [tr.solve(lm, index=i) for i, lm in enumerate(lms)]


def tracker_map(raw: np.ndarray, truth: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The true pose as the tracker maps it: each rotation-vector component of the raw pose
    fitted (least squares, over the found frames) as an affine function of the true pose's
    three components. The fit holds the tracker's linear error (its gain, e.g. a yaw read 9 %
    too large, cross-talk between axes, an offset), which no smoother should try to undo. A
    smoothed output's error against this map leaves that out: what remains is the noise the
    smoother lets through, its own lag or overshoot, and the tracker's non-linear pose error.
    A diagnostic printed beside the error against the truth, not a target."""
    t = quat.to_rotvec(truth)
    a = np.c_[t, np.ones(len(t))]
    coef = np.linalg.lstsq(a[found], quat.to_rotvec(raw)[found], rcond=None)[0]
    return np.asarray(quat.from_rotvec(a @ coef))


def dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` widened by ``k`` frames either side."""
    out = mask.copy()
    for s in range(1, k + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


def eye_gaze(q: np.ndarray) -> np.ndarray:
    """(N, 4) eye-bone rotations -> (N, 2) gaze yaw, pitch in degrees (the bone's +Z turned;
    as vtuber.synth.scoring reads the sent LeftEye)."""
    f = quat.rotate(q, np.array([0.0, 0.0, 1.0]))
    yaw = np.degrees(np.arctan2(f[:, 0], f[:, 2]))
    pitch = np.degrees(np.arctan2(f[:, 1], np.hypot(f[:, 0], f[:, 2])))
    return np.c_[yaw, pitch]


def gaze_truth(seq: Any, found: np.ndarray) -> tuple[np.ndarray, ...]:
    """A render's true gaze as the unmirrored LeftEye bone should send it, (N, 2) yaw, pitch
    deg (the truth's yaw negated: the anatomical eye bone's yaw > 0 is the person's right), and
    the frame masks the gaze is judged on: ``judged`` (a face found, both eyes open: no closure
    within 2 frames), ``steady`` (judged, the iris unmoved for 2 frames either side: a
    fixation) and ``saccade`` (judged, within 2 frames of an iris move)."""
    from vtuber.synth.face import gaze_angles

    n = len(found)
    iris = np.asarray(seq.iris[:n], np.float64)
    tg = np.array([gaze_angles((float(a), float(c))) for a, c in iris])
    moved = np.zeros(n, bool)
    moved[1:] = np.any(iris[1:] != iris[:-1], axis=1)
    judged = found & ~dilate(np.any(np.asarray(seq.eye_close[:n]) > 0.0, axis=1), 2)
    return np.c_[-tg[:, 0], tg[:, 1]], judged, judged & ~dilate(moved, 2), judged & dilate(moved, 2)


def gaze_measures(
    frames: Sequence[AvatarFrame], truth: np.ndarray, judged: np.ndarray, steady: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame gaze error (deg) of the sent LeftEye against ``truth`` (every frame; pick with
    the masks), and the frame-to-frame gaze change (deg) between consecutive ``steady`` frames:
    the truth is still there, so all of it is jitter."""
    ident = (0.0, 0.0, 0.0, 1.0)
    g = eye_gaze(np.array([f.bones.get(Bone.LeftEye, ident) for f in frames], np.float64))
    err = np.hypot(*(g - truth).T)
    both = steady[1:] & steady[:-1]
    return err, np.hypot(*(g[1:] - g[:-1]).T)[both]


def paired_difference(
    a: np.ndarray, b: np.ndarray, block: int = 20, draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Mean of ``a - b`` (per-frame errors of two methods on the same frames) and its standard
    error by a block bootstrap (blocks of ``block`` frames: consecutive frames' errors are
    correlated): how well one 10 s render can tell two methods apart."""
    d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    n = len(d) // block
    means = d[: n * block].reshape(n, block).mean(axis=1)
    rng = np.random.default_rng(seed)
    boot = means[rng.integers(0, n, (draws, n))].mean(axis=1)
    return float(d.mean()), float(boot.std())


def method_row(res: dict[str, dict[str, float]], title: str, key: str, fmt: str = "12.3f") -> None:
    """One printed row: ``res[method][key]`` for every method, in METHODS order."""
    print(f"{title:<20} " + " ".join(f"{res[label][key]:{fmt}}" for label, _ in METHODS))


def face_difference(diffs: Sequence[float], ses: Sequence[float]) -> tuple[float, float, float]:
    """One face's default - One Euro difference over its performances (independent renders):
    the mean of the per-performance differences, its paired standard error from the
    performances' block-bootstrap errors (sqrt(sum se^2) / n), and the spread between the
    performances (their standard deviation / sqrt(n); nan for one performance)."""
    d, s = np.asarray(diffs, np.float64), np.asarray(ses, np.float64)
    n = len(d)
    spread = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return float(d.mean()), float(np.sqrt(np.sum(s**2)) / n), spread


def rendered_moving(
    res: dict[str, dict[str, float]],
    names: Sequence[str],
    cache: Path | None,
    performances: int = PERFORMANCES,
    first: int = 0,
) -> None:
    """Every face in ``names`` x ``performances`` seeded performances (performance_seed):
    per performance the mean head error of each method (checked against raw + 0.3 deg), per
    face the mean over its performances and the default - One Euro difference with its paired
    standard error (the check: docs/smoothing.md, "Deciding the render comparison")."""
    from vtuber.synth.face import true_rotation

    for label, _ in METHODS:
        res.setdefault(label, {})
    errs: dict[str, list[float]] = {label: [] for label, _ in METHODS}
    # Raw crossings (the old measure, printed beside): (kind, delay, where), where = "face seed
    # frame ...", for the late onsets' list. True events (the check): (kind, delay, peak lost,
    # where); the tracker's misses counted per kind.
    onsets: dict[str, list[tuple[str, int, str]]] = {label: [] for label, _ in METHODS}
    events: dict[str, list[tuple[str, int, float, int, str]]] = {label: [] for label, _ in METHODS}
    missed = {"blink": 0, "jawOpen": 0}
    # Gaze (the sent LeftEye against the true gaze): per method, per-frame errors on the judged
    # and the saccade frames, and the frame-to-frame change on steady fixations (gaze_truth).
    gaze: dict[str, dict[str, list[np.ndarray]]] = {
        label: {"error": [], "saccade": [], "jitter": []} for label, _ in METHODS
    }
    print(
        f"\n## rendered heads moving naturally (10 s, 30 fps, {performances} performances per"
        " face): mean head error, deg (against the truth; 'vs its map': against the tracker's"
        " linear map of the truth)"
    )
    print(f"{'face / seed':<20} " + " ".join(f"{label:>12}" for label, _ in METHODS))
    for name in names:
        face_errs: dict[str, list[float]] = {label: [] for label, _ in METHODS}
        face_map: dict[str, list[float]] = {label: [] for label, _ in METHODS}
        diffs, ses = [], []
        for k in range(first, first + performances):
            seed = performance_seed(name, k)
            seq, frames = corpus_frames(name, seed, cache)
            angles = zip(seq.yaw, seq.pitch, seq.roll, strict=True)  # type: ignore[attr-defined]
            truth = np.array([quat.from_matrix(true_rotation(y, p, r)) for y, p, r in angles])
            found = np.array([f.tracking.face for f in frames])
            ec, mo = seq.eye_close, seq.mouth  # type: ignore[attr-defined]
            truths = {"blinkLeft": ec[:, 0], "blinkRight": ec[:, 1], "jawOpen": mo}
            g_truth, g_judged, g_steady, g_sacc = gaze_truth(seq, found)
            raw = composed(frames)
            inv0 = quat.conjugate(raw[0])  # the truth is relative to frame 0 (frontal)
            mapped = tracker_map(quat.multiply(raw, inv0), truth, found)
            per_frame = {}
            for label, make in METHODS:
                sm = smooth(make, frames)
                out = quat.multiply(composed(sm), inv0)
                e = np.degrees(quat.angle_between(out, truth))[found]
                per_frame[label] = e
                g_err, g_jit = gaze_measures(sm, g_truth, g_judged, g_steady)
                gaze[label]["error"].append(g_err[g_judged])
                gaze[label]["saccade"].append(g_err[g_sacc])
                gaze[label]["jitter"].append(g_jit)
                errs[label].append(float(e.mean()))
                face_errs[label].append(float(e.mean()))
                em = float(np.degrees(quat.angle_between(out, mapped))[found].mean())
                face_map[label].append(em)
                for key, level in (("blinkLeft", 0.5), ("blinkRight", 0.5), ("jawOpen", 0.3)):
                    w_out = np.array([f.blendshapes.get(key, 0.0) for f in sm])
                    w_raw = np.array([f.blendshapes.get(key, 0.0) for f in frames])
                    onsets[label] += [
                        (kind, delay, onset_where(f"{name} {seed}", i, w_raw, w_out, level))
                        for kind, delay, i in crossing_delays(w_out, w_raw, level, key)
                    ]
                    kind = "blink" if key.startswith("blink") else key
                    for start, t0, end in truth_onsets(truths[key], level):
                        got = event_onset(w_out, w_raw, start, end, level)
                        if got is None:
                            missed[kind] += label == DEFAULT  # the same for every method
                            continue
                        where = f"{name} {seed} {key}, true onset at frame {t0}"
                        events[label].append((kind, got[0], got[1], got[2], where))
            res[DEFAULT][f"moving render excess {name} {seed}"] = (
                face_errs[DEFAULT][-1] - face_errs["off"][-1]
            )
            diff, se = paired_difference(per_frame[DEFAULT], per_frame["one euro"])
            diffs.append(diff)
            ses.append(se)
            print(
                f"{f'{name} {seed}':<20} "
                + " ".join(f"{face_errs[label][-1]:12.3f}" for label, _ in METHODS)
                + f"   default - OE {diff:+.3f} (SE {se:.3f})"
            )
        for label, _ in METHODS:
            rr = res.setdefault(label, {})
            rr[f"moving render error {name}"] = float(np.mean(face_errs[label]))
            rr[f"tracker-map error {name}"] = float(np.mean(face_map[label]))
        d, se, spread = face_difference(diffs, ses)
        res[DEFAULT][f"moving render default - one euro {name}"] = d
        res[DEFAULT][f"moving render default - one euro SE {name}"] = se
        res[DEFAULT][f"moving render default - one euro spread {name}"] = spread
        method_row(res, f"{name} mean", f"moving render error {name}")
        method_row(res, "  vs its map", f"tracker-map error {name}")
        print(
            f"{'  default - OE':<20} {d:+.3f} deg (paired standard error {se:.3f}; spread"
            f" between performances {spread:.3f})"
        )
    for label, _ in METHODS:
        rr = res.setdefault(label, {})
        excess = np.array(errs[label]) - np.array(errs["off"])
        rr["moving render error"] = float(np.mean(errs[label]))
        rr["moving render worst excess"] = float(excess.max())
        for kind in ("blink", "jawOpen"):
            d_on = np.array([x for k, x, _ in onsets[label] if k == kind])
            rr[f"render {kind} raw crossings late"] = float((d_on > 1).sum())
            rr[f"render {kind} raw crossing delay max"] = (
                float(d_on.max()) if len(d_on) else float("nan")
            )
            rr[f"render {kind} raw crossing delay mean"] = (
                float(d_on.mean()) if len(d_on) else float("nan")
            )
            rr[f"render {kind} raw crossings"] = float(len(d_on))
            d_ev = np.array([x for k, x, _, _, _ in events[label] if k == kind])
            lost = np.array([x for k, _, x, _, _ in events[label] if k == kind])
            d_first = np.array([x for k, _, _, x, _ in events[label] if k == kind])
            nan = float("nan")
            rr[f"render {kind} onsets"] = float(len(d_ev))
            rr[f"render {kind} onsets late"] = float((d_ev > 1).sum())
            rr[f"render {kind} onset delay max"] = float(d_ev.max()) if len(d_ev) else nan
            rr[f"render {kind} onset delay mean"] = float(d_ev.mean()) if len(d_ev) else nan
            rr[f"render {kind} peak lost mean"] = float(lost.mean()) if len(lost) else nan
            rr[f"render {kind} peak lost max"] = float(lost.max()) if len(lost) else nan
            rr[f"render {kind} first-reading late"] = float((d_first > 1).sum())
            rr[f"render {kind} first-reading max"] = float(d_first.max()) if len(d_first) else nan
    method_row(res, "all renders", "moving render error")
    method_row(res, "worst vs raw", "moving render worst excess", "+12.3f")
    raw_jitter = float(np.concatenate(gaze["off"]["jitter"]).mean())
    for label, _ in METHODS:
        rr = res[label]
        rr["render gaze error"] = float(np.concatenate(gaze[label]["error"]).mean())
        rr["render gaze saccade error"] = float(np.concatenate(gaze[label]["saccade"]).mean())
        rr["render gaze jitter"] = float(np.concatenate(gaze[label]["jitter"]).mean())
        rr["render gaze jitter reduction %"] = 100.0 * (1.0 - rr["render gaze jitter"] / raw_jitter)
    n_j = sum(len(x) for x in gaze["off"]["error"])
    n_s = sum(len(x) for x in gaze["off"]["saccade"])
    n_f = sum(len(x) for x in gaze["off"]["jitter"])
    print(
        f"\n## same renders: gaze (the sent LeftEye against the true gaze, deg): mean error over"
        f" the {n_j} frames with both eyes open (saccades included), over the {n_s} within 2"
        f" frames of a saccade, and still jitter (mean frame-to-frame change over {n_f} steady"
        " fixation frame pairs)"
    )
    print(f"{'method':<12} {'error':>8} {'saccades':>9} {'jitter':>8} {'jitter red.':>12}")
    for label, _ in METHODS:
        rr = res[label]
        print(
            f"{label:<12} {rr['render gaze error']:8.3f} {rr['render gaze saccade error']:9.3f}"
            f" {rr['render gaze jitter']:8.3f} {rr['render gaze jitter reduction %']:11.1f}%"
        )
    n_b = int(res["off"]["render blink onsets"])
    n_m = int(res["off"]["render jawOpen onsets"])
    print(
        f"\n## same renders: true onsets (the truth rising through the level: blinkL/R 0.5,"
        f" jawOpen 0.3), blink ({n_b}) and jawOpen ({n_m}) onsets the raw rises through the level"
        f" (the tracker missed {missed['blink']} blink and {missed['jawOpen']} jawOpen onsets);"
        " frames behind raw at half the raw's rise, and the peak lost (raw peak - output peak)"
    )
    print(
        f"{'method':<12} {'blink mean':>11} {'blink max':>10} {'blink > 1':>10} {'jaw mean':>9}"
        f" {'jaw max':>8} {'jaw > 1':>8} {'blink lost':>11} {'jaw lost':>9} (mean / max)"
    )
    for label, _ in METHODS:
        rr = res[label]
        print(
            f"{label:<12} {rr['render blink onset delay mean']:11.2f}"
            f" {rr['render blink onset delay max']:10.0f}"
            f" {rr['render blink onsets late']:10.0f}"
            f" {rr['render jawOpen onset delay mean']:9.2f}"
            f" {rr['render jawOpen onset delay max']:8.0f}"
            f" {rr['render jawOpen onsets late']:8.0f}"
            + "".join(
                f"  {rr[f'render {k} peak lost mean']:.3f} / {rr[f'render {k} peak lost max']:.3f}"
                for k in ("blink", "jawOpen")
            )
        )
    for kind, delay, gone, first, where in events[DEFAULT]:
        if delay > 1 or first > 1:
            print(
                f"  default: {kind} onset {delay} frames late ({first} as first read; {where};"
                f" peak lost {gone:.3f})"
            )
    print("the same onsets as first read (the 18:21 UTC rule: the raw's first frame at half):")
    for label, _ in METHODS:
        rr = res[label]
        print(
            f"{label:<12} "
            + "   ".join(
                f"{k} max {rr[f'render {k} first-reading max']:.0f},"
                f" {rr[f'render {k} first-reading late']:.0f} over 1 frame"
                for k in ("blink", "jawOpen")
            )
        )
    n_b = int(res["off"]["render blink raw crossings"])
    n_m = int(res["off"]["render jawOpen raw crossings"])
    print(
        f"\n## same renders, the old measure (not a check): every raw crossing, blink ({n_b}) and"
        f" jawOpen ({n_m}): frames until the output is at the level"
    )
    print(
        f"{'method':<12} {'blink mean':>11} {'blink max':>10} {'blink > 1':>10} {'jaw mean':>9}"
        f" {'jaw max':>8} {'jaw > 1':>8}"
    )
    for label, _ in METHODS:
        rr = res[label]
        print(
            f"{label:<12} {rr['render blink raw crossing delay mean']:11.2f}"
            f" {rr['render blink raw crossing delay max']:10.0f}"
            f" {rr['render blink raw crossings late']:10.0f}"
            f" {rr['render jawOpen raw crossing delay mean']:9.2f}"
            f" {rr['render jawOpen raw crossing delay max']:8.0f}"
            f" {rr['render jawOpen raw crossings late']:8.0f}"
        )
    late = [(k, x, where) for k, x, where in onsets[DEFAULT] if x > 1]
    for kind, delay, where in late:
        print(f"  default: {kind} crossing {delay} frames late ({where}; 10 = not within 10)")


def clip_images() -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    imgs = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        imgs.append(img)
    cap.release()
    return imgs


def still_moving(q: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Still / moving masks: low-passed (9-frame mean) angular speed under / over 10 deg/s."""
    rv = quat.to_rotvec(q)
    k = np.ones(9) / 9.0
    lp = np.stack([np.convolve(rv[:, i], k, mode="same") for i in range(3)], axis=1)
    speed = np.degrees(np.linalg.norm(np.gradient(lp, axis=0), axis=1)) * fps
    still, moving = speed < 10.0, speed >= 10.0
    still[:5] = still[-5:] = moving[:5] = moving[-5:] = False
    return still, moving


def real_clip(res: dict[str, dict[str, float]], cache: Path | None) -> None:
    if not CLIP.exists():
        print(f"\n(real clip skipped: {CLIP} not found)")
        return
    imgs: list[np.ndarray] = []

    def load(full: bool) -> list[Landmarks]:
        if not imgs:
            imgs.extend(clip_images())
        return _landmarks(lambda i: imgs[i], len(imgs), 25.0, full=full)

    frames = [f for f in cached_frames(cache, "clip_face", lambda: load(False)) if f.tracking.face]
    raw = composed(frames)
    still, moving = still_moving(raw, 25.0)
    raw_j = jitter_deg(raw, still)
    rows = []
    for label, make in METHODS:
        out = composed(smooth(make, frames))
        rr = res.setdefault(label, {})
        rr["clip jitter reduction %"] = 100.0 * (1.0 - jitter_deg(out, still) / raw_j)
        rr["clip moving lag frames"] = shift_lag(out, raw, moving)
        rms = np.degrees(quat.angle_between(out, raw))[moving]
        rows.append(
            (
                label,
                [
                    f"{rr['clip jitter reduction %']:.1f}%",
                    f"{rr['clip moving lag frames']:.1f}",
                    f"{np.sqrt(np.mean(rms**2)):.2f}",
                ],
            )
        )
    table(
        f"real clip, head, 25 fps ({int(still.sum())} still, {int(moving.sum())} moving frames)",
        ["jitter red.", "lag frames", "RMS vs raw"],
        rows,
    )

    full = cached_frames(cache, "clip_full", lambda: load(True), full=True)
    rows = []
    for bone in (Bone.RightLowerArm, Bone.RightHand, Bone.RightIndexProximal):
        present = np.array([bone in f.bones for f in full])
        if present.sum() < 20:
            print(f"({bone.name}: tracked in {int(present.sum())} frames only; skipped)")
            continue
        frames_b = [f for f in full if bone in f.bones]
        raw_b = bone_q(frames_b, bone)
        st, mv = still_moving(raw_b, 25.0)
        for label, make in METHODS:
            out_b = bone_q(smooth(make, frames_b), bone)
            red = float("nan")
            if st.sum() > 5:
                red = 100.0 * (1.0 - jitter_deg(out_b, st) / jitter_deg(raw_b, st))
            lag = shift_lag(out_b, raw_b, mv) if mv.sum() > 5 else float("nan")
            rr = res.setdefault(label, {})
            rr[f"clip {bone.name} jitter reduction %"] = red
            rr[f"clip {bone.name} lag frames"] = lag
            counts = f"{int(st.sum())}/{int(mv.sum())}"
            rows.append((label, [bone.name, f"{red:.1f}%", f"{lag:.1f}", counts]))
    table(
        "real clip, --mode full: arm and hand (still / moving frames)",
        ["bone", "jitter red.", "lag frames", "still/moving"],
        rows,
    )


# --------------------------------------------------------------------- synthetic body, hands
def synthetic_arm_frames(seed: int) -> tuple[list[AvatarFrame], np.ndarray, np.ndarray]:
    """An upper arm still for 2 s, then swinging +-40 deg at 0.5 Hz (peak 126 deg/s), 2 deg
    noise, 30 fps: (frames, truth (N, 4), still mask)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(6 * 30.0)) / 30.0
    arm_deg = np.where(t < 2.0, 0.0, 40.0 * np.sin(np.pi * (t - 2.0)))
    base = quat.from_rotvec([0.0, 0.0, np.radians(-60.0)])
    swing = quat.from_rotvec(np.radians(arm_deg)[:, None] * np.array([0.0, 1.0, 0.0]))
    truth = quat.multiply(swing, base)
    frames = [
        AvatarFrame(
            t=float(t[i]),
            index=i,
            tracking=Tracking(body=True),
            bones={Bone.RightUpperArm: tuple(map(float, noisy_rot(truth[i], rng, 2.0)))},  # type: ignore[dict-item]
        )
        for i in range(len(t))
    ]
    return frames, truth, t < 2.0


def synthetic_hand_frames(
    seed: int, noise_m: float = 0.003
) -> tuple[list[AvatarFrame], dict[Bone, np.ndarray], np.ndarray]:
    """A right hand by forward kinematics (vtuber.synth.hands.random_motion: joint angles and
    orientation gliding between random poses), held still for 1.5 s, then moving for 6 s, 30
    fps; per-point noise ``noise_m`` (metres) on the world landmarks. The finger bones are
    solved by the project's hand solver from the noisy points; the truth is the same solver on
    the noise-free points. Returns (frames, truth per bone (N, 4), still mask)."""
    from vtuber.solvers.hands import solve_hand
    from vtuber.synth.hands import random_motion

    rng = np.random.default_rng(seed)
    moving, _ = random_motion(rng, 6.0, 30.0, noise_m=0.0)
    pts = np.concatenate([np.repeat(moving[:1], 45, axis=0), moving])
    noisy = pts + rng.normal(0.0, noise_m, pts.shape)
    truth_sol = [solve_hand(p, "right").bones for p in pts]
    bones = list(truth_sol[0])
    truth = {b: np.array([s[b] for s in truth_sol]) for b in bones}
    frames = [
        AvatarFrame(
            t=i / 30.0,
            index=i,
            tracking=Tracking(right_hand=True),
            bones=solve_hand(p, "right").bones,  # type: ignore[arg-type]
        )
        for i, p in enumerate(noisy)
    ]
    return frames, truth, np.arange(len(pts)) < 45


def body_turn_lag(make: Callable[[], Smoother | None]) -> float:
    """A chest turning at 24 deg/s from the frame it is first seen (no noise, 30 fps): the
    mean lag over frames 5-30, in frames of motion (how long the start of a slow body turn
    trails)."""
    truth = yaw(150.0 + 0.8 * np.arange(60))
    frames = [
        AvatarFrame(t=i / 30.0, index=i, tracking=Tracking(body=True), bones={Bone.Chest: q})
        for i, q in enumerate(map(tuple, truth.tolist()))
    ]
    out = bone_q(smooth(make, frames), Bone.Chest)
    return float(np.degrees(quat.angle_between(out, truth))[5:31].mean() / 0.8)


def synthetic_body(res: dict[str, dict[str, float]], seed: int = 2) -> None:
    """Error against the truth (deg, moving part) and jitter reduction (still part) of a
    synthetic upper arm and of the 15 finger bones of a forward-kinematics hand; the lag of a
    slow chest turn's start."""
    arm, arm_truth, arm_still = synthetic_arm_frames(seed)
    hand, hand_truth, hand_still = synthetic_hand_frames(seed)
    raw_arm_j = jitter_deg(bone_q(arm, Bone.RightUpperArm), arm_still)
    raw_hand_j = {b: jitter_deg(bone_q(hand, b), hand_still) for b in hand_truth}
    rows = []
    for label, make in METHODS:
        rr = res.setdefault(label, {})
        q = bone_q(smooth(make, arm), Bone.RightUpperArm)
        e = np.degrees(quat.angle_between(q, arm_truth))
        rr["synthetic arm error"] = float(e[~arm_still].mean())
        rr["synthetic arm jitter reduction %"] = 100.0 * (
            1.0 - jitter_deg(q, arm_still) / raw_arm_j
        )
        out = smooth(make, hand)
        errs, reds = [], []
        for b, truth in hand_truth.items():
            qb = bone_q(out, b)
            errs.append(float(np.degrees(quat.angle_between(qb, truth))[~hand_still].mean()))
            reds.append(100.0 * (1.0 - jitter_deg(qb, hand_still) / raw_hand_j[b]))
        rr["synthetic fingers error"] = float(np.mean(errs))
        rr["synthetic fingers jitter reduction %"] = float(np.mean(reds))
        rr["body turn lag frames"] = body_turn_lag(make)
        rows.append(
            (
                label,
                [
                    f"{rr['synthetic arm error']:.2f}",
                    f"{rr['synthetic arm jitter reduction %']:.1f}%",
                    f"{rr['synthetic fingers error']:.2f}",
                    f"{rr['synthetic fingers jitter reduction %']:.1f}%",
                    f"{rr['body turn lag frames']:.2f}",
                ],
            )
        )
    table(
        "synthetic arm (+-40 deg, 0.5 Hz, 2 deg noise), FK hand (15 finger bones, 3 mm noise), "
        "chest turning 24 deg/s from acquisition",
        ["arm err deg", "arm jitter red", "finger err deg", "finger jitter", "chest lag fr"],
        rows,
    )


# ------------------------------------------------------------------------------------- cost
@functools.cache
def cost_frames(full: bool, n: int, seed: int = 0) -> list[AvatarFrame]:
    rng = np.random.default_rng(seed)
    bones = list(Bone) if full else [Bone.Neck, Bone.Head, Bone.LeftEye, Bone.RightEye, Bone.Jaw]
    keys = list(VRM1_PRESETS) + list(ARKIT_NAMES)
    out = []
    for i in range(n):
        rv = 0.3 * rng.standard_normal((len(bones), 3))
        qs = quat.from_rotvec(rv).tolist()
        w = rng.uniform(0.0, 1.0, len(keys)).tolist()
        out.append(
            AvatarFrame(
                t=i / 30.0,
                tracking=Tracking(face=True, body=full, left_hand=full, right_hand=full),
                bones={b: tuple(q) for b, q in zip(bones, qs, strict=True)},  # type: ignore[misc]
                blendshapes=dict(zip(keys, w, strict=True)),
                root_position=(0.0, 1.0, 0.1),
            )
        )
    return out


def cost_ms(make: Callable[[], Smoother | None], full: bool, n: int = 600) -> float:
    """CPU ms per ``update`` over ``n`` frames (after 50 warm-up frames), one measurement."""
    frames = cost_frames(full, n)
    s = make()
    assert s is not None
    for f in frames[:50]:
        s.update(f)
    # CPU time of this process: the machine's cores are shared, and wall time there mostly
    # measures the other processes.
    t0 = time.process_time()
    for f in frames:
        s.update(f)
    return 1000.0 * (time.process_time() - t0) / n


def costs_ms(
    methods: Sequence[Method], repeats: int = COST_REPEATS
) -> dict[str, tuple[float, float]]:
    """CPU ms per frame (face channels, full body) of each method: the least of ``repeats``
    rounds, the methods taking turns within a round so that a change of the machine's load
    shows in all of them alike. Other processes on the shared cores only add time (cache and
    core contention), so the least is the figure the code itself costs; the median and the
    largest are printed beside it. Measured: at a load average of 5-6 on 2 cores the median of
    7 rounds moved from 0.177 to 0.227 ms between two runs 2 minutes apart, the least from
    0.158 to 0.147 ms."""
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in methods}
    for _ in range(repeats):
        for label, make in methods:
            runs[label].append((cost_ms(make, False), cost_ms(make, True)))
    out = {}
    for label, v in runs.items():
        face, full = np.array(v).T
        out[label] = (float(face.min()), float(full.min()))
        print(
            f"{label:<12} face {face.min():.3f} ms (median {np.median(face):.3f}, max"
            f" {face.max():.3f})   full body {full.min():.3f} ms (median {np.median(full):.3f},"
            f" max {full.max():.3f})"
        )
    return out


# ------------------------------------------------------------------------------------- main
def checks(res: dict[str, dict[str, float]], face: float, full: float) -> bool:
    d, oe = res[DEFAULT], res["one euro"]
    out: list[tuple[str, bool]] = []

    def at_least_as_good(key: str, higher_better: bool, tol: float = 0.0) -> None:
        if key in d and key in oe:
            a, b = d[key], oe[key]
            good = a >= b - tol if higher_better else a <= b + tol
            out.append((f"default vs one euro, {key}: {a:.2f} vs {b:.2f}", good))

    for key in ("synthetic jitter reduction %", "rendered jitter reduction %"):
        if key in d:
            out.append((f"{key} {d[key]:.1f} >= 90", d[key] >= 90.0))
    for key in ("synthetic step frames", "rendered step frames"):
        if key in d:
            out.append((f"{key}: 90 % of the step in {d[key]:.0f} <= 1 frame", d[key] <= 1))
    if "moving render worst excess" in d:
        x = d["moving render worst excess"]
        out.append((f"moving renders: worst mean error vs raw {x:+.2f} <= +0.3 deg", x <= 0.3))
    for v in (10, 30, 60, 90):
        key = f"ramp {v} lag frames"
        out.append((f"{key} {d[key]:+.2f}: |lag| <= 0.5", abs(d[key]) <= 0.5))
    for key in ("blink onset delay", "mouth onset delay"):
        out.append((f"{key} {d[key]:.0f} <= 1 frame", d[key] <= 1))
    e0 = d["acquisition head first frame error"]
    out.append((f"acquisition: first head frame {e0:.2f} deg from raw <= 1", e0 <= 1.0))
    for key in ("head", "arm", "finger"):
        n = d[f"acquisition {key} frames"]
        out.append((f"acquisition: {key} at the user's pose in {n:.0f} <= 2 frames", n <= 2))
    held, rest = d["dropout held move"], d["dropout at rest s"]
    out.append((f"dropout: held (moved {held:.2f} deg in 0.2 s <= 1)", held <= 1.0))
    out.append((f"dropout: eased to rest after {rest:.2f} s <= 1.5", rest <= 1.5))
    for key in sorted(k for k in d if k.startswith("moving render excess ")):
        name_seed = key.removeprefix("moving render excess ")
        x = d[key]
        out.append((f"moving render {name_seed}: {x:+.3f} deg vs raw <= +0.3", x <= 0.3))
    for key in sorted(k for k in d if k.startswith("moving render error ")):
        # Per face, on the mean over its performances: the sign of default - One Euro decides
        # (no tolerance); the paired standard error says whether the data can tell.
        name = key.removeprefix("moving render error ")
        diff = d[f"moving render default - one euro {name}"]
        se = d[f"moving render default - one euro SE {name}"]
        told = "decided" if abs(diff) >= DECIDED_SE * se else "not decided"
        text = (
            f"default vs one euro, renders of {name}: {d[key]:.3f} vs {oe[key]:.3f}"
            f" (difference {diff:+.3f}, paired standard error {se:.3f}: {told} at"
            f" {DECIDED_SE:g} SE)"
        )
        out.append((text, diff <= 0.0))
    if "render gaze error" in d:
        # Defined before the validation faces were looked at (docs/smoothing.md, "Gaze").
        x = d["render gaze error"] - res["off"]["render gaze error"]
        text = f"gaze on the renders: mean error vs raw {x:+.3f} <= +{GAZE_TOL} deg"
        out.append((text, x <= GAZE_TOL))
        x = d["render gaze saccade error"] - res["off"]["render gaze saccade error"]
        text = f"gaze on the renders' saccades: mean error vs raw {x:+.3f} <= +{SACCADE_TOL} deg"
        out.append((text, x <= SACCADE_TOL))
    for key in ("render blink onset delay max", "render jawOpen onset delay max"):
        if key in d:
            text = f"{key} {d[key]:.0f} <= 1 frame (true onsets, at half the raw's rise)"
            out.append((text, d[key] <= 1))
    for key, hb in (
        ("synthetic jitter reduction %", True),
        ("rendered jitter reduction %", True),
        ("clip jitter reduction %", True),
        ("clip moving lag frames", False),
        ("synthetic step frames", False),
        ("rendered step frames", False),
        ("moving render error", False),
        ("render gaze error", False),
        ("blink onset delay", False),
        ("mouth onset delay", False),
        ("render blink onset delay mean", False),
        ("render jawOpen onset delay mean", False),
        ("render blink peak lost mean", False),
        ("render jawOpen peak lost mean", False),
        ("render blink raw crossing delay mean", False),
        ("render jawOpen raw crossing delay mean", False),
    ):
        at_least_as_good(key, hb)
    for v in (10, 30, 60, 90):
        a, b = abs(d[f"ramp {v} lag frames"]), abs(oe[f"ramp {v} lag frames"])
        out.append((f"default vs one euro, |ramp {v} lag|: {a:.2f} vs {b:.2f}", a <= b))
    out.append((f"face cost {face:.3f} ms <= 0.2", face <= 0.2))
    out.append((f"full-body cost {full:.3f} ms <= 1.0", full <= 1.0))
    ok = True
    print("\n## checks (the default preset)")
    for text, good in out:
        print(("PASS " if good else "FAIL ") + text)
        ok &= good
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="synthetic data and cost only")
    ap.add_argument(
        "--faces",
        default="validation",
        help="moving renders: validation (report), training (choose settings), or names",
    )
    ap.add_argument(
        "--performances",
        type=int,
        default=PERFORMANCES,
        help=f"seeded performances per face (default {PERFORMANCES})",
    )
    ap.add_argument(
        "--first-performance",
        type=int,
        default=0,
        help="k of the first performance (seed 1000 k + corpus index; default 0)",
    )
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args(argv)
    cache = None if args.no_cache else Path(args.cache)
    res: dict[str, dict[str, float]] = {}
    synthetic_head(res)
    synthetic_blendshapes(res)
    synthetic_body(res)
    acquisition_dropout(res)
    if not args.quick:
        from vtuber.synth import corpus

        groups = {"validation": corpus.VALIDATION, "training": corpus.TRAINING}
        names = groups.get(args.faces) or tuple(args.faces.split(","))
        if args.faces == "training":
            corpus.begin_fitting()
        rendered_still_step(res, cache)
        avail = corpus.available(tuple(names))
        if len(avail) < len(names):
            print(f"\n(faces absent, skipped: {sorted(set(names) - set(avail))})")
        rendered_moving(res, avail, cache, args.performances, args.first_performance)
        real_clip(res, cache)
    load0 = os.getloadavg()
    print(
        f"\n## cost (CPU ms per frame, least of {COST_REPEATS} rounds of 600 frames; load"
        f" average {load0[0]:.1f} before, on {os.cpu_count()} cores)"
    )
    costs = costs_ms(METHODS[1:])
    print(f"(load average {os.getloadavg()[0]:.1f} after)")
    face, full = costs[DEFAULT]
    return 0 if checks(res, face, full) else 1


if __name__ == "__main__":
    sys.exit(main())
