"""Typed settings. Built from argv / TOML in the CLI only; validated in constructors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vtuber.errors import ConfigError

MODES = ("face", "full")
# The emotion blendshapes the face solver derives (VRM 1.0 names), each switchable off.
EXPRESSIONS = ("happy", "angry", "sad", "relaxed", "surprised")


@dataclass
class FaceConfig:
    """Face expression settings (vtuber/solvers/expressions.py, docs/blendshapes.md).

    expressions: the emotions to derive and send (a subset of EXPRESSIONS; () = none).
    gaze_yaw_range_deg / gaze_pitch_range_deg: eye rotation limits; the look shapes reach 1 there.
    link_blinks_at: both eyes close together once both closures exceed this (1.0 = never);
        0.35, chosen on the face corpus's training faces (benchmarks/fit_blink_noise.py; until
        2026-12-05 this default, 0.3, overrode the fitted value).
    winks: False: the avatar's eyes always blink together (``track --no-winks``): each eye
        sends the lesser of the two eyes' blinks, in both face modes, so an eye closing alone
        shows nothing, whether a wink or a misread (behind glasses many false blinks are one
        eye's; docs/blendshapes.md).
    """

    expressions: tuple[str, ...] = EXPRESSIONS
    gaze_yaw_range_deg: float = 30.0
    gaze_pitch_range_deg: float = 20.0
    link_blinks_at: float = 0.35
    winks: bool = True

    def __post_init__(self) -> None:
        bad = [e for e in self.expressions if e not in EXPRESSIONS]
        if bad:
            raise ConfigError(f"unknown expression(s) {bad}; choose from {EXPRESSIONS}")
        for name in ("gaze_yaw_range_deg", "gaze_pitch_range_deg"):
            if not 1.0 <= getattr(self, name) <= 60.0:
                raise ConfigError(f"{name} must be within 1..60 degrees")
        if not 0.0 < self.link_blinks_at <= 1.0:
            raise ConfigError("link_blinks_at must be in (0, 1]")


@dataclass
class TrackConfig:
    """What the tracker measures and how the frame is built.

    The tracker's frame is anatomical; the mirror choice is the pipeline's (``Pipeline(mirror=)``,
    applied once by :func:`vtuber.rig.mirror_frame`), not part of this config.

    mode: "face" (head and face) or "full" (plus hands, arms and upper body).
    hfov_deg: the camera's horizontal field of view, for head pose.
    neck_share: the part of the head rotation given to the Neck bone (the rest to Head).
    legs: in full mode, solve the legs too (``--legs``; off by default, a seated streamer's legs
        are out of frame).
    """

    mode: str = "face"
    hfov_deg: float = 60.0
    neck_share: float = 0.35
    face: FaceConfig = field(default_factory=FaceConfig)
    legs: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, not {self.mode!r}")
        if not 20.0 <= self.hfov_deg <= 150.0:
            raise ConfigError(f"camera field of view {self.hfov_deg} deg is not plausible")
        if not 0.0 <= self.neck_share <= 1.0:
            raise ConfigError("neck_share must be in [0, 1]")


def load_table(path: str | Path, name: str) -> Mapping[str, Any]:
    """The ``[name]`` table of a TOML config file ({} when absent); one-line ConfigError when
    the file cannot be read or parsed, or ``name`` is not a table."""
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path}: {e}") from e
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"config file {path}: [{name}] must be a table")
    return table
