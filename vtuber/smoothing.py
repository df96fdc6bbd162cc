"""The smoothing stage: adaptive, gated Kalman filtering of every signal in an AvatarFrame.

Applied by the pipeline to the ANATOMICAL frame (before the mirror). Every scalar channel -- the
three rotation-vector components of each bone, the root position and rotation, each blendshape
weight -- runs the same constant-velocity Kalman filter as filterpy's ``KalmanFilter`` with
``F = [[1, dt], [0, 1]]``, ``H = [[1, 0]]``, ``Q = Q_discrete_white_noise(2, dt, accel**2)``,
``R = noise**2`` (see :func:`reference_filter`); the channels are stacked in numpy arrays so one
frame costs a fixed handful of array operations whatever the number of channels. On top of it:

- **Rotations** are filtered in the tangent space of the previous estimate (multiplicative
  error-state): the measurement is ``log(q_est^-1 * q_meas)`` taken the short way, so there is no
  jump at +-180 deg and ``q`` / ``-q`` are the same rotation; the estimate is folded back with
  ``q_est * exp(x)`` every frame, so the output is a unit quaternion.
- **Adaptivity**: when a group's normalized innovation squared (NIS, per degree of freedom)
  exceeds ``adapt_sigma**2`` the position variance is inflated so the innovation becomes
  consistent (covariance matching): the gain goes to ``1 - adapt_sigma**2 / NIS``. A quick head
  turn or a blink comes through; noise on a still head stays below the threshold and is smoothed.
- **Lag detection**: a steady slow move gives small innovations of one sign; their running mean,
  tested like the NIS, raises the process noise so the velocity estimate catches up.
- **Gating**: a group whose NIS exceeds ``gate_sigma**2`` is not updated that frame (a one-frame
  landmark glitch); after ``max_gated`` consecutive gated frames the measurement is accepted (the
  user really moved).
- **Dropouts**: a signal missing from the frame is predicted for ``hold_s``, then eased to its rest
  value (:data:`vtuber.rig.REST_POSE` / identity for bones, 0 for blendshapes) over ``ease_s``;
  when it returns the filter restarts at the measurement and the output blends from what was
  shown to the filtered value over ``reacquire_s`` (no snap).
- **Blendshapes** are clamped to [0, 1]; within ``snap`` of 0 or 1 the output is exactly the bound
  (a closed eye is fully closed, an open one fully open).

Units: rotation settings are in degrees (noise) and degrees/s^2 (accel); root position in metres
and m/s^2; blendshape weights in weight units and weight/s^2. Times are seconds of ``frame.t``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vtuber.chi2 import gaussian_equivalent_threshold
from vtuber.errors import ConfigError
from vtuber.rig import BLENDSHAPE_KEYS, IDENTITY, REST_POSE, AvatarFrame, Bone

F = NDArray[np.float64]

PRESETS = ("off", "low", "medium", "high")

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
    """

    noise: float
    accel: float
    adapt_sigma: float = 3.0
    adapt_memory_s: float = 0.0
    gate_sigma: float = 0.0
    max_gated: int = 1
    hold_s: float = 0.25
    ease_s: float = 0.7
    reacquire_s: float = 0.25
    snap: float = 0.03

    def __post_init__(self) -> None:
        for name in ("noise", "accel"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"smoothing: {name} must be > 0, not {getattr(self, name)}")
        for name in ("adapt_sigma", "adapt_memory_s", "gate_sigma", "hold_s", "ease_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"smoothing: {name} must be >= 0")
        if self.reacquire_s < 0 or not 0 <= self.snap < 0.5 or self.max_gated < 0:
            raise ConfigError("smoothing: reacquire_s >= 0, 0 <= snap < 0.5, max_gated >= 0")


# The "medium" preset, tuned on MediaPipe FaceMesh head pose (see docs/smoothing.md).
_MEDIUM: dict[str, SignalSettings] = {
    "head": SignalSettings(noise=0.6, accel=1.5, adapt_memory_s=0.1, gate_sigma=12.0),
    "gaze": SignalSettings(noise=1.5, accel=30.0, adapt_sigma=2.5, adapt_memory_s=0.05),
    "body": SignalSettings(noise=1.5, accel=10.0, adapt_memory_s=0.1, gate_sigma=12.0),
    "hands": SignalSettings(noise=3.0, accel=30.0, adapt_memory_s=0.1, gate_sigma=12.0),
    "root": SignalSettings(noise=0.004, accel=0.05, adapt_memory_s=0.1, gate_sigma=12.0),
    "blink": SignalSettings(noise=0.05, accel=0.5, adapt_sigma=2.0, adapt_memory_s=0.05),
    "mouth": SignalSettings(noise=0.04, accel=1.0, adapt_sigma=2.5, adapt_memory_s=0.05),
    "expression": SignalSettings(noise=0.04, accel=0.3, adapt_memory_s=0.1),
}
# low / high: less / more smoothing (measurement noise scaled; the gate keeps its meaning).
_PRESET_NOISE_SCALE = {"low": 0.5, "medium": 1.0, "high": 2.0}


@dataclass(frozen=True)
class SmoothingConfig:
    """The smoothing stage's settings: a preset plus per-signal overrides.

    preset: off, low, medium or high. ``signals`` maps every name of :data:`SIGNALS` to its
    settings (built from the preset by :meth:`from_preset`).
    """

    preset: str = "medium"
    signals: Mapping[str, SignalSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(f"smoothing preset must be one of {PRESETS}, not {self.preset!r}")
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
    def from_preset(cls, preset: str) -> SmoothingConfig:
        return cls(preset=preset)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], preset: str | None = None) -> SmoothingConfig:
        """From a TOML ``[smoothing]`` table: ``preset = "high"`` and ``[smoothing.<signal>]``
        tables overriding fields of :class:`SignalSettings`. ``preset`` (the command line)
        wins over the table's."""
        table = dict(table)
        name = preset or str(table.pop("preset", "medium"))
        table.pop("preset", None)
        if name not in PRESETS:
            raise ConfigError(f"smoothing preset must be one of {PRESETS}, not {name!r}")
        if name == "off":
            return cls(preset="off")
        base = dict(preset_signals(name))
        valid = {f.name for f in fields(SignalSettings)}
        for sig, over in table.items():
            if sig not in SIGNALS or not isinstance(over, Mapping):
                raise ConfigError(
                    f"[smoothing]: unknown key {sig!r}; expected preset or one of {SIGNALS}"
                )
            bad = set(over) - valid
            if bad:
                raise ConfigError(f"[smoothing.{sig}]: unknown setting(s) {sorted(bad)}")
            try:
                base[sig] = replace(base[sig], **dict(over))
            except TypeError as e:
                raise ConfigError(f"[smoothing.{sig}]: {e}") from e
        return cls(preset=name, signals=base)


def preset_signals(preset: str) -> dict[str, SignalSettings]:
    """Per-signal settings of a preset (low, medium, high)."""
    if preset not in _PRESET_NOISE_SCALE:
        raise ConfigError(f"no smoothing settings for preset {preset!r}")
    k = _PRESET_NOISE_SCALE[preset]
    return {name: replace(s, noise=s.noise * k) for name, s in _MEDIUM.items()}


def load_config(path: str | Path, preset: str | None = None) -> SmoothingConfig:
    """Read the ``[smoothing]`` table of a TOML config file (absent table: the preset)."""
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
    table = data.get("smoothing", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"config file {path}: [smoothing] must be a table")
    return SmoothingConfig.from_table(table, preset=preset)


# ------------------------------------------------------------------------- the vector filter
BIAS_TAU_S = 0.1  # time constant of the innovation mean that detects lag
BIAS_K = 2.0  # its threshold, relative to the adaptivity threshold


def q_white_noise(dt: float) -> tuple[float, float, float]:
    """Unit-variance piecewise white acceleration noise for [position, velocity] over ``dt``:
    (Q00, Q01, Q11) = (dt^4/4, dt^3/2, dt^2), as filterpy's ``Q_discrete_white_noise(2, dt, 1)``."""
    d2 = dt * dt
    return 0.25 * d2 * d2, 0.5 * d2 * dt, d2


class KalmanBank:
    """N independent constant-velocity Kalman filters (state [position, velocity], position
    measured) in flat arrays, with per-channel R and acceleration variance, and adaptivity /
    gating decided per group of channels.

    With ``adapt_tau = inf`` and ``gate = inf`` each channel is exactly filterpy's
    ``KalmanFilter(dim_x=2, dim_z=1)`` with ``F = [[1, dt], [0, 1]]``, ``H = [[1, 0]]``,
    ``Q = Q_discrete_white_noise(2, dt, qa)`` and ``R = r`` (see :func:`reference_filter`).

    Args:
        r: measurement variance per channel.
        qa: acceleration variance per channel.
        group: group index per channel (0..G-1).
        adapt_tau: per-group NIS threshold above which the gain is raised.
        adapt_memory_s: per-group time constant over which a raised gain relaxes.
        gate: per-group NIS gate (inf = none); max_gated: per-group consecutive gated frames.
    """

    def __init__(
        self,
        r: F,
        qa: F,
        group: NDArray[np.intp] | None = None,
        adapt_tau: F | None = None,
        adapt_memory_s: F | None = None,
        gate: F | None = None,
        max_gated: NDArray[np.intp] | None = None,
    ) -> None:
        n = len(r)
        self.r = np.asarray(r, np.float64)
        self.qa = np.asarray(qa, np.float64)
        self.group = np.arange(n) if group is None else np.asarray(group, np.intp)
        g = int(self.group.max()) + 1 if n else 0
        self.n_groups = g
        inf = np.full(g, np.inf)
        self.adapt_tau = inf.copy() if adapt_tau is None else np.asarray(adapt_tau, np.float64)
        self.adapt_memory_s = (
            np.zeros(g) if adapt_memory_s is None else np.asarray(adapt_memory_s, np.float64)
        )
        self.gate = inf.copy() if gate is None else np.asarray(gate, np.float64)
        self.max_gated = (
            np.ones(g, np.intp) if max_gated is None else np.asarray(max_gated, np.intp)
        )
        self.x = np.zeros(n)  # position
        self.v = np.zeros(n)  # velocity
        self.p00 = np.asarray(self.r, np.float64).copy()
        self.p01 = np.zeros(n)
        self.p11 = np.zeros(n)
        mem = self.adapt_memory_s
        self._inv_memory = np.where(mem > 0, 1.0 / np.where(mem > 0, mem, 1.0), 1e12)
        self.dof = np.maximum(np.bincount(self.group, minlength=g), 1).astype(np.float64)
        self.bias = np.zeros(n)  # exponential mean of the innovations (lag detector)
        self.boost = np.ones(g)  # adaptive variance factor per group (1 = none)
        self.n_gated = np.zeros(g, np.intp)
        self.gated = np.zeros(g, bool)  # groups gated at the last update
        self.nis: F = np.zeros(g)  # last NIS per group (sum over its channels)

    def reset(self, mask: NDArray[np.bool_], x: F, p_vel: float | F) -> None:
        """Restart the channels in ``mask`` at position ``x`` (full array), velocity 0,
        variance R on position and ``p_vel`` on velocity."""
        self.x = np.where(mask, x, self.x)
        self.v = np.where(mask, 0.0, self.v)
        self.p00 = np.where(mask, self.r, self.p00)
        self.p01 = np.where(mask, 0.0, self.p01)
        self.p11 = np.where(mask, p_vel, self.p11)

    def predict(self, dt: float) -> None:
        """Advance every channel by ``dt`` seconds (x += v dt; P = F P F' + Q)."""
        if dt <= 0.0:
            return
        q00, q01, q11 = q_white_noise(dt)
        p01, p11 = self.p01, self.p11
        self.x = self.x + self.v * dt
        self.p00 = self.p00 + dt * (2.0 * p01 + dt * p11) + q00 * self.qa
        self.p01 = p01 + dt * p11 + q01 * self.qa
        self.p11 = p11 + q11 * self.qa

    def update(self, z: F, measured: NDArray[np.bool_], dt: float = 0.0) -> NDArray[np.bool_]:
        """Correct the measured channels with ``z`` (full array; others ignored).

        Returns the channels actually updated (measured and not gated). ``dt`` (the step just
        predicted) lets a raised gain relax with ``adapt_memory_s``.
        """
        g = self.group
        y = z - self.x
        s0 = self.p00 + self.r
        mf = measured.astype(np.float64)
        cnt = np.bincount(g, mf, minlength=self.n_groups)
        nis = np.asarray(np.bincount(g, mf * y * y / s0, minlength=self.n_groups), np.float64)
        self.nis = nis
        has = cnt > 0
        outlier = has & (nis > self.gate)
        gated = outlier & (self.n_gated < self.max_gated)
        self.gated = gated
        # An outlier that persists past max_gated frames is a real move: trust it fully.
        forced = outlier & ~gated
        self.n_gated = np.where(gated, self.n_gated + 1, self.n_gated * ~has)
        # Covariance matching: inflate the position variance so that S = NIS/tau * S0 when
        # the innovation is larger than tau allows (S = NIS/dof * S0 for a forced outlier, i.e.
        # the innovation made consistent); relax a previous boost with its memory.
        rho = np.maximum(nis / self.adapt_tau, 1.0)
        rho = np.where(forced, nis / self.dof, rho)
        decay = np.exp(-max(dt, 1e-9) * self._inv_memory)
        accept = has & ~gated
        self.boost = np.where(accept, np.maximum(rho, 1.0 + (self.boost - 1.0) * decay), self.boost)
        updf = mf * accept[g]
        # Lag detector: an exponential mean of the innovations (time constant BIAS_TAU_S) that
        # stays away from 0 means the motion model is too stiff (a steady turn the velocity
        # has not caught up with): scale Q by the bias test's ratio so the velocity learns.
        # A jump absorbed by the position boost restarts it (no overshoot after steps).
        if dt > 0.0:
            beta = 1.0 - math.exp(-dt / BIAS_TAU_S)
            calm = (rho[g] <= 1.0) & (updf > 0.0)
            self.bias = np.where(calm, self.bias + beta * (y - self.bias), 0.0)
            e_b = mf * self.bias * self.bias / (s0 * (beta / (2.0 - beta)))
            rho_b = np.bincount(g, e_b, minlength=self.n_groups) / (self.adapt_tau * BIAS_K)
            excess = (np.maximum(rho_b, 1.0)[g] - 1.0) * updf
            if excess.any():
                # Extra white-acceleration noise whose position part is excess * S0.
                q00, q01, q11 = q_white_noise(dt)
                qs = excess * s0 / q00
                self.p00 = self.p00 + q00 * qs
                self.p01 = self.p01 + q01 * qs
                self.p11 = self.p11 + q11 * qs
                s0 = self.p00 + self.r
        p00 = self.p00 + (self.boost[g] - 1.0) * s0 * updf
        inv_s = updf / (p00 + self.r)
        k0 = p00 * inv_s
        k1 = self.p01 * inv_s
        self.x = self.x + k0 * y
        self.v = self.v + k1 * y
        p01 = self.p01
        self.p11 = self.p11 - k1 * p01
        self.p01 = p01 - k0 * p01
        self.p00 = p00 - k0 * p00
        upd: NDArray[np.bool_] = updf > 0.0
        return upd


def reference_filter(r: float, qa: float, dt: float, x0: float = 0.0) -> Any:
    """The filterpy ``KalmanFilter`` one channel of :class:`KalmanBank` equals (no adaptivity,
    no gating): constant velocity, position measured. Call ``predict(F=..., Q=...)`` with
    :func:`transition` for uneven steps."""
    from filterpy.kalman import KalmanFilter

    kf = KalmanFilter(dim_x=2, dim_z=1)
    kf.x = np.array([[x0], [0.0]])
    kf.F, kf.Q = transition(dt, qa)
    kf.H = np.array([[1.0, 0.0]])
    kf.R = np.array([[r]])
    kf.P = np.diag([r, 0.0])
    return kf


def transition(dt: float, qa: float) -> tuple[F, F]:
    """(F, Q) of the constant-velocity model over ``dt`` with acceleration variance ``qa``,
    built with filterpy's ``Q_discrete_white_noise``."""
    from filterpy.common import Q_discrete_white_noise

    return np.array([[1.0, dt], [0.0, 1.0]]), Q_discrete_white_noise(2, dt, qa)


# ------------------------------------------------------------------------------- quaternions
# a * b as sums of products: component k = sum_j SIGN[k, j] * a[IA[k, j]] * b[IB[k, j]].
_QM_IA = np.array([3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2])
_QM_IB = np.array([0, 3, 2, 1, 1, 2, 3, 0, 2, 1, 0, 3, 3, 0, 1, 2])
_QM_SIGN = np.array([1, 1, 1, -1, 1, -1, 1, 1, 1, 1, -1, 1, 1, -1, -1, -1], np.float64)


def _qmul(a: F, b: F) -> F:
    """Row-wise Hamilton product of (N, 4) xyzw quaternions (as :func:`vtuber.quat.multiply`)."""
    return (a[:, _QM_IA] * b[:, _QM_IB] * _QM_SIGN).reshape(-1, 4, 4).sum(axis=2)


def _qconj(q: F) -> F:
    return q * np.array([-1.0, -1.0, -1.0, 1.0])


def _log(q: F) -> F:
    """(N, 4) unit quaternions -> (N, 3) rotation vectors, short way (q and -q alike)."""
    sign = np.where(q[:, 3:4] < 0.0, -1.0, 1.0)
    v = q[:, :3] * sign
    s = np.sqrt(np.einsum("ij,ij->i", v, v))[:, None]
    angle = 2.0 * np.arctan2(s, np.abs(q[:, 3:4]))
    k = np.where(s < 1e-9, 2.0, angle / np.maximum(s, 1e-300))
    return v * k


def _exp(r: F) -> F:
    """(N, 3) rotation vectors -> (N, 4) unit quaternions."""
    a = np.sqrt(np.einsum("ij,ij->i", r, r))[:, None]
    h = 0.5 * a
    # sin(a/2) / a, which is 1/2 (to 1e-17) below a = 1e-8.
    k = np.divide(np.sin(h), a, out=np.full_like(a, 0.5), where=a > 1e-8)
    return np.concatenate((r * k, np.cos(h)), axis=1)


def _slerp(a: F, b: F, w: F) -> F:
    """Row-wise slerp from a (w=0) to b (w=1), short way; w shape (N,)."""
    return _qmul(a, _exp(_log(_qmul(_qconj(a), b)) * w[:, None]))


def _smoothstep(u: F) -> F:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


# ------------------------------------------------------------------------------ the smoother
ROOT_ROTATION = "root_rotation"
ROOT_POSITION = "root_position"
_MAX_DT = 0.5  # a longer gap between frames (a seek, a stall) is treated as this long


class KalmanSmoother:
    """The pipeline's smoothing stage (``update(frame) -> frame``), one instance per stream.

    Signals are the frame's bones (rotation), root rotation and position, and blendshapes in
    :data:`vtuber.rig.BLENDSHAPE_KEYS`; other keys and ``positions`` pass through unchanged.
    Neck and Head share gating/adaptivity decisions (one head motion), as do the two eye bones.
    """

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        sig = self.config.signals or preset_signals("medium")
        self.rot_keys: list[Bone | str] = [*Bone, ROOT_ROTATION]
        self.bone_index = {b: i for i, b in enumerate(Bone)}
        self._bones = list(Bone)
        n_rot = len(self.rot_keys)
        self.blend_keys = list(BLENDSHAPE_KEYS)
        self.blend_index = {k: i for i, k in enumerate(self.blend_keys)}
        n_bs = len(self.blend_keys)
        # Units: rotations (3 channels), the root position (3), blendshapes (1).
        self.n_rot, self.n_bs = n_rot, n_bs
        n_units = n_rot + 1 + n_bs
        self.n_units = n_units
        unit_sig = [bone_signal(b) for b in Bone] + ["root", "root"]  # + root rot., position
        unit_sig += [blendshape_signal(k) for k in self.blend_keys]
        self.unit_sig = unit_sig
        # Channel layout: rot units' 3 components, then root position's 3, then blendshapes.
        self.c_rot = slice(0, 3 * n_rot)
        self.c_pos = slice(3 * n_rot, 3 * n_rot + 3)
        self.c_bs = slice(3 * n_rot + 3, 3 * n_rot + 3 + n_bs)
        n_ch = 3 * n_rot + 3 + n_bs
        unit_of_ch = np.concatenate(
            [np.repeat(np.arange(n_rot), 3), np.full(3, n_rot), n_rot + 1 + np.arange(n_bs)]
        )
        self.unit_of_ch = unit_of_ch
        # Groups: one per unit, except Neck+Head and the two eyes share one.
        group_of_unit = np.arange(n_units)
        group_of_unit[self.bone_index[Bone.Head]] = self.bone_index[Bone.Neck]
        group_of_unit[self.bone_index[Bone.RightEye]] = self.bone_index[Bone.LeftEye]
        _, group_of_unit = np.unique(group_of_unit, return_inverse=True)
        n_groups = int(group_of_unit.max()) + 1
        settings = [sig[s] for s in unit_sig]
        deg = math.radians(1.0)
        unit_scale = np.array([deg] * n_rot + [1.0] + [1.0] * n_bs)  # settings units -> state
        u_noise = np.array([s.noise for s in settings]) * unit_scale
        u_accel = np.array([s.accel for s in settings]) * unit_scale
        g_set: list[SignalSettings] = [settings[0]] * n_groups
        for u in range(n_units):
            g_set[group_of_unit[u]] = settings[u]

        g_dof = np.bincount(group_of_unit[unit_of_ch], minlength=n_groups)

        def gsig(sigma: float, g: int) -> float:
            # The chi-square threshold (g's dof) with the false-alarm rate of |N(0,1)| > sigma.
            return gaussian_equivalent_threshold(sigma, int(g_dof[g]))

        self.bank = KalmanBank(
            r=(u_noise**2)[unit_of_ch],
            qa=(u_accel**2)[unit_of_ch],
            group=group_of_unit[unit_of_ch],
            adapt_tau=np.array([gsig(s.adapt_sigma, g) for g, s in enumerate(g_set)]),
            adapt_memory_s=np.array([s.adapt_memory_s for s in g_set]),
            gate=np.array([gsig(s.gate_sigma, g) for g, s in enumerate(g_set)]),
            max_gated=np.array([s.max_gated for s in g_set], np.intp),
        )
        self.group_of_unit = group_of_unit
        self.hold_s = np.array([s.hold_s for s in settings])
        self.ease_s = np.maximum(np.array([s.ease_s for s in settings]), 1e-6)
        self.reacquire_s = np.array([s.reacquire_s for s in settings])
        self.snap = np.array([s.snap for s in settings[n_rot + 1 :]])
        # A restarted channel's velocity variance: (accel * 0.2 s)^2, a plausible speed.
        self.p_vel0 = ((u_accel * 0.2) ** 2)[unit_of_ch]
        # Rest values.
        self.rest_q = np.array(
            [REST_POSE.get(b, IDENTITY) for b in Bone] + [IDENTITY], dtype=np.float64
        )
        self.rest_x = np.zeros(n_ch - 3 * n_rot)  # root position, blendshapes
        # State.
        self.q_ref = self.rest_q.copy()  # rotation estimate (bank holds the deviation: 0)
        self.t: float | None = None
        self.seen = np.zeros(n_units, bool)  # measured and not yet eased back to rest
        self.missing = np.zeros(n_units, bool)
        self.t_last = np.zeros(n_units)  # time of the last measurement
        self.frozen = np.zeros(n_units, bool)  # easing: prediction stopped
        self.out_q = self.rest_q.copy()  # last output
        self.out_x = self.rest_x.copy()
        self.from_q = self.rest_q.copy()  # re-acquire blend start
        self.from_x = self.rest_x.copy()
        self.blend_t0 = np.zeros(n_units)
        self.blend_len = np.zeros(n_units)  # 0 = no blend running
        self._z = np.zeros(n_ch)
        self._meas_q = self.rest_q.copy()

    # ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything (a new stream)."""
        self.__init__(self.config)  # type: ignore[misc]

    def update(self, frame: AvatarFrame) -> AvatarFrame:
        """The smoothed copy of one anatomical frame (``frame`` itself is not modified)."""
        t = float(frame.t)
        dt = 0.0 if self.t is None else min(max(t - self.t, 0.0), _MAX_DT)
        self.t = t
        n_rot = self.n_rot
        # ---- gather measurements
        present = np.zeros(self.n_units, bool)
        mq = self._meas_q
        bi = self.bone_index
        for b, q in frame.bones.items():
            i = bi[b]
            mq[i] = q
            present[i] = True
        tr = frame.tracking
        if tr.face or tr.body:
            mq[n_rot - 1] = frame.root_rotation
            present[n_rot - 1] = True
            present[n_rot] = True
            self._z[self.c_pos] = frame.root_position
        bs_index = self.blend_index
        extra_bs: dict[str, float] = {}
        z_bs = self._z[self.c_bs]
        base = n_rot + 1
        for k, weight in frame.blendshapes.items():
            j = bs_index.get(k)
            if j is None:
                extra_bs[k] = weight
            else:
                z_bs[j] = weight
                present[base + j] = True
        # Normalize measured quaternions (absent rows hold stale values; masked below).
        mq /= np.sqrt(np.einsum("ij,ij->i", mq, mq))[:, None]
        # ---- dropouts and returns
        returning = present & (self.missing | ~self.seen)
        absent = self.seen & ~present
        self.missing = absent
        lost_for = t - self.t_last
        bank = self.bank
        uc = self.unit_of_ch
        any_absent = bool(absent.any())
        if any_absent:
            start_ease = absent & ~self.frozen & (lost_for > self.hold_s)
            if start_ease.any():
                self.frozen |= start_ease
                bank.v = np.where(start_ease[uc], 0.0, bank.v)
            # Velocity of a predicted (absent) signal decays over its hold time.
            if dt > 0:
                damp = np.exp(-dt / np.maximum(self.hold_s, 1e-3))[uc]
                bank.v = np.where(absent[uc], bank.v * damp, bank.v)
        # ---- filter
        if self.frozen.any():
            frozen_ch = self.frozen[uc]
            v_saved = bank.v
            bank.v = np.where(frozen_ch, 0.0, bank.v)
            bank.predict(dt)
            bank.v = v_saved
        else:
            bank.predict(dt)
        # Rotation measurements as deviations from the estimate (tangent space at q_ref).
        z = self._z
        z[self.c_rot] = _log(_qmul(_qconj(self.q_ref), mq)).reshape(-1)
        if returning.any():
            ret_ch = returning[uc]
            # Restart returning signals at their measurement (rotations: at q_ref = measured).
            self.q_ref = np.where(returning[:n_rot, None], mq, self.q_ref)
            z[self.c_rot] = np.where(ret_ch[self.c_rot], 0.0, z[self.c_rot])
            bank.reset(ret_ch, z, self.p_vel0)
            self.from_q = np.where(returning[:n_rot, None], self.out_q, self.from_q)
            self.from_x = np.where(ret_ch[n_rot * 3 :], self.out_x, self.from_x)
            lost = np.where(self.seen, np.minimum(lost_for, 2.0 * self.reacquire_s), 1e9)
            self.blend_len = np.where(
                returning, np.minimum(self.reacquire_s, np.maximum(lost, 1e-6)), self.blend_len
            )
            self.blend_t0 = np.where(returning, t, self.blend_t0)
            self.frozen &= ~returning
        measured_ch = (present & ~returning)[uc]
        bank.update(z, measured_ch, dt)
        self.t_last = np.where(present, t, self.t_last)
        self.seen |= present
        # Fold the rotation deviations into the estimate.
        xr = bank.x[self.c_rot].reshape(-1, 3)
        self.q_ref = _qmul(self.q_ref, _exp(xr))
        bank.x[self.c_rot] = 0.0
        # ---- outputs: filter, re-acquire blend, ease to rest
        out_q = self.q_ref
        out_x = bank.x[n_rot * 3 :].copy()
        blending = self.blend_len > 0
        if blending.any():
            w = _smoothstep((t - self.blend_t0) / np.maximum(self.blend_len, 1e-9))
            w = np.where(blending, w, 1.0)
            self.blend_len = np.where(w >= 1.0, 0.0, self.blend_len)
            out_q = _slerp(self.from_q, out_q, w[:n_rot])
            wx = w[uc[n_rot * 3 :]]
            out_x = self.from_x + (out_x - self.from_x) * wx
        easing = absent & self.frozen
        if any_absent and easing.any():
            u = _smoothstep((lost_for - self.hold_s) / self.ease_s)
            u = np.where(easing, u, 0.0)
            out_q = _slerp(out_q, self.rest_q, u[:n_rot])
            ux = u[uc[n_rot * 3 :]]
            out_x = out_x + (self.rest_x - out_x) * ux
            done = easing & (u >= 1.0)
            if done.any():  # fully at rest: forget the signal until it returns
                self.seen &= ~done
                self.frozen &= ~done
                self.missing &= ~done
                self.q_ref = np.where(done[:n_rot, None], self.rest_q, self.q_ref)
                done_x = done[uc[n_rot * 3 :]]
                bank.x[n_rot * 3 :] = np.where(done_x, self.rest_x, bank.x[n_rot * 3 :])
        # Blendshapes: clamp, snap to a bound within ``snap`` of it.
        bs = np.clip(out_x[3:], 0.0, 1.0)
        snap = self.snap
        bs = np.where(bs >= 1.0 - snap, 1.0, np.where(bs <= snap, 0.0, bs))
        out_x[3:] = bs
        self.out_q = out_q
        self.out_x = out_x
        # ---- the frame
        active = self.seen
        bone_list = self._bones
        idx = np.flatnonzero(active[: n_rot - 1])
        bones = {
            bone_list[i]: tuple(q) for i, q in zip(idx.tolist(), out_q[idx].tolist(), strict=True)
        }
        keys = self.blend_keys
        idx = np.flatnonzero(active[base:])
        blend = {keys[j]: w for j, w in zip(idx.tolist(), bs[idx].tolist(), strict=True)}
        blend.update(extra_bs)
        root_rot = frame.root_rotation
        root_pos = frame.root_position
        if active[n_rot - 1]:
            q = out_q[n_rot - 1].tolist()
            root_rot = (q[0], q[1], q[2], q[3])
        if active[n_rot]:
            p = out_x[:3].tolist()
            root_pos = (p[0], p[1], p[2])
        return replace(
            frame, bones=bones, blendshapes=blend, root_rotation=root_rot, root_position=root_pos
        )


class LerpSmoother:
    """The fixed exponential lerp of the Kalidokit demo (``out += alpha * (in - out)``, slerp
    for rotations), for comparison in benchmarks. Missing signals are dropped at once."""

    def __init__(self, alpha: float = 0.3) -> None:
        self.alpha = alpha
        self.bones: dict[Bone, F] = {}
        self.blend: dict[str, float] = {}

    def update(self, frame: AvatarFrame) -> AvatarFrame:
        a = self.alpha
        bones = {}
        for b, q in frame.bones.items():
            qn = np.asarray(q, np.float64)[None]
            prev = self.bones.get(b)
            out = qn if prev is None else _slerp(prev, qn, np.array([a]))
            self.bones[b] = out
            bones[b] = tuple(float(c) for c in out[0])
        self.bones = {b: q for b, q in self.bones.items() if b in frame.bones}
        blend = {}
        for k, w in frame.blendshapes.items():
            prev_w = self.blend.get(k)
            blend[k] = w if prev_w is None else prev_w + a * (w - prev_w)
        self.blend = blend
        return replace(frame, bones=bones, blendshapes=blend)  # type: ignore[arg-type]


def make_smoother(config: SmoothingConfig | None) -> KalmanSmoother | None:
    """The smoother for a config, or None when smoothing is off."""
    if config is None or not config.enabled:
        return None
    return KalmanSmoother(config)
