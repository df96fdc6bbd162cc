"""Landmark records: plain fixed-shape numpy arrays with a found flag per part.

This package is the ONLY place that imports mediapipe (in its backend modules, e.g.
:mod:`vtuber.landmarks.facemesh`); these record types do not, so solvers, smoothing, sinks and
record/replay are usable and testable without it.

Conventions (MediaPipe's, see docs/coordinates.md): ``points[:, 0]`` is x to the image's right and
``points[:, 1]`` y down, both normalized to [0, 1] of the image width/height; ``points[:, 2]`` is
relative depth on the scale of x (smaller = closer to the camera). World landmarks are metres.
A part that was not found has ``found=False`` and zero arrays of the same shape (never None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]

FACE_POINTS = 478  # 468 mesh points + 2 x 5 iris points (refine_landmarks)
POSE_POINTS = 33
HAND_POINTS = 21
ARKIT_COUNT = 52


@dataclass(slots=True)
class FaceLandmarks:
    """Face mesh with iris: ``points`` (478, 3) normalized image coordinates.

    ``blendshapes`` (52 ARKit coefficients, in :data:`vtuber.rig.ARKIT_NAMES` order) and
    ``matrix`` (4x4 facial transformation, model -> camera, centimetres) are filled only by the
    Face Landmarker backend; zeros otherwise, with ``has_blendshapes`` False. ``mouth_dark``: the
    dark area inside the lips, an image measure of the opening (:mod:`vtuber.landmarks.cavity`),
    NaN where it was not measured; ``mouth_dim``: the same area under the brighter cuts
    :data:`vtuber.landmarks.cavity.DIM_FRACTIONS` (NaN: not measured). ``eye_shut``: (person's
    left, right) probability that the eye is at least half closed, read from its pixels
    (:mod:`vtuber.landmarks.eyelids`), NaN where it was not measured.
    """

    found: bool = False
    points: F32 = field(default_factory=lambda: np.zeros((FACE_POINTS, 3), np.float32))
    blendshapes: F32 = field(default_factory=lambda: np.zeros(ARKIT_COUNT, np.float32))
    matrix: F32 = field(default_factory=lambda: np.zeros((4, 4), np.float32))
    has_blendshapes: bool = False
    mouth_dark: float = math.nan
    mouth_dim: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    eye_shut: tuple[float, float] = (math.nan, math.nan)


@dataclass(slots=True)
class PoseLandmarks:
    """Body: ``points`` (33, 4) = normalized x, y, z + visibility; ``world`` (33, 3) metres,
    centred between the hips (x to the person's left? no: MediaPipe's world x follows the image x,
    y down, z toward the camera negative), exactly as MediaPipe returns them."""

    found: bool = False
    points: F32 = field(default_factory=lambda: np.zeros((POSE_POINTS, 4), np.float32))
    world: F32 = field(default_factory=lambda: np.zeros((POSE_POINTS, 3), np.float32))


@dataclass(slots=True)
class HandLandmarks:
    """One hand: ``points`` (21, 3) normalized, ``world`` (21, 3) metres around the hand's
    centre; ``score`` the handedness confidence."""

    found: bool = False
    points: F32 = field(default_factory=lambda: np.zeros((HAND_POINTS, 3), np.float32))
    world: F32 = field(default_factory=lambda: np.zeros((HAND_POINTS, 3), np.float32))
    score: float = 0.0


@dataclass(slots=True)
class Landmarks:
    """Everything one image gave. ``left_hand``/``right_hand`` are the PERSON's own hands
    (handedness resolved from the un-mirrored camera image). ``people`` / ``performers``: see
    docs/performers.md."""

    t: float
    width: int
    height: int
    face: FaceLandmarks = field(default_factory=FaceLandmarks)
    pose: PoseLandmarks = field(default_factory=PoseLandmarks)
    left_hand: HandLandmarks = field(default_factory=HandLandmarks)
    right_hand: HandLandmarks = field(default_factory=HandLandmarks)
    # Multi-person backends (FaceMesh with max_faces > 1): one single-person record per person
    # found, in the backend's order; empty for single-person backends (then the fields above
    # are the one person). The fields above stay the first person's, for every other caller.
    people: list[Landmarks] = field(default_factory=list)
    # Set by vtuber.performers: one record per performer slot, in slot order (docs/performers.md).
    performers: list[Landmarks] = field(default_factory=list)
    # Set by vtuber.performers (lock-on): a stable id of the person these landmarks are (or of
    # the slot's person while they are out of view); None: unknown (the tracker then takes a
    # face gone for a while as possibly someone else's).
    person: int | None = None

    def face_pixels(self) -> NDArray[np.float64]:
        """Face points in pixels (x, y) with z scaled like x: shape (478, 3), float64."""
        return self._pixels(self.face.points)

    def hand_pixels(self) -> list[NDArray[np.float64]]:
        """The found hands' points in pixels, as :meth:`face_pixels`: (21, 3) each, the person's
        left hand first; [] when none was found."""
        return [self._pixels(h.points) for h in (self.left_hand, self.right_hand) if h.found]

    def _pixels(self, points: F32) -> NDArray[np.float64]:
        return points.astype(np.float64) * np.array([self.width, self.height, self.width])
