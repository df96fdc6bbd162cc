"""Typed settings. Built from argv / TOML in the CLI only; validated in constructors."""

from __future__ import annotations

from dataclasses import dataclass, field

from vtuber.errors import ConfigError

MODES = ("face", "full")


@dataclass
class TrackConfig:
    """What the tracker measures and how the frame is built.

    mirror: True = the avatar moves like the user's mirror image (the default, like VSeeFace);
        False = anatomically (the user's right hand drives the avatar's right hand).
    mode: "face" (head and face) or "full" (plus hands, arms and upper body).
    hfov_deg: the camera's horizontal field of view, for head pose.
    neck_share: the part of the head rotation given to the Neck bone (the rest to Head).
    """

    mirror: bool = True
    mode: str = "face"
    hfov_deg: float = 60.0
    neck_share: float = 0.35
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {MODES}, not {self.mode!r}")
        if not 20.0 <= self.hfov_deg <= 150.0:
            raise ConfigError(f"camera field of view {self.hfov_deg} deg is not plausible")
        if not 0.0 <= self.neck_share <= 1.0:
            raise ConfigError("neck_share must be in [0, 1]")
