"""Eyes: per-eye blink (with hysteresis and linked closing) and gaze (eye bones + look shapes).

Input frame: the *face frame* of :func:`vtuber.solvers.expressions.face_frame` — face landmarks
de-rotated by the head pose and scaled so the distance between the outer eye corners is 1, in the
person's anatomical axes: +x toward the person's RIGHT, +y up, +z forward (out of the face toward
the camera). Because the head rotation is undone and the measures are ratios of lengths inside the
face, a turned or tilted head does not change them (up to landmark noise).

Sides: index 0 is the person's LEFT eye, index 1 the RIGHT eye (anatomical, before any mirror).

Measures (unitless):
- openness: lid aperture / eye width (mean vertical gap of three upper/lower lid pairs over the
  corner-to-corner distance). About 0.3 open and below 0.1 closed for MediaPipe FaceMesh.
- iris offset: iris centre minus the midpoint of the eye corners, over the eye width; x toward the
  person's right, y up. The vertical reference is the corner line, not the lids, so a closing lid
  does not move it; while an eye closes its gaze is held (the iris is hidden), so a blink never
  reads as looking down.

Gaze model: an eyeball of radius ``eyeball_ratio`` eye widths; an iris offset ``o`` (after the
rest offset is removed) is a rotation of ``asin(o / eyeball_ratio)``. Yaw is positive toward the
person's right, pitch positive up (radians). Eye bone rotations are Unity-basis local rotations
(x, y, z, w) of a normalized humanoid: identity = looking along +Z; yaw about +Y, pitch about -X.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.landmarks import face_mesh as fm

F64 = NDArray[np.float64]

# Face mesh indices (vtuber.landmarks.face_mesh). Rows: [left eye, right eye], the person's sides.
EYE_OUTER = np.array([fm.EYE_OUTER_L, fm.EYE_OUTER_R])
EYE_INNER = np.array([fm.EYE_INNER_L, fm.EYE_INNER_R])
# Upper / lower lid points, three pairs per eye (outer third, middle, inner third).
LID_UPPER = np.array([fm.UPPER_LID_L[2:5], fm.UPPER_LID_R[2:5]])
LID_LOWER = np.array([fm.LOWER_LID_L[2:5], fm.LOWER_LID_R[2:5]])
IRIS_CENTER = np.array([fm.IRIS_L, fm.IRIS_R])

LEFT, RIGHT = 0, 1


def eye_widths(face: F64) -> F64:
    """Corner-to-corner width of [left, right] eyes in the face frame (IOD units)."""
    d = face[EYE_OUTER] - face[EYE_INNER]
    return np.sqrt((d * d).sum(axis=1))  # = np.linalg.norm(d, axis=1), without its overhead


def eye_visibility(points_px: F64) -> tuple[float, float]:
    """How much of each [left, right] eye the image shows: its corner-to-corner width in the
    image over the wider eye's (1.0 for the nearer eye). A head turned far shows the far eye
    foreshortened and partly behind the nose, and the landmarker squeezes its points together
    (one training face's far eye measured 5 px against the near eye's 48 at 32 degrees of yaw)."""
    w = [0.0, 0.0]
    for i in (LEFT, RIGHT):
        (ax, ay), (bx, by) = points_px[[EYE_OUTER[i], EYE_INNER[i]], :2].tolist()
        w[i] = math.hypot(ax - bx, ay - by)
    top = max(w[0], w[1], 1e-9)
    return w[0] / top, w[1] / top


def eyes_covered(points_px: F64, hands_px: list[F64], margin: float = 0.15) -> tuple[bool, bool]:
    """Whether a hand is in front of each [left, right] eye: the eye's centre (between its
    corners) lies inside a found hand's outline, taken as the convex hull of its 21 points
    (pixels, x and y in the first two columns) widened by ``margin`` times the distance between
    the two eyes' centres. The hand's points run along the middle of the fingers and the palm,
    so the outline is widened by half a finger's width: 16-20 mm against about 63 mm between
    the eyes, 0.13-0.16. Nothing is behind a face but its own head, so a hand seen over an eye
    covers it. Under a hand the face model still places the eye's points, and what it reads
    there is a guess: on the shared real clip a thumb in front of one eye read as that eye
    closing (docs/blendshapes.md, step 2)."""
    if not hands_px:
        return (False, False)
    centres = [(points_px[EYE_OUTER[i], :2] + points_px[EYE_INNER[i], :2]) * 0.5 for i in (0, 1)]
    reach = margin * float(np.hypot(*(centres[0] - centres[1])))
    covered = [False, False]
    for hand in hands_px:
        hull = cv2.convexHull(np.ascontiguousarray(hand[:, :2], dtype=np.float32))
        for i in (LEFT, RIGHT):
            x, y = centres[i].tolist()
            covered[i] = covered[i] or cv2.pointPolygonTest(hull, (x, y), True) >= -reach
    return covered[0], covered[1]


def eye_openness(face: F64, widths: F64 | None = None) -> F64:
    """Lid aperture over eye width for [left, right] eyes (unitless, >= 0). ``widths``:
    :func:`eye_widths` of ``face`` if already computed."""
    gap = face[LID_UPPER, 1] - face[LID_LOWER, 1]  # (2, 3): y is up
    width = eye_widths(face) if widths is None else widths
    mean_gap = (gap[:, 0] + gap[:, 1] + gap[:, 2]) / 3.0
    return np.maximum(mean_gap, 0.0) / width


# Gaze constants, fitted on the face corpus's training identities (benchmarks/fit_gaze.py).
# IRIS_DEPTH: how far the iris centre lies in front of the eye-corner midpoint, in eye widths
# (a turned head carries it across the image; anatomically the iris plane sits a few mm in front
# of the corners). LID_WEIGHT: (upper, lower) lid heights added to the iris's vertical offset
# (the lids follow a vertical gaze, and FaceMesh finds them more surely than the iris's height).
IRIS_DEPTH = 0.05
LID_WEIGHT = (0.0, 0.0)


def lid_heights(face: F64, widths: F64 | None = None) -> F64:
    """Height of the upper and lower lids' middles above the eye-corner midpoint, over the eye
    width: (2, 2) rows [left, right], columns (upper, lower), in the face frame (y up)."""
    width = eye_widths(face) if widths is None else widths
    mid_y = 0.5 * (face[EYE_OUTER, 1] + face[EYE_INNER, 1])
    up = face[LID_UPPER, 1].mean(axis=1) - mid_y
    lo = face[LID_LOWER, 1].mean(axis=1) - mid_y
    return np.stack([up, lo], axis=1) / width[:, None]


def iris_offsets(
    points_px: F64,
    rotation: F64,
    face: F64,
    widths: F64 | None = None,
    *,
    depth: float = IRIS_DEPTH,
    lid_weight: tuple[float, float] = LID_WEIGHT,
) -> F64:
    """Where each eye looks, as the iris centre relative to the corner midpoint over the eye
    width: (2, 2) rows [left, right], columns (x toward the person's right, y up), in the head's
    frame; the vertical offset plus ``lid_weight`` times the lids' heights (:func:`lid_heights`).
    Offsets relative to the face's own eye corners and width, so a ratio the same on any face.

    MediaPipe's iris depth is unreliable on a turned head, so only the image-plane (x, y) offset
    is used: it is taken back into the head frame with the head rotation, assuming the iris
    centre lies ``depth`` eye widths in front of the corner midpoint (a depth of 0 removed most
    of the head-yaw leak into gaze on rendered faces; the fitted depth, the rest of it).

    Args:
        points_px: (478, 3) landmarks in pixels; rotation: head model -> camera (3x3);
        face: the same landmarks as :func:`vtuber.solvers.expressions.face_frame` (for widths
        and lids); widths: :func:`eye_widths` of ``face`` if already computed.
    """
    mid = 0.5 * (points_px[EYE_OUTER, :2] + points_px[EYE_INNER, :2])
    dx, dy, dz = (points_px[EYE_OUTER[0]] - points_px[EYE_OUTER[1]]).tolist()
    iod = math.sqrt(dx * dx + dy * dy + dz * dz)
    v = (points_px[IRIS_CENTER, :2] - mid) / -max(iod, 1e-9)  # (2, 2), camera x/y over IOD
    width = eye_widths(face) if widths is None else widths
    if depth != 0.0:
        # The iris sits depth * width forward (anatomical +z) of the corners: remove what the
        # rotation makes of that from the image-plane offset (v = R2 f_xy + R[:2, 2] f_z; the
        # anatomical and camera axes differ by -I, which commutes with R).
        v = v - (depth * width)[:, None] * rotation[:2, 2][None, :]
    # v = R[:2, :2] f_xy (row form: v = f_xy R2^T)  ->  f_xy = v R2^-T. The 2x2 inverse is
    # written out: np.linalg.inv costs ~100x more for so small a matrix.
    a, b, c, d = rotation[0, 0], rotation[0, 1], rotation[1, 0], rotation[1, 1]
    det = a * d - b * c
    inv_t = np.array([[d, -c], [-b, a]]) / (det if abs(det) > 1e-9 else 1e-9)
    f = v @ inv_t
    out = f / width[:, None]
    if lid_weight != (0.0, 0.0):
        lids = lid_heights(face, width)
        out[:, 1] += lid_weight[0] * lids[:, 0] + lid_weight[1] * lids[:, 1]
    return out


# Per-user gaze noise (GazeNoise): how long the estimate remembers (frames with both eyes open)
# and how many such frames it needs before it counts (a variance from a handful of frames says
# little; until then no extra zone, so a face just found moves its eyes freely).
GAZE_NOISE_FRAMES = 300
GAZE_NOISE_MIN_FRAMES = 30


class GazeNoise:
    """The user's own gaze noise, learned from the two eyes' disagreement.

    Both eyes look at one point, so what their readings (yaw and pitch relative to each eye's
    rest) disagree by is mostly the landmarks' noise, not gaze: with independent noise of equal
    size on each eye, the variance of the difference is four times the noise variance of their
    mean. The estimate is a running variance of the difference over the frames where both eyes
    are open (a running mean over the first GAZE_NOISE_FRAMES, then exponential with that
    memory; the difference's own mean removed, so a constant vergence or rest mismatch does not
    count), 0 until GAZE_NOISE_MIN_FRAMES such frames were seen."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._n = 0
        self._mean = [0.0, 0.0]
        self._var = [0.0, 0.0]

    def add(self, diff_yaw: float, diff_pitch: float) -> None:
        """One frame's left-minus-right readings (radians), both eyes open."""
        self._n += 1
        rate = max(1.0 / self._n, 1.0 / GAZE_NOISE_FRAMES)
        for i, d in enumerate((diff_yaw, diff_pitch)):
            dm = d - self._mean[i]
            self._mean[i] += rate * dm
            self._var[i] += rate * (dm * dm * (1.0 - rate) - self._var[i])

    @property
    def sigma(self) -> tuple[float, float]:
        """Noise (yaw, pitch) of the two eyes' mean gaze, radians (0 while too few frames)."""
        if self._n < GAZE_NOISE_MIN_FRAMES:
            return (0.0, 0.0)
        return (0.5 * math.sqrt(self._var[0]), 0.5 * math.sqrt(self._var[1]))


@dataclass
class EyeConfig:
    """Blink and gaze settings.

    close_at / open_at: hysteresis on the closure (0 open .. 1 closed): an eye counts as closed
        once its closure reaches ``close_at`` and as open again when it falls to ``open_at``.
    dead_zone: closures below this read as fully open (lid noise).
    link_at: when both eyes' closures are above this, both close together (the more closed one
        wins); a wink (one eye closed, the other below ``link_at``) stays a wink.
    wink_at: an eye closes on its own (the other below ``link_at``) only from this closure up,
        not from ``close_at``: a person closes one eye alone deliberately and fully (a wink),
        while a lone partial dip is more often the landmarker misreading one eye (FaceMesh read
        one open eye of a training face 35-50 % narrower for half a second, and the real clip's
        left eye 20 % narrower for two frames). Fitted on the training faces
        (benchmarks/fit_blink_wink.py).
    wink_onset: an eye whose closure was at most this on each of the two frames before closes
        alone from ``close_at``, not ``wink_at``: a wink's first frame already shows a clear
        closure after an open eye, while the one-eye misreads seen on the training faces build
        up over frames (kit_harington's right eye, seed 1, v6 landmarks: 0.09, 0.44, 0.30, 0.25,
        0.39, 0.58 ...); without it a wink's first frame was lost to ``wink_at``. A negative
        value turns it off. Fitted with ``wink_at`` (benchmarks/fit_blink_wink.py).
    wink_iris_rise: an eye closed alone (the other below ``link_at``) reads open while its iris
        centre sits more than this (eye widths) above the user's iris rest offset. A closing lid
        takes FaceMesh's iris centre down with it: on the training faces the iris sat 0.039 eye
        widths below its rest on the median closed eye frame and at most 0.019 above it, against
        0.001 below on the median open eye frame; where FaceMesh misreads the lids of one open
        eye, the iris mostly stays where it is (kit_harington's right eye, seed 1, read closed
        alone for half a second with the head still). Fitted with ``wink_at``, above the
        iris's height on every closed eye frame of the training faces
        (benchmarks/fit_blink_wink.py); ``math.inf`` turns it off.
    eyeball_ratio: eyeball radius in eye widths, anatomically about 0.4 (12 mm over 30 mm).
    iris_gain: how far MediaPipe's iris landmark moves per eye width of true iris movement
        (x, y); fitted on the face corpus's training faces (benchmarks/fit_gaze.py).
    gaze_dead_zone_deg: (yaw, pitch) gaze within these of straight ahead reads 0, and beyond
        them the gaze is reduced by them (soft threshold): FaceMesh's iris reading of an eye
        looking at the screen wanders by a few degrees with the head pose and from frame to
        frame, vertically about as much as a glance moves it (fitted, benchmarks/fit_gaze.py).
    gaze_noise_k: beyond ``gaze_dead_zone_deg``, gaze within this many times the user's own
        gaze noise (:class:`GazeNoise`) of straight ahead reads 0 too, and beyond it the gaze is
        reduced by it: a face whose iris points jitter (a frame of glasses over the eyes, a far
        eye at a turned head) keeps its avatar's eyes still, while a clear glance still shows
        (fitted on the training faces with and without glasses, benchmarks/fit_gaze_noise.py).
    yaw_range_deg / pitch_range_deg: gaze is clamped to these and the look shapes reach 1 there.
    hold_at: closure above which an eye's gaze is held (iris hidden by the lid).
    pixel_weight: where the eye's closure read from its pixels is known
        (vtuber.landmarks.eyelids: both face backends, one tracked face), each eye's closure is
        the lids' reading moved this far toward it (0: the lids alone). The two fail apart:
        behind a frame of glasses the lid points barely follow a closing lid while the pixels
        change, and an open eye the lid points read narrow at a turned head still shows its
        iris. Chosen on the training faces with and without glasses, the pixel network fitted
        without each face in turn (benchmarks/fit_eye_state.py: the best mean of the bare and
        the glasses blink F1; 0.4 and more lost blinks on bare faces).
    noise_k: an open eye reading this many times its own jitter (the robust frame-to-frame
        deviation of its aperture, learned per eye) below its open level still reads open
        (:func:`closure`); fitted on the training faces (benchmarks/fit_blink_noise.py).
    hidden_eye: (lo, hi): an eye the image shows less than ``hi`` of (:func:`eye_visibility`:
        its width in the image over the other eye's) takes the other eye's closure in part, and
        below ``lo`` wholly: with the head turned far, the landmarker squeezes the far eye's
        points together and its lids read closed while it is open (one training face's far eye,
        5 px wide against the near eye's 48 at 32 degrees of yaw, read closed for over a second),
        while the near eye is seen whole. Its iris's share of the gaze is scaled the same way.
        A wink of the far eye at such a turn is lost. An eye at
        30 degrees of yaw typically shows 0.6-0.8 of the other's width, so ordinary turns keep
        each eye its own. (0, 0) turns it off. Chosen on the training faces, bare and with
        glasses (benchmarks/fit_hidden_eye.py).
    """

    close_at: float = 0.45
    open_at: float = 0.3
    dead_zone: float = 0.12
    link_at: float = 0.35
    wink_at: float = 0.6
    wink_onset: float = 0.05
    wink_iris_rise: float = 0.02
    eyeball_ratio: float = 0.4
    iris_gain: tuple[float, float] = (0.75, 0.40)
    gaze_dead_zone_deg: tuple[float, float] = (1.0, 2.0)
    gaze_noise_k: float = 1.5
    yaw_range_deg: float = 30.0
    pitch_range_deg: float = 20.0
    hold_at: float = 0.3
    pixel_weight: float = 0.3
    noise_k: float = 0.5
    hidden_eye: tuple[float, float] = (0.3, 0.5)


@dataclass(frozen=True, slots=True)
class EyeResult:
    """blink: [left, right] weights 0..1; closed: hysteresis state per eye; yaw/pitch: the shared
    gaze in radians (+ = toward the person's right / up); rotation: the eye bones' local rotation
    (x, y, z, w), Unity basis, the same for both eyes."""

    blink: tuple[float, float]
    closed: tuple[bool, bool]
    yaw: float
    pitch: float
    rotation: tuple[float, float, float, float]
    closure: tuple[float, float] = (0.0, 0.0)  # raw :meth:`EyeSolver.closure`, before linking

    def blendshapes(self, cfg: EyeConfig) -> dict[str, float]:
        """VRM 1.0 eye keys (person's sides; the pipeline's mirror swaps them if asked)."""
        bl, br = self.blink
        y = self.yaw / math.radians(cfg.yaw_range_deg)
        p = self.pitch / math.radians(cfg.pitch_range_deg)
        return {
            "blinkLeft": bl,
            "blinkRight": br,
            "blink": min(bl, br),
            "lookRight": min(max(y, 0.0), 1.0),
            "lookLeft": min(max(-y, 0.0), 1.0),
            "lookUp": min(max(p, 0.0), 1.0),
            "lookDown": min(max(-p, 0.0), 1.0),
        }


def gaze_rotation(yaw: float, pitch: float) -> tuple[float, float, float, float]:
    """Local eye rotation (x, y, z, w) looking ``yaw`` rad toward the person's right and ``pitch``
    rad up: yaw about +Y applied after pitch about -X (Unity basis, identity looks along +Z)."""
    return quat.multiply_tuple(
        quat.from_unit_axis_angle_tuple((0.0, 1.0, 0.0), yaw),
        quat.from_unit_axis_angle_tuple((1.0, 0.0, 0.0), -pitch),
    )


def dead_zone(x: float, width: float) -> float:
    """Soft threshold: 0 within ``width`` of 0, and ``x`` moved ``width`` toward 0 beyond."""
    return x - width if x > width else x + width if x < -width else 0.0


def closure(rel: float, kappa: float, noise: float = 0.0) -> float:
    """Raw closure 0 (open) .. 1 (closed) of an eye whose aperture is ``rel`` times its open
    level, when a closed eye keeps ``kappa`` of it (vtuber.solvers.adaptation.BlinkDepth).

    ``noise``: how far below its open level this user's open eye reads by chance (a multiple of
    its learned jitter, :attr:`EyeConfig.noise_k`); the scale starts there, so a face whose lid
    landmarks jitter does not blink on every dip. It never takes more than half the range."""
    top = 1.0 - min(max(noise, 0.0), 0.5 * (1.0 - kappa))
    return min(max((top - rel) / max(top - kappa, 0.05), 0.0), 1.0)


@dataclass
class EyeSolver:
    """Blink state (hysteresis) and the last trustworthy gaze of each eye.

    ``update`` takes each eye's raw closure (from its aperture and the user's own open level and
    blink depth, vtuber.solvers.calibration.FaceAdapter) and the iris offsets with the user's
    rest offset (2, 2), the iris offset when looking at the screen.
    """

    config: EyeConfig = field(default_factory=EyeConfig)
    _closed: list[bool] = field(default_factory=lambda: [False, False])
    _held: F64 = field(default_factory=lambda: np.zeros((2, 2)))  # (yaw, pitch) per eye
    noise: GazeNoise = field(default_factory=GazeNoise)
    # Each eye's raw closure on the last two frames, [left, right, left before, right before];
    # 1.0: not seen (a face just found has not been seen open).
    _before: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0])

    def reset(self) -> None:
        self._closed = [False, False]
        self._held = np.zeros((2, 2))
        self.noise.reset()
        self._before = [1.0, 1.0, 1.0, 1.0]

    def update(
        self,
        closure: tuple[float, float],
        offsets: F64,
        rest_offset: F64,
        seen: tuple[float, float] = (1.0, 1.0),
    ) -> EyeResult:
        """One frame: each eye's raw closure (:func:`closure`), the iris offsets and the user's
        iris rest offset (2, 2): the gaze, and whether an eye closed alone has its iris down
        (:attr:`EyeConfig.wink_iris_rise`). ``seen``: how far each eye's own reading counts
        (:attr:`EyeConfig.hidden_eye`: 0 for an eye the image barely shows); its iris's share
        of the gaze is scaled by it."""
        cfg = self.config
        raw = closure
        # Both nearly closed: close together (the more closed eye leads); a wink stays one-sided
        # and needs a clear closure (EyeConfig.wink_at).
        linked = min(raw) >= cfg.link_at
        if linked:
            raw = (max(raw), max(raw))
        alone = max(cfg.close_at, cfg.wink_at)
        before = self._before
        # How far each iris centre sits above its rest (eye widths): a closing lid takes it down.
        rise = (offsets[:, 1] - rest_offset[:, 1]).tolist()
        blink = [0.0, 0.0]
        for i in (LEFT, RIGHT):
            ci = raw[i]
            # Alone, an eye closes from wink_at, or from close_at right after it read open.
            onset = max(before[i], before[2 + i]) <= cfg.wink_onset
            close_at = cfg.close_at if linked or onset else alone
            if self._closed[i]:
                if ci <= cfg.open_at:
                    self._closed[i] = False
            elif ci >= close_at:
                self._closed[i] = True
            if not linked and rise[i] > cfg.wink_iris_rise:
                self._closed[i] = False  # alone, with its iris up: the lids misread
            if self._closed[i]:
                # Closed: fully closed from close_at up; eases down toward open_at.
                lo, hi = cfg.open_at, cfg.close_at
                blink[i] = 1.0 if ci >= hi else 0.5 + 0.5 * (ci - lo) / (hi - lo)
            else:
                # Open: lid noise under the dead zone reads 0; partial closure stays below 0.5.
                x = (ci - cfg.dead_zone) / (cfg.close_at - cfg.dead_zone)
                blink[i] = 0.49 * min(max(x, 0.0), 1.0)
        self._before = [closure[0], closure[1], before[0], before[1]]
        # Gaze per eye, held while that eye is (nearly) closed.
        # (Plain floats: numpy's overhead dominates on four numbers.)
        rx, ry = cfg.eyeball_ratio * cfg.iris_gain[0], cfg.eyeball_ratio * cfg.iris_gain[1]
        weights = [0.0, 0.0]
        for i, (ox, oy) in enumerate((offsets - rest_offset).tolist()):
            if raw[i] < cfg.hold_at and not self._closed[i] and seen[i] > 0.0:
                self._held[i] = (  # [yaw, pitch]
                    math.asin(min(max(ox / rx, -1.0), 1.0)),
                    math.asin(min(max(oy / ry, -1.0), 1.0)),
                )
                weights[i] = (1.0 - raw[i] / cfg.hold_at + 1e-3) * seen[i]
        (y0, p0), (y1, p1) = self._held.tolist()
        if weights[0] > 0.0 and weights[1] > 0.0:  # both read this frame
            self.noise.add(y0 - y1, p0 - p1)
        wsum = weights[0] + weights[1]
        if wsum > 0.0:
            g = (
                (weights[0] * y0 + weights[1] * y1) / wsum,
                (weights[0] * p0 + weights[1] * p1) / wsum,
            )
        else:
            g = (0.5 * (y0 + y1), 0.5 * (p0 + p1))
        yr, pr = math.radians(cfg.yaw_range_deg), math.radians(cfg.pitch_range_deg)
        sy, sp = self.noise.sigma
        k = cfg.gaze_noise_k
        dy = math.radians(cfg.gaze_dead_zone_deg[0]) + k * sy
        dp = math.radians(cfg.gaze_dead_zone_deg[1]) + k * sp
        yaw = min(max(dead_zone(g[0], dy), -yr), yr)
        pitch = min(max(dead_zone(g[1], dp), -pr), pr)
        return EyeResult(
            blink=(blink[0], blink[1]),
            closed=(self._closed[0], self._closed[1]),
            yaw=yaw,
            pitch=pitch,
            rotation=gaze_rotation(yaw, pitch),
            closure=closure,
        )
