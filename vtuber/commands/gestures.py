"""``vtuber gestures record|train|test|list``: teach and check hand gestures (docs/gestures.md)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from vtuber.commands.common import add_overwrite_arg
from vtuber.errors import ConfigError, OutputError

DEFAULT_DIR = "gestures"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "gestures",
        help="record, train and test hand gestures",
        description="Teach vtuber your own hand gestures: record samples while holding one, "
        "train a model, check it, and use it with `vtuber track --gestures --gesture-model`.",
    )
    s = p.add_subparsers(dest="gestures_command", metavar="ACTION")
    s.required = True

    r = s.add_parser("record", help="record samples of one gesture from a camera or video")
    r.add_argument("name", help="the gesture's name (letters, digits, _)")
    r.add_argument("--source", default="0", help="camera index, video file or image folder")
    r.add_argument("--seconds", type=float, default=4.0, help="how long to record (default 4)")
    r.add_argument(
        "--countdown", type=float, default=3.0, help="camera: seconds to get ready (default 3)"
    )
    r.add_argument("--start", type=float, default=0.0, help="video: where to start, seconds")
    r.add_argument(
        "--hand", choices=("left", "right", "any"), default="any", help="which hand (yours)"
    )
    r.add_argument("--dir", default=DEFAULT_DIR, help=f"samples folder (default {DEFAULT_DIR}/)")

    t = s.add_parser("train", help="train a model from the samples folder")
    t.add_argument("--dir", default=DEFAULT_DIR, help=f"samples folder (default {DEFAULT_DIR}/)")
    t.add_argument("--out", default="gestures.npz", help="model file (default gestures.npz)")
    t.add_argument(
        "--builtin",
        action="store_true",
        help="retrain the built-in model from the synthetic hand set instead (maintainers)",
    )
    t.add_argument("--holdout", type=float, default=0.25, help="share of each take held out")
    add_overwrite_arg(t)

    e = s.add_parser("test", help="per-class precision/recall on held-out samples, or live")
    e.add_argument("--model", default=None, help="model file (default: the built-in one)")
    e.add_argument("--dir", default=None, help="samples folder: report its held-out samples")
    e.add_argument("--holdout", type=float, default=0.25, help="share of each take held out")
    e.add_argument("--source", default=None, help="camera/video: print the live label")
    e.add_argument("--max-frames", type=int, default=None, help="with --source: stop after N")

    s.add_parser("list", help="the gestures and poses a model knows").add_argument(
        "--model", default=None, help="model file (default: the built-in one)"
    )
    return p


def _load_model(path: str | None):  # type: ignore[no-untyped-def]
    from vtuber.gestures.model import GestureModel, load_builtin

    return GestureModel.load(path) if path else load_builtin()


def _print_report(report: dict[str, tuple[float, float, int]]) -> None:
    print(f"{'class':16s} {'precision':>9s} {'recall':>7s} {'n':>6s}")
    for c, (p, r, n) in report.items():
        ps = "-" if p != p else f"{p:.3f}"
        rs = "-" if r != r else f"{r:.3f}"
        print(f"{c:16s} {ps:>9s} {rs:>7s} {n:6d}")


def record(args: argparse.Namespace) -> int:
    from vtuber.gestures.training import Take
    from vtuber.landmarks.body import HandsBackend
    from vtuber.sources import CameraSource, open_source

    name = args.name
    if not name or not all(ch.isalnum() or ch == "_" for ch in name) or name == "none":
        raise ConfigError(f"gesture name {name!r}: use letters, digits and _ (not 'none')")
    if args.seconds <= 0:
        raise ConfigError("--seconds must be positive")
    out_dir = Path(args.dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {out_dir}: {e.strerror}") from e
    world: list[np.ndarray] = []
    left: list[bool] = []
    ts: list[float] = []
    with open_source(args.source, fast=True) as src:
        live = isinstance(src, CameraSource)
        backend = HandsBackend(static_images=src.static_images)
        try:
            t_begin = None
            shown = -1
            for frame in src:
                if live:
                    if t_begin is None:
                        t_begin = frame.t + args.countdown
                    if frame.t < t_begin:
                        left_s = int(t_begin - frame.t) + 1
                        if left_s != shown:
                            print(f"vtuber: hold '{name}' in {left_s} ...", file=sys.stderr)
                            shown = left_s
                        continue
                    start = t_begin
                else:
                    start = args.start
                    if frame.t < start:
                        continue
                if frame.t >= start + args.seconds:
                    break
                lm = backend.process(frame.image, frame.t)
                for side in ("right", "left") if args.hand == "any" else (args.hand,):
                    hand = lm.right_hand if side == "right" else lm.left_hand
                    if hand.found:
                        world.append(hand.world.copy())
                        left.append(side == "left")
                        ts.append(frame.t)
                        break
        finally:
            backend.close()
    if not world:
        raise ConfigError(f"no {args.hand} hand was seen in {args.source}: nothing recorded")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    path = out_dir / f"{name}-{stamp}.npz"
    take = Take(name, np.array(world, np.float64), np.array(left), np.array(ts), args.source)
    try:
        take.save(path)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror}") from e
    print(f"vtuber: {len(world)} samples of '{name}' saved to {path}", file=sys.stderr)
    return 0


def train_cmd(args: argparse.Namespace) -> int:
    from vtuber.gestures.training import load_takes, train_builtin, train_custom

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise OutputError(f"{out} exists; --overwrite replaces it")
    if args.builtin:
        t0 = time.perf_counter()
        model = train_builtin()
        print(f"vtuber: built-in model trained in {time.perf_counter() - t0:.1f} s")
    else:
        res = train_custom(load_takes(args.dir), holdout=args.holdout)
        model = res.model
        print(
            f"vtuber: trained {len(model.classes) - 1} classes on {res.n_train} samples in "
            f"{res.seconds:.1f} s; held out ({res.n_test} samples):"
        )
        _print_report(res.report)
    try:
        model.save(out)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror}") from e
    print(f"vtuber: model saved to {out}")
    return 0


def test_cmd(args: argparse.Namespace) -> int:
    from vtuber.gestures.model import per_class_report
    from vtuber.gestures.training import load_takes, split_takes

    model = _load_model(args.model)
    if args.dir is None and args.source is None:
        raise ConfigError("give --dir (held-out samples) and/or --source (live labels)")
    if args.dir is not None:
        _, (x, y) = split_takes(load_takes(args.dir), args.holdout)
        if not y:
            raise ConfigError(f"no held-out samples in {args.dir}")
        classes = tuple(dict.fromkeys(list(model.classes) + y))
        _print_report(per_class_report(y, model.predict(x), classes))
    if args.source is not None:
        from vtuber.gestures.recognizer import GestureRecognizer
        from vtuber.landmarks.body import FullBodyBackend
        from vtuber.sources import open_source

        rec = GestureRecognizer(model)
        with (
            open_source(args.source, fast=True) as src,
            FullBodyBackend(static_images=src.static_images) as be,
        ):
            for i, frame in enumerate(src):
                if args.max_frames is not None and i >= args.max_frames:
                    break
                edges = rec.update(be.process(frame.image, frame.t))
                labels = " ".join(f"{s}={lab}:{p:.2f}" for s, (lab, p) in sorted(rec.last.items()))
                marks = " ".join(("+" if e.active else "-") + e.name for e in edges)
                print(f"{frame.t:7.2f}s {labels or 'no hands'} {marks}".rstrip())
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    from vtuber.gestures.poses import BODY_POSES

    model = _load_model(args.model)
    print("hand gestures (per hand, _left/_right):", ", ".join(model.classes[:-1]))
    print("body poses:", ", ".join(BODY_POSES))
    return 0


def run(args: argparse.Namespace) -> int:
    action = {"record": record, "train": train_cmd, "test": test_cmd, "list": list_cmd}
    return action[args.gestures_command](args)
