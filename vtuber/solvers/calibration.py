"""Calibration: the user's neutral face, recorded once (``vtuber calibrate``) or adapted on the fly.

A :class:`FaceProfile` holds the reference values the face solvers measure against: the neutral
head orientation, eye openness when open and closed, the iris rest offset, mouth and brow rest.
It is an explicit object handed to :class:`vtuber.solvers.expressions.FaceSolver` (never a global).
The file format (JSON, versioned) is specified in docs/blendshapes.md ("Calibration profile").

- :class:`Calibrator` accumulates :class:`FaceMeasures` over a few seconds and summarises them
  with robust statistics (medians, percentiles), so a blink or a word during recording does not
  spoil the rest values.
- :class:`AdaptiveProfile` does the same on the fly when no profile is given: it starts from
  :data:`DEFAULT_PROFILE` and refines it from the first seconds of tracking, then freezes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.errors import ConfigError

F64 = NDArray[np.float64]

PROFILE_FORMAT = "vtuber-face-profile"
PROFILE_VERSION = 1

# Closed-eye openness as a fraction of the open one when the recording saw no blink (MediaPipe
# FaceMesh keeps a small aperture on a closed eye).
CLOSED_FRACTION = 0.25


@dataclass(frozen=True, slots=True)
class FaceMeasures:
    """One frame's raw face measures (units: see eyes.py, mouth.py, brows.py).

    openness (2,), iris (2, 2) and brows (2, 2) rows are [left, right] (the person's sides).
    """

    openness: F64
    iris: F64
    mouth_gap: float
    mouth_width: float
    mouth_corner: float
    brows: F64


@dataclass(frozen=True)
class FaceProfile:
    """The user's neutral face.

    neutral_head: quaternion (x, y, z, w) of the head-pose solver's model -> camera rotation when
        the user faces the screen (OpenCV camera basis; see vtuber/solvers/head.py).
    eye_open / eye_closed: openness [left, right] with the eyes open / closed.
    gaze_rest: iris offset [left, right] x (x, y) when looking at the screen.
    mouth_gap / mouth_width / mouth_corner: mouth at rest (IOD units).
    brows: brow heights at rest, [left, right] x [inner, outer] (IOD units).
    frames: how many frames it was measured over (0 for the defaults).
    """

    neutral_head: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    eye_open: tuple[float, float] = (0.30, 0.30)
    eye_closed: tuple[float, float] = (0.3 * CLOSED_FRACTION, 0.3 * CLOSED_FRACTION)
    gaze_rest: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 0.0), (0.0, 0.0))
    mouth_gap: float = 0.01
    mouth_width: float = 0.6
    mouth_corner: float = -0.08
    brows: tuple[tuple[float, float], tuple[float, float]] = ((0.24, 0.15), (0.24, 0.15))
    frames: int = 0

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
        return {
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
            "frames": self.frames,
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, d: object) -> FaceProfile:
        if not isinstance(d, dict) or d.get("format") != PROFILE_FORMAT:
            raise ConfigError(f'not a vtuber face profile (no "format": "{PROFILE_FORMAT}")')
        if d.get("version") != PROFILE_VERSION:
            raise ConfigError(
                f"face profile version {d.get('version')!r} is not supported "
                f"(this vtuber reads version {PROFILE_VERSION})"
            )
        try:
            p = cls(
                neutral_head=_floats(d["neutral_head"], 4),
                eye_open=_floats(d["eye_open"], 2),
                eye_closed=_floats(d["eye_closed"], 2),
                gaze_rest=(_floats(d["gaze_rest"][0], 2), _floats(d["gaze_rest"][1], 2)),
                mouth_gap=float(d["mouth_gap"]),
                mouth_width=float(d["mouth_width"]),
                mouth_corner=float(d["mouth_corner"]),
                brows=(_floats(d["brows"][0], 2), _floats(d["brows"][1], 2)),
                frames=int(d.get("frames", 0)),
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


def _floats(v: Any, n: int) -> Any:
    """A tuple of ``n`` finite floats from a JSON list (ValueError/TypeError otherwise)."""
    vals = tuple(float(x) for x in v)
    if len(vals) != n or not all(math.isfinite(x) for x in vals):
        raise ValueError(f"expected {n} finite numbers, got {v!r}")
    return vals


DEFAULT_PROFILE = FaceProfile()


def mean_rotation(rotations: F64) -> F64:
    """Chordal mean of 3x3 rotations (N, 3, 3): the rotation nearest their average matrix."""
    m = rotations.mean(axis=0)
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


@dataclass
class Calibrator:
    """Accumulates frames of a neutral face and summarises them into a :class:`FaceProfile`."""

    measures: list[FaceMeasures] = field(default_factory=list)
    rotations: list[F64] = field(default_factory=list)

    def add(self, m: FaceMeasures, head_rotation: F64 | None = None) -> None:
        self.measures.append(m)
        if head_rotation is not None:
            self.rotations.append(np.asarray(head_rotation, dtype=np.float64))

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
        neutral = base.neutral_head
        if self.rotations:
            q = quat.from_matrix(mean_rotation(np.array(self.rotations)))
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
        )


class AdaptiveProfile:
    """A profile that starts at ``base`` and adapts to the user over the first ``frames`` frames
    with a face (then stays fixed). The head neutral is not adapted (facing the camera stays the
    default neutral)."""

    def __init__(self, base: FaceProfile = DEFAULT_PROFILE, frames: int = 90, every: int = 5):
        self.base = base
        self.frames = frames
        self.every = every
        self._cal = Calibrator()
        self.profile = base

    @property
    def done(self) -> bool:
        return len(self._cal) >= self.frames

    def update(self, m: FaceMeasures) -> FaceProfile:
        """Feed one frame's measures; returns the profile to use for this frame."""
        if self.done:
            return self.profile
        self._cal.add(m)
        n = len(self._cal)
        if n >= 10 and (n % self.every == 0 or n == self.frames):
            learned = self._cal.profile(self.base)
            # Blend from the defaults toward what was learned as evidence accumulates.
            a = min(1.0, n / (0.5 * self.frames))
            self.profile = _blend(self.base, learned, a)
        return self.profile


def _blend(a: FaceProfile, b: FaceProfile, t: float) -> FaceProfile:
    def lerp(x: object, y: object) -> object:
        r = (1.0 - t) * np.asarray(x, dtype=np.float64) + t * np.asarray(y, dtype=np.float64)
        return r.tolist() if r.ndim else float(r)

    def tup(v: object) -> object:
        return tuple(tup(x) for x in v) if isinstance(v, list) else v  # type: ignore[union-attr]

    return replace(
        b,
        eye_open=tup(lerp(a.eye_open, b.eye_open)),  # type: ignore[arg-type]
        eye_closed=tup(lerp(a.eye_closed, b.eye_closed)),  # type: ignore[arg-type]
        gaze_rest=tup(lerp(a.gaze_rest, b.gaze_rest)),  # type: ignore[arg-type]
        mouth_gap=lerp(a.mouth_gap, b.mouth_gap),  # type: ignore[arg-type]
        mouth_width=lerp(a.mouth_width, b.mouth_width),  # type: ignore[arg-type]
        mouth_corner=lerp(a.mouth_corner, b.mouth_corner),  # type: ignore[arg-type]
        brows=tup(lerp(a.brows, b.brows)),  # type: ignore[arg-type]
        neutral_head=a.neutral_head,
    )
