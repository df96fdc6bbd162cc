"""The filter banks: many independent scalar filters in flat numpy arrays, so one frame costs a
fixed handful of array operations whatever the number of channels."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]

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
        mem = self.adapt_memory_s
        self._inv_memory = np.where(mem > 0, 1.0 / np.where(mem > 0, mem, 1.0), 1e12)
        self.dof = np.maximum(np.bincount(self.group, minlength=g), 1).astype(np.float64)
        self.clear()

    def clear(self) -> None:
        """Every channel back to its initial state: position 0, velocity 0, variance R."""
        n, g = len(self.r), self.n_groups
        self.x = np.zeros(n)  # position
        self.v = np.zeros(n)  # velocity
        self.p00 = self.r.copy()
        self.p01 = np.zeros(n)
        self.p11 = np.zeros(n)
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
