"""Face fidelity on the ten-identity corpus (docs/face_corpus.md): per face, FaceMesh mode with no
smoothing, both mirror settings, beside the plain baseline of every figure (scoring.baseline:
solvePnP for the head, textbook measures for the eyes, mouth and gaze); optionally perfect sync.

    .venv/bin/python benchmarks/bench_face_corpus.py                 # validation faces
    .venv/bin/python benchmarks/bench_face_corpus.py --faces all --seeds 2 --perfect-sync
    .venv/bin/python benchmarks/bench_face_corpus.py --faces all --seeds 2 --glasses
    .venv/bin/python benchmarks/bench_face_corpus.py --faces training --seeds 2 --fringe [--brows]
    .venv/bin/python benchmarks/bench_face_corpus.py --faces all --seeds 2 --expressions
    .venv/bin/python benchmarks/bench_face_corpus.py --faces training --seeds 2 --brows
    .venv/bin/python benchmarks/bench_face_corpus.py --faces training --seeds 4 --start 1.5
    .venv/bin/python benchmarks/bench_face_corpus.py --faces all --seeds 2 --webcam
    .venv/bin/python benchmarks/bench_face_corpus.py --faces training --seeds 2 --fps 60 [--every 2]
    .venv/bin/python benchmarks/bench_face_corpus.py --faces training --seeds 4 --face-px 130
    .venv/bin/python benchmarks/bench_face_corpus.py --faces training --seeds 2 --calibrated

With more than one seed it also prints each face's performances taken together (the issue's
figures are per face; docs/face_corpus.md, "Against the goals"). It ends with every face and
figure on which FaceMesh mode does worse than the plain baseline.

Rendered landmarks are cached under --cache (default /tmp/vtuber-corpus-cache) keyed by face,
seed, length and backend, so a rerun after a solver change takes seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("GLOG_minloglevel", "2")

from _common import cached_landmarks  # noqa: E402

from vtuber.config import TrackConfig  # noqa: E402
from vtuber.synth import corpus, scoring  # noqa: E402
from vtuber.synth.face import LIT_MOUTH_SHADE, SKIN_TONES  # noqa: E402
from vtuber.tracker import ProfileRecorder, Tracker  # noqa: E402

CALIBRATION_SECONDS = 3.0  # vtuber calibrate's default


def seed_for(name: str, k: int) -> int:
    return 1000 * k + corpus.IDENTITIES.index(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faces", default="validation", help="validation, training, all, or names")
    ap.add_argument("--seeds", type=int, default=1, help="sequences per face")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--perfect-sync", action="store_true", help="also the Face Landmarker mode")
    ap.add_argument("--glasses", action="store_true", help="the same performances wearing glasses")
    ap.add_argument(
        "--fringe",
        action="store_true",
        help="the same performances with a fringe over the brows (docs/face_corpus.md, 'A fringe')",
    )
    ap.add_argument(
        "--expressions",
        action="store_true",
        help="the same performances smiling and frowning now and then (the emotions' figures)",
    )
    ap.add_argument(
        "--brows",
        action="store_true",
        help="the same performances raising and lowering their brows now and then (the brows' "
        "figures; docs/face_corpus.md, 'Brows')",
    )
    ap.add_argument(
        "--webcam",
        action="store_true",
        help="the same performances through a webcam: motion blur from a shutter open 1/4 to all "
        "of the frame interval, and Motion-JPEG (docs/face_corpus.md, 'A webcam')",
    )
    ap.add_argument(
        "--fps",
        type=float,
        default=30.0,
        help="performances made at this frame rate (other performances than at 30; docs/"
        "face_corpus.md, 'A webcam')",
    )
    ap.add_argument(
        "--face-px",
        type=float,
        default=None,
        help="the same performances with the face this many pixels wide (drawn at 120-400 if "
        "not given)",
    )
    ap.add_argument(
        "--every",
        type=int,
        default=1,
        help="film the same performances every n-th frame (--every 2: 15 fps)",
    )
    ap.add_argument(
        "--start",
        type=float,
        default=0.0,
        help="start tracking this many seconds into each performance (a user already talking; "
        "docs/face_corpus.md, 'Starting mid-word')",
    )
    ap.add_argument(
        "--mouth-shade",
        type=float,
        default=1.0,
        help="the same performances with the inside of the mouth this many times its usual shade",
    )
    ap.add_argument(
        "--lit-mouth",
        dest="mouth_shade",
        action="store_const",
        const=LIT_MOUTH_SHADE,
        help="--mouth-shade at the lit-mouth condition (the inside of the mouth lit, or a skin"
        " darker than it: vtuber.synth.face.LIT_MOUTH_SHADE)",
    )
    ap.add_argument(
        "--skin-tone",
        choices=sorted(SKIN_TONES),
        default="",
        help="the same performances with the photo's skin recoloured brown or dark "
        "(vtuber.synth.face.SKIN_TONES; docs/face_corpus.md, 'Skin tones')",
    )
    ap.add_argument(
        "--calibrated",
        action="store_true",
        help="track each performance with the profile `vtuber calibrate` records from a 3 s clip "
        "of the same person at rest before it (corpus.calibration_clip; docs/face_corpus.md, "
        "'Calibrated')",
    )
    ap.add_argument("--cache", default="/tmp/vtuber-corpus-cache")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args(argv)
    groups = {
        "validation": corpus.VALIDATION,
        "training": corpus.TRAINING,
        "all": corpus.IDENTITIES,
    }
    names = groups.get(args.faces) or tuple(args.faces.split(","))
    missing = [n for n in names if n not in corpus.available(names)]
    if missing:
        print(f"skipping faces whose photos are absent: {', '.join(missing)}", file=sys.stderr)
    names = corpus.available(names)
    cache = None if args.no_cache else Path(args.cache)
    rows = []
    t0 = time.perf_counter()
    for name in names:
        for k in range(args.seeds):
            seq = corpus.make_sequence(
                name,
                seed_for(name, k),
                seconds=args.seconds,
                fps=args.fps,
                face_px=args.face_px,
                expressions=args.expressions,
                brows=args.brows,
            )
            if args.glasses:
                seq = dataclasses.replace(seq, glasses=True)
            if args.fringe:
                seq = dataclasses.replace(seq, fringe=True)
            seq = dataclasses.replace(seq, mouth_shade=args.mouth_shade, skin_tone=args.skin_tone)
            clip = corpus.calibration_clip(seq, CALIBRATION_SECONDS) if args.calibrated else None
            if args.every > 1:
                seq = seq.every(args.every)
                clip = clip and clip.every(args.every)
            if args.webcam:
                seq = corpus.webcam(seq)
                clip = clip and corpus.webcam(clip)

            profiles = {}  # the clip's profile as each backend records it
            if clip is not None:
                for backend in ("facemesh", "landmarker") if args.perfect_sync else ("facemesh",):
                    rec = ProfileRecorder()
                    for lm in cached_landmarks(clip, backend, cache, CALIBRATION_SECONDS):
                        rec.add(lm)
                    profiles[backend] = rec.calibrator.profile()

            def tracker(backend: str, profiles: dict = profiles) -> Tracker:  # type: ignore[type-arg]
                return Tracker(TrackConfig(), profiles.get(backend))  # None: uncalibrated

            lms = cached_landmarks(seq, "facemesh", cache, args.seconds)
            k0 = round(args.start * seq.fps)
            full, seq, lms = seq, seq.starting_at(k0), lms[k0:]
            plain = scoring.score(seq, scoring.baseline(lms))
            base = plain.head_mean
            rows.append((name, k, "plain", seq.face_px, base, plain))
            for mirror in (False, True):
                s = scoring.score(
                    seq, scoring.track(lms, mirror=mirror, tracker=tracker("facemesh"))
                )
                rows.append((name, k, mirror, seq.face_px, base, s))
            if args.perfect_sync:
                lms2 = cached_landmarks(full, "landmarker", cache, args.seconds)[k0:]
                sent = scoring.track(lms2, mirror=False, tracker=tracker("landmarker"))
                s2 = scoring.score(seq, sent, perfect_sync=True)
                rows.append((name, k, "ps", seq.face_px, float("nan"), s2))
    print(
        f"{'face':15s} {'seq':>3s} {'mirror':>6s} {'px':>4s} {'base':>5s} {'head':>5s} "
        f"{'h95':>5s} {'blinkL':>6s} {'blinkR':>6s} {'fb':>3s} {'mouth':>5s} {'vRest':>5s} "
        f"{'vOpen':>5s} {'jawW':>5s} {'gaze':>5s} {'psBL':>5s} {'psBR':>5s} {'psJaw':>5s}"
    )
    for name, k, mirror, px, base, s in rows:
        ps = (
            f"{s.arkit_blink_f1[0]:5.2f} {s.arkit_blink_f1[1]:5.2f} {s.arkit_jaw_spearman:5.2f}"
            if s.arkit_blink_f1
            else ""
        )
        print(
            f"{name:15s} {k:3d} {str(mirror):>6s} {px:4.0f} {base:5.2f} {s.head_mean:5.2f} "
            f"{s.head_p95:5.2f} {s.blink_f1[0]:6.2f} {s.blink_f1[1]:6.2f} "
            f"{s.false_blinks_turning:3d} {s.mouth_spearman:5.2f} "
            f"{vowels(mirror, s.vowel_at_rest)} {vowels(mirror, s.vowels_open)} "
            f"{vowels(mirror, s.jaw_wide)} {s.gaze_mean:5.2f} {ps}"
        )
    fm = [r for r in rows if r[2] is False]
    if fm:
        print(
            f"mean over {len(fm)} sequences: head {np.mean([r[5].head_mean for r in fm]):.2f} "
            f"(baseline {np.mean([r[4] for r in fm]):.2f}), blink F1 min "
            f"{min(min(r[5].blink_f1) for r in fm):.2f}, mouth "
            f"{np.mean([r[5].mouth_spearman for r in fm]):.2f}, gaze "
            f"{np.mean([r[5].gaze_mean for r in fm]):.2f}"
        )
    if args.seeds > 1:
        print_per_face(rows)
    print_emotions(rows)
    print_against_plain(rows)
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


def vowels(mode: object, figure: float) -> str:
    """A column the plain baseline does not send (the vowels, jawOpen's level): "-" for it."""
    return "    -" if mode == "plain" else f"{figure:5.2f}"


def pooled(counts: list[tuple[scoring.Counts, scoring.Counts]]) -> tuple[float, float]:
    """Each eye's F1 over several performances: their frames counted together."""
    left, right = (
        scoring.f1_of(tuple(sum(x) for x in zip(*(c[e] for c in counts), strict=True)))  # type: ignore[arg-type]
        for e in (0, 1)
    )
    return left, right


def print_per_face(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """Per face and mode, its performances together (docs/face_corpus.md, "Per face"): blink F1
    over all their frames, false blinks summed, the largest vowel at rest, the other figures
    averaged."""
    print(
        "per face, its performances together (blink F1 pooled, fb summed, vRest the largest; "
        "hRest: the head against the truth itself, not its first frame; scoring.Scores):"
    )
    print(
        f"{'face':15s} {'n':>3s} {'mirror':>6s} {'base':>5s} {'head':>5s} {'hRest':>5s} "
        f"{'blinkL':>6s} "
        f"{'blinkR':>6s} {'fb':>3s} {'mouth':>5s} {'vRest':>5s} {'vOpen':>5s} {'jawW':>5s} "
        f"{'gaze':>5s} {'psBL':>5s} {'psBR':>5s} {'psJaw':>5s}"
    )
    keys = list(dict.fromkeys((r[0], r[2]) for r in rows))
    for name, mode in keys:
        sel = [r for r in rows if r[0] == name and r[2] == mode]
        sc = [r[5] for r in sel]
        f = face_figures(sc)
        ps = ""
        if mode == "ps":
            pb = pooled([s.arkit_blink_counts for s in sc if s.arkit_blink_counts])
            jaw = np.mean([s.arkit_jaw_spearman for s in sc])
            ps = f"{pb[0]:5.2f} {pb[1]:5.2f} {jaw:5.2f}"
        print(
            f"{name:15s} {len(sel):3d} {str(mode):>6s} {np.mean([r[4] for r in sel]):5.2f} "
            f"{f['head']:5.2f} {np.mean([s.head_rest_mean for s in sc]):5.2f} "
            f"{f['blinkL']:6.2f} {f['blinkR']:6.2f} {f['falseBlinks']:3.0f} "
            f"{f['mouth']:5.2f} {vowels(mode, max(s.vowel_at_rest for s in sc))} "
            f"{vowels(mode, float(np.nanmean([s.vowels_open for s in sc])))} "
            f"{vowels(mode, float(np.nanmean([s.jaw_wide for s in sc])))} {f['gaze']:5.2f} {ps}"
        )


def print_emotions(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """Per face, the emotions sent (docs/face_corpus.md, "Emotions"): the 95th percentile of
    the largest at rest (averaged over its performances) and, where the performances smile and
    frown, happy's and sad's F1 over all their frames."""
    print(
        "emotions per face (rest: p95 of the largest at rest; perfect sync's shapes: the same"
        " of its other shapes; smile / frown: F1 pooled, and the frames showing one)"
    )
    for name, mode in dict.fromkeys((r[0], r[2]) for r in rows if r[2] in (False, "ps")):
        sc = [r[5] for r in rows if r[0] == name and r[2] == mode]
        rest = [s.expression_at_rest for s in sc if s.expression_at_rest is not None]
        line = f"{name:15s} {str(mode):>6s} rest {np.mean(rest):5.2f}" if rest else f"{name:15s}"
        shapes = [s.shapes_at_rest for s in sc if s.shapes_at_rest is not None]
        if shapes:  # perfect sync: the largest of the model's other shapes at rest (p95)
            line += f" shapes {np.mean(shapes):5.2f}"
        brows = [s.brows_at_rest for s in sc if s.brows_at_rest is not None]
        if brows:  # p95 of the largest brow shape while the brows are at rest
            line += f" brows {np.mean(brows):5.2f}"
        moved = [(s.brow_raise, s.brow_lower) for s in sc if s.brow_raise is not None]
        if moved:  # --brows: Spearman of the raises and the lowerings sent with the truth's
            r, lo = np.nanmean(np.array(moved, dtype=float), axis=0)
            line += f" raise {r:5.2f} lower {lo:5.2f}"
        if all(s.smile_counts is not None for s in sc):
            for label, key in (("smile", "smile_counts"), ("frown", "frown_counts")):
                c = tuple(sum(x) for x in zip(*(getattr(s, key) for s in sc), strict=True))
                # F1, and the frames that show it (tp + fn): a face with none has only misfires
                line += f" {label} {scoring.f1_of(c):5.2f} ({c[0] + c[2]:3d} frames)"  # type: ignore[arg-type]
        print(line)


def face_figures(sc: list[scoring.Scores]) -> dict[str, float]:
    """One face's performances together, as the per-face table takes them."""
    bl = pooled([s.blink_counts for s in sc])
    return {
        "head": float(np.mean([s.head_mean for s in sc])),
        "blinkL": bl[0],
        "blinkR": bl[1],
        "falseBlinks": float(sum(s.false_blinks_turning for s in sc)),
        "mouth": float(np.mean([s.mouth_spearman for s in sc])),
        "gaze": float(np.mean([s.gaze_mean for s in sc])),
    }


# Which way is better for each figure of face_figures: +1 higher, -1 lower.
BETTER = {"head": -1, "blinkL": 1, "blinkR": 1, "falseBlinks": -1, "mouth": 1, "gaze": -1}


def print_against_plain(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    """Per face (its performances together), each figure of FaceMesh mode without the mirror
    against the plain baseline's (the issue: on no face is vtuber worse)."""
    worse = []
    for name in dict.fromkeys(r[0] for r in rows):
        ours = face_figures([r[5] for r in rows if r[0] == name and r[2] is False])
        plain = face_figures([r[5] for r in rows if r[0] == name and r[2] == "plain"])
        for key, sign in BETTER.items():
            if sign * (ours[key] - plain[key]) < -1e-9:
                worse.append(f"{name} {key} {ours[key]:.2f} (plain {plain[key]:.2f})")
    if worse:
        print("worse than the plain baseline, per face: " + "; ".join(worse))
    else:
        print("on every face and figure at least as good as the plain baseline")


if __name__ == "__main__":
    raise SystemExit(main())
