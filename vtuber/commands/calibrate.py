"""``vtuber calibrate``: record the user's neutral face into a profile file for ``track``.

Look at the screen with a relaxed face (eyes open, mouth closed) for a few seconds; the profile
stores the neutral head orientation, eye openness (open, and closed if you blinked), the iris rest
position, mouth and brow rest (format: docs/blendshapes.md). Use it with
``vtuber track --profile FILE``. With ``--face-model landmarker`` (as ``track`` takes it, for
perfect sync) the face is read by the Face Landmarker, and the profile also holds its 52 ARKit
coefficients at rest: perfect sync's rest when tracking with the profile.

``--audio [DEVICE|FILE]`` instead learns the user's vocal-tract length for audio lip sync from
five vowels (10 s: a, i, u, e, o) into a voice profile for ``vtuber track --voice-profile FILE``
(vtuber/audio/calibrate.py).
"""

from __future__ import annotations

import argparse
import sys

from vtuber.commands.common import add_face_model_arg, add_overwrite_arg
from vtuber.errors import SourceError
from vtuber.outfile import atomic_output, check_output
from vtuber.sources import open_source
from vtuber.tracker import ProfileRecorder

MIN_FRAMES = 10


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "calibrate",
        help="record your neutral face into a profile for `track --profile`",
        description="Look at the screen with a relaxed face for a few seconds. Records head "
        "orientation, eye openness, mouth and brow rest into a JSON profile.",
    )
    p.add_argument("--source", default="0", help="camera index, video file or image folder")
    p.add_argument("--out", required=True, help="profile file to write (JSON)")
    p.add_argument("--seconds", type=float, default=3.0, help="how long to record (source time)")
    p.add_argument("--fov", type=float, default=60.0, help="camera horizontal field of view, deg")
    add_face_model_arg(
        p,
        "the face model `track` will use: landmarker (perfect sync) also records the 52 "
        "ARKit coefficients at rest (needs face_landmarker.task: vtuber models fetch)",
    )
    p.add_argument(
        "--audio",
        nargs="?",
        const="default",
        default=None,
        metavar="DEVICE",
        help="instead: learn your vowels (10 s: say a, i, u, e, o, 2 s each) from a microphone "
        "(index or name; default: the system's) or an audio file, for track --voice-profile",
    )
    add_overwrite_arg(p)
    return p


def run(args: argparse.Namespace) -> int:
    # --out: refused before the camera opens if it exists (without -y) or is an input.
    check_output(args.out, overwrite=args.overwrite, inputs=(args.source, args.audio))
    if args.audio is not None:
        return run_audio(args)
    from vtuber.commands.track import make_backend  # the face model `track` would run

    if args.seconds <= 0:
        raise SourceError("--seconds must be positive")
    rec = ProfileRecorder(hfov_deg=args.fov)
    seen = 0
    with (
        open_source(args.source, fast=True) as source,
        make_backend(args, source) as backend,
    ):
        t0: float | None = None
        print(
            f"vtuber: calibrating from {source.name}: look at the screen, relax your face "
            f"({args.seconds:g} s)...",
            file=sys.stderr,
        )
        for frame in source:
            t0 = frame.t if t0 is None else t0
            if frame.t - t0 > args.seconds:
                break
            seen += 1
            rec.add(backend.process(frame.image, frame.t))
    if len(rec) < MIN_FRAMES:
        raise SourceError(
            f"saw a face in only {len(rec)} of {seen} frames from {args.source!r}; "
            f"need at least {MIN_FRAMES} (face the camera, check the lighting)"
        )
    profile = rec.calibrator.profile()
    with atomic_output(args.out, overwrite=args.overwrite, inputs=(args.source,)) as tmp:
        profile.save(tmp)  # under a temporary name, moved into place when complete
    ps = ", perfect-sync rest" if profile.arkit_rest is not None else ""
    print(
        f"vtuber: wrote {args.out} from {len(rec)} frames (eye openness "
        f"{profile.eye_open[0]:.2f}/{profile.eye_open[1]:.2f}, mouth gap {profile.mouth_gap:.3f}"
        f"{ps})",
        file=sys.stderr,
    )
    return 0


def run_audio(args: argparse.Namespace) -> int:
    """``--audio``: 10 s of the five vowels -> a voice profile (vtuber/audio/calibrate.py)."""
    from vtuber.audio.calibrate import (
        PROMPTS,
        SLOT_SECONDS,
        learn_vowels,
        record,
        save_voice_profile,
    )

    def announce(k: int) -> None:
        print(f"vtuber: say {PROMPTS[k]} for {SLOT_SECONDS:g} s", file=sys.stderr)

    samples = record(args.audio, 5 * SLOT_SECONDS, announce)
    model, counts = learn_vowels(samples)
    with atomic_output(args.out, overwrite=args.overwrite, inputs=(args.audio,)) as tmp:
        save_voice_profile(model, tmp)
    heard = ", ".join(f"{v} {c * 10} ms" for v, c in zip("AIUEO", counts, strict=True))
    print(f"vtuber: wrote {args.out} (voice heard: {heard})", file=sys.stderr)
    return 0
