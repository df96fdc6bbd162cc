"""The filter banks: many independent scalar filters in flat numpy arrays, so one frame costs a
fixed handful of array operations whatever the number of channels."""

from __future__ import annotations

import math
from typing import cast

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]

BIAS_TAU_S = 0.3  # time constant of the innovation mean that detects lag
BIAS_K = 0.6  # its default threshold, relative to the adaptivity threshold (per group: lag_k)


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
        still_tau_s, still_speed: per group, a slow velocity decays toward 0 in the prediction
            with time constant ``still_tau_s * (1 + (speed / still_speed)^4)`` (speed: the
            group's velocity norm, state units/s; ``still_tau_s`` inf = never): a still signal
            does not keep a stale speed, which the speed-scaled trust would turn into noise
            passed through, while a real move (speed well above ``still_speed``) keeps its
            velocity. The covariance is propagated with the same decay.
        lag_k: per-group threshold of the lag detector relative to ``adapt_tau`` (default
            :data:`BIAS_K`; larger = a steady move must persist longer to raise the gain).
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
        still_tau_s: F | None = None,
        still_speed: F | None = None,
        lag_k: F | None = None,
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
        self._gating = np.isfinite(self.gate)
        self._no_groups = np.zeros(g, bool)
        self.speed_ref = inf.copy() if speed_ref is None else np.asarray(speed_ref, np.float64)
        self._inv_speed2 = np.where(np.isfinite(self.speed_ref), self.speed_ref, np.inf) ** -2.0
        self._any_speed = bool(np.isfinite(self.speed_ref).any())
        self._spd_inv2 = self._inv_speed2[self.group]  # per channel; 0 = no speed_ref
        self.lag_k = np.full(g, BIAS_K) if lag_k is None else np.asarray(lag_k, np.float64)
        self._lag_tau = self.adapt_tau * self.lag_k
        tau = inf.copy() if still_tau_s is None else np.asarray(still_tau_s, np.float64)
        ref = np.ones(g) if still_speed is None else np.asarray(still_speed, np.float64)
        # Per channel: the velocity's decay rate 1/tau (0 = none) and 1/still_speed^2.
        self._dec_rate = (1.0 / tau)[self.group]
        self._dec_inv2 = (ref**-2.0)[self.group]
        self._any_decay = bool(np.isfinite(tau).any())
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
        self._decay_dt = -1.0  # the step the boost's relaxation factors were computed for
        self._q_dt = -1.0  # the step the process-noise terms in _q were computed for
        self._m_key = b""  # the measured mask the cached (mf, has, may_gate) belong to
        self._m: tuple[F, NDArray[np.bool_], bool] = (self.r, self._no_groups, False)
        self._q: tuple[F, F, F, F] = (self.qa, self.qa, self.qa, self.qa)
        self._decay: F = np.ones(g)

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
        if dt != self._q_dt:  # the per-step constants, once per frame rate
            q00, q01, q11 = q_white_noise(dt)
            self._q_dt = dt
            self._q = (q00 * self.qa, q01 * self.qa, q11 * self.qa, -dt * self._dec_rate)
        q00qa, q01qa, q11qa, dec = self._q
        p01, p11 = self.p01, self.p11
        self.x = self.x + self.v * dt
        self.p00 = self.p00 + dt * (2.0 * p01 + dt * p11) + q00qa
        if self._any_decay:
            # F = [[1, dt], [0, a]]: v' = a v, P01' = a (P01 + dt P11) + Q01,
            # P11' = a^2 P11 + Q11 (a = 1 on the channels without a decay: rate 0).
            v = self.v
            s2 = np.bincount(self.group, v * v, minlength=self.n_groups)[self.group]
            s2 = s2 * self._dec_inv2
            a = np.exp(dec / (1.0 + s2 * s2))
            self.v = a * v
            self.p01 = a * (p01 + dt * p11) + q01qa
            self.p11 = a * a * p11 + q11qa
        else:
            self.p01 = p01 + dt * p11 + q01qa
            self.p11 = p11 + q11qa

    def update(self, z: F, measured: NDArray[np.bool_], dt: float = 0.0) -> NDArray[np.bool_]:
        """Correct the measured channels with ``z`` (full array; others ignored).

        Returns the channels actually updated (measured and not gated). ``dt`` (the step just
        predicted) lets a raised gain relax with ``adapt_memory_s``.
        """
        g = self.group
        y = z - self.x
        s0 = self.p00 + self.r
        key = measured.tobytes()
        if key != self._m_key:  # which channels are measured changed (rare): recompute
            mf = measured.astype(np.float64)
            has = np.bincount(g, mf, minlength=self.n_groups) > 0
            self._m_key = key
            self._m = (mf, has, bool((has & self._gating).any()))
        mf, has, may_gate = self._m
        nis = cast(F, np.bincount(g, mf * y * y / s0, minlength=self.n_groups))
        self.nis = nis
        # Covariance matching: inflate the position variance so that S = NIS/tau * S0 when
        # the innovation is larger than tau allows (S = NIS/dof * S0 for a forced outlier, i.e.
        # the innovation made consistent); relax a previous boost with its memory.
        rho = np.maximum(nis / self.adapt_tau, 1.0)
        if may_gate:
            outlier = has & (nis > self.gate)
            gated = outlier & (self.n_gated < self.max_gated)
            # An outlier that persists past max_gated frames is a real move: trust it fully.
            forced = outlier & ~gated
            rho = np.where(forced, nis / self.dof, rho)
            accept = has & ~gated
            self.n_gated = np.where(gated, self.n_gated + 1, self.n_gated * ~has)
            updf = mf * accept[g]
        else:  # no group with a gate is measured: nothing to gate (the common face frame)
            gated = self._no_groups
            accept = has
            self.n_gated = self.n_gated * ~has
            updf = mf  # every measured channel is updated
        self.gated = gated
        if dt != self._decay_dt:  # exp() once per frame rate, not once per frame
            self._decay_dt = dt
            self._decay = np.exp(-max(dt, 1e-9) * self._inv_memory)
        b = self.boost
        self.boost = b + accept * (np.maximum(rho, 1.0 + (b - 1.0) * self._decay) - b)
        # Lag detector: an exponential mean of the innovations (time constant BIAS_TAU_S) that
        # stays away from 0 means the motion model is too stiff (a steady turn the velocity
        # has not caught up with): scale Q by the bias test's ratio so the velocity learns.
        # A jump absorbed by the position boost restarts it (no overshoot after steps).
        if dt > 0.0:
            beta = 1.0 - math.exp(-dt / BIAS_TAU_S)
            calm = (rho[g] <= 1.0) & (updf > 0.0)
            self.bias = (self.bias + beta * (y - self.bias)) * calm  # 0 where not calm
            e_b = self.bias * self.bias / (s0 * (beta / (2.0 - beta)))
            rho_b = np.bincount(g, e_b, minlength=self.n_groups) / self._lag_tau
            if (rho_b > 1.0).any():
                # Extra white-acceleration noise whose position part is excess * S0.
                excess = (np.maximum(rho_b, 1.0)[g] - 1.0) * updf
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
            # position alone would freeze a wrong speed that keeps itself high). Groups without
            # a speed_ref have 1/speed_ref^2 = 0: kx = k0 there.
            v = self.v
            speed2 = np.bincount(g, v * v, minlength=self.n_groups)[g]
            ps = p00 + speed2 * self._spd_inv2 * s0 * updf
            kx = ps * updf / (ps + self.r)
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
