"""Scoring the face tracker against a rendered corpus sequence's truth (vtuber.synth.corpus).

One :func:`landmark_run` renders a sequence and runs a real MediaPipe backend on it (tracking
mode, frame by frame, as a webcam would); :func:`track` runs vtuber's Tracker (no smoothing) on
those landmarks and collects what would be sent, with either mirror setting; :func:`score` turns
that into the figures of docs/face_corpus.md. :func:`baseline_head` is the plain reference for the
head: SQPnP of the 468 mesh points against the generic model, no corrections; :func:`baseline`
adds textbook measures for the other figures (the eye aspect ratio, the lip gap over the mouth's
width, the iris's offset on a 12 mm eyeball), all read off the same landmarks with no per-user
adaptation, so every figure has a plain counterpart scored by the same :func:`score`.

Sides and signs: the truth is the person's (anatomical); with ``mirror=True`` the sent frame is
:func:`vtuber.rig.mirror_frame` of it, so the expected values are mirrored the same way (the
person's left eye is the avatar's right eye; the head rotation reflected through the avatar's YZ
plane; gaze yaw negated) -- a wrong side scores as an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr

from vtuber import quat
from vtuber.config import TrackConfig
from vtuber.landmarks import Landmarks
from vtuber.landmarks import face_mesh as fm
from vtuber.rig import ARKIT_NAMES, AvatarFrame, Bone, mirror_frame
from vtuber.solvers.head import face_model, solve_head_pose
from vtuber.synth.corpus import Sequence, SequenceRenderer
from vtuber.synth.face import EYE_WIDTH_MM, EYEBALL_RADIUS_MM, gaze_angles, true_rotation
from vtuber.tracker import Tracker

F64 = NDArray[np.float64]


def landmark_run(
    seq: Sequence,
    backend_factory: Callable[[], object],
    frames: int | None = None,
    renderer: SequenceRenderer | None = None,
) -> list[Landmarks]:
    """Render ``seq`` and run a landmark backend (``process(bgr, t)``, ``close()``) over it
    (``renderer``: one that keeps its frames, to reuse them)."""
    rend = SequenceRenderer(seq) if renderer is None else renderer
    backend = backend_factory()
    out: list[Landmarks] = []
    try:
        for i in range(len(seq) if frames is None else min(frames, len(seq))):
            out.append(backend.process(rend.frame(i), i / seq.fps))  # type: ignore[attr-defined]
    finally:
        backend.close()  # type: ignore[attr-defined]
    return out


@dataclass
class Sent:
    """What the tracker would send, per frame: head (n, 4) = Neck * Head; blink (n, 2) =
    blinkLeft, blinkRight keys as sent; jaw (n,); vowels (n, 5) aa ih ou ee oh; gaze (n, 2) eye
    bone yaw (+ = toward the avatar's right) and pitch (+ up), degrees; arkit_blink (n, 2) =
    eyeBlinkLeft/Right as sent (perfect sync; zeros otherwise); found (n,); emotions (n, 5)
    happy, sad, angry, surprised, relaxed as sent (None: not read, the plain baseline)."""

    head: F64
    blink: F64
    jaw: F64
    vowels: F64
    gaze: F64
    arkit_blink: F64
    arkit_jaw: F64
    found: NDArray[np.bool_]
    mirror: bool
    frames: list[AvatarFrame] = field(default_factory=list, repr=False)
    emotions: F64 | None = None


VOWEL_KEYS = ("aa", "ih", "ou", "ee", "oh")
# The model's shapes that a face at rest should not show (Scores.shapes_at_rest).
SHAPES_AT_REST = tuple(
    k for k in ARKIT_NAMES if not k.startswith(("eyeBlink", "eyeLook")) and k != "jawOpen"
)
EMOTION_KEYS = ("happy", "sad", "angry", "surprised", "relaxed")
BROW_KEYS = ("browInnerUp", "browOuterUpLeft", "browOuterUpRight", "browDownLeft", "browDownRight")


def _gaze_deg(q: tuple[float, float, float, float]) -> tuple[float, float]:
    f = quat.rotate(np.asarray(q, dtype=np.float64), np.array([0.0, 0.0, 1.0]))
    return (
        math.degrees(math.atan2(f[0], f[2])),
        math.degrees(math.atan2(f[1], math.hypot(f[0], f[2]))),
    )


def track(
    lms: list[Landmarks],
    *,
    mirror: bool = False,
    tracker: Tracker | None = None,
) -> Sent:
    """vtuber's Tracker (no smoothing) over the landmarks, frames mirrored if asked."""
    tr = tracker or Tracker(TrackConfig())
    n = len(lms)
    head = np.zeros((n, 4))
    head[:, 3] = 1.0
    blink, gaze, ab, aj = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros((n, 2)), np.zeros(n)
    jaw, vowels, found = np.zeros(n), np.zeros((n, 5)), np.zeros(n, bool)
    emotions = np.zeros((n, len(EMOTION_KEYS)))
    frames = []
    for i, lm in enumerate(lms):
        fr = tr.solve(lm, index=i)
        if mirror:
            fr = mirror_frame(fr)
        frames.append(fr)
        found[i] = fr.tracking.face
        if not fr.tracking.face:
            continue
        head[i] = quat.multiply(fr.bones[Bone.Neck], fr.bones[Bone.Head])
        b = fr.blendshapes
        blink[i] = (b.get("blinkLeft", 0.0), b.get("blinkRight", 0.0))
        jaw[i] = b.get("jawOpen", 0.0)
        vowels[i] = [b.get(k, 0.0) for k in VOWEL_KEYS]
        emotions[i] = [b.get(k, 0.0) for k in EMOTION_KEYS]
        gaze[i] = _gaze_deg(fr.bones[Bone.LeftEye])
        ab[i] = (b.get("eyeBlinkLeft", 0.0), b.get("eyeBlinkRight", 0.0))
        aj[i] = b.get("jawOpen", 0.0)
    return Sent(head, blink, jaw, vowels, gaze, ab, aj, found, mirror, frames, emotions)


def truth_head(seq: Sequence, mirror: bool) -> F64:
    """(n, 4) the true head rotation as the avatar should show it (relative to frame 0)."""
    q = np.array(
        [
            quat.from_matrix(true_rotation(y, p, r))
            for y, p, r in zip(seq.yaw, seq.pitch, seq.roll, strict=True)
        ]
    )
    return np.array([quat.mirror_x(x) for x in q]) if mirror else q


def relative_to_first(q: F64) -> F64:
    """Rotations relative to the first frame's: q_i * q_0^-1 (a constant offset removed)."""
    inv0 = quat.conjugate(q[0])
    return np.array([quat.multiply(x, inv0) for x in q])


def head_errors(q: F64, truth: F64) -> F64:
    """Per-frame angle (degrees) between estimated and true rotations, both taken relative to
    the first frame (frontal, unless the performance was started later:
    Sequence.starting_at)."""
    return np.degrees(quat.angle_between(relative_to_first(q), relative_to_first(truth)))


def baseline_head(lms: list[Landmarks]) -> F64:
    """The plain reference: SQPnP of the 468 mesh points against the generic face model, no
    corrections; (n, 4) model -> camera rotations (identity where no face)."""
    idx = np.arange(468)
    model = face_model()
    out = np.zeros((len(lms), 4))
    out[:, 3] = 1.0
    for i, lm in enumerate(lms):
        if lm.face.found:
            pose = solve_head_pose(lm.face_pixels(), lm.width, lm.height, model=model, indices=idx)
            out[i] = pose.quaternion
    return out


# The plain baseline's blink: an eye whose aspect ratio (the two lid gaps over the corner
# distance, halved: Soukupova and Cech, "Real-Time Eye Blink Detection using Facial Landmarks",
# 2016) is under this counts as closed; 0.2 is that paper's threshold, no fit here.
EAR_CLOSED = 0.2
# Per eye (person's left, right): the corners (outer, inner), the lids (the aspect ratio pairs
# their third and fifth points from the outer corner) and the iris centre (the plain gaze).
_EYE_POINTS = (
    (fm.EYE_OUTER_L, fm.EYE_INNER_L, fm.UPPER_LID_L, fm.LOWER_LID_L, fm.IRIS_L),
    (fm.EYE_OUTER_R, fm.EYE_INNER_R, fm.UPPER_LID_R, fm.LOWER_LID_R, fm.IRIS_R),
)


def eye_aspect_ratio(px: F64) -> tuple[float, float]:
    """Each eye's (person's left, right) six-point aspect ratio from the face's pixel points."""
    out = []
    for outer, inner, up, low, _ in _EYE_POINTS:
        width = float(np.linalg.norm(px[outer, :2] - px[inner, :2]))
        gaps = [float(np.linalg.norm(px[up[j], :2] - px[low[j], :2])) for j in (2, 4)]
        out.append(sum(gaps) / (2.0 * max(width, 1e-6)))
    return out[0], out[1]


def baseline(lms: list[Landmarks]) -> Sent:
    """The plain baseline of every figure, as what it would send (no mirror, no vowels): the
    head of :func:`baseline_head`; each eye closed while its :func:`eye_aspect_ratio` is under
    :data:`EAR_CLOSED`; the mouth's opening as the inner lip gap over the corner distance (the
    score is a rank correlation, so no scale is needed); the gaze as each iris centre's offset
    from its eye's corner midpoint in eye widths (along and across the corners' line), turned
    into angles on the eyeball the renderer uses (the offset of the first found frame taken as
    straight ahead, as the head's first frame is), the two eyes averaged."""
    n = len(lms)
    head = baseline_head(lms)
    blink, gaze, jaw = np.zeros((n, 2)), np.zeros((n, 2)), np.zeros(n)
    found = np.array([lm.face.found for lm in lms], bool)
    offsets = np.zeros((n, 2, 2))
    for i, lm in enumerate(lms):
        if not found[i]:
            continue
        px = lm.face_pixels()
        ear = eye_aspect_ratio(px)
        blink[i] = [1.0 if e < EAR_CLOSED else 0.0 for e in ear]
        corners = px[fm.MOUTH_CORNER_L, :2] - px[fm.MOUTH_CORNER_R, :2]
        lip_gap = px[fm.INNER_LIP_UP, :2] - px[fm.LIP_INNER_LOWER[1], :2]
        jaw[i] = float(np.linalg.norm(lip_gap)) / max(float(np.linalg.norm(corners)), 1e-6)
        for e, (outer, inner, _, _, iris) in enumerate(_EYE_POINTS):
            a, b = px[outer, :2], px[inner, :2]
            # along: from the person's right toward their left (image +x, un-mirrored camera)
            along = (a - b) if e == 0 else (b - a)
            w = max(float(np.linalg.norm(along)), 1e-6)
            u = along / w
            d = (px[iris, :2] - 0.5 * (a + b)) / w
            # across: the person's up (image -y when level)
            offsets[i, e] = (float(d @ u), float(d @ np.array([u[1], -u[0]])))
    if found.any():
        first = int(np.argmax(found))
        k = EYE_WIDTH_MM / EYEBALL_RADIUS_MM
        ang = np.degrees(np.arcsin(np.clip((offsets - offsets[first]) * k, -1.0, 1.0)))
        mean = ang.mean(axis=1)
        # The anatomical eye bone's yaw > 0 is toward the person's right (scoring's convention).
        gaze[:, 0], gaze[:, 1] = -mean[:, 0], mean[:, 1]
    zeros2 = np.zeros((n, 2))
    return Sent(head, blink, jaw, np.zeros((n, 5)), gaze, zeros2, np.zeros(n), found, False)


Counts = tuple[int, int, int]


def counts(truth: NDArray[np.bool_], pred: NDArray[np.bool_]) -> Counts:
    """(true positives, false positives, false negatives) of frame-wise ``pred``."""
    return (int(np.sum(truth & pred)), int(np.sum(~truth & pred)), int(np.sum(truth & ~pred)))


def f1_of(c: Counts) -> float:
    """F1 of :func:`counts` (or of their sums over several performances: a pooled F1)."""
    tp, fp, fn = c
    return 2 * tp / max(2 * tp + fp + fn, 1)


def f1(truth: NDArray[np.bool_], pred: NDArray[np.bool_]) -> float:
    return f1_of(counts(truth, pred))


def _dilate(mask: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    out = mask.copy()
    for s in range(1, k + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


@dataclass
class Scores:
    """One sequence's figures (docs/face_corpus.md defines each)."""

    head_mean: float
    head_p95: float
    # Per eye (tp, fp, fn) of the blinks sent (and of perfect sync's eyeBlink): blink_f1 and
    # arkit_blink_f1 are their F1s; summed over a face's performances they pool it.
    blink_counts: tuple[Counts, Counts]
    false_blinks_turning: int
    mouth_spearman: float
    vowel_at_rest: float
    gaze_mean: float
    found: float
    # Talking (a Spearman cannot see a mouth that opens to half of what it should, or vowels
    # that never come): the fraction of the frames with the mouth at least half open where the
    # largest vowel sent is 0.3 or more, and the median jawOpen sent while it is open 0.8 or
    # more (NaN where the performance has no such frame).
    vowels_open: float = float("nan")
    jaw_wide: float = float("nan")
    arkit_blink_counts: tuple[Counts, Counts] | None = None
    arkit_jaw_spearman: float | None = None
    # Emotions (None where not read): the 95th percentile of the largest emotion sent over the
    # frames where the face is at rest (mouth closed, no smile or frown, 2 frames away from
    # either); where the performance smiles and frowns (Sequence.smile), happy >= 0.5 against a
    # smile of at least 0.5 and sad >= 0.5 against a frown of at least 0.5, frames whose
    # expression lies between 0.2 and 0.5 left out (neither clearly there nor clearly not).
    expression_at_rest: float | None = None
    smile_counts: Counts | None = None
    frown_counts: Counts | None = None
    # Perfect sync: the 95th percentile of the largest of the model's calibrated shapes other
    # than the eyelids, the gaze and jawOpen (SHAPES_AT_REST) over the frames where the face is
    # at rest as above and both eyes open (2 frames away from any closure): what a perfect-sync
    # avatar shows of a still face (docs/perfect_sync.md section 3c).
    shapes_at_rest: float | None = None
    # The 95th percentile of the largest brow shape sent (BROW_KEYS) over the frames with a
    # face and the brows at rest (2 frames from any movement, where the performance moves them:
    # Sequence.brows), so every one is false (None where none sent). Where the brows move, the
    # Spearman of the largest raise sent (browInnerUp, browOuterUp*) with the truth's larger
    # raise, and of the larger browDown* with its larger lowering.
    brows_at_rest: float | None = None
    brow_raise: float | None = None
    brow_lower: float | None = None
    # The head's mean error against the truth as it stands (its frontal pose the person's rest),
    # no frame taken out: what the avatar shows once the tracker's neutral is the user's own (a
    # profile's, or the first frame's where that frame is frontal). Where the performance starts
    # with the head turned (Sequence.starting_at), head_mean is relative to that turned frame
    # and this is the figure a calibrated tracker is judged by.
    head_rest_mean: float = float("nan")

    @property
    def blink_f1(self) -> tuple[float, float]:
        return f1_of(self.blink_counts[0]), f1_of(self.blink_counts[1])

    @property
    def arkit_blink_f1(self) -> tuple[float, float] | None:
        c = self.arkit_blink_counts
        return None if c is None else (f1_of(c[0]), f1_of(c[1]))

    def row(self) -> dict[str, float]:
        d = {
            "head": self.head_mean,
            "head95": self.head_p95,
            "blinkL": self.blink_f1[0],
            "blinkR": self.blink_f1[1],
            "falseBlinks": float(self.false_blinks_turning),
            "mouth": self.mouth_spearman,
            "vowelRest": self.vowel_at_rest,
            "vowelsOpen": self.vowels_open,
            "jawWide": self.jaw_wide,
            "gaze": self.gaze_mean,
        }
        if self.expression_at_rest is not None:
            d["emotionRest"] = self.expression_at_rest
        if self.shapes_at_rest is not None:
            d["psShapesRest"] = self.shapes_at_rest
        if self.brows_at_rest is not None:
            d["browsRest"] = self.brows_at_rest
        if self.brow_raise is not None and self.brow_lower is not None:
            d["browRaise"], d["browLower"] = self.brow_raise, self.brow_lower
        if self.arkit_blink_f1 is not None:
            d["psBlinkL"], d["psBlinkR"] = self.arkit_blink_f1
            d["psJaw"] = float(self.arkit_jaw_spearman or 0.0)
        return d


def score(seq: Sequence, sent: Sent, *, perfect_sync: bool = False) -> Scores:
    """Compare what was sent with the truth (only frames with a face count, and all of them
    must have one for a fair score: ``found`` reports the fraction)."""
    n = len(sent.found)
    ok = sent.found
    truth = truth_head(seq, sent.mirror)[:n]
    head = head_errors(sent.head, truth)[ok]
    head_rest = np.degrees(quat.angle_between(sent.head, truth))[ok]
    # Eyes: the sent keys are the avatar's; with the mirror, blinkLeft is the person's right.
    close = seq.eye_close[:n][:, ::-1] if sent.mirror else seq.eye_close[:n]
    bc = [counts((close[:, e] >= 0.5)[ok], (sent.blink[:, e] >= 0.5)[ok]) for e in (0, 1)]
    # False blinks while the head turns within +-30 deg, eyes open (2 frames away from any
    # closure of that eye).
    turning = np.abs(seq.yaw[:n]) <= 30.0
    false_blinks = 0
    for e in (0, 1):
        open_e = ~_dilate(close[:, e] > 0.0, 2)
        false_blinks += int(np.sum((sent.blink[:, e] >= 0.5) & open_e & turning & ok))
    mouth = seq.mouth[:n]
    rho = float(spearmanr(mouth[ok], sent.jaw[ok]).statistic)
    rest = ~_dilate(mouth > 0.0, 2) & ok
    vowel_rest = float(sent.vowels[rest].max()) if rest.any() else 0.0
    talking, wide = (mouth >= 0.5) & ok, (mouth >= 0.8) & ok
    vowels_open = (
        float(np.mean(sent.vowels[talking].max(axis=1) >= 0.3)) if talking.any() else math.nan
    )
    jaw_wide = float(np.median(sent.jaw[wide])) if wide.any() else math.nan
    # Gaze: frames with both eyes open and the iris still for 2 frames (no saccade in flight).
    iris = seq.iris[:n]
    moved = np.zeros(n, bool)
    moved[1:] = np.any(iris[1:] != iris[:-1], axis=1)
    steady = ~_dilate(moved, 2) & ~_dilate(np.any(seq.eye_close[:n] > 0.0, axis=1), 2) & ok
    tg = np.array([gaze_angles((float(a), float(b))) for a, b in iris])
    # Truth yaw > 0 = the person's left; the anatomical eye bone's yaw > 0 = the person's right.
    exp_yaw = tg[:, 0] if sent.mirror else -tg[:, 0]
    gerr = np.hypot(sent.gaze[:, 0] - exp_yaw, sent.gaze[:, 1] - tg[:, 1])[steady]
    expr_rest = smile_c = frown_c = None
    if sent.emotions is not None:
        smile = np.zeros(n) if seq.smile is None else seq.smile[:n]
        calm = rest & ~_dilate(smile != 0.0, 2)
        if calm.any():
            expr_rest = float(np.percentile(sent.emotions[calm].max(axis=1), 95))
        if seq.smile is not None:
            clear = ok & ((np.abs(smile) >= 0.5) | (np.abs(smile) <= 0.2))
            smile_c = counts((smile >= 0.5)[clear], (sent.emotions[:, 0] >= 0.5)[clear])
            frown_c = counts((smile <= -0.5)[clear], (sent.emotions[:, 1] >= 0.5)[clear])
    brows_rest = brow_raise = brow_lower = None
    b_still = ok if seq.brows is None else ok & ~_dilate(np.any(seq.brows[:n] != 0.0, axis=1), 2)
    sent_b = np.array(
        [[fr.blendshapes.get(k, math.nan) for k in BROW_KEYS] for fr in sent.frames]
    ).reshape(-1, len(BROW_KEYS))  # a Sent without frames has none
    if len(sent_b) == n and np.isfinite(sent_b).any():
        sent_b = np.nan_to_num(sent_b)
        if b_still.any():
            brows_rest = float(np.percentile(sent_b[b_still].max(axis=1), 95))
        if seq.brows is not None:
            tb = seq.brows[:n]
            brow_raise, brow_lower = (  # raises: browInnerUp, browOuterUp*; lowerings: browDown*
                float(
                    spearmanr(
                        np.maximum(sign * tb, 0.0).max(axis=1)[ok], sent_b[ok][:, keys].max(axis=1)
                    ).statistic
                )
                for sign, keys in ((1.0, slice(0, 3)), (-1.0, slice(3, 5)))
            )
    pc = ps_jaw = shapes_rest = None
    if perfect_sync:
        still = rest & ~_dilate(np.any(seq.eye_close[:n] > 0.0, axis=1), 2)
        if seq.smile is not None:
            still &= ~_dilate(seq.smile[:n] != 0.0, 2)
        if still.any() and sent.frames:
            top = [
                max(fr.blendshapes.get(k, 0.0) for k in SHAPES_AT_REST)
                for fr, s in zip(sent.frames, still, strict=True)
                if s
            ]
            shapes_rest = float(np.percentile(top, 95))
        pcs = [
            counts((close[:, e] >= 0.5)[ok], (sent.arkit_blink[:, e] >= 0.5)[ok]) for e in (0, 1)
        ]
        pc = (pcs[0], pcs[1])
        ps_jaw = float(spearmanr(mouth[ok], sent.arkit_jaw[ok]).statistic)
    return Scores(
        head_mean=float(head.mean()),
        head_p95=float(np.percentile(head, 95)),
        head_rest_mean=float(head_rest.mean()),
        blink_counts=(bc[0], bc[1]),
        false_blinks_turning=false_blinks,
        mouth_spearman=rho,
        vowel_at_rest=vowel_rest,
        vowels_open=vowels_open,
        jaw_wide=jaw_wide,
        gaze_mean=float(gerr.mean()) if len(gerr) else float("nan"),
        found=float(ok.mean()),
        arkit_blink_counts=pc,
        arkit_jaw_spearman=ps_jaw,
        expression_at_rest=expr_rest,
        shapes_at_rest=shapes_rest,
        brows_at_rest=brows_rest,
        brow_raise=brow_raise,
        brow_lower=brow_lower,
        smile_counts=smile_c,
        frown_counts=frown_c,
    )


def baseline_head_error(seq: Sequence, lms: list[Landmarks]) -> float:
    """Mean head error (degrees) of :func:`baseline_head`, relative to the first frame. The
    baseline reports the model -> camera rotation, which equals the anatomical avatar rotation
    (docs/coordinates.md: the axis change is -I and commutes)."""
    q = baseline_head(lms)
    ok = np.array([lm.face.found for lm in lms])
    return float(head_errors(q, truth_head(seq, False)[: len(q)])[ok].mean())
