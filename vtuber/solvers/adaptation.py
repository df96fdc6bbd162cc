"""Per-user adaptation: what a face measure reads at rest, learned continuously while tracking.

Every face measure (eye aperture, lip gap, mouth width, brow height) differs from person to
person, and FaceMesh's reading of it also drifts with the head pose (an open eye reads a little
narrower when the head turns, a resting smile's lip gap changes with yaw). So the solvers compare
each measure with the user's own rest value *at the current head pose*.

:class:`PoseBaseline` learns those rest values. Each measure's rest is a linear function of the
head pose, ``rest(pose) = w . phi(pose)`` with ``phi = (1, yaw, pitch, |yaw|)`` (radians, relative
to the neutral head), fitted over a sliding window of recent frames by quantile regression: the
rest of a measure is a chosen quantile of what it reads, e.g. the 60th percentile of an eye's
aperture (blinks are rare and brief), the 10th percentile of the lip gap (the mouth is closed,
or at its resting smile, at least that often while talking). Quantile regression ignores how far
the other frames lie from the rest value, so blinks, words and expressions do not pull it.

The fit is iteratively reweighted least squares (a handful of 4x4 solves), redone every ``every``
frames over at most ``window`` samples, for all measures at once. Until the head has been seen at
enough different poses the pose terms are held at zero (ridge toward the intercept), so a user
who sits still gets a plain quantile.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

N_FEATURES = 4


def pose_features(yaw: float, pitch: float) -> tuple[float, float, float, float]:
    """phi(pose) for head yaw / pitch in radians (relative to the neutral head)."""
    return (1.0, yaw, pitch, abs(yaw))


class PoseBaseline:
    """Rest values of several measures as linear functions of the head pose (module doc).

    Args:
        quantiles: per measure, the quantile of its readings that is its rest value.
        initial: per measure, the rest value before anything is learned (a profile's value,
            or a population prior).
        window: how many samples the fit looks back over (older ones are forgotten, so the
            rest follows a user whose face changes: a new light, glasses put on).
        every: refit every this many added samples.
        min_samples: samples needed before the first fit (the initial values rule until then).
        prior_weight: how many samples' worth the initial values count as (pulls the intercept
            toward them while data is scarce).
        ridge: penalty on the pose terms, in samples; the pose terms grow only with pose spread.
    """

    def __init__(
        self,
        quantiles: Sequence[float],
        initial: Sequence[float],
        *,
        window: int = 450,
        every: int = 15,
        min_samples: int = 8,
        prior_weight: float = 3.0,
        ridge: float = 20.0,
    ) -> None:
        self.quantiles = np.asarray(quantiles, dtype=np.float64)
        self.m = len(self.quantiles)
        self.window, self.every, self.min_samples = window, every, min_samples
        self.prior_weight, self.ridge = prior_weight, ridge
        self._x = np.zeros((window, N_FEATURES))
        self._y = np.zeros((window, self.m))
        self._ok = np.zeros((window, self.m), bool)
        self._n = 0  # samples ever added
        self._since = 0
        self.reset(initial)

    def reset(self, initial: Sequence[float] | None = None) -> None:
        """Forget every sample (a new person); optionally new initial values."""
        if initial is not None:
            self.initial = np.asarray(initial, dtype=np.float64).copy()
        self.w = np.zeros((self.m, N_FEATURES))
        self.w[:, 0] = self.initial
        self._wl = self.w.tolist()
        self._spread = [0.0] * self.m  # see spread
        self._spread_due = [False] * self.m
        self._ok[:] = False
        self._n = 0
        self._since = 0

    @property
    def samples(self) -> int:
        return min(self._n, self.window)

    def near(self, phi: tuple[float, float, float, float], radius: float) -> int:
        """How many of the samples in the window lie within ``radius`` of ``phi`` in (yaw,
        pitch): where few do, the fit's rest values there are an extrapolation."""
        d = self._x[: self.samples, 1:3] - (phi[1], phi[2])
        return int(np.count_nonzero(np.einsum("ij,ij->i", d, d) < radius * radius))

    def support(
        self, phi: tuple[float, float, float, float], radius: float, full: int, after: int
    ) -> float:
        """How far the fit's rest values at ``phi`` stand on what was seen: the samples within
        ``radius`` of it (:meth:`near`) over ``full`` (1 from ``full`` on); 1 until ``after``
        samples are in (the first guess rules anyway)."""
        if self.samples < after:
            return 1.0
        return min(self.near(phi, radius) / full, 1.0)

    def predict(self, phi: tuple[float, float, float, float]) -> list[float]:
        """Rest value of every measure at pose features ``phi`` (plain floats: per-frame path)."""
        a, b, c, d = phi
        return [w0 * a + w1 * b + w2 * c + w3 * d for w0, w1, w2, w3 in self._wl]

    def add(
        self,
        phi: tuple[float, float, float, float],
        values: Sequence[float],
        usable: Sequence[bool] | None = None,
    ) -> None:
        """Add one frame's readings (``usable[j]`` False: measure j says nothing this frame)."""
        k = self._n % self.window
        self._x[k] = phi
        self._y[k] = values
        self._ok[k] = True if usable is None else usable
        self._n += 1
        self._since += 1
        # Refit every ``every`` samples; while samples are few, sooner (every quarter of them),
        # so that a first frame that happened to read off is soon outvoted.
        due = min(self.every, max(2, self.samples // 4))
        if self._since >= due and self.samples >= self.min_samples:
            self._since = 0
            self.fit()

    def fit(self, iterations: int = 4) -> None:
        """Refit every measure on the window (quantile regression by IRLS), all measures at
        once: they share the pose features and differ only in their weights."""
        n = self.samples
        x, y, ok = self._x[:n], self._y[:n], self._ok[:n]
        cnt = ok.sum(axis=0)
        fit = cnt >= self.min_samples
        if not fit.any():
            return
        tau = self.quantiles[None, :]
        scale = np.maximum(y.std(axis=0), 1e-4)
        # Pose spread decides how much the pose terms may say (ridge toward zero slopes).
        pen = np.full(N_FEATURES, self.ridge)
        pen[0] = 0.0
        # The outer products of the features, flattened (n, 16): the normal equations of every
        # measure are then one matrix product (einsum's loops cost 3 ms at 52 measures).
        xx = (x[:, :, None] * x[:, None, :]).reshape(n, N_FEATURES * N_FEATURES)
        w = self.w.copy()
        for _ in range(iterations):
            r = y - x @ w.T  # (n, m)
            # Pinball loss as weighted squares: weight tau/|r| above, (1-tau)/|r| below.
            wt = np.where(r >= 0.0, tau, 1.0 - tau) / np.maximum(np.abs(r), 0.05 * scale)
            wt *= ok
            a = (wt.T @ xx).reshape(self.m, N_FEATURES, N_FEATURES)
            rhs = (wt * y).T @ x  # (m, 4)
            # Prior: the initial value counts as prior_weight samples at the neutral pose,
            # weighted like any sample (its pull bounded as theirs is). Until 2026-12-06 it
            # was a squared pull at the samples' mean weight, which grows with its distance
            # from the fit: a face found mid-word (its mouth open) kept the lip gap's 15th
            # percentile near the 20th for the whole session (docs/face_corpus.md, "Starting
            # mid-word").
            r0 = self.initial - w[:, 0]
            w0 = np.where(r0 >= 0.0, tau[0], 1.0 - tau[0]) / np.maximum(np.abs(r0), 0.05 * scale)
            a[:, 0, 0] += self.prior_weight * w0
            rhs[:, 0] += self.prior_weight * w0 * self.initial
            typ = wt.sum(axis=0) / np.maximum(cnt, 1)
            a += pen[None, :, None] * np.eye(N_FEATURES)[None] * typ[:, None, None]
            a[~fit], rhs[~fit] = np.eye(N_FEATURES), w[~fit]  # too few readings: keep as is
            w = np.linalg.solve(a, rhs[:, :, None])[:, :, 0]
        good = fit & np.all(np.isfinite(w), axis=1)
        self.w[good] = w[good]
        self._wl = self.w.tolist()
        for j in np.nonzero(good)[0].tolist():
            self._spread_due[j] = True  # spread(j): recomputed when next asked for

    def spread(self, j: int) -> float:
        """How far measure ``j``'s readings scatter around its fitted rest: 1.4826 x the median
        absolute residual of its usable samples in the window against the last fit (robust; 0
        before the first fit). Computed when asked for, at most once per fit."""
        if self._spread_due[j]:
            n = self.samples
            use = self._ok[:n, j]
            r = self._y[:n, j][use] - self._x[:n][use] @ self.w[j]
            self._spread[j] = 1.4826 * float(np.median(np.abs(r))) if len(r) else 0.0
            self._spread_due[j] = False
        return self._spread[j]


# The rule that fuses two readings of one thing (the mouth's openness: lip gap and dark inside,
# vtuber.solvers.mouth): their Pearson correlation over the last AGREE_WINDOW frames (10 s at
# 30 fps), from AGREE_MIN_FRAMES on, and the weaker reading's share falling from full at
# AGREE_FULL to none at AGREE_NONE (:func:`trust`). The second reading is the judge (the rule
# only ever turns down the first): it must have read at least AGREE_SEEN (in the readings' units,
# 1 = fully open) on AGREE_SEEN_FRAMES of the window's frames before the two are compared, since a
# judge that has not yet shown the thing cannot say the other reading misreads it (a mouth
# inside that does not read dark at this pose and light while the lips open wide;
# docs/face_corpus.md). A judge is blind to this user (:attr:`Agreement.blind`) while the first
# reading has read at least AGREE_SEEN on AGREE_BLIND_FRAMES of the window's frames (a second of
# them: a user talking, not a landmark's slip) and the judge on fewer than AGREE_SEEN_FRAMES: an
# open mouth whose inside is no darker than the skin around it (a dark skin, a lit mouth), so
# the fusion listens to the first reading alone, through pauses, until the judge reads the thing
# on AGREE_SEEN_FRAMES of the window (the light changed) or the face is lost.
AGREE_WINDOW = 300
AGREE_MIN_FRAMES = 30
AGREE_FULL, AGREE_NONE = 0.5, 0.2
AGREE_SEEN, AGREE_SEEN_FRAMES = 0.5, 3
AGREE_BLIND_FRAMES = 30


class Agreement:
    """Pearson correlation of two readings of the same thing over their last ``window`` samples
    (running sums), so a fusion can tell, per user, when one reading has stopped following the
    other (a landmark model misreading this face's mouth, say) and listen to the other alone.
    ``add`` returns None while fewer than ``min_samples`` pairs are in, either reading barely
    moves (std under 0.01 / 0.005), or the second reading (the judge) has read ``seen`` or more
    on fewer than ``seen_samples`` of the pairs in the window. :attr:`blind`: the judge cannot
    see the thing for this user (the first reading has read ``seen`` or more on at least
    ``blind_samples`` of the window's pairs, the judge on fewer than ``seen_samples``), until
    the judge has read it on ``seen_samples`` of them."""

    def __init__(
        self,
        window: int = AGREE_WINDOW,
        min_samples: int = AGREE_MIN_FRAMES,
        seen: float = AGREE_SEEN,
        seen_samples: int = AGREE_SEEN_FRAMES,
        blind_samples: int = AGREE_BLIND_FRAMES,
    ) -> None:
        self.window, self.min_samples = window, min_samples
        self.seen, self.seen_samples = seen, seen_samples
        self.blind_samples = blind_samples
        self._buf = np.zeros((window, 2))
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._s = [0.0] * 5  # sum x, y, xx, yy, xy
        self._seen = 0  # pairs in the window whose second reading is >= seen
        self._seen_first = 0  # ... whose first reading is
        self._blind = False

    @property
    def blind(self) -> bool:
        """The first reading has shown the thing often in the window and the judge has not; it
        stays so through the quiet that follows (a mouth closed for 10 s does not make the
        darkness see) until the judge shows the thing or :meth:`reset`."""
        return self._blind

    def add(self, x: float, y: float) -> float | None:
        """Add one pair; the correlation (None while too few samples or no variation)."""
        k = self._n % self.window
        if self._n >= self.window:
            ox, oy = self._buf[k]
            self._update(-ox, -oy, -1.0)
            self._seen -= int(oy >= self.seen)
            self._seen_first -= int(ox >= self.seen)
        self._buf[k] = (x, y)
        self._update(x, y, 1.0)
        self._seen += int(y >= self.seen)
        self._seen_first += int(x >= self.seen)
        self._n += 1
        if self._seen >= self.seen_samples:
            self._blind = False
        elif self._seen_first >= self.blind_samples:
            self._blind = True
        n = min(self._n, self.window)
        if n < self.min_samples or self._seen < self.seen_samples:
            return None
        sx, sy, sxx, syy, sxy = self._s
        vx, vy = sxx - sx * sx / n, syy - sy * sy / n
        if vx <= 1e-4 * n or vy <= 2.5e-5 * n:
            return None
        return (sxy - sx * sy / n) / (vx * vy) ** 0.5

    def _update(self, x: float, y: float, sign: float) -> None:
        s = self._s
        s[0] += x
        s[1] += y
        s[2] += sign * x * x
        s[3] += sign * y * y
        s[4] += sign * x * y


def trust(r: float, none: float, full: float) -> float:
    """How much to listen to a reading whose measure of trust (its correlation with another, an
    eye's visibility) is ``r``: 0 at ``none`` or below, 1 at ``full`` or above, linear between
    (a step at ``full`` when the two are equal)."""
    if full <= none:
        return 1.0 if r >= full else 0.0
    return min(max((r - none) / (full - none), 0.0), 1.0)


class BlinkDepth:
    """How far an eye's aperture falls in a blink, relative to its open level (``kappa``:
    closed / open aperture). FaceMesh keeps anything from 5 % to 70 % of the open aperture on a
    closed eye, depending on the face (lashes, lid shape, makeup), so this is learned from the
    user's own blinks: a blink is a brief dip of the relative aperture (below ``1 - drop`` for
    at most ``max_len`` frames, back above ``1 - drop / 2`` on both sides, where ``drop`` is
    ``min_drop`` or ``k_sigma`` times the aperture's own frame-to-frame noise, whichever is
    larger) and gives its bottom; ``kappa`` is a low percentile of the recent bottoms (partial
    blinks give higher ones). Until ``min_dips`` blinks are seen it moves from ``prior`` toward
    what was seen."""

    def __init__(
        self,
        prior: float,
        *,
        min_drop: float = 0.16,
        k_sigma: float = 4.0,
        max_len: int = 24,
        keep: int = 15,
        min_dips: int = 3,
        percentile: float = 30.0,
    ) -> None:
        self.prior, self.min_drop, self.max_len = prior, min_drop, max_len
        self.k_sigma = k_sigma
        self.keep, self.min_dips, self.percentile = keep, min_dips, percentile
        self.reset()

    def reset(self, prior: float | None = None) -> None:
        if prior is not None:
            self.prior = prior
        self._armed = False  # seen the eye open since the last dip
        self._low = math.inf
        self._len = 0
        self.sigma = 0.05  # robust noise of the open aperture (relative), learned
        self._n_open = 0  # open-eye frames seen
        self.dips: list[float] = []
        self.kappa = self.prior

    @property
    def open_frames(self) -> int:
        """How many open-eye frames this eye has been seen in."""
        return self._n_open

    def add(self, rel: float) -> None:
        """Feed one frame's aperture over the open level."""
        dev = abs(rel - 1.0)
        if dev < 0.3:  # an open eye: track its noise (mean absolute deviation * 1.25 ~ sigma)
            # A running mean while the samples are few (the starting sigma counts as one), then
            # an exponential average: a made-up start must not pass for the user's noise.
            self._n_open += 1
            self.sigma += max(0.02, 1.0 / (self._n_open + 1)) * (1.25 * dev - self.sigma)
        drop = max(self.min_drop, self.k_sigma * self.sigma)
        if rel < 1.0 - drop:
            if self._armed:
                self._len += 1
                self._low = min(self._low, rel)
            return
        if rel > 1.0 - 0.5 * drop:
            if self._len and self._len <= self.max_len:
                self._record(self._low)
            self._armed = True
            self._len = 0
            self._low = math.inf

    def _record(self, bottom: float) -> None:
        self.dips.append(max(bottom, 0.0))
        if len(self.dips) > self.keep:
            del self.dips[0]
        k = len(self.dips)
        low = float(np.percentile(self.dips, self.percentile))
        a = min(1.0, k / self.min_dips)
        self.kappa = (1.0 - a) * self.prior + a * low


class RestingHead:
    """Where the user's head rests, learned slowly (a webcam above or below the screen makes a
    user who faces the screen look down or up at the camera; the avatar should face forward).

    The rest is the interquartile mean rotation vector of the head over the frames where it was
    still (turning slower than ``still_dps``) in the last ``window_s`` seconds. It is applied only
    after ``min_evidence_s`` seconds of still frames, only when it lies more than
    ``dead_zone_deg`` from straight ahead (people look around a screen; a head that merely
    wanders is left alone), and then at no more than ``rate_dps``, so the avatar never jumps.
    :attr:`offset` is the rotation vector (radians, the head's frame of
    :meth:`vtuber.solvers.head.HeadTracker.avatar_rotation`) to remove from every frame.
    """

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        min_evidence_s: float = 20.0,
        dead_zone_deg: float = 6.0,
        still_dps: float = 15.0,
        rate_dps: float = 2.0,
    ) -> None:
        self.window_s, self.min_evidence_s = window_s, min_evidence_s
        self.dead_zone = math.radians(dead_zone_deg)
        self.still = math.radians(still_dps)
        self.rate = math.radians(rate_dps)
        self.reset()

    def reset(self) -> None:
        self._times: deque[float] = deque()
        self._vecs: deque[tuple[float, float, float]] = deque()
        self._prev: tuple[float, tuple[float, float, float]] | None = None
        self.offset = (0.0, 0.0, 0.0)
        self._target = (0.0, 0.0, 0.0)
        self._last_t: float | None = None
        self._n = 0

    def update(self, t: float, rotvec: tuple[float, float, float]) -> tuple[float, float, float]:
        """Feed the head rotation (rotation vector, radians) at time ``t``; the offset to remove."""
        prev, self._prev = self._prev, (t, rotvec)
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        if prev is not None and t > prev[0]:
            d = math.dist(rotvec, prev[1]) / (t - prev[0])
            if d < self.still:
                self._times.append(t)
                self._vecs.append(rotvec)
        while self._times and self._times[0] < t - self.window_s:
            self._times.popleft()
            self._vecs.popleft()
        self._n += 1
        if self._n % 15 == 0:  # the median every half second is plenty for a slow drift
            target = (0.0, 0.0, 0.0)
            if len(self._times) >= 2 and self._evidence() >= self.min_evidence_s:
                # The interquartile mean: robust to glances, and unlike the median it does not
                # jump between two places the head alternates between.
                v = np.sort(np.asarray(self._vecs), axis=0)
                k = len(v) // 4
                med = v[k : len(v) - k].mean(axis=0)
                if float(np.linalg.norm(med)) > self.dead_zone:
                    target = (float(med[0]), float(med[1]), float(med[2]))
            self._target = target
        target = self._target
        step = self.rate * dt
        diff = [a - b for a, b in zip(target, self.offset, strict=True)]
        n = math.sqrt(sum(x * x for x in diff))
        if n > step > 0.0:
            diff = [x * step / n for x in diff]
        elif step == 0.0:
            diff = [0.0, 0.0, 0.0]
        self.offset = (
            self.offset[0] + diff[0],
            self.offset[1] + diff[1],
            self.offset[2] + diff[2],
        )
        return self.offset

    def _evidence(self) -> float:
        """Seconds of still frames in the window (frames counted at their median spacing)."""
        if len(self._times) < 2:
            return 0.0
        gaps = np.diff(np.asarray(self._times))
        return float(len(self._times) * np.median(gaps))


class StartingHead:
    """The user's neutral head: their first head reading in front of the camera.

    A user starts tracking facing their screen, wherever the camera is (above, below or beside
    it). :class:`vtuber.solvers.head.HeadTracker` measures the head relative to its ``neutral``
    and corrects FaceMesh's biases around it; on the face corpus's training faces, whose resting
    head is up to 32° from the camera axis, correcting around the user's own resting reading
    instead of the camera axis cut the mean head error from 3.0° to 2.3° (docs/face_corpus.md).
    So until a profile or a live calibration says otherwise, the first reading of a face is the
    neutral (from the first frame on, the avatar faces forward). The first reading alone was
    chosen on the training faces only: mean error 2.29° there, against 2.40° for the median of
    the first 0.3 s and 2.67° for the first 1 s (the longer windows take in the start of the
    performer's first movement). :class:`RestingHead` then follows a rest that moves later in
    the session.
    """

    def __init__(self) -> None:
        self.done = False

    def reset(self) -> None:
        """Learn afresh (a new person may sit down)."""
        self.done = False

    def update(self, rotation: F64) -> F64:
        """Feed the head reading (3x3, model -> camera) of a frame with a face; the neutral."""
        self.done = True
        return rotation
