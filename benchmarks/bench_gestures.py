"""Gesture benchmark (docs/gestures.md, "Measurements"): every figure of issue 19 in one run.

- classification cost: ms per frame of :class:`vtuber.gestures.recognizer.GestureRecognizer`
  (two hands through features + the built-in MLP, the body pose rules, hysteresis), and of the
  whole stage with two bindings; thread CPU time, mean and 99th percentile;
- held-out synthetic hands (a seed the built-in model was not trained on): per-class precision
  and recall;
- false triggers per minute on random non-gesture hand motion (vtuber.synth.hands.random_motion,
  ``--minutes`` of it, 30 fps), one hand;
- custom training: 3 new gestures (call_me, claw, four; 3 takes x 60 frames each, from the
  synthetic hand generator) -> seconds to train, held-out precision / recall;
- custom training through the real recording path: rendered videos (vtuber.synth.hand_video)
  of 3 new gestures (call_me, gun, four; ``--takes`` training takes each (default 10),
  ``--held`` held-out takes from other seeds (default 8, seeds from ``--held-from``, default
  50)), each recorded with
  ``vtuber gestures record`` (MediaPipe Hands), trained with ``vtuber gestures train``,
  reloaded: frames with a hand found, training time, held-out precision / recall and recall at
  >= 0.95 precision, on all held-out frames and on those where MediaPipe's fit does not
  contradict the rendered hand;
- latency: source time from the first frame a thumbs up is held to the binding firing, at 25,
  30 and 60 fps with the default min_hold (0.1 s), plus the stage's own processing time;
- the real clip (/work/shared/data/media/person_thumbsup_720p.mp4, full-mode landmarks; a
  validation clip: nothing was fitted on it): share of thumb-up frames (54-194, by eye)
  recognised as thumbs_up on her right hand, and anything recognised while her hand is down
  (frames 0-24); the same on the horizontally flipped clip, where the hand must come out as
  ``thumbs_up_left``. Skipped with a note when the clip is absent.

Run: ``.venv/bin/python benchmarks/bench_gestures.py [--minutes 30] [--no-clip] [--no-render]``.
Exits 1 when a target is missed (0.3 ms per frame; 0.95 precision/recall; < 1 false trigger per
minute; custom >= 0.9 recall at >= 0.95 precision and <= 5 s; <= 150 ms latency; >= 90 % on the
clip).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _common import CLIP

from vtuber.gestures.bindings import GestureStage, parse_settings
from vtuber.gestures.model import load_builtin, per_class_report
from vtuber.gestures.recognizer import GestureRecognizer, RecognizerSettings
from vtuber.gestures.training import Take, synthetic_set, train_custom
from vtuber.landmarks import HandLandmarks, Landmarks, PoseLandmarks
from vtuber.rig import AvatarFrame
from vtuber.synth.hands import make_hands, random_motion


def lm_with(t: float, right: np.ndarray | None, left: np.ndarray | None = None) -> Landmarks:
    lm = Landmarks(t=t, width=1280, height=720)
    if right is not None:
        lm.right_hand = HandLandmarks(found=True, world=right.astype(np.float32))
    if left is not None:
        lm.left_hand = HandLandmarks(found=True, world=left.astype(np.float32))
    return lm


def cost(model, pose: PoseLandmarks) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    hands, _ = make_hands(rng, "peace", 400, left_share=0.0)
    table = {"binding": [{"gesture": "peace", "expression": "happy", "blink": "block"},
                         {"gesture": "fist", "key": True}]}  # fmt: skip
    frames = []
    for i in range(3000):
        lm = lm_with(i / 30, hands[i % 400], hands[(i + 7) % 400] * [-1.0, 1.0, 1.0])
        lm.pose = pose
        frames.append(lm)
    out = {}
    for name, make in (
        ("classify", lambda: GestureRecognizer(model, RecognizerSettings(body=False)).classify),
        ("recognizer", lambda: GestureRecognizer(model).update),
        ("stage", lambda: _stage_fn(GestureStage(parse_settings(table), model))),
    ):
        # Thread CPU time of a 3000-frame loop, 5 times, each on a fresh stage (the frames'
        # times start again at 0): the best (least disturbed by the other processes on the
        # machine) and the median of the 5 means.
        means = []
        for _ in range(5):
            fn = make()
            c = time.thread_time()
            for lm in frames:
                fn(lm)
            means.append((time.thread_time() - c) / len(frames))
        out[name] = 1000 * min(means)
        out[name + "_median"] = 1000 * float(np.median(means))
    return out


def _stage_fn(stage: GestureStage):  # type: ignore[no-untyped-def]
    return lambda lm: stage.apply(AvatarFrame(t=lm.t, blendshapes={"blinkLeft": 1.0}), lm)


def clip_pose() -> PoseLandmarks:
    """A realistic visible upper body for the cost figures (all 33 points visible)."""
    p = np.zeros((33, 4), np.float32)
    p[:, :2] = np.random.default_rng(0).uniform(0.3, 0.7, (33, 2))
    p[:, 3] = 1.0
    return PoseLandmarks(found=True, points=p, world=np.zeros((33, 3), np.float32))


RENDERED = ("call_me", "gun", "four")


def rendered_custom(n_train: int, n_held: int = 8, held_from: int = 50) -> list[str]:
    """Custom gestures through the real recording path: rendered videos of 3 new gestures
    (vtuber.synth.hand_video), each recorded with ``vtuber gestures record`` (MediaPipe Hands),
    trained with ``vtuber gestures train``; held out: whole takes from other seeds. Also splits
    the held-out frames by whether MediaPipe's fit contradicts the rendered hand (a finger
    extended in one and curled in the other: hand_video.fit_contradicts)."""
    import tempfile
    from collections import Counter
    from pathlib import Path

    from vtuber.cli import main as cli
    from vtuber.gestures.model import GestureModel, recall_at_precision
    from vtuber.gestures.training import heldout_report, load_takes, split_takes
    from vtuber.synth.hand_video import fit_contradicts, render_take

    missed = []
    seconds = 2.0
    truth: dict[str, np.ndarray] = {}  # video path -> rendered hand points
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        counts = {"train": [0, 0], "held": [0, 0]}  # takes with a hand, frames with a hand
        n_videos = {"train": 0, "held": 0}
        for gi, g in enumerate(RENDERED):
            held_seeds = range(held_from, held_from + n_held)
            for split, seeds in (("train", range(n_train)), ("held", held_seeds)):
                for k, seed in enumerate(seeds):
                    video = root / f"{g}-{seed}.avi"
                    hand = "left" if k % 3 == 1 else "right"
                    truth[str(video)] = render_take(
                        video, g, 1000 * gi + seed, seconds, left=hand == "left"
                    )
                    n_videos[split] += 1
                    rc = cli(["gestures", "record", g, "--source", str(video), "--hand", hand,
                              "--seconds", str(seconds), "--dir", str(root / split)])  # fmt: skip
                    counts[split][0] += rc == 0
        for split in ("train", "held"):
            counts[split][1] = sum(len(t.world) for t in load_takes(root / split))
            frames = n_videos[split] * int(seconds * 25)
            print(f"rendered {split} takes: a hand recorded in {counts[split][0]}/"
                  f"{n_videos[split]} takes, {counts[split][1]}/{frames} frames")  # fmt: skip
        model_path = root / "mine.npz"
        c0, t0 = time.process_time(), time.perf_counter()
        cli(["gestures", "train", "--dir", str(root / "train"), "--out", str(model_path)])
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        model = GestureModel.load(model_path)  # reload
        held = load_takes(root / "held")
        _, (x, y) = split_takes(held, holdout=1.0)

        def misfits(takes: list) -> np.ndarray:  # type: ignore[type-arg]
            pairs = [(w, truth[tk.source][int(round(t * 25))])
                     for tk in takes for w, t in zip(tk.world, tk.t, strict=True)]  # fmt: skip
            return np.array([fit_contradicts(w, gt) for w, gt in pairs])

        misfit = misfits(held)
        for split, takes in (("train", load_takes(root / "train")), ("held", held)):
            m = misfits(takes)
            print(f"  {split}: MediaPipe's fit contradicts the rendered hand in {int(m.sum())}/"
                  f"{len(m)} frames")  # fmt: skip
        report, _ = heldout_report(model, x, y, seed=99)
        from vtuber.gestures.training import synthetic_set as synth

        xs, ys = synth(99, 100)
        xa, ya = np.concatenate([x, xs]), y + ys
        ok = ~misfit
        xo, yo = np.concatenate([x[ok], xs]), [c for c, m in zip(y, misfit, strict=True) if not m]
        yo += ys
        pred = model.predict(x)
        errors = Counter(bool(m) for p, c, m in zip(pred, y, misfit, strict=True) if p != c)
        print(f"rendered custom gestures, trained in {wall:.2f} s wall / {cpu:.2f} s CPU "
              f"(the train command, with its file I/O); held out (other seeds):")  # fmt: skip
        print(f"  held-out frames misclassified: {errors[True]} of {int(misfit.sum())} where "
              f"MediaPipe's fit contradicts the rendered hand, {errors[False]} of "
              f"{int(ok.sum())} where it does not")  # fmt: skip
        for g in RENDERED:
            p, r, n = report[g]
            rap, thr = recall_at_precision(model, xa, ya, g, 0.95)
            rok, _ = recall_at_precision(model, xo, yo, g, 0.95)
            bad = sum(1 for c, m in zip(y, misfit, strict=True) if c == g and m)
            print(f"  {g:8s} precision {p:.3f} recall {r:.3f} (n={n}, {bad} misfit); recall at "
                  f"precision >= 0.95: {rap:.3f} (threshold {thr:.2f}); on the frames MediaPipe "
                  f"fits right: {rok:.3f}")  # fmt: skip
            missed += [f"rendered custom {g}: recall >= 0.9 at precision >= 0.95"] * (rap < 0.9)
        missed += ["rendered custom training <= 5 s (CPU)"] * (cpu > 5.0)
    return missed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="random motion to play")
    ap.add_argument("--no-clip", action="store_true")
    ap.add_argument("--no-render", action="store_true", help="skip the rendered custom videos")
    ap.add_argument("--takes", type=int, default=10, help="rendered training takes per gesture")
    ap.add_argument("--held", type=int, default=8, help="rendered held-out takes per gesture")
    ap.add_argument("--held-from", type=int, default=50, help="first held-out take's seed")
    args = ap.parse_args()
    missed: list[str] = []
    model = load_builtin()

    c = cost(model, clip_pose())
    print("cost per frame, ms of thread CPU, best / median of 5 x 3000 frames:")
    print(f"  classification (2 hands: features + MLP)      {c['classify']:.3f} / "
          f"{c['classify_median']:.3f}")  # fmt: skip
    print(f"  recognizer (+ body pose rules, hysteresis)    {c['recognizer']:.3f} / "
          f"{c['recognizer_median']:.3f}")  # fmt: skip
    print(f"  stage (+ 2 bindings, events, expression)      {c['stage']:.3f} / "
          f"{c['stage_median']:.3f}")  # fmt: skip
    missed += ["classification <= 0.3 ms"] * (c["classify"] > 0.3)
    missed += ["stage <= 0.3 ms"] * (c["stage"] > 0.3)

    x, y = synthetic_set(seed=777, per_class=500)
    rep = per_class_report(y, model.predict(x), model.classes)
    print("held-out synthetic hands (seed 777, 500 per class): class precision recall")
    for k, (p, r, _) in rep.items():
        print(f"  {k:12s} {p:.3f} {r:.3f}")
        missed += [f"built-in {k} P/R >= 0.95"] * (not (p >= 0.95 and r >= 0.95))

    pts, like = random_motion(np.random.default_rng(99), args.minutes * 60.0, 30.0)
    rec = GestureRecognizer(model, RecognizerSettings(body=False))
    false = 0
    hold = int(np.ceil(rec.settings.min_hold * 30)) + 1
    for i, p in enumerate(pts):
        for e in rec.update(lm_with(i / 30, p)):
            false += e.active and not like[max(0, i - hold) : i + 1].all()
    rate = false / args.minutes
    share = like.mean() * 100
    print(f"random non-gesture motion: {false} false triggers in {args.minutes:.0f} min = "
          f"{rate:.2f}/min ({share:.1f} % of frames gesture-like)")  # fmt: skip
    missed += ["< 1 false trigger / min"] * (not rate < 1.0)

    rng = np.random.default_rng(21)
    takes = []
    for g in ("call_me", "claw", "four"):
        for _ in range(3):
            hp, lf = make_hands(rng, g, 60)
            takes.append(Take(g, hp, lf, np.arange(60) / 30.0))
    res = train_custom(takes)
    print(f"custom training (3 gestures x 3 takes x 60 frames + synthetic built-ins): "
          f"{res.seconds:.2f} s wall, {res.cpu_seconds:.2f} s CPU, "
          f"on {res.n_train} samples")  # fmt: skip
    for g in ("call_me", "claw", "four"):
        p, r, n = res.report[g]
        print(f"  {g:8s} precision {p:.3f} recall {r:.3f} (n={n} held out)")
        missed += [f"custom {g} P >= 0.95, R >= 0.9"] * (not (p >= 0.95 and r >= 0.9))
    # CPU time: the wall time on a machine shared with others' test runs says little.
    missed += ["custom training <= 5 s (CPU)"] * (res.cpu_seconds > 5.0)
    if not args.no_render:
        missed += rendered_custom(args.takes, args.held, args.held_from)

    worst = 0.0
    for fps in (25.0, 30.0, 60.0):
        lat = []
        for trial in range(20):
            st = GestureStage(parse_settings({"binding": [{"gesture": "thumbs_up", "key": True}]}),
                              model)  # fmt: skip
            none, _ = make_hands(np.random.default_rng(trial), "none", 10, left_share=0.0)
            up, _ = make_hands(np.random.default_rng(100 + trial), "thumbs_up", 20, left_share=0.0)
            seq = list(none) + list(up)
            t0 = 10 / fps
            wall = 0.0
            for i, p in enumerate(seq):
                c0 = time.perf_counter()
                out = st.apply(AvatarFrame(t=i / fps), lm_with(i / fps, p))
                wall = time.perf_counter() - c0
                if any(e.kind == "key" and e.active for e in out.events):
                    lat.append(i / fps - t0 + wall)
                    break
            else:
                lat.append(float("inf"))
        worst = max(worst, max(lat))
        mean_ms, max_ms = 1000 * np.mean(lat), 1000 * max(lat)
        print(f"latency first held -> binding fired at {fps:.0f} fps: mean {mean_ms:.0f} ms, "
              f"max {max_ms:.0f} ms (hold 100 ms included)")  # fmt: skip
    missed += ["latency <= 150 ms"] * (worst > 0.150)

    if not args.no_clip:
        if not CLIP.is_file():
            print(f"real clip: skipped (not found: {CLIP})")
        else:
            import cv2

            from vtuber.landmarks.body import FullBodyBackend

            for flip, side in ((False, "right"), (True, "left")):
                cap = cv2.VideoCapture(str(CLIP))
                stage = GestureStage()
                labels, active = [], []
                with FullBodyBackend() as be:
                    i = 0
                    while True:
                        good, img = cap.read()
                        if not good:
                            break
                        if flip:  # the flipped clip: the same thumbs up, seen as a left hand
                            img = cv2.flip(img, 1)
                        lm = be.process(np.asarray(img, np.uint8), i / 25.0)
                        stage.apply(AvatarFrame(t=lm.t), lm)
                        labels.append(dict(stage.recognizer.last))
                        active.append(set(stage.recognizer.active()))
                        i += 1
                thumb = range(54, min(195, len(labels)))
                share = sum(labels[i].get(side, ("", 0))[0] == "thumbs_up" for i in thumb) / len(
                    thumb
                )
                held = sum(f"thumbs_up_{side}" in active[i] for i in thumb) / len(thumb)
                down = [active[i] | {v[0] for v in labels[i].values()} for i in range(0, 25)]
                what = "flipped clip, her hand seen as a left hand" if flip else "real clip"
                print(f"{what}: thumbs_up_{side} in {share * 100:.1f} % of thumb-up frames "
                      f"(classified), {held * 100:.1f} % (recognised, after hysteresis); "
                      f"hand down: {sum(bool(d) for d in down)} frames with anything")  # fmt: skip
                missed += [f"{what}"] * (not (share >= 0.9 and held >= 0.9 and not any(down)))
    print("all targets met" if not missed else "TARGET MISSED: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
