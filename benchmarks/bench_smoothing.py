"""Smoothing benchmark: jitter on a still head, lag on a 20 deg head turn, cost per frame.

Compares no smoothing ("off"), the Kalidokit demo's fixed exponential lerp of 0.3 and vtuber's
Kalman smoother (each preset) on the same data:

- synthetic: known rotations at 30 fps with Gaussian angular noise (0.5 deg per axis);
- rendered: vtuber.synth.face renders a still face with per-frame pixel noise, and a face that
  turns 20 deg in one frame, run through FaceMesh and the Tracker at 30 fps;
- real: the still parts of /work/shared/data/media/person_thumbsup_720p.mp4 (25 fps), through
  FaceMesh and the Tracker (skipped with a note when the shared data is absent).

Jitter = mean frame-to-frame angle (deg) of the composed Neck*Head rotation over still frames;
lag = output frames from the step's first frame (counted as 1) until 90 % of the step is reached.
Cost = ms per ``update`` for the face channel set and the full-body channel set.

Run: ``.venv/bin/python benchmarks/bench_smoothing.py [--quick]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from vtuber import quat
from vtuber.pipeline import Smoother
from vtuber.rig import ARKIT_NAMES, VRM1_PRESETS, AvatarFrame, Bone, Tracking
from vtuber.smoothing import KalmanSmoother, LerpSmoother, SmoothingConfig
from vtuber.tracker import split_head

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"
NECK_SHARE = 0.35
STEP_DEG = 20.0

Method = tuple[str, Callable[[], Smoother | None]]
METHODS: list[Method] = [
    ("off", lambda: None),
    ("lerp 0.3", lambda: LerpSmoother(0.3)),
    ("kalman low", lambda: KalmanSmoother(SmoothingConfig("low"))),
    ("kalman medium", lambda: KalmanSmoother(SmoothingConfig("medium"))),
    ("kalman high", lambda: KalmanSmoother(SmoothingConfig("high"))),
]


def head_frame(q: np.ndarray, t: float, i: int) -> AvatarFrame:
    neck, head = split_head(np.asarray(q, np.float64), NECK_SHARE)
    return AvatarFrame(
        t=t,
        index=i,
        tracking=Tracking(face=True),
        bones={Bone.Neck: tuple(map(float, neck)), Bone.Head: tuple(map(float, head))},  # type: ignore[dict-item]
    )


def composed(frames: Sequence[AvatarFrame]) -> np.ndarray:
    """(N, 4) Neck*Head rotations (identity where absent)."""
    return np.array([quat.multiply(f.bone(Bone.Neck), f.bone(Bone.Head)) for f in frames])


def jitter_deg(q: np.ndarray, still: np.ndarray) -> float:
    """Mean frame-to-frame angle (deg) over consecutive pairs that are both still."""
    d = np.degrees(quat.angle_between(q[1:], q[:-1]))
    both = still[1:] & still[:-1]
    return float(d[both].mean())


def run(make: Callable[[], Smoother | None], frames: Sequence[AvatarFrame]) -> np.ndarray:
    s = make()
    return composed(frames if s is None else [s.update(f) for f in frames])


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


def report_jitter_lag(
    name: str,
    still_frames: Sequence[AvatarFrame] | None,
    still_mask: np.ndarray | None,
    step_frames: Sequence[AvatarFrame] | None,
    onset: int,
) -> dict[str, tuple[float, int]]:
    print(f"\n## {name}")
    print(f"{'method':<15} {'jitter deg/frame':>17} {'reduction':>10} {'frames to 90%':>14}")
    res: dict[str, tuple[float, int]] = {}
    raw_j = None
    for label, make in METHODS:
        j = float("nan")
        lag = -1
        if still_frames is not None and still_mask is not None:
            j = jitter_deg(run(make, still_frames), still_mask)
            raw_j = j if raw_j is None else raw_j
        if step_frames is not None:
            raw = composed(step_frames)
            before = mean_rotation(raw[max(0, onset - 10) : onset])
            after = mean_rotation(raw[onset + 3 : onset + 15])
            lag = frames_to_90(run(make, step_frames), onset, before, after)
        red = 100.0 * (1.0 - j / raw_j) if raw_j else float("nan")
        lag_s = str(lag) if lag >= 0 else "-"
        print(f"{label:<15} {j:17.3f} {red:9.1f}% {lag_s:>14}")
        res[label] = (red, lag)
    return res


# ------------------------------------------------------------------------------------- data
def synthetic(seed: int = 0) -> tuple[list[AvatarFrame], list[AvatarFrame]]:
    rng = np.random.default_rng(seed)
    fps = 30.0

    def make(yaws: Sequence[float]) -> list[AvatarFrame]:
        out = []
        for i, y in enumerate(yaws):
            q = quat.from_axis_angle([0.0, 1.0, 0.0], np.radians(y))
            n = quat.from_rotvec(np.radians(0.5) * rng.standard_normal(3))
            out.append(head_frame(quat.multiply(n, q), i / fps, i))
        return out

    return make([0.0] * 300), make([0.0] * 60 + [STEP_DEG] * 60)


def smooth_motion_rms(seed: int = 5) -> None:
    """RMS error (deg) against the truth of a head swinging +-15 deg at 0.5 Hz (peak 47 deg/s)
    with 0.5 deg noise at 30 fps: the lag a filter adds to ordinary, smooth motion."""
    rng = np.random.default_rng(seed)
    t = np.arange(240) / 30.0
    truth = quat.from_axis_angle([0.0, 1.0, 0.0], np.radians(15.0 * np.sin(np.pi * t)))
    frames = [
        head_frame(quat.multiply(quat.from_rotvec(np.radians(0.5) * rng.standard_normal(3)), q),
                   float(ti), i)
        for i, (q, ti) in enumerate(zip(truth, t, strict=True))
    ]  # fmt: skip
    print("\n## smooth motion (15 deg sine at 0.5 Hz, 0.5 deg noise, 30 fps)")
    print(f"{'method':<15} {'RMS error deg':>14}")
    for label, make in METHODS:
        err = np.degrees(quat.angle_between(run(make, frames), truth))[30:]
        print(f"{label:<15} {float(np.sqrt(np.mean(err**2))):14.2f}")


def tracked(images: Callable[[int], np.ndarray], n: int, fps: float) -> list[AvatarFrame]:
    from vtuber.landmarks.facemesh import FaceMeshBackend
    from vtuber.tracker import Tracker

    backend = FaceMeshBackend()
    tracker = Tracker()
    out = []
    try:
        for i in range(n):
            lm = backend.process(images(i), i / fps)
            out.append(tracker.solve(lm, index=i))
    finally:
        backend.close()
    return out


def rendered(n_still: int) -> tuple[list[AvatarFrame], list[AvatarFrame]] | None:
    try:
        from vtuber.synth.face import FaceRenderer
    except ImportError as e:
        print(f"(rendered face skipped: {e})")
        return None
    r = FaceRenderer.from_photo()
    noise = 8.0
    still = tracked(lambda i: r.render(noise=noise, seed=i), n_still, 30.0)
    step = tracked(
        lambda i: r.render(yaw=0.0 if i < 30 else STEP_DEG, noise=noise, seed=1000 + i), 60, 30.0
    )
    return still, step


def rendered_blink() -> None:
    """A rendered face blinks (eyes closed for 6 frames at 30 fps): the smoothed blinkLeft /
    blinkRight per frame, through FaceMesh, the Tracker and the medium preset."""
    try:
        from vtuber.synth.face import FaceRenderer
    except ImportError as e:
        print(f"(rendered blink skipped: {e})")
        return
    r = FaceRenderer.from_photo()
    closed = [0.0] * 30 + [1.0] * 6 + [0.0] * 8
    frames = tracked(lambda i: r.render(eye_close=(closed[i],) * 2, noise=4.0, seed=i), 44, 30.0)
    sm = KalmanSmoother()
    out = [sm.update(f) for f in frames]
    print("\n## rendered blink (closed in frames 30-35), medium preset")
    for key in ("blinkLeft", "blinkRight"):
        raw = [f.blendshapes.get(key, float("nan")) for f in frames[28:40]]
        sm_v = [f.blendshapes.get(key, float("nan")) for f in out[28:40]]
        print(f"{key:<10} raw      " + " ".join(f"{v:4.2f}" for v in raw))
        print(f"{key:<10} smoothed " + " ".join(f"{v:4.2f}" for v in sm_v))


def real_clip() -> tuple[list[AvatarFrame], np.ndarray] | None:
    if not CLIP.exists():
        print(f"(real clip skipped: {CLIP} not found)")
        return None
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    imgs = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        imgs.append(img)
    cap.release()
    frames = tracked(lambda i: imgs[i], len(imgs), 25.0)
    frames = [f for f in frames if f.tracking.face]
    # Still = the head's low-passed angular speed (9-frame centred mean) under 10 deg/s.
    rv = quat.to_rotvec(composed(frames))
    k = np.ones(9) / 9.0
    lp = np.stack([np.convolve(rv[:, i], k, mode="same") for i in range(3)], axis=1)
    speed = np.degrees(np.linalg.norm(np.gradient(lp, axis=0), axis=1)) * 25.0
    still = speed < 10.0
    still[:5] = still[-5:] = False
    print(f"(real clip: {len(frames)} frames, {int(still.sum())} still)")
    return frames, still


# ------------------------------------------------------------------------------------- cost
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


def cost_ms(full: bool, n: int = 600) -> float:
    frames = cost_frames(full, n)
    s = KalmanSmoother()
    for f in frames[:50]:
        s.update(f)
    # CPU time of this process (best of 3): the test machine's 2 cores are shared, and wall
    # time there mostly measures the other processes.
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for f in frames:
            s.update(f)
        best = min(best, (time.process_time() - t0) / n)
    return 1000.0 * best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="synthetic data and cost only")
    args = ap.parse_args(argv)
    os.environ.setdefault("GLOG_minloglevel", "2")
    ok = True

    still, step = synthetic()
    r = report_jitter_lag(
        "synthetic (0.5 deg noise, 30 fps)", still, np.ones(len(still), bool), step, 60
    )
    results = {"synthetic": r}
    smooth_motion_rms()
    if not args.quick:
        rend = rendered(90)
        if rend is not None:
            results["rendered"] = report_jitter_lag(
                "rendered face (pixel noise 8, 30 fps)",
                rend[0],
                np.ones(len(rend[0]), bool),
                rend[1],
                30,
            )
        rendered_blink()
        real = real_clip()
        if real is not None:
            results["real"] = report_jitter_lag(
                "real clip, still parts (25 fps)", real[0], real[1], None, 0
            )
    print("\n## cost (CPU ms per frame, best of 3 x 600 frames)")
    face = cost_ms(False)
    full = cost_ms(True)
    print(f"face channels (5 bones + 70 blendshapes + root): {face:.3f} ms (target <= 0.2)")
    print(f"full body (55 bones + 70 blendshapes + root):    {full:.3f} ms (target <= 1.0)")

    print("\n## checks (kalman medium)")
    for data, res in results.items():
        red, lag = res["kalman medium"]
        lred, llag = res["lerp 0.3"]
        checks = [(f"{data}: jitter reduction {red:.1f}% >= 80%", red >= 80.0)]
        if lag >= 0:
            checks.append((f"{data}: 90% of the step in {lag} <= 2 frames", lag <= 2))
            checks.append(
                (f"{data}: vs lerp: jitter {red:.1f}% vs {lred:.1f}%, lag {lag} vs {llag}",
                 red > lred and lag <= llag)
            )  # fmt: skip
        else:
            checks.append((f"{data}: vs lerp: jitter {red:.1f}% vs {lred:.1f}%", red > lred))
        for text, good in checks:
            print(("PASS " if good else "FAIL ") + text)
            ok &= good
    for text, good in [
        (f"face cost {face:.3f} ms <= 0.2", face <= 0.2),
        (f"full-body cost {full:.3f} ms <= 1.0", full <= 1.0),
    ]:
        print(("PASS " if good else "FAIL ") + text)
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
