"""``track`` options for audio lip sync (--lipsync, --audio, --voice-profile) and the code that
builds the pipeline's mouth stage from them (docs/lipsync.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vtuber.errors import ConfigError


def add_lipsync_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("audio lip sync")
    g.add_argument(
        "--lipsync",
        choices=("camera", "audio", "hybrid"),
        default=None,
        help="what drives the mouth: the camera (default), the audio, or both (audio while you "
        "speak, the camera in silence; the default when --audio is given). Without --audio, "
        "audio/hybrid use the --source video's own sound track",
    )
    g.add_argument(
        "--audio",
        metavar="DEVICE",
        default=None,
        help="microphone by index or name (`vtuber microphones` lists them; 'default' for the "
        "system's), or an audio file played as if from a microphone",
    )
    g.add_argument(
        "--voice-profile",
        metavar="FILE",
        default=None,
        help="your vowels, from `vtuber calibrate --audio --out FILE`",
    )


def lipsync_mode(args: argparse.Namespace) -> str:
    mode = getattr(args, "lipsync", None)
    if mode is None:
        return "hybrid" if getattr(args, "audio", None) else "camera"
    return str(mode)


def build_lipsync(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The mouth stage the options ask for (not started), or None for camera lip sync."""
    mode = lipsync_mode(args)
    if mode == "camera":
        if getattr(args, "audio", None):
            raise ConfigError("--audio has no effect with --lipsync camera")
        return None
    from vtuber.audio.analysis import load_model
    from vtuber.audio.calibrate import load_voice_profile
    from vtuber.audio.lipsync import LipSync, LiveAudio, TrackAudio

    profile = getattr(args, "voice_profile", None)
    model = load_voice_profile(profile) if profile else load_model()
    if args.audio:
        return LipSync(mode, LiveAudio(args.audio, model))
    src = getattr(args, "source", None)
    if src is None or not Path(src).expanduser().is_file():
        raise ConfigError(
            f"--lipsync {mode} needs --audio DEVICE (a microphone) or a --source video with a "
            "sound track"
        )
    from vtuber.audio.decode import has_audio

    if not has_audio(src):
        raise ConfigError(f"{src} has no sound track; give --audio DEVICE for --lipsync {mode}")
    return LipSync(mode, TrackAudio.from_file(src, model))
