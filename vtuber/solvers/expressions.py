"""The face expression solver: face landmarks + head pose -> blendshapes and eye bones.

Steps per frame:
1. :func:`face_frame` undoes the head rotation and scale, so every later measure is a ratio
   inside the face and does not change when the head turns (the blink stays open at +-30 deg yaw).
2. Measures: eye openness and iris offsets (eyes.py), lip gap / width / corner height (mouth.py),
   brow heights (brows.py), gathered in a :class:`~vtuber.solvers.calibration.FaceMeasures`.
3. Each measure is compared with the user's rest value at the current head pose, adapted all
   through the session (:class:`~vtuber.solvers.calibration.FaceAdapter`, starting from a
   ``vtuber calibrate`` profile when one is given): eye aperture over the open level and the
   user's own blink depth, lip gap / width / corner and brows over their rest.
4. Blink (hysteresis, linked), gaze, vowels, brows, and the five emotions derived from the mouth
   corners and brows: happy (smile), relaxed (smile with narrowed eyes), sad (frown or raised
   inner brows), angry (lowered brows), surprised (raised brows, open mouth).

Output keys are VRM 1.0 presets plus the ARKit brow names; ``Left``/``Right`` are the person's
own sides (the anatomical frame; the pipeline mirrors afterwards). docs/blendshapes.md lists them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vtuber.config import EXPRESSIONS, FaceConfig
from vtuber.solvers.adaptation import pose_features, trust
from vtuber.solvers.brows import BrowConfig, brow_heights, solve_brows
from vtuber.solvers.calibration import Calibrator, FaceAdapter, FaceMeasures, FaceProfile
from vtuber.solvers.eyes import (
    EYE_OUTER,
    EyeConfig,
    EyeResult,
    EyeSolver,
    closure,
    eye_openness,
    eye_visibility,
    eye_widths,
    iris_offsets,
)
from vtuber.solvers.mouth import MouthConfig, mouth_measures, smile, solve_mouth

F64 = NDArray[np.float64]

# Axes change from MediaPipe / the head model (x image-right, y down, z away from the camera) to
# the person's anatomical axes (+x their right, +y up, +z forward): all three flip.
_TO_ANATOMICAL = -1.0


def face_frame(points_px: F64, rotation: F64) -> F64:
    """Face landmarks in the head's own frame: de-rotated, centred, outer eye corners 1 apart.

    Args:
        points_px: (478, 3) landmarks in pixels, z scaled like x (``Landmarks.face_pixels()``).
        rotation: 3x3 head model -> camera rotation (``HeadPose.rotation``).

    Returns:
        (478, 3), +x toward the person's right, +y up, +z forward (out of the face), in units of
        the outer-eye-corner distance (IOD).
    """
    p = points_px - 0.5 * (points_px[EYE_OUTER[0]] + points_px[EYE_OUTER[1]])
    f = p @ (rotation * _TO_ANATOMICAL)  # row form of R^T p, then to anatomical axes (exact)
    dx, dy, dz = (f[EYE_OUTER[0]] - f[EYE_OUTER[1]]).tolist()
    iod = math.sqrt(dx * dx + dy * dy + dz * dz)
    f /= max(iod, 1e-9)
    return f


def measure(points_px: F64, rotation: F64, mouth_dark: float = math.nan) -> FaceMeasures:
    """All raw measures of one face (landmarks in pixels, head model -> camera rotation, and the
    image's dark area inside the lips when it was measured: vtuber.landmarks.cavity)."""
    face = face_frame(points_px, rotation)
    gap, width, corner = mouth_measures(face)
    widths = eye_widths(face)
    return FaceMeasures(
        openness=eye_openness(face, widths),
        iris=iris_offsets(points_px, rotation, face, widths),
        mouth_gap=gap,
        mouth_width=width,
        mouth_corner=corner,
        brows=brow_heights(face),
        mouth_dark=mouth_dark,
    )


def emotions(
    smile_s: float, mouth_open: float, brows: dict[str, float], squint: float
) -> dict[str, float]:
    """The five VRM emotions 0..1 from smile (-1 frown .. 1 smile), mouth openness 0..1, the ARKit
    brow weights and eye narrowing (0..1)."""
    s = max(smile_s, 0.0)
    frown = max(-smile_s, 0.0)
    inner = brows["browInnerUp"]
    outer = 0.5 * (brows["browOuterUpLeft"] + brows["browOuterUpRight"])
    down = 0.5 * (brows["browDownLeft"] + brows["browDownRight"])
    out = {
        "happy": s,
        "relaxed": min(s, squint),
        "sad": min(1.0, 0.7 * frown + 0.7 * max(inner - outer, 0.0)),
        "angry": down * (1.0 - s),
        "surprised": min(inner, outer) * (0.6 + 0.4 * mouth_open),
    }
    return {k: min(max(v, 0.0), 1.0) for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class FaceResult:
    """blendshapes: weights by key (person's sides); eye_rotation: the LeftEye/RightEye local
    rotation (x, y, z, w), Unity basis; mouth_open: 0..1; measures: the raw measures."""

    blendshapes: dict[str, float]
    eye_rotation: tuple[float, float, float, float]
    eyes: EyeResult
    mouth_open: float
    measures: FaceMeasures
    new_profile: FaceProfile | None = None  # set on the frame a live calibration finished


class FaceSolver:
    """Per-user face state: the adapting rest face, blink hysteresis, held gaze.

    Args:
        config: which outputs and ranges (:class:`vtuber.config.FaceConfig`).
        profile: a recorded :class:`FaceProfile` to start from; None = start from the first
            frame of each face found (:class:`~vtuber.solvers.calibration.FaceAdapter`).
    """

    def __init__(self, config: FaceConfig | None = None, profile: FaceProfile | None = None):
        self.config = cfg = config or FaceConfig()
        self.eye_config = EyeConfig(
            yaw_range_deg=cfg.gaze_yaw_range_deg,
            pitch_range_deg=cfg.gaze_pitch_range_deg,
            link_at=cfg.link_blinks_at,
        )
        self.mouth_config = MouthConfig()
        self.brow_config = BrowConfig()
        self.eyes = EyeSolver(self.eye_config)
        self._enabled = tuple(e for e in EXPRESSIONS if e in cfg.expressions)
        self._recording: Calibrator | None = None
        self._record_frames = 0
        self._last_shut = (0.0, 0.0)  # each eye's closure sent last (held while both covered)
        self.set_profile(profile)

    def start_calibration(self, frames: int = 90) -> None:
        """Record the next ``frames`` frames with a face as the user's neutral face; when done
        the new profile is used and returned once in :attr:`FaceResult.new_profile`."""
        self._recording = Calibrator()
        self._record_frames = frames

    def set_profile(self, profile: FaceProfile | None) -> None:
        """Start from a recorded profile (None: from the next face's first frame)."""
        self.adapter = FaceAdapter(profile)

    def lost(self) -> None:
        """The face is not in this frame: forget the blink and gaze state."""
        self.eyes.reset()
        self._last_shut = (0.0, 0.0)

    def reset(self) -> None:
        """The face was lost: forget blink/gaze state and what was learned of this person."""
        self.lost()
        self.adapter.reset()

    def update(
        self,
        points_px: F64,
        rotation: F64,
        yaw: float = 0.0,
        pitch: float = 0.0,
        mouth_dark: float = math.nan,
        eye_shut: tuple[float, float] = (math.nan, math.nan),
        covered: tuple[bool, bool] = (False, False),
        mouth_dim: tuple[float, ...] = (),
    ) -> FaceResult:
        """Solve one frame: landmarks in pixels (478, 3), the head model -> camera rotation, the
        head's yaw / pitch (radians) relative to the neutral head, which the rest values depend
        on (vtuber.solvers.adaptation), the dark area inside the lips (and under the brighter
        cuts, ``mouth_dim``: :class:`vtuber.solvers.calibration.DarkCut` picks the cut that reads
        this user's open mouth; empty or NaN: the fixed cut), each eye's closure read
        from its pixels (vtuber.landmarks.eyelids; NaN: not measured) and whether a hand is in
        front of each eye (:func:`vtuber.solvers.eyes.eyes_covered`): a covered eye takes the
        other eye's closure and gaze and its brow the other brow's movement, both covered keep
        the last frame's closures and rest brows, and neither a covered eye nor its brow
        teaches the rest face (the mouth still does)."""
        m = measure(points_px, rotation, mouth_dark)
        hidden = covered[0] or covered[1]
        new_profile = None
        if self._recording is not None and not hidden:
            self._recording.add(m, rotation)
            if len(self._recording) >= self._record_frames:
                new_profile = self._recording.profile()
                self._recording = None
                self.set_profile(new_profile)
        ad = self.adapter
        ad.start(m)
        phi = pose_features(yaw, pitch)
        rest = ad.rest(phi)
        k0, k1 = ad.kappa
        rel = (
            float(m.openness[0]) / max(rest[0], 1e-6),
            float(m.openness[1]) / max(rest[1], 1e-6),
        )
        ec = self.eye_config
        n0, n1 = (ec.noise_k * s for s in ad.jitter)
        shut = [closure(rel[0], k0, n0), closure(rel[1], k1, n1)]
        for i, p in enumerate(eye_shut):  # the lids' reading and the pixels' (EyeConfig)
            if math.isfinite(p):
                shut[i] += ec.pixel_weight * (p - shut[i])
        lo, hi = ec.hidden_eye  # an eye the image barely shows takes the other eye's closure
        seen = eye_visibility(points_px)
        own = [0.0 if covered[i] else trust(seen[i], lo, hi) for i in (0, 1)]
        if covered[0] and covered[1]:
            shut = list(self._last_shut)
        else:
            shut = [own[i] * shut[i] + (1.0 - own[i]) * shut[1 - i] for i in (0, 1)]
        self._last_shut = (shut[0], shut[1])
        eyes = self.eyes.update((shut[0], shut[1]), m.iris, ad.gaze_rest(), (own[0], own[1]))
        blend = eyes.blendshapes(self.eye_config)
        mc = self.mouth_config
        dark, dark_rest = mouth_dark, rest[9]
        if mouth_dim and math.isfinite(mouth_dark) and all(math.isfinite(v) for v in mouth_dim):
            dark, dark_rest = ad.dark_cut.pick(phi, dark, dark_rest, mouth_dim, mc.full_dark)
        if math.isfinite(dark):  # how far the lip gap and the dark inside agree (mouth.py)
            r = ad.mouth_agreement.add(
                (m.mouth_gap - rest[2]) / mc.full_gap, (dark - dark_rest) / mc.full_dark
            )
            if r is not None:
                ad.gap_share = mc.gap_weight * trust(r, mc.agree_none, mc.agree_full)
            if ad.mouth_agreement.blind:  # an open mouth no darker inside than the skin
                dark = math.nan
        mouth = solve_mouth(
            m.mouth_gap, m.mouth_width, rest[2], rest[3], mc, dark, dark_rest, ad.gap_share
        )
        blend.update(mouth.vowels)
        blend["jawOpen"] = mouth.open
        brow_rest = np.array(rest[5:9]).reshape(2, 2)
        brow_h = m.brows
        if hidden:  # a covered eye's brow moves as the other one does (both covered: at rest)
            brow_h = brow_rest.copy()
            for i in (0, 1):
                if not covered[1 - i]:
                    brow_h[i] += m.brows[1 - i] - brow_rest[1 - i]
        bk = self.brow_config.noise_k  # each brow height's own scatter around its rest
        brow_noise = (bk * ad.spread(5), bk * ad.spread(6), bk * ad.spread(7), bk * ad.spread(8))
        brows = solve_brows(brow_h, brow_rest, self.brow_config, brow_noise)
        blend.update(brows)
        if self._enabled:
            c = 0.5 * (eyes.closure[0] + eyes.closure[1])
            squint = min(max((c - 0.1) / 0.3, 0.0), 1.0)
            if eyes.closed[0] or eyes.closed[1]:
                squint = 0.0
            noise = mc.smile_noise_k * ad.spread(4)
            s = smile(m.mouth_corner, rest[4], m.mouth_width, rest[3], noise)
            emo = emotions(s, mouth.open, brows, squint)
            for k in self._enabled:
                blend[k] = emo[k]
        ad.observe(phi, m, rel, covered)
        return FaceResult(blend, eyes.rotation, eyes, mouth.open, m, new_profile)
