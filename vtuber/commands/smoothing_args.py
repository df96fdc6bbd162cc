"""Command-line options of the smoothing stage (``--smoothing``, ``--no-smoothing``,
``--smoothing-filter``, ``--config``) and the :class:`vtuber.smoothing.SmoothingConfig` they
select."""

from __future__ import annotations

import argparse
from dataclasses import replace

from vtuber.smoothing import FILTERS, PRESETS, SmoothingConfig, load_config


def add_smoothing_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("smoothing")
    g.add_argument(
        "--smoothing",
        choices=PRESETS,
        default=None,
        help="how much to smooth the motion (default: the config file's preset, else medium)",
    )
    g.add_argument(
        "--no-smoothing",
        dest="smoothing",
        action="store_const",
        const="off",
        help="send the raw solved motion (same as --smoothing off)",
    )
    g.add_argument(
        "--smoothing-filter",
        choices=FILTERS,
        default=None,
        help="the filter: kalman (default; adaptive, measured best in docs/smoothing.md) or "
        "one_euro (the One Euro filter)",
    )
    g.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="TOML settings file; its [smoothing] table sets the preset and per-signal "
        "filter settings (docs/smoothing.md)",
    )


def smoothing_config(args: argparse.Namespace) -> SmoothingConfig:
    """The smoothing settings the options ask for (--smoothing wins over the file's preset)."""
    preset = getattr(args, "smoothing", None)
    path = getattr(args, "config", None)
    cfg = load_config(path, preset=preset) if path else SmoothingConfig(preset=preset or "medium")
    filt = getattr(args, "smoothing_filter", None)
    return replace(cfg, filter=filt) if filt else cfg
