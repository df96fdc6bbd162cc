"""The filter banks: many independent scalar filters in flat numpy arrays, so one frame costs a
fixed handful of array operations whatever the number of channels."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]

BIAS_TAU_S = 0.3  # time constant of the innovation mean that detects lag
BIAS_K = 0.6  # its threshold, relative to the adaptivity threshold


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
        speed_ref: per-group speed (state units/s, norm of the group's velocity estimate) at
            which the position variance is doubled before the update: ``1 + (speed /
            speed_ref)^2`` (inf = none). A moving signal is then followed closely, a still
            one smoothed with the full steady-state strength.
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
        speed_ref: F | None = None,
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
        self.speed_ref = inf.copy() if speed_ref is None else np.asarray(speed_ref, np.float64)
        self._inv_speed2 = np.where(np.isfinite(self.speed_ref), self.speed_ref, np.inf) ** -2.0
        self._any_speed = bool(np.isfinite(self.speed_ref).any())
        # The channels of groups with a speed_ref, their groups renumbered 0.., 1/speed_ref^2.
        self._spd_ch = np.flatnonzero(np.isfinite(self.speed_ref)[self.group])
        _, self._spd_group = np.unique(self.group[self._spd_ch], return_inverse=True)
        self._spd_inv2 = self._inv_speed2[self.group[self._spd_ch]]
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
        kx = k0
        if self._any_speed:
            # A moving group: the position trusts the measurement more, 1 + (speed/speed_ref)^2
            # times the variance (not remembered). Velocity and covariances are updated with
            # the plain gains, so the velocity estimate keeps learning (a high gain on the
            # position alone would freeze a wrong speed that keeps itself high). Only the
            # channels of groups with a speed_ref are computed.
            i, gl = self._spd_ch, self._spd_group
            vi = self.v[i]
            speed2 = np.bincount(gl, vi * vi)[gl]
            ui = updf[i]
            ps = p00[i] + speed2 * self._spd_inv2 * s0[i] * ui
            kx = k0.copy()
            kx[i] = ps * ui / (ps + self.r[i])
        self.x = self.x + kx * y
        self.v = self.v + k1 * y
        p01 = self.p01
        self.p11 = self.p11 - k1 * p01
        self.p01 = p01 - k0 * p01
        self.p00 = p00 - k0 * p00
        upd: NDArray[np.bool_] = updf > 0.0
        return upd


def lowpass_alpha(cutoff_hz: F | float, dt: float) -> F:
    """Smoothing factor of a first-order low-pass with cut-off ``cutoff_hz`` over a step ``dt``:
    ``1 / (1 + tau / dt)`` with ``tau = 1 / (2 pi cutoff)`` (Casiez et al. 2012, eq. 2)."""
    return np.asarray(1.0 / (1.0 + 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz) * dt)))


class OneEuroBank:
    """N One Euro filters (Casiez, Roussel, Vogel, CHI 2012) in flat arrays: a first-order
    low-pass whose cut-off rises with the filtered speed, ``fc = min_cutoff + beta * |dx/dt|``,
    so a still signal is smoothed hard and a fast one passes with little lag. The speed is the
    norm over a group's channels (one rotation's three components, Neck+Head's six), low-passed
    at ``d_cutoff``.

    Same interface as :class:`KalmanBank` (``x``, ``v``, ``predict``, ``update``, ``reset``,
    ``clear``): ``x`` is the filtered value, ``v`` the filtered speed (per channel), and
    ``predict`` keeps the value (the One Euro filter has no motion model; a missing signal
    holds). Units are the state's (radians for rotations); ``beta`` in Hz per state unit/s.
    """

    def __init__(self, min_cutoff: F, beta: F, d_cutoff: F, group: NDArray[np.intp]) -> None:
        self.min_cutoff = np.asarray(min_cutoff, np.float64)
        self.beta = np.asarray(beta, np.float64)
        self.d_cutoff = np.asarray(d_cutoff, np.float64)
        self.group = np.asarray(group, np.intp)
        self.n_groups = int(self.group.max()) + 1 if len(self.group) else 0
        self.clear()

    def clear(self) -> None:
        n = len(self.min_cutoff)
        self.x = np.zeros(n)
        self.v = np.zeros(n)

    def reset(self, mask: NDArray[np.bool_], x: F, p_vel: float | F = 0.0) -> None:
        """Restart the channels in ``mask`` at ``x`` (full array) with speed 0."""
        self.x = np.where(mask, x, self.x)
        self.v = np.where(mask, 0.0, self.v)

    def predict(self, dt: float) -> None:
        """Nothing to predict: the value holds until the next measurement."""

    def update(self, z: F, measured: NDArray[np.bool_], dt: float = 0.0) -> NDArray[np.bool_]:
        """Filter the measured channels toward ``z`` over the step ``dt`` (> 0; a zero step
        leaves the state as it is). Returns the channels updated."""
        if dt <= 0.0:
            return np.zeros(len(self.x), bool)
        y = z - self.x
        self.v = np.where(
            measured, self.v + lowpass_alpha(self.d_cutoff, dt) * (y / dt - self.v), self.v
        )
        g = self.group
        speed = np.sqrt(np.bincount(g, self.v * self.v, minlength=self.n_groups))[g]
        a = lowpass_alpha(self.min_cutoff + self.beta * speed, dt)
        self.x = np.where(measured, self.x + a * y, self.x)
        return measured.copy()
