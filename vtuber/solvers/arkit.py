"""Perfect sync: calibrate the Face Landmarker's 52 raw ARKit coefficients and derive VRM presets.

Input: the raw coefficients of :class:`vtuber.landmarks.FaceLandmarks` (``blendshapes``, (52,),
:data:`vtuber.rig.ARKIT_NAMES` order, each in [0, 1], sides are the PERSON's own: eyeBlinkLeft =
the person's left eye). Output: weights in [0, 1] by key: the 52 ARKit names (calibrated) and the
VRM 1.0 presets derived from them (blink, blinkLeft/Right, aa/ih/ou/ee/oh, happy/angry/sad/relaxed),
still anatomical (the pipeline's mirror swaps the Left/Right keys).

Why a remap: the model's scores are compressed and offset per face. Measured on rendered faces
(docs/perfect_sync.md): eyeBlink about 0.09 open vs 0.38 closed; jawOpen about 0.001 closed vs 0.1
half open; a real person at rest shows eyeSquint 0.3-0.6 and mouthSmile up to 0.3. Perfect-sync
apps calibrate each coefficient from the user's rest value to a reachable maximum; so does this:

    n = (raw - low) / (reach - low);   out = clip((n - dead_zone) / (1 - dead_zone), 0, 1)

``low`` is the user's rest value (median over the first frames of a session, lowered later where
the face is seen resting lower; or an explicit calibration), EXCEPT for the eyelids
(eyeBlinkLeft/Right): a rest value captured with drowsy or narrow eyes (or during a blink) would
leave little or no range, and the avatar would stop blinking.
Their ``low`` is each eye's OPEN level, learned online (:class:`OpenEyeLevel`): a low percentile of
that eye's recent scores, since eyes are open most of the time and blinks are short; it is bounded
to plausible open-eye values, and a profile may pin it. A wink's cross-talk into the open eye is
removed first (:data:`EYELID_CROSSTALK`). ``reach`` is a per-coefficient default of what a face can
reach (for the eyelids at least :data:`EYELID_MARGIN` above the open level). Constants and
measurements: docs/perfect_sync.md.

In the tracker the eyelids and the jaw are then replaced by their :class:`Fusion` with the
geometric solvers' readings of the same landmarks (:class:`Geometry`): each source normalised by
this user's own learned levels, then averaged, and a closing eyelid led by half a step of its
change (docs/perfect_sync.md section 3b).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from vtuber.rig import ARKIT_NAMES
from vtuber.solvers.adaptation import PoseBaseline

F32 = NDArray[np.float32]

IDX = {name: i for i, name in enumerate(ARKIT_NAMES)}
N = len(ARKIT_NAMES)

EYELIDS = ("eyeBlinkLeft", "eyeBlinkRight")
_EYELID_IDX = np.array([IDX[n] for n in EYELIDS])

# Eyelids (raw eyeBlink after the cross-talk correction). Measured on rendered closures
# (docs/perfect_sync.md): the open eye 0.01-0.09 (10-90 %), 30 % closed 0.06-0.14, 70 % closed
# 0.13-0.29, closed 0.29-0.51; the best split of "more than half closed" lies 0.10-0.12 above
# each eye's open level. Real open eyes measured 0.05-0.25 (the shared clip: left eye median 0.19,
# right 0.10), hence a per-eye open level learned online rather than a fixed one.
# EYELID_OPEN: the open level until one is learned (and a pinned level's usual value).
EYELID_OPEN = 0.07
# The closed end lies EYELID_MARGIN above the open level (a calibrated reach may raise it), so the
# sent value crosses 0.5 at open + 0.525 * margin = open + 0.105 (dead zone 0.05).
EYELID_MARGIN = 0.20
EYELID_CLOSED = EYELID_OPEN + EYELID_MARGIN  # the default eyelid reach
# Learned open level: this percentile of the last EYELID_WINDOW frames' scores of each eye
# (300 frames = 10 s at 30 fps), from the first frame on, bounded to
# [EYELID_OPEN_MIN, EYELID_OPEN_MAX]. Eyes held closed or half closed for most of the window
# (dozing, a long look down) cannot teach "open" beyond the cap, so a full closure (raw >= 0.45)
# still reaches 1.
EYELID_PERCENTILE = 25.0
EYELID_WINDOW = 300
EYELID_MIN_SAMPLES = 1
EYELID_OPEN_MIN = 0.03
EYELID_OPEN_MAX = 0.25
# When one eye closes, the model raises the other eye's score too (by ~0.3 of the difference on
# renders); this fraction of the excess of the other eye is taken off (a wink stays a wink).
EYELID_CROSSTALK = 0.3

# Default reachable raw maxima. MediaPipe's scores for a full expression: smiles ~0.9, most mouth
# and brow shapes 0.4-0.7; jawOpen ~0.1 half open, 0.3-0.5 wide open on renders.
DEFAULT_REACH = 0.6
_REACH_OVERRIDES: dict[str, float] = {
    "eyeBlinkLeft": EYELID_CLOSED,
    "eyeBlinkRight": EYELID_CLOSED,
    "jawOpen": 0.45,
    # Brows rise by 0.3-0.45 raw on a neutral face merely turned 15-20 deg (renders).
    "browOuterUpLeft": 0.9,
    "browOuterUpRight": 0.9,
    "browInnerUp": 0.9,
    "mouthSmileLeft": 0.85,
    "mouthSmileRight": 0.85,
    "eyeSquintLeft": 1.0,
    "eyeSquintRight": 1.0,
    "eyeLookDownLeft": 0.7,
    "eyeLookDownRight": 0.7,
    "eyeLookUpLeft": 0.5,
    "eyeLookUpRight": 0.5,
    # Sideways gaze: a face turned 18 deg with its eyes fixed in the head reads 0.35 raw.
    "eyeLookInLeft": 0.8,
    "eyeLookInRight": 0.8,
    "eyeLookOutLeft": 0.8,
    "eyeLookOutRight": 0.8,
}
# The smallest raw range kept between rest and reach for all but the eyelids: a face that rests
# high on a shape (a smiling photo: mouthUpperUp 0.47) must not have its noise amplified.
MIN_RANGE = 0.3


def default_reach() -> F32:
    r = np.full(N, DEFAULT_REACH, np.float32)
    for k, v in _REACH_OVERRIDES.items():
        r[IDX[k]] = v
    return r


@dataclass
class ArkitCalibration:
    """Per-user remap of the raw coefficients (all arrays (52,), ARKit order, raw units).

    rest: the user's neutral-face raw values (ignored for the eyelids, see the module doc).
    reach: raw value that maps to 1.
    dead_zone: fraction of the range that still maps to 0 (hides rest jitter), in [0, 0.5).
    eyelid_open: the eyelids' low end (raw eyeBlink of an open eye), the same for both eyes,
        PINNED (a profile's value); None (the default): learned per eye by :class:`ArkitSolver`
        (:meth:`set_open_eyes`), :data:`EYELID_OPEN` until then.
    """

    rest: F32 = field(default_factory=lambda: np.zeros(N, np.float32))
    reach: F32 = field(default_factory=default_reach)
    dead_zone: float = 0.05
    eyelid_open: float | None = None

    def __post_init__(self) -> None:
        self.rest = np.asarray(self.rest, np.float32).reshape(N)
        self.reach = np.asarray(self.reach, np.float32).reshape(N)
        if not 0.0 <= self.dead_zone < 0.5:
            raise ValueError("dead_zone must be in [0, 0.5)")
        self._open_eyes = np.full(2, EYELID_OPEN, np.float32)
        self._update_bounds()

    def _update_bounds(self) -> None:
        low = self.rest.copy()
        # Keep at least MIN_RANGE of travel; a rest above the reach lifts the reach.
        self._low = low
        self._span = np.maximum(self.reach - low, MIN_RANGE).astype(np.float32)

    @property
    def open_eyes(self) -> F32:
        """The eyelids' current low ends (raw eyeBlink of the open (left, right) eye)."""
        if self.eyelid_open is not None:
            return np.full(2, self.eyelid_open, np.float32)
        return self._open_eyes

    def set_open_eyes(self, left: float, right: float) -> None:
        """Learned open levels of the person's (left, right) eye (ignored while pinned)."""
        self._open_eyes = np.array([left, right], np.float32)

    def set_rest(self, rest: F32) -> None:
        self.rest = np.asarray(rest, np.float32).reshape(N)
        self._update_bounds()

    @classmethod
    def from_neutral(cls, samples: Iterable[F32], dead_zone: float = 0.05) -> ArkitCalibration:
        """Calibration whose rest is the per-coefficient median of neutral-face samples."""
        arr = np.asarray(list(samples), np.float32).reshape(-1, N)
        return cls(rest=np.median(arr, axis=0), dead_zone=dead_zone)

    def to_dict(self) -> dict[str, object]:
        """JSON/TOML-ready form: {"rest": {name: v}, "reach": {name: v}, "dead_zone": v} and
        "eyelid_open": v only when pinned (absent: learned)."""
        d: dict[str, object] = {
            "rest": {n: round(float(v), 5) for n, v in zip(ARKIT_NAMES, self.rest, strict=True)},
            "reach": {n: round(float(v), 5) for n, v in zip(ARKIT_NAMES, self.reach, strict=True)},
            "dead_zone": self.dead_zone,
        }
        if self.eyelid_open is not None:
            d["eyelid_open"] = self.eyelid_open
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> ArkitCalibration:
        rest = np.zeros(N, np.float32)
        reach = default_reach()
        for name, v in dict(d.get("rest", {})).items():  # type: ignore[call-overload]
            rest[IDX[name]] = float(v)
        for name, v in dict(d.get("reach", {})).items():  # type: ignore[call-overload]
            reach[IDX[name]] = float(v)
        eo = d.get("eyelid_open")
        return cls(
            rest=rest,
            reach=reach,
            dead_zone=float(d.get("dead_zone", 0.05)),  # type: ignore[arg-type]
            eyelid_open=None if eo is None else float(eo),  # type: ignore[arg-type]
        )

    def remap(self, raw: F32) -> F32:
        """Calibrated weights (52,) in [0, 1] from raw coefficients (52,)."""
        x = np.asarray(raw, np.float32).copy()
        x[_EYELID_IDX] = eyelid_scores(x)
        low, span = self._low.copy(), self._span.copy()
        # Eyelids: from the open level to max(reach, open + margin).
        open_ = self.open_eyes
        low[_EYELID_IDX] = open_
        span[_EYELID_IDX] = np.maximum(self.reach[_EYELID_IDX] - open_, EYELID_MARGIN)
        n = (x - low) / span
        dz = self.dead_zone
        return np.clip((n - dz) / (1.0 - dz), 0.0, 1.0).astype(np.float32)


def eyelid_scores(raw: F32) -> F32:
    """The person's (left, right) eyeBlink with a wink's cross-talk removed (raw units):
    ``b -= EYELID_CROSSTALK * max(b_other - b, 0)``."""
    b = np.asarray(raw, np.float32)[_EYELID_IDX]
    return (b - EYELID_CROSSTALK * np.maximum(b[::-1] - b, 0.0)).astype(np.float32)


def column_percentile(rows: F32, percentile: float) -> F32:
    """The k-th smallest of each column of ``rows`` (n, m), k = round(percentile% of n - 1)
    (np.partition: O(n), no interpolation)."""
    k = int(round(percentile / 100.0 * (len(rows) - 1)))
    return np.partition(rows, k, axis=0)[k]


class RecentQuantile:
    """A low percentile of each column of the last ``window`` rows added
    (:func:`column_percentile`), None until ``min_samples`` rows are in."""

    def __init__(self, columns: int, window: int, percentile: float, min_samples: int = 1) -> None:
        self.window, self.percentile, self.min_samples = window, percentile, min_samples
        self._buf = np.zeros((window, columns), np.float32)
        self._n = 0  # rows seen (the ring's next slot is _n % window)

    def reset(self) -> None:
        self._n = 0

    def add(self, row: F32) -> None:
        self._buf[self._n % self.window] = row
        self._n += 1

    def value(self) -> F32 | None:
        n = min(self._n, self.window)
        if n < self.min_samples:
            return None
        return column_percentile(self._buf[:n], self.percentile)


class OpenEyeLevel:
    """Each eye's open level, learned online: the ``percentile`` of its last ``window`` scores
    (raw eyeBlink after the cross-talk correction), bounded to [``low``, ``high``]; None until
    ``min_samples`` frames are seen. Blinks are short and eyes open most of the time, so a low
    percentile follows the open eye and ignores the blinks (and the rest is never used)."""

    def __init__(
        self,
        window: int = EYELID_WINDOW,
        percentile: float = EYELID_PERCENTILE,
        min_samples: int = EYELID_MIN_SAMPLES,
        low: float = EYELID_OPEN_MIN,
        high: float = EYELID_OPEN_MAX,
    ) -> None:
        self.low, self.high = low, high
        self._recent = RecentQuantile(2, window, percentile, min_samples)

    def reset(self) -> None:
        self._recent.reset()

    def update(self, scores: F32) -> F32 | None:
        """Add one frame's (left, right) scores; the (left, right) open levels or None."""
        self._recent.add(scores)
        level = self._recent.value()
        return None if level is None else np.clip(level, self.low, self.high).astype(np.float32)


# ---- A warm-up that was not at rest (docs/perfect_sync.md section 3d): a user smiling, talking or
# looking away while tracking starts. The warm-up's rest (the median of its frames) is lowered,
# shape by shape, by how far the warm-up's low end lies above the session's at rest:
# FLOOR_PERCENTILE of the warm-up's frames against the same percentile of the last FLOOR_WINDOW
# frames (20 s at 30 fps) with the mouth closed (the jaw sent under FLOOR_JAW: talking lowers
# some shapes, mouthRollLower and mouthPress) and the head within FLOOR_POSE radians (yaw, pitch)
# of the warm-up's median pose (the model reads a still face differently at other poses), less
# FLOOR_MARGIN (two samples of a still face differ by chance). It only ever lowers the warm-up's
# rest, and a low end that rises again gives the rest back. Checked every FLOOR_EVERY frames.
# Chosen on the face corpus's training faces (docs/perfect_sync.md section 3d has the grid).
FLOOR_PERCENTILE = 25.0
FLOOR_WINDOW = 600
FLOOR_POSE = 0.1
FLOOR_JAW = 0.2
FLOOR_MARGIN = 0.05
FLOOR_EVERY = 30


class RestFloor:
    """The evidence that a warm-up was not at rest: how far to lower its rest (module constants
    above). ``add`` every frame with a face, ``warm_up_done`` once with the warm-up's
    coefficients, then ``lowering``."""

    def __init__(self) -> None:
        self._session = RecentQuantile(N, FLOOR_WINDOW, FLOOR_PERCENTILE)
        self.reset()

    def reset(self) -> None:
        self._session.reset()
        self._warm: list[tuple[float, float, bool]] = []  # per warm-up frame: yaw, pitch, closed
        self._pose: tuple[float, float] | None = None  # the warm-up's median (yaw, pitch)
        self._warm_low: F32 | None = None

    def _near(self, yaw: float, pitch: float) -> bool:
        assert self._pose is not None
        return math.hypot(yaw - self._pose[0], pitch - self._pose[1]) < FLOOR_POSE

    def add(self, raw: F32, pose: tuple[float, float], closed: bool) -> None:
        """One frame's raw coefficients, head (yaw, pitch) and whether its mouth is closed."""
        if self._pose is None:
            self._warm.append((pose[0], pose[1], closed))
        elif closed and self._near(*pose):
            self._session.add(raw)

    def warm_up_done(self, samples: F32) -> None:
        """The frames added so far were the warm-up, whose raw coefficients are ``samples``
        (n, 52), in order: its low end and median pose."""
        self._warm_low = column_percentile(samples, FLOOR_PERCENTILE)
        y, p = np.median(np.array([(w[0], w[1]) for w in self._warm]), axis=0)
        self._pose = (float(y), float(p))
        for r, (yaw, pitch, closed) in zip(samples, self._warm, strict=True):
            if closed and self._near(yaw, pitch):  # its frames at rest count in the session's
                self._session.add(r)
        self._warm = []

    def lowering(self) -> F32:
        """How far (raw units, >= 0, per coefficient) the warm-up's rest lies above what this
        session has shown of the face at rest."""
        low = self._session.value()
        if self._warm_low is None or low is None:
            return np.zeros(N, np.float32)
        return np.maximum(self._warm_low - low - FLOOR_MARGIN, 0.0).astype(np.float32)


# ---- Perfect sync with the geometry of the same landmarks (ArkitSolver.update(raw, geometry)).
# The model's eyelid and jaw scores and the geometric solvers' readings of the landmarker's own
# 478 points are each normalised by this user's own levels and then averaged (docs/perfect_sync.md
# section 3b). The weights and levels below were chosen on the face corpus's TRAINING identities
# only (benchmarks/fit_perfect_sync.py).
# Eyelids: sent = FUSE_EYE_GEOMETRY * geometric closure + (1 - it) * the model's closure, where
# the model's closure is (eyeBlink - open level at this head pose) / span.
FUSE_EYE_GEOMETRY = 0.8
# The model's open level: this quantile of its recent eyeBlink scores as a linear function of the
# head pose (vtuber.solvers.adaptation.PoseBaseline; the model reads a face tilted down as more
# closed), bounded to [EYELID_OPEN_MIN, FUSED_OPEN_MAX] (a training face's open eyes read up to
# 0.33 raw).
FUSED_OPEN_QUANTILE = 0.25
FUSED_OPEN_MAX = 0.35
# The model's closure is its excess over the open level over EYELID_MARGIN (half closed at
# +0.10: the model's response to a closing lid is convex, a half-closed eye scores ~0.3 of a
# closed eye's excess, so a span learned from full closures would put "half" too high; tried).
# Lead: the fused eyelid is led by one step of its own change, x + k * (x - x_prev), k =
# EYE_LEAD_RISE while it rises and EYE_LEAD_FALL while it falls. Until v7 it undid the landmarker's
# in-graph smoothing lag (k 1.0 / 0.5); the backend now spaces its timestamps so that MediaPipe's
# filter passes each frame's own landmarks (vtuber/landmarks/face_landmarker.py FRAME_STEP_MS),
# and on those unsmoothed readings the training faces choose a smaller lead on the rise only
# (a closing lid is still under-read on its first frames) and none on the fall (the first open
# frames after a blink no longer read closed); docs/perfect_sync.md section 3b, v8. Not for the
# jaw: talking is slower than a blink, and leading it added more noise than it removed (training
# Spearman fell).
EYE_LEAD_RISE = 0.5
EYE_LEAD_FALL = 0.0
# Where the open level is a guess: PoseBaseline fits it as a linear function of the pose, so at a
# head pose the session has seen little of (turned and tilted further than before) the level is
# extrapolated, and the model's eyeBlink there can exceed it on an open eye. The model's excess
# is scaled by the support: the frames in the baseline's window (PoseBaseline.near) whose yaw and
# pitch lie within SUPPORT_RADIUS (radians) of this frame's, over SUPPORT_FULL (fewer: a
# proportional share; the geometry still carries FUSE_EYE_GEOMETRY, so a full closure it sees is
# still sent). Until SUPPORT_AFTER frames are seen every pose counts as supported (the first
# guess rules anyway). Radius and count chosen on the training faces (docs/perfect_sync.md
# section 3b, v5).
SUPPORT_RADIUS = 0.2
SUPPORT_FULL = 10
SUPPORT_AFTER = 30
# Where the two readings contradict: the model's blendshapes are computed from the same
# landmarks the geometry measures, so a model closure far above the geometric closure of the same
# lid points is not about the lids (biden's left eye on a validation render: eyeBlink 0.45-0.77 on
# an open eye at yaw 22-32 deg, pitch +12-17 deg, while the lid points read 0.0-0.3 closed;
# docs/perfect_sync.md section 3b, v6). So the model's closure may exceed the geometry's by at
# most EYE_MODEL_BEYOND (in closures: 1.0 = one full closure, the model alone can no longer close
# an eye its own lid points show open); where the lids are seen to close, more of its excess
# counts. Training faces: no frame has the model above one closure with the lids under 0.3 closed;
# the bound changes 5 of their 6,000 fused eyelid values, by <= 0.03 and none across 0.5 (F1
# unchanged; 0.5 would lower it, 0.9271 -> 0.9252), so it is chosen for its reason.
EYE_MODEL_BEYOND = 1.0
# Jaw: the model splits a jaw drop between jawOpen and mouthLowerDown (on the training faces their
# sum jawOpen + (lowerDownL + lowerDownR) / 2 follows the true opening better than jawOpen alone:
# Spearman 0.86 vs 0.76 mean); its rest is the JAW_REST_QUANTILE of that sum at the head pose,
# and JAW_MODEL_FULL above the rest is a full opening (the training faces' median at a 1.6 cm drop).
JAW_REST_QUANTILE = 0.1
JAW_MODEL_FULL = 0.5
# sent = FUSE_JAW_GEOMETRY * geometric jaw + (1 - it) * the model's. Until 2026-12-05 the
# geometry's weight fell to 0 while the two stopped agreeing (their correlation over 10 s, the
# rule the mouth's openness uses for its lips and darkness): it was built when the geometric jaw
# was the lip gap alone, which a resting smile with teeth inverts. The geometric openness now
# checks its lips against the dark inside of the mouth itself (vtuber.solvers.mouth), so it no
# longer inverts there, and the rule, which never fired on a training face, handed the jaw to the
# weaker reading where it did (docs/perfect_sync.md section 10k).
FUSE_JAW_GEOMETRY = 0.7
# The geometric openness is a vertical gap in the image, and a jaw opens by swinging the chin down
# AND back around its hinge (the renders' chin moves 0.3 cm back per cm down; a real lower lip
# more), so the gap the camera sees shrinks when the head tilts down (the path turns toward the
# camera) and grows when it tilts up: measured / true ~ cos(a - pitch) / cos(a), a the path's
# angle from the face's vertical. The geometric jaw is divided by that factor (pitch: the head's,
# relative to the user's neutral, up > 0). JAW_PATH_DEG is fitted on the training faces to the
# geometry's own under-read at each pitch, not to the fused score: the slope of its reading over
# the true opening against a level head's, median over the training sequences, 0.69 / 0.79 /
# 0.85 at 18 / 12 / 7 deg down, 1.09 / 1.02 at 7 / 12 deg up; least squares a = 36 deg
# (benchmarks/fit_perfect_sync.py). JAW_PATH_MAX bounds the angle so the factor stays finite.
JAW_PATH_DEG = 36.0
JAW_PATH_MAX = math.radians(75.0)
_JAW_IDX = IDX["jawOpen"]
_LOWER_IDX = np.array([IDX["mouthLowerDownLeft"], IDX["mouthLowerDownRight"]])


@dataclass(frozen=True, slots=True)
class Geometry:
    """What the geometric face solvers read on the same landmarks this frame.

    closure: each eye's raw closure (the person's left, right), 0 open .. 1 as closed as the
        user's own blinks (:func:`vtuber.solvers.eyes.closure`, adapted per user).
    jaw: the mouth openness 0..1 over the user's rest (vtuber.solvers.mouth).
    pose: :func:`vtuber.solvers.adaptation.pose_features` of the head's yaw / pitch.
    """

    closure: tuple[float, float]
    jaw: float
    pose: tuple[float, float, float, float]


def jaw_path_gain(pitch: float) -> float:
    """What the geometric openness is multiplied by at head ``pitch`` (radians, up > 0) to undo
    the jaw path's foreshortening: cos(a) / cos(a - pitch), a = JAW_PATH_DEG (above)."""
    a = math.radians(JAW_PATH_DEG)
    return math.cos(a) / math.cos(min(max(a - pitch, -JAW_PATH_MAX), JAW_PATH_MAX))


class Fusion:
    """Per-user normalisation of the model's eyelid and jaw evidence, fused with the geometry
    (module constants above). ``pinned_open``: a profile's eyelid open level (no learning)."""

    def __init__(self) -> None:
        # Refit once a second (30 frames): a fit costs ~1.7 ms, the levels move slowly.
        self._levels = PoseBaseline(
            [FUSED_OPEN_QUANTILE, FUSED_OPEN_QUANTILE, JAW_REST_QUANTILE],
            [EYELID_OPEN] * 2 + [0.0],
            every=30,
        )
        self.reset()

    def support(self, pose: tuple[float, float, float, float]) -> float:
        """The share of the model's eyelid excess trusted at this pose (SUPPORT_* above), from
        the frames before this one."""
        return self._levels.support(pose, SUPPORT_RADIUS, SUPPORT_FULL, SUPPORT_AFTER)

    def reset(self) -> None:
        """Forget this user (a new face)."""
        self._started = False
        self._prev_eyes: list[float | None] = [None, None]  # last fused eyelids, before the lead

    def update(
        self, raw: F32, geo: Geometry, dead_zone: float, pinned_open: float | None
    ) -> tuple[float, float, float]:
        """The fused (left eyelid, right eyelid, jaw) weights in [0, 1] for one frame."""
        bl, br = float(raw[IDX["eyeBlinkLeft"]]), float(raw[IDX["eyeBlinkRight"]])
        jaw = float(raw[_JAW_IDX]) + 0.5 * float(raw[_LOWER_IDX[0]] + raw[_LOWER_IDX[1]])
        if not self._started:  # the first frame is the first guess of every level
            self._started = True
            first = min(max(bl, EYELID_OPEN_MIN), FUSED_OPEN_MAX)
            self._levels.reset([first, min(max(br, EYELID_OPEN_MIN), FUSED_OPEN_MAX), jaw])
        lo_l, lo_r, jaw_rest = self._levels.predict(geo.pose)
        # A pinned open level (a profile) is no guess: the whole excess counts.
        c = self.support(geo.pose) if pinned_open is None else 1.0
        self._levels.add(geo.pose, (bl, br, jaw))
        if pinned_open is not None:
            lo_l = lo_r = pinned_open
        out = []
        for e, (b, lo) in enumerate(((bl, lo_l), (br, lo_r))):
            lo = min(max(lo, EYELID_OPEN_MIN), FUSED_OPEN_MAX)
            m = (b - lo) / EYELID_MARGIN
            if m > 0.0:
                m *= c
            g = geo.closure[e]
            m = min(m, g + EYE_MODEL_BEYOND)  # a contradiction: the lid points rule (above)
            x = FUSE_EYE_GEOMETRY * g + (1.0 - FUSE_EYE_GEOMETRY) * m
            prev, self._prev_eyes[e] = self._prev_eyes[e], x
            if prev is not None:  # lead a closing lid (module constants above)
                x += (EYE_LEAD_RISE if x > prev else EYE_LEAD_FALL) * (x - prev)
            out.append(x)
        m_jaw = min(max((jaw - jaw_rest) / JAW_MODEL_FULL, 0.0), 1.5)
        g_jaw = geo.jaw * jaw_path_gain(geo.pose[2])
        out.append(FUSE_JAW_GEOMETRY * g_jaw + (1.0 - FUSE_JAW_GEOMETRY) * m_jaw)
        # A dead zone at both ends, symmetric, so that 0.5 stays where it was.
        k = 1.0 / (1.0 - 2.0 * dead_zone)
        l_, r_, j_ = (min(max((x - dead_zone) * k, 0.0), 1.0) for x in out)
        return l_, r_, j_


# The emotion presets derive_presets produces (each can be switched off, like FaceConfig's).
EMOTIONS = ("happy", "angry", "sad", "relaxed")
# The vowels are mouth openings: every one of them is scaled by min(1, jawOpen / VOWEL_OPEN), so
# a closed mouth sends none (a smiling or puckered closed mouth is an expression, not I or U; the
# issue-12 failure "a resting smile gets I/E shapes at rest"). The jaw sent here has already
# passed the fusion's dead zone, so any opening counts; the ramp only keeps I and U (small
# openings) from switching on in one step.
VOWEL_OPEN = 0.1


# What a covered eye takes from the other (tracker: a hand in front of it,
# vtuber.solvers.eyes.eyes_covered): (into, from) coefficient indices, the person's left eye
# first. The lids and the vertical gaze are the same name on the other side; for the same gaze
# one eye looks in where the other looks out.
_EYE_SHARE = tuple(
    tuple(
        (IDX[f"{into}{side}"], IDX[f"{src}{other}"])
        for into, src in (
            ("eyeBlink", "eyeBlink"),
            ("eyeSquint", "eyeSquint"),
            ("eyeWide", "eyeWide"),
            ("eyeLookUp", "eyeLookUp"),
            ("eyeLookDown", "eyeLookDown"),
            ("eyeLookIn", "eyeLookOut"),
            ("eyeLookOut", "eyeLookIn"),
        )
    )
    for side, other in (("Left", "Right"), ("Right", "Left"))
)


def share_covered_eyes(raw: F32, covered: tuple[bool, bool], last: F32 | None) -> F32:
    """The model's coefficients with each covered eye's taken from the other eye, or, both
    covered, from ``last`` (the coefficients sent for the frame before; None: left as read)."""
    out = np.array(raw, np.float32)
    if covered[0] and covered[1]:
        if last is not None:
            for pairs in _EYE_SHARE:
                idx = [i for i, _ in pairs]
                out[idx] = last[idx]
        return out
    for e in (0, 1):
        if covered[e]:
            for into, src in _EYE_SHARE[e]:
                out[into] = raw[src]
    return out


def _mean2(v: F32, a: str) -> float:
    return 0.5 * float(v[IDX[a + "Left"]] + v[IDX[a + "Right"]])


def derive_presets(v: F32) -> dict[str, float]:
    """VRM 1.0 presets from CALIBRATED ARKit weights (52,), anatomical sides.

    Heuristics (each in [0, 1]):
    - blinkLeft/Right = eyeBlinkLeft/Right; blink = the smaller of the two (both closed).
    - vowels from jaw opening ``o``, lip rounding ``r`` = max(pucker, funnel) and lip spreading
      ``s`` = max(stretch, 0.5 smile): aa = o(1-r)(1-s/2), ee = o·s, oh = o·funnel,
      ih = s(1-o)·(1-r)·g, ou = pucker(1-o)·g with g = min(1, o / VOWEL_OPEN) (a closed mouth
      sends no vowel); scaled so they sum to at most 1.
    - happy = smile; relaxed = min(smile, squint) (a smile with narrowed eyes);
      angry = browDown·(1 - smile); sad = max(frown, browInnerUp/2)·(1 - smile).
    """
    bl, br = float(v[IDX["eyeBlinkLeft"]]), float(v[IDX["eyeBlinkRight"]])
    o = float(v[IDX["jawOpen"]])
    g = min(1.0, o / VOWEL_OPEN)  # a closed mouth sends no vowel
    pucker, funnel = float(v[IDX["mouthPucker"]]), float(v[IDX["mouthFunnel"]])
    smile = _mean2(v, "mouthSmile")
    r = max(pucker, funnel)
    s = max(_mean2(v, "mouthStretch"), 0.5 * smile)
    vowels = {
        "aa": o * (1.0 - r) * (1.0 - 0.5 * s),
        "ih": s * (1.0 - o) * (1.0 - r) * g,
        "ou": pucker * (1.0 - o) * g,
        "ee": o * s,
        "oh": o * funnel,
    }
    total = sum(vowels.values())
    if total > 1.0:
        vowels = {k: x / total for k, x in vowels.items()}
    squint = _mean2(v, "eyeSquint")
    not_smiling = 1.0 - smile
    out = {"blink": min(bl, br), "blinkLeft": bl, "blinkRight": br}
    out.update(vowels)
    out["happy"] = smile
    out["relaxed"] = min(smile, squint)
    out["angry"] = _mean2(v, "browDown") * not_smiling
    out["sad"] = max(_mean2(v, "mouthFrown"), 0.5 * float(v[IDX["browInnerUp"]])) * not_smiling
    return out


def arkit_weights(v: F32) -> dict[str, float]:
    """{ARKit name: weight} for calibrated weights (52,)."""
    return dict(zip(ARKIT_NAMES, v.tolist(), strict=True))


class ArkitSolver:
    """Raw coefficients -> calibrated ARKit weights + derived presets, with rest auto-calibration.

    Without an explicit ``calibration`` (a profile's rest), the rest is learned from the first
    ``warmup`` frames with a face: during them it is the median of the frames seen so far. After
    them it only comes down, shape by shape, where the session shows the face resting lower than
    the warm-up did (:class:`RestFloor`: a user who smiled or talked while tracking started).
    So a neutral start is still best, as perfect-sync apps ask; ``recalibrate()`` starts a new
    warm-up (or goes back to the profile's rest, which the floor leaves alone). The eyelids' open
    levels are learned all along (:class:`OpenEyeLevel`) unless the calibration pins
    ``eyelid_open``. A rest learned all through the session both ways (the median of the last
    15 s per head pose, or this warm-up's rest moved with the pose) was tried and not kept: it
    was calmer at rest on the training faces and not on the validation faces
    (docs/perfect_sync.md section 3c).
    """

    def __init__(
        self,
        calibration: ArkitCalibration | None = None,
        warmup: int = 30,
        expressions: Iterable[str] = EMOTIONS,
    ) -> None:
        self.calibration = calibration or ArkitCalibration()
        # Emotion presets not in ``expressions`` (the user switched them off) are not sent.
        self._drop = tuple(e for e in EMOTIONS if e not in set(expressions))
        self._profile_rest = None if calibration is None else calibration.rest.copy()
        self.auto = calibration is None
        self.warmup = warmup
        self._samples: list[F32] = []
        self.open_eyes = OpenEyeLevel()
        self.fusion = Fusion()
        self._last_raw: F32 | None = None  # the coefficients of the frame before
        self._floor = RestFloor()
        self._warm_rest: F32 | None = None  # the warm-up's median, once it is over
        self._since = 0  # frames since the warm-up

    @property
    def calibrated(self) -> bool:
        return not self.auto or len(self._samples) >= self.warmup

    def recalibrate(self, live: bool = False) -> None:
        """Learn the rest anew (and, with geometry, the fused levels: maybe a new person): back
        to the profile's rest if there is one, else a new warm-up. ``live``: the user asked for
        it now (the preview's ``c`` key): a new warm-up, the profile's rest set aside for the
        rest of the session."""
        if live:
            self._profile_rest = None
        if self._profile_rest is not None:
            self.auto = False
            self.calibration.set_rest(self._profile_rest)
        else:
            self.auto = True
            self._samples = []
        self._floor.reset()
        self._warm_rest = None
        self._since = 0
        self.fusion.reset()
        self._last_raw = None

    def _follow_floor(self, raw: F32, pose: tuple[float, float], jaw: float) -> None:
        """After the warm-up, lower its rest where the face rests lower (:class:`RestFloor`)."""
        self._floor.add(raw, pose, jaw < FLOOR_JAW)
        if self._warm_rest is None:
            if len(self._samples) >= self.warmup:
                self._floor.warm_up_done(np.stack(self._samples))
                self._warm_rest = self.calibration.rest.copy()
            return
        self._since += 1
        if self._since % FLOOR_EVERY == 0:
            self.calibration.set_rest(self._warm_rest - self._floor.lowering())

    def update(
        self,
        raw: F32,
        geometry: Geometry | None = None,
        covered: tuple[bool, bool] = (False, False),
    ) -> dict[str, float]:
        """Weights by key (52 ARKit names + VRM presets) for one frame's raw coefficients.

        With ``geometry`` (the geometric solvers' readings of the same landmarks), the eyelids
        and the jaw are the :class:`Fusion` of the model's scores and the geometry; without it
        they are the model's alone, calibrated like the other 50 shapes. ``covered``: a hand in
        front of that eye (:func:`share_covered_eyes`)."""
        if covered[0] or covered[1]:
            raw = share_covered_eyes(raw, covered, self._last_raw)
        self._last_raw = np.array(raw, np.float32)
        if self.auto and len(self._samples) < self.warmup:
            self._samples.append(np.asarray(raw, np.float32).copy())
            self.calibration.set_rest(np.median(np.stack(self._samples), axis=0))
        if geometry is None:
            level = self.open_eyes.update(eyelid_scores(raw))
            if level is not None:
                self.calibration.set_open_eyes(float(level[0]), float(level[1]))
        v = self.calibration.remap(raw)
        if geometry is not None:
            cal = self.calibration
            fused = self.fusion.update(raw, geometry, cal.dead_zone, cal.eyelid_open)
            v[_EYELID_IDX[0]], v[_EYELID_IDX[1]], v[_JAW_IDX] = fused
        if self.auto:
            pose = (0.0, 0.0) if geometry is None else (geometry.pose[1], geometry.pose[2])
            self._follow_floor(np.asarray(raw, np.float32), pose, float(v[_JAW_IDX]))
        if covered[0] != covered[1]:
            # The covered eye's lid is the other eye's as sent: its scores were shared above,
            # but each eye is normalised by its own open level, and a user's two open eyes can
            # score apart (the shared clip: 0.19 and 0.10).
            e = 0 if covered[0] else 1
            v[_EYELID_IDX[e]] = v[_EYELID_IDX[1 - e]]
        out = arkit_weights(v)
        out.update(derive_presets(v))
        for k in self._drop:
            del out[k]
        return out
