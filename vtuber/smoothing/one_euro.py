"""The One Euro smoother: :class:`vtuber.smoothing.kalman.KalmanSmoother`'s handling of
rotations (tangent space), groups, dropouts and blendshape bounds around a bank of One Euro
filters (:class:`vtuber.smoothing.filters.OneEuroBank`) instead of Kalman filters."""

from __future__ import annotations

import numpy as np

from vtuber.smoothing.filters import OneEuroBank
from vtuber.smoothing.kalman import KalmanSmoother
from vtuber.smoothing.settings import SmoothingConfig


class OneEuroSmoother(KalmanSmoother):
    """``update(frame) -> frame`` with a One Euro filter per channel: settings ``min_cutoff``,
    ``beta``, ``d_cutoff`` of each signal (:class:`vtuber.smoothing.settings.SignalSettings`);
    the speed that raises the cut-off is that of the whole group (a bone's rotation, Neck+Head)."""

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        super().__init__(config)
        uc = self.unit_of_ch
        st = self.unit_settings
        scale = self.unit_scale[uc]
        self.bank = OneEuroBank(  # type: ignore[assignment]
            min_cutoff=np.array([s.min_cutoff for s in st])[uc],
            beta=np.array([s.beta for s in st])[uc] / scale,  # Hz per unit/s -> per state unit/s
            d_cutoff=np.array([s.d_cutoff for s in st])[uc],
            group=self.group_of_unit[uc],
        )
