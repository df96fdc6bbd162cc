"""Smoothing settings: the signals, per-signal filter settings, presets and the ``[smoothing]``
table of a TOML config file (docs/smoothing.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vtuber.config import load_table
from vtuber.errors import ConfigError
from vtuber.rig import Bone

PRESETS = ("off", "low", "medium", "high")
# The filter every channel runs: the adaptive Kalman filter or the One Euro filter.
FILTERS = ("kalman", "one_euro")

# Signals: each bone, the root and each blendshape belongs to one; settings are per signal.
SIGNALS = ("head", "gaze", "body", "hands", "root", "blink", "mouth", "expression")

_HEAD_BONES = (Bone.Neck, Bone.Head)
_GAZE_BONES = (Bone.LeftEye, Bone.RightEye)
_BODY_BONES = tuple(
    b
    for b in Bone
    if b.name.endswith(("Hips", "Spine", "Chest", "Shoulder", "UpperArm", "LowerArm"))
    or b.name.endswith(("UpperLeg", "LowerLeg", "Foot", "Toes"))
)


def bone_signal(b: Bone) -> str:
    """The settings signal of a bone: head, gaze, mouth (Jaw), body or hands."""
    if b in _HEAD_BONES:
        return "head"
    if b in _GAZE_BONES:
        return "gaze"
    if b == Bone.Jaw:
        return "mouth"
    if b in _BODY_BONES:
        return "body"
    return "hands"


_BLINK_KEYS = ("blink", "blinkLeft", "blinkRight")
_GAZE_KEYS = ("lookUp", "lookDown", "lookLeft", "lookRight")
_MOUTH_KEYS = ("aa", "ih", "ou", "ee", "oh")


def blendshape_signal(key: str) -> str:
    """The settings signal of a blendshape key: blink, gaze, mouth or expression."""
    if key in _BLINK_KEYS or key.startswith(("eyeBlink", "eyeSquint", "eyeWide")):
        return "blink"
    if key in _GAZE_KEYS or key.startswith("eyeLook"):
        return "gaze"
    if key in _MOUTH_KEYS or key.startswith(("jaw", "mouth", "cheek", "tongue")):
        return "mouth"
    return "expression"


# ----------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class SignalSettings:
    """Filter settings of one signal (units: see the module doc).

    noise: measurement noise standard deviation (R = noise**2).
    accel: process noise, standard deviation of the (piecewise white) acceleration.
    adapt_sigma: NIS threshold, in standard deviations, above which the filter trusts the
        measurement more (0 = no adaptivity).
    adapt_memory_s: time constant over which a raised gain relaxes (0 = this frame only).
    gate_sigma: Mahalanobis gate in standard deviations (0 = no gating).
    max_gated: consecutive frames a measurement may be gated before it is accepted anyway.
    hold_s: a missing signal is predicted this long ...
    ease_s: ... then eased to rest over this long.
    reacquire_s: when it returns, the output blends in over at most this long.
    snap: blendshape outputs this close to 0 or 1 are set to the bound (a closed eye is closed).
    speed_ref: speed (deg/s, m/s or weight/s, as estimated by the filter) at which the
        measurement is trusted twice as much as when still: the position variance is scaled by
        ``1 + (speed / speed_ref)^2`` (0 = off). Still = smoothed hard, moving = followed.
    lag_k: the lag detector's threshold relative to the adaptivity threshold (larger = a
        steady move must persist longer before the filter speeds up; see docs/smoothing.md).
    still_tau_s, still_speed: a velocity estimate well under ``still_speed`` (deg/s, m/s or
        weight/s) decays toward 0 with time constant ``still_tau_s`` (s; 0 = off): the time
        constant grows as ``1 + (speed / still_speed)^4``, so a real move keeps its speed and a
        still signal loses a stale one.
    min_cutoff, beta, d_cutoff: the One Euro filter's settings (``filter = "one_euro"``): the
        cut-off (Hz) at rest, its rise per unit/s of speed (Hz per deg/s, m/s or weight/s) and
        the speed estimate's cut-off (Hz).
    """

    noise: float
    accel: float
    adapt_sigma: float = 3.0
    adapt_memory_s: float = 0.0
    gate_sigma: float = 0.0
    max_gated: int = 1
    hold_s: float = 0.25
    ease_s: float = 0.7
    reacquire_s: float = 0.0
    snap: float = 0.03
    speed_ref: float = 0.0
    lag_k: float = 0.6
    still_tau_s: float = 0.0
    still_speed: float = 5.0
    min_cutoff: float = 0.5
    beta: float = 0.05
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        for name in ("noise", "accel", "min_cutoff", "d_cutoff", "still_speed", "lag_k"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"smoothing: {name} must be > 0, not {getattr(self, name)}")
        for name in (
            "adapt_sigma",
            "adapt_memory_s",
            "gate_sigma",
            "hold_s",
            "ease_s",
            "beta",
            "speed_ref",
            "still_tau_s",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"smoothing: {name} must be >= 0")
        if self.reacquire_s < 0 or not 0 <= self.snap < 0.5 or self.max_gated < 0:
            raise ConfigError("smoothing: reacquire_s >= 0, 0 <= snap < 0.5, max_gated >= 0")


# The "medium" preset, tuned on MediaPipe FaceMesh head pose (see docs/smoothing.md).
_MEDIUM: dict[str, SignalSettings] = {
    "head": SignalSettings(
        noise=0.6,
        accel=1.5,
        adapt_memory_s=0.15,
        speed_ref=12.0,
        lag_k=1.0,
        still_tau_s=0.2,
        still_speed=5.0,
        min_cutoff=0.5,
        beta=0.05,
    ),
    # gaze: chosen by benchmarks/fit_gaze_smoothing.py on the training renders (docs/smoothing.md).
    "gaze": SignalSettings(
        noise=1.6,
        accel=50.0,
        adapt_sigma=3.1,
        adapt_memory_s=0.013,
        speed_ref=220.0,
        lag_k=1.0,
        still_tau_s=0.048,
        still_speed=42.0,
    ),
    # body, hands: chosen by benchmarks/fit_body_hands_smoothing.py (docs/smoothing.md).
    "body": SignalSettings(
        noise=2.6,
        accel=29.0,
        adapt_sigma=2.9,
        adapt_memory_s=0.09,
        gate_sigma=12.0,
        speed_ref=35.0,
        lag_k=0.35,
        still_tau_s=0.32,
        still_speed=2.9,
    ),
    "hands": SignalSettings(
        noise=3.3,
        accel=105.0,
        adapt_sigma=2.5,
        adapt_memory_s=0.033,
        gate_sigma=12.0,
        speed_ref=140.0,
        lag_k=0.3,
        still_tau_s=0.1,
        still_speed=10.5,
    ),
    "root": SignalSettings(noise=0.004, accel=0.05, adapt_memory_s=0.1, gate_sigma=12.0, beta=2.5),
    "blink": SignalSettings(noise=0.05, accel=0.5, adapt_sigma=2.0, adapt_memory_s=0.05, beta=2.5),
    "mouth": SignalSettings(
        noise=0.01, accel=5.0, adapt_sigma=2.5, adapt_memory_s=0.05, speed_ref=1.0, beta=2.5
    ),
    "expression": SignalSettings(noise=0.04, accel=0.3, adapt_memory_s=0.1, beta=2.5),
}
# low / high: less / more smoothing (measurement noise scaled; the gate keeps its meaning).
_PRESET_NOISE_SCALE = {"low": 0.5, "medium": 1.0, "high": 2.0}


@dataclass(frozen=True)
class SmoothingConfig:
    """The smoothing stage's settings: a preset plus per-signal overrides.

    preset: off, low, medium or high. ``signals`` maps every name of :data:`SIGNALS` to its
    settings (missing ones filled in from the preset). filter: kalman or one_euro.
    """

    preset: str = "medium"
    signals: Mapping[str, SignalSettings] = field(default_factory=dict)
    filter: str = "kalman"

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(f"smoothing preset must be one of {PRESETS}, not {self.preset!r}")
        if self.filter not in FILTERS:
            raise ConfigError(f"smoothing filter must be one of {FILTERS}, not {self.filter!r}")
        if self.preset != "off":
            missing = set(SIGNALS) - set(self.signals)
            if missing:
                object.__setattr__(
                    self,
                    "signals",
                    {**preset_signals(self.preset), **self.signals},
                )
        unknown = set(self.signals) - set(SIGNALS)
        if unknown:
            raise ConfigError(f"smoothing: unknown signal(s) {sorted(unknown)}; use {SIGNALS}")

    @property
    def enabled(self) -> bool:
        return self.preset != "off"

    @classmethod
    def from_table(cls, table: Mapping[str, Any], preset: str | None = None) -> SmoothingConfig:
        """From a TOML ``[smoothing]`` table: ``preset = "high"``, ``filter = "one_euro"`` and
        ``[smoothing.<signal>]`` tables overriding fields of :class:`SignalSettings`.
        ``preset`` (the command line) wins over the table's."""
        table = dict(table)
        name = preset or str(table.pop("preset", "medium"))
        table.pop("preset", None)
        filt = str(table.pop("filter", "kalman"))
        if filt not in FILTERS:
            raise ConfigError(f"[smoothing]: filter must be one of {FILTERS}, not {filt!r}")
        if name not in PRESETS:
            raise ConfigError(f"smoothing preset must be one of {PRESETS}, not {name!r}")
        if name == "off":
            return cls(preset="off")
        base = dict(preset_signals(name))
        valid = {f.name for f in fields(SignalSettings)}
        for sig, over in table.items():
            if sig not in SIGNALS or not isinstance(over, Mapping):
                raise ConfigError(
                    f"[smoothing]: unknown key {sig!r}; expected preset, filter or one of {SIGNALS}"
                )
            bad = set(over) - valid
            if bad:
                raise ConfigError(f"[smoothing.{sig}]: unknown setting(s) {sorted(bad)}")
            try:
                base[sig] = replace(base[sig], **dict(over))
            except TypeError as e:
                raise ConfigError(f"[smoothing.{sig}]: {e}") from e
        return cls(preset=name, signals=base, filter=filt)


def preset_signals(preset: str) -> dict[str, SignalSettings]:
    """Per-signal settings of a preset (low, medium, high)."""
    if preset not in _PRESET_NOISE_SCALE:
        raise ConfigError(f"no smoothing settings for preset {preset!r}")
    k = _PRESET_NOISE_SCALE[preset]
    return {
        name: replace(s, noise=s.noise * k, min_cutoff=s.min_cutoff / k)
        for name, s in _MEDIUM.items()
    }


def load_config(path: str | Path, preset: str | None = None) -> SmoothingConfig:
    """Read the ``[smoothing]`` table of a TOML config file (absent table: the preset)."""
    return SmoothingConfig.from_table(load_table(path, "smoothing"), preset=preset)
