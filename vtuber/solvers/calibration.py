"""Calibration: the user's neutral face, recorded once (``vtuber calibrate``) or adapted on the fly.

A :class:`FaceProfile` holds the reference values the face solvers measure against: the neutral
head orientation, eye openness when open and closed, the iris rest offset, mouth and brow rest.
It is an explicit object handed to :class:`vtuber.solvers.expressions.FaceSolver` (never a global).
The file format (JSON, versioned) is specified in docs/blendshapes.md ("Calibration profile").

- :class:`Calibrator` accumulates :class:`FaceMeasures` over a few seconds and summarises them
  with robust statistics (medians, percentiles), so a blink or a word during recording does not
  spoil the rest values.
- :class:`FaceAdapter` keeps adapting all through the session (vtuber.solvers.adaptation): every
  rest value as a function of the head pose, and how far each eye's aperture falls in the user's
  own blinks. It starts from a profile when one is given, else from the first frame of a face,
  and starts over when a new face is found (a new person inherits nothing).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.errors import ConfigError
from vtuber.rig import ARKIT_NAMES
from vtuber.solvers.adaptation import Agreement, BlinkDepth, PoseBaseline

F64 = NDArray[np.float64]

PROFILE_FORMAT = "vtuber-face-profile"
# Version 2: mouth_gap is the inner + outer lip gap (mouth.py); version 1 files (inner gap only)
# are read with their mouth rest left to adaptation. Version 3 adds mouth_dark (the dark area
# inside the lips at rest, vtuber.landmarks.cavity); versions 1 and 2 leave it to adaptation.
PROFILE_VERSION = 3

# Closed-eye aperture as a fraction of the open one before the user's own blinks are seen
# (FaceMesh keeps 5-70 % of the aperture on a closed eye, depending on the face). Fitted on the
# training identities of the face corpus (docs/face_corpus.md): a prior above their median (0.35)
# misses no early blink, and a few blinks replace it.
CLOSED_FRACTION = 0.5


@dataclass(frozen=True, slots=True)
class FaceMeasures:
    """One frame's raw face measures (units: see eyes.py, mouth.py, brows.py).

    openness (2,), iris (2, 2) and brows (2, 2) rows are [left, right] (the person's sides).
    mouth_dark: the dark area inside the lips (vtuber.landmarks.cavity), NaN if not measured.
    """

    openness: F64
    iris: F64
    mouth_gap: float
    mouth_width: float
    mouth_corner: float
    brows: F64
    mouth_dark: float = math.nan


@dataclass(frozen=True)
class FaceProfile:
    """The user's neutral face.

    neutral_head: quaternion (x, y, z, w) of the head-pose solver's model -> camera rotation when
        the user faces the screen (OpenCV camera basis; see vtuber/solvers/head.py).
    eye_open / eye_closed: openness [left, right] with the eyes open / closed.
    gaze_rest: iris offset [left, right] x (x, y) when looking at the screen.
    mouth_gap / mouth_width / mouth_corner: mouth at rest (IOD units).
    brows: brow heights at rest, [left, right] x [inner, outer] (IOD units).
    mouth_dark: the dark area inside the lips at rest (IOD^2; -1: not known, learn it).
    frames: how many frames it was measured over (0 for the defaults).
    arkit_rest: the Face Landmarker's 52 raw ARKit coefficients at rest (vtuber.rig.ARKIT_NAMES
        order; perfect sync's rest for the session, vtuber.solvers.arkit.ArkitSolver), None when
        the recording ran FaceMesh (perfect sync then learns it from the first frames).
    """

    neutral_head: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    eye_open: tuple[float, float] = (0.30, 0.30)
    eye_closed: tuple[float, float] = (0.3 * CLOSED_FRACTION, 0.3 * CLOSED_FRACTION)
    gaze_rest: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    mouth_gap: float = 0.2
    mouth_width: float = 0.6
    mouth_corner: float = -0.08
    brows: tuple[tuple[float, float], tuple[float, float]] = ((0.24, 0.15), (0.24, 0.15))
    frames: int = 0
    mouth_dark: float = 0.0
    arkit_rest: tuple[float, ...] | None = None

    # ---------------------------------------------------------------- arrays for the solvers
    def arrays(self) -> dict[str, F64]:
        return {
            "eye_open": np.asarray(self.eye_open, dtype=np.float64),
            "eye_closed": np.asarray(self.eye_closed, dtype=np.float64),
            "gaze_rest": np.asarray(self.gaze_rest, dtype=np.float64),
            "brows": np.asarray(self.brows, dtype=np.float64),
        }

    def neutral_rotation(self) -> F64:
        """``neutral_head`` as a 3x3 matrix (for :class:`vtuber.solvers.head.HeadTracker`)."""
        return quat.to_matrix(np.asarray(self.neutral_head, dtype=np.float64))

    # ---------------------------------------------------------------- file
    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "neutral_head": list(self.neutral_head),
            "eye_open": list(self.eye_open),
            "eye_closed": list(self.eye_closed),
            "gaze_rest": [list(r) for r in self.gaze_rest],
            "mouth_gap": self.mouth_gap,
            "mouth_width": self.mouth_width,
            "mouth_corner": self.mouth_corner,
            "brows": [list(r) for r in self.brows],
            "mouth_dark": self.mouth_dark,
            "frames": self.frames,
        }
        if self.arkit_rest is not None:
            d["arkit_rest"] = {
                n: round(v, 5) for n, v in zip(ARKIT_NAMES, self.arkit_rest, strict=True)
            }
        return d

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, d: object) -> FaceProfile:
        if not isinstance(d, dict) or d.get("format") != PROFILE_FORMAT:
            raise ConfigError(f'not a vtuber face profile (no "format": "{PROFILE_FORMAT}")')
        version = d.get("version")
        if version not in (1, 2, PROFILE_VERSION):
            raise ConfigError(
                f"face profile version {version!r} is not supported "
                f"(this vtuber reads versions 1 to {PROFILE_VERSION})"
            )
        try:
            p = cls(
                neutral_head=_floats(d["neutral_head"], 4),
                eye_open=_floats(d["eye_open"], 2),
                eye_closed=_floats(d["eye_closed"], 2),
                gaze_rest=(_floats(d["gaze_rest"][0], 2), _floats(d["gaze_rest"][1], 2)),
                # Version 1 measured the inner lip gap only: its rest is not this one.
                mouth_gap=float(d["mouth_gap"]) if version != 1 else -1.0,
                mouth_width=float(d["mouth_width"]),
                mouth_corner=float(d["mouth_corner"]),
                brows=(_floats(d["brows"][0], 2), _floats(d["brows"][1], 2)),
                frames=int(d.get("frames", 0)),
                mouth_dark=float(d["mouth_dark"]) if version == PROFILE_VERSION else -1.0,
                arkit_rest=_arkit_rest(d["arkit_rest"]) if "arkit_rest" in d else None,
            )
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ConfigError(f"malformed face profile: {e!r}") from e
        q = np.asarray(p.neutral_head)
        if not math.isclose(float(np.linalg.norm(q)), 1.0, abs_tol=1e-3):
            raise ConfigError("malformed face profile: neutral_head is not a unit quaternion")
        pairs = zip(p.eye_closed, p.eye_open, strict=True)
        if min(p.eye_open) <= 0 or any(c >= o for c, o in pairs):
            raise ConfigError("malformed face profile: eye_closed must be below eye_open (> 0)")
        return p

    @classmethod
    def load(cls, path: str | Path) -> FaceProfile:
        """Read a profile file; :class:`ConfigError` (one clear line) if missing or malformed."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read face profile {p}: {e.strerror or e}") from e
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"face profile {p} is not valid JSON: {e}") from e
        return cls.from_json(data)


def _arkit_rest(v: Any) -> tuple[float, ...]:
    """The 52 coefficients of a profile's ``arkit_rest`` object ({ARKit name: value in [0, 1]},
    every name once; ValueError otherwise)."""
    if not isinstance(v, dict) or set(v) != set(ARKIT_NAMES):
        raise ValueError("arkit_rest must give a value for each of the 52 ARKit names")
    vals = tuple(float(v[n]) for n in ARKIT_NAMES)
    if not all(0.0 <= x <= 1.0 for x in vals):
        raise ValueError("arkit_rest values must lie in [0, 1]")
    return vals


def _floats(v: Any, n: int) -> Any:
    """A tuple of ``n`` finite floats from a JSON list (ValueError/TypeError otherwise)."""
    vals = tuple(float(x) for x in v)
    if len(vals) != n or not all(math.isfinite(x) for x in vals):
        raise ValueError(f"expected {n} finite numbers, got {v!r}")
    return vals


DEFAULT_PROFILE = FaceProfile()


@dataclass
class Calibrator:
    """Accumulates frames of a neutral face and summarises them into a :class:`FaceProfile`."""

    measures: list[FaceMeasures] = field(default_factory=list)
    rotations: list[F64] = field(default_factory=list)
    blendshapes: list[F64] = field(default_factory=list)

    def add(
        self,
        m: FaceMeasures,
        head_rotation: F64 | None = None,
        blendshapes: NDArray[np.float32] | None = None,
    ) -> None:
        """One frame: its measures, the head's rotation and (Face Landmarker) its 52 raw ARKit
        coefficients."""
        self.measures.append(m)
        if head_rotation is not None:
            self.rotations.append(np.asarray(head_rotation, dtype=np.float64))
        if blendshapes is not None:
            self.blendshapes.append(np.asarray(blendshapes, dtype=np.float64).reshape(-1))

    def __len__(self) -> int:
        return len(self.measures)

    def profile(self, base: FaceProfile = DEFAULT_PROFILE) -> FaceProfile:
        """The profile from the frames seen (``base`` where nothing was seen)."""
        if not self.measures:
            return base
        ms = self.measures
        op = np.array([m.openness for m in ms])  # (n, 2)
        # Open reference: an upper-middle percentile (a few blinks do not pull it down).
        eye_open = np.percentile(op, 60, axis=0)
        low = np.percentile(op, 3, axis=0)
        # A blink seen during recording gives the closed value; otherwise a fixed fraction.
        eye_closed = np.where(low < 0.5 * eye_open, low, CLOSED_FRACTION * eye_open)
        eye_closed = np.minimum(eye_closed, 0.6 * eye_open)
        # Gaze and brows: medians over frames with the eyes open.
        open_rows = np.all(op > 0.75 * eye_open, axis=1)
        sel = [m for m, ok in zip(ms, open_rows, strict=True) if ok] or ms
        iris = np.median(np.array([m.iris for m in sel]), axis=0)
        brows = np.median(np.array([m.brows for m in ms]), axis=0)
        # Mouth at rest: mostly closed; a low percentile ignores speech.
        gap = float(np.percentile([m.mouth_gap for m in ms], 20))
        width = float(np.median([m.mouth_width for m in ms]))
        corner = float(np.median([m.mouth_corner for m in ms]))
        darks = [m.mouth_dark for m in ms if math.isfinite(m.mouth_dark)]
        dark = float(np.percentile(darks, 20)) if darks else -1.0
        neutral = base.neutral_head
        if self.rotations:
            mean = quat.nearest_rotation(np.mean(self.rotations, axis=0))  # the chordal mean
            q = quat.from_matrix(mean)
            neutral = (float(q[0]), float(q[1]), float(q[2]), float(q[3]))
        return FaceProfile(
            neutral_head=neutral,
            eye_open=(float(eye_open[0]), float(eye_open[1])),
            eye_closed=(float(eye_closed[0]), float(eye_closed[1])),
            gaze_rest=(
                (float(iris[0, 0]), float(iris[0, 1])),
                (float(iris[1, 0]), float(iris[1, 1])),
            ),
            mouth_gap=gap,
            mouth_width=width,
            mouth_corner=corner,
            brows=(
                (float(brows[0, 0]), float(brows[0, 1])),
                (float(brows[1, 0]), float(brows[1, 1])),
            ),
            frames=len(ms),
            mouth_dark=dark,
            # Perfect sync's rest: each coefficient's median (the model's scores are all >= 0
            # and rise with their shape, so a word or a blink is a few high frames).
            arkit_rest=(
                tuple(float(x) for x in np.median(np.stack(self.blendshapes), axis=0))
                if self.blendshapes
                else None
            ),
        )


# What each measure's rest is (vtuber.solvers.adaptation.PoseBaseline quantiles): an open eye's
# aperture is read above most frames (blinks are short), the mouth at rest is its lower envelope
# (a closed mouth, or the user's resting smile), width, corner and brows their medians.
EYE_QUANTILE = 0.65
MOUTH_QUANTILE = 0.15
MEDIAN = 0.5
# The eyes' open level has its own pose fit, with a weaker ridge on the pose terms and refitted
# more often than the other measures': FaceMesh reads an open eye's aperture differently at
# different head poses by as much as its blinks' depth on some faces, and with the shared fit's
# ridge (20 samples) the aperture over its rest still correlated with the head's yaw (r up to
# -0.75 per performance on the training faces). Chosen on the corpus's training faces by the
# open eye's error against its rest (benchmarks/fit_eye_rest.py, docs/blendshapes.md).
EYE_RIDGE = 1.0
EYE_REFIT = 5
# The other measures' (mouth, brows) ridge on their pose terms, in samples. FaceMesh's reading
# of a resting mouth corner's height moves with the head's pitch by up to 0.14 IOD a radian on
# the training faces (0.01 on grace_hopper, 0.14 on kate_siegel and kit_harington; the shared
# real clip's woman 0.16), a full smile being 0.04: at 15 degrees of pitch her rest read as a
# frown. With the first build's 20 samples the fit kept about a quarter of such a slope
# (radians are small: 300 frames within +-20 degrees sum to a few samples' worth); at 1 it
# learns it. Chosen on the training faces, four performances each bare and two with glasses
# (ridge 20 / 5 / 2 / 1 / 0.5: mouth Spearman 0.938 / 0.941 / 0.943 / 0.943 / 0.941 bare,
# 0.938 / 0.944 / 0.946 / 0.945 / 0.943 with glasses; the largest vowel at rest 0.12 / 0.07 /
# 0.05 / 0.05 / 0.08 bare; emotions at rest, docs/face_corpus.md "Emotions").
REST_RIDGE = 1.0
_EYES = 2  # the first rows of measure_vector / profile_vector are the two eyes' apertures
_USABLE = ([True] * 7 + [False], [True] * 8)  # by whether the mouth's darkness was measured
_BROWS = (3, 5)  # where each side's (inner, outer) brow heights start in the baseline's rows
# Rows of FaceAdapter.rest(): eye open (left, right), mouth gap, width, corner, brows (4), the
# dark area inside the lips (its rest: the lower envelope, like the gap).


# Which of the darkness's cuts reads this user's open mouth (vtuber.landmarks.cavity: the fixed
# cut, then the brighter DIM_FRACTIONS). A cut brighter than the inside of the user's open mouth
# sees the same openings as a darker one that is also brighter than it, plus more of the lips'
# own shading at rest; a cut darker than it sees nothing. So the darkest cut that sees the
# openings is the one to read, and a cut "sees" an opening on a frame where it reads at least
# CUT_SEEN of a full opening over its own rest. The cut chosen is the darkest one that saw an
# opening on at least CUT_SHARE as many of the last CUT_WINDOW frames as the cut that saw one
# most often, once that one has on CUT_MIN_FRAMES (a mouth opened a few times); until then, and
# when no cut has within the window, the choice stays (the fixed cut at first). The levels are
# reasoned, not fitted: half open, as the mouth's agreement's judge (adaptation.AGREE_SEEN); half
# as many frames, since a brighter cut's excess is the lips' shading, not whole openings; 60 s,
# so a light switched on mid-session is followed within a minute (docs/blendshapes.md step 4).
CUT_WINDOW = 1800
CUT_SEEN = 0.5
CUT_SHARE = 0.5
CUT_MIN_FRAMES = 3


class DarkCut:
    """The cut of the mouth's darkness that reads this user's open mouth (the comment above), and
    the rests of the brighter cuts, each as a function of the head pose like the fixed cut's
    (the lower envelope, :data:`MOUTH_QUANTILE`), learned from the face's first frame on.
    ``index``: 0 the fixed cut, j the j-th brighter one."""

    def __init__(self, cuts: int = 3, window: int = CUT_WINDOW, rest_window: int = 450) -> None:
        self.rest = PoseBaseline(
            [MOUTH_QUANTILE] * cuts, [0.0] * cuts, window=rest_window, ridge=REST_RIDGE
        )
        self._seen = np.zeros((window, cuts + 1), bool)
        self.reset()

    def reset(self) -> None:
        """A new face: nothing seen, the fixed cut, the rests learned afresh."""
        self._seen[:] = False
        self._count = [0] * self._seen.shape[1]
        self._n = 0
        self.index = 0
        self._fresh = True

    def pick(
        self,
        phi: tuple[float, float, float, float],
        dark: float,
        dark_rest: float,
        dim: tuple[float, ...],
        full: float,
    ) -> tuple[float, float]:
        """Add one frame and return the darkness and its rest at the chosen cut. ``dark`` and
        ``dark_rest``: the fixed cut's reading and its rest (FaceAdapter's row 9); ``dim``: the
        brighter cuts' readings; ``full``: the area over rest that reads as fully open
        (vtuber.solvers.mouth.MouthConfig.full_dark)."""
        if self._fresh:
            self._fresh = False
            self.rest.reset(list(dim))
        values = [dark, *dim]
        rests = [dark_rest, *self.rest.predict(phi)]
        row = self._seen[self._n % len(self._seen)]
        count = self._count
        level = CUT_SEEN * full
        for j, (v, r) in enumerate(zip(values, rests, strict=True)):
            if self._n >= len(self._seen):
                count[j] -= int(row[j])
            row[j] = v - r >= level
            count[j] += int(row[j])
        self._n += 1
        best = max(count)
        if best >= CUT_MIN_FRAMES:
            self.index = next(j for j, c in enumerate(count) if c >= CUT_SHARE * best)
        self.rest.add(phi, list(dim))
        return values[self.index], rests[self.index]


def measure_vector(m: FaceMeasures) -> list[float]:
    """The measures :class:`FaceAdapter` adapts, in its row order."""
    (bli, blo), (bri, bro) = m.brows.tolist()
    return [
        float(m.openness[0]),
        float(m.openness[1]),
        m.mouth_gap,
        m.mouth_width,
        m.mouth_corner,
        bli,
        blo,
        bri,
        bro,
        m.mouth_dark if math.isfinite(m.mouth_dark) else 0.0,
    ]


def profile_vector(p: FaceProfile) -> list[float]:
    (bli, blo), (bri, bro) = p.brows
    return [p.eye_open[0], p.eye_open[1], p.mouth_gap, p.mouth_width, p.mouth_corner] + [
        bli,
        blo,
        bri,
        bro,
        p.mouth_dark,
    ]


class FaceAdapter:
    """The user's rest face, adapted all through the session (module doc).

    ``profile`` (a recorded calibration) gives the starting values and the blink depth; without
    one the first frame of each newly found face does (a person sitting down looks roughly
    neutral), and a population prior gives the blink depth until the user's blinks are seen.
    """

    def __init__(self, profile: FaceProfile | None = None, window: int = 450) -> None:
        self.profile = profile
        q = [MOUTH_QUANTILE, MEDIAN, MEDIAN] + [MEDIAN] * 4
        q.append(MOUTH_QUANTILE)
        start = profile_vector(profile or DEFAULT_PROFILE)
        self.eye_rest = PoseBaseline(
            [EYE_QUANTILE] * _EYES,
            start[:_EYES],
            window=window,
            every=EYE_REFIT,
            ridge=EYE_RIDGE,
        )
        self.baseline = PoseBaseline(q, start[_EYES:], window=window, ridge=REST_RIDGE)
        gaze = np.asarray((profile or DEFAULT_PROFILE).gaze_rest, dtype=np.float64).ravel().tolist()
        # Gaze rest: the iris offset when looking at the screen. Not pose-dependent: an eye
        # that counter-rotates while the head turns (looking at the screen) is real motion.
        self.gaze = PoseBaseline([MEDIAN] * 4, gaze, window=window, ridge=1e9)
        if profile is not None:
            kappa = np.asarray(profile.eye_closed) / np.asarray(profile.eye_open)
        else:
            kappa = np.full(2, CLOSED_FRACTION)
        self._kappa0 = [float(k) for k in kappa]
        self.depth = (BlinkDepth(self._kappa0[0]), BlinkDepth(self._kappa0[1]))
        # How well the lip gap and the dark inside of the mouth agree for this user (mouth.py).
        self.mouth_agreement = Agreement()
        self.gap_share: float | None = None  # None: not known yet (MouthConfig.gap_weight)
        self.dark_cut = DarkCut()  # which cut of the darkness reads this user's open mouth
        self._fresh = True

    def reset(self) -> None:
        """A face was lost: the next one may be someone else, so learn from scratch (from the
        profile, if any)."""
        start = profile_vector(self.profile or DEFAULT_PROFILE)
        self.eye_rest.reset(start[:_EYES])
        self.baseline.reset(start[_EYES:])
        self.gaze.reset(np.asarray((self.profile or DEFAULT_PROFILE).gaze_rest).ravel().tolist())
        for d, k in zip(self.depth, self._kappa0, strict=True):
            d.reset(k)
        self.mouth_agreement.reset()
        self.gap_share = None
        self.dark_cut.reset()
        self._fresh = True

    def start(self, m: FaceMeasures) -> None:
        """First frame of a face: without a profile, its measures are the starting rest."""
        if self._fresh:
            self._fresh = False
            v = measure_vector(m)
            if self.profile is not None:
                p = profile_vector(self.profile)
                v = [pv if pv >= 0.0 else mv for pv, mv in zip(p, v, strict=True)]
            self.eye_rest.reset(v[:_EYES])
            self.baseline.reset(v[_EYES:])
            if self.profile is None:  # the iris too: a face sitting down looks at the screen
                self.gaze.reset(m.iris.ravel().tolist())

    @property
    def kappa(self) -> tuple[float, float]:
        return (self.depth[0].kappa, self.depth[1].kappa)

    @property
    def jitter(self) -> tuple[float, float]:
        """Each open eye's learned aperture noise, relative to its open level."""
        return (self.depth[0].sigma, self.depth[1].sigma)

    def rest(self, phi: tuple[float, float, float, float]) -> list[float]:
        return self.eye_rest.predict(phi) + self.baseline.predict(phi)

    def spread(self, j: int) -> float:
        """How far measure ``j`` (a row of :meth:`rest`) scatters around its rest (0 until
        learned): :meth:`vtuber.solvers.adaptation.PoseBaseline.spread`."""
        if j < _EYES:
            return self.eye_rest.spread(j)
        return self.baseline.spread(j - _EYES)

    def gaze_rest(self) -> F64:
        return np.asarray(self.gaze.predict((1.0, 0.0, 0.0, 0.0))).reshape(2, 2)

    def observe(
        self,
        phi: tuple[float, float, float, float],
        m: FaceMeasures,
        rel: tuple[float, float],
        covered: tuple[bool, bool] = (False, False),
    ) -> None:
        """Learn from one frame (``rel``: each eye's aperture over its open level). An eye a
        hand is in front of (``covered``, vtuber.solvers.eyes.eyes_covered) teaches nothing,
        nor does the brow above it: the face model's points there are a guess."""
        v = measure_vector(m)
        seen = (not covered[0], not covered[1])
        usable = list(_USABLE[math.isfinite(m.mouth_dark)])
        for i in (0, 1):
            if seen[i]:
                self.depth[i].add(rel[i])
            else:
                usable[_BROWS[i]] = usable[_BROWS[i] + 1] = False
        self.baseline.add(phi, v[_EYES:], usable)
        if seen[0] or seen[1]:
            self.eye_rest.add(phi, v[:_EYES], seen)
        if seen[0] and seen[1] and min(rel) > 0.8:  # both open: the iris says where one looks
            self.gaze.add(phi, m.iris.ravel().tolist())
