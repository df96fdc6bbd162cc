"""The smoothing stage (docs/smoothing.md): filters every signal of an anatomical AvatarFrame.

- :mod:`~vtuber.smoothing.settings`: the signals, per-signal settings, presets, TOML loading;
- :mod:`~vtuber.smoothing.filters`: the vectorized filter banks;
- :mod:`~vtuber.smoothing.kalman`, :mod:`~vtuber.smoothing.one_euro`,
  :mod:`~vtuber.smoothing.lerp`: the smoothers
  (``update(frame) -> frame``);
- :mod:`~vtuber.smoothing.factory`: :func:`make_smoother`, the smoother a config selects.
"""

from vtuber.smoothing.factory import make_smoother
from vtuber.smoothing.filters import (
    BIAS_K,
    BIAS_TAU_S,
    KalmanBank,
    OneEuroBank,
    q_white_noise,
)
from vtuber.smoothing.kalman import ROOT_POSITION, ROOT_ROTATION, KalmanSmoother
from vtuber.smoothing.lerp import LerpSmoother
from vtuber.smoothing.one_euro import OneEuroSmoother
from vtuber.smoothing.settings import (
    FILTERS,
    PRESETS,
    SIGNALS,
    SignalSettings,
    SmoothingConfig,
    blendshape_signal,
    bone_signal,
    load_config,
    preset_signals,
)

__all__ = [
    "BIAS_K",
    "BIAS_TAU_S",
    "FILTERS",
    "PRESETS",
    "ROOT_POSITION",
    "ROOT_ROTATION",
    "SIGNALS",
    "KalmanBank",
    "KalmanSmoother",
    "LerpSmoother",
    "OneEuroBank",
    "OneEuroSmoother",
    "SignalSettings",
    "SmoothingConfig",
    "blendshape_signal",
    "bone_signal",
    "load_config",
    "make_smoother",
    "preset_signals",
    "q_white_noise",
]
