"""The smoothing stage a config asks for."""

from __future__ import annotations

from vtuber.smoothing.kalman import KalmanSmoother
from vtuber.smoothing.one_euro import OneEuroSmoother
from vtuber.smoothing.settings import SmoothingConfig


def make_smoother(config: SmoothingConfig | None) -> KalmanSmoother | None:
    """The smoother for a config, or None when smoothing is off."""
    if config is None or not config.enabled:
        return None
    if config.filter == "one_euro":
        return OneEuroSmoother(config)
    return KalmanSmoother(config)
