"""``vtuber track --gestures``: the options and the gesture stage they build (docs/gestures.md)."""

from __future__ import annotations

import argparse

from vtuber.errors import ConfigError


def add_gesture_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("gestures")
    g.add_argument(
        "--gestures",
        action="store_true",
        help="recognise hand gestures and body poses (needs --mode full); without bindings in "
        "--config each one is sent as a VMC key event named after it (docs/gestures.md)",
    )
    g.add_argument(
        "--gesture-model",
        metavar="FILE.npz",
        default=None,
        help="a model from `vtuber gestures train` (default: the config's [gestures] model, "
        "else the built-in one)",
    )


def build_gestures(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The gesture stage the options ask for, or None (off by default)."""
    if not getattr(args, "gestures", False):
        if getattr(args, "gesture_model", None):
            raise ConfigError("--gesture-model needs --gestures")
        return None
    if getattr(args, "mode", "face") != "full":
        raise ConfigError("--gestures needs --mode full (hands and body come from the body model)")
    from vtuber.gestures.bindings import GestureStage, load_settings

    settings = load_settings(getattr(args, "config", None))
    if getattr(args, "gesture_model", None):
        settings.model = args.gesture_model
    return GestureStage(settings)
