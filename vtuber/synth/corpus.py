"""The face corpus: ten real people's photos rendered as 3D heads (vtuber.synth.face), split by
person into a training half (the only faces any constant may be fitted on) and a validation half
(the only faces figures are reported on). docs/face_corpus.md lists the split and why.

Two photos ship with packages the project already uses (matplotlib's grace_hopper, scikit-image's
astronaut); eight come from the shared test data folder (``../shared/data/faces`` beside the
checkout, or ``$VTUBER_SHARED_DATA/faces``) and are never copied into the project.

A fitting script calls :func:`begin_fitting` first: from then on asking for a validation face
raises :class:`CorpusError`, so a constant can not be fitted on a face it is judged on.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.errors import VtuberError
from vtuber.synth.face import FaceRenderer, still_landmarks
from vtuber.synth.face import load_photo as load_package_photo

F64 = NDArray[np.float64]

# Split by person, balanced for what hurts trackers: a broad smile at rest with teeth showing
# (obama / alex_lacamoire), beards (kit_harington / alex_lacamoire, shea_whigham), women with long
# hair (kate_siegel, astronaut, grace_hopper / rose_leslie), small faces in a large photo.
TRAINING: tuple[str, ...] = ("grace_hopper", "astronaut", "obama", "kit_harington", "kate_siegel")
VALIDATION: tuple[str, ...] = (
    "alex_lacamoire",
    "biden",
    "paul_rudd",
    "rose_leslie",
    "shea_whigham",
)
IDENTITIES: tuple[str, ...] = TRAINING + VALIDATION
PACKAGE_PHOTOS = ("grace_hopper", "astronaut")

_fitting = False


class CorpusError(VtuberError):
    """A face that is not available, or a validation face asked for while fitting."""


def begin_fitting() -> None:
    """Mark this process as fitting constants: validation faces are refused from now on."""
    global _fitting
    _fitting = True


def shared_faces_dir() -> Path:
    """Where the eight shared portraits live (they may be absent: see :func:`available`)."""
    env = os.environ.get("VTUBER_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "faces"


def _photo_path(name: str) -> Path | None:
    d = shared_faces_dir()
    for ext in (".jpg", ".png"):
        p = d / f"{name}{ext}"
        if p.is_file():
            return p
    return None


def available(names: tuple[str, ...] = IDENTITIES) -> tuple[str, ...]:
    """The identities among ``names`` whose photo can be loaded on this machine."""
    return tuple(n for n in names if n in PACKAGE_PHOTOS or _photo_path(n) is not None)


def _check(name: str) -> None:
    if name not in IDENTITIES:
        raise CorpusError(f"unknown corpus face {name!r}; choose one of {', '.join(IDENTITIES)}")
    if _fitting and name in VALIDATION:
        raise CorpusError(
            f"{name!r} is a validation face: fitting scripts may read only {', '.join(TRAINING)}"
        )


def load_photo(name: str) -> NDArray[np.uint8]:
    """The BGR photo of one corpus identity."""
    _check(name)
    if name in PACKAGE_PHOTOS:
        return load_package_photo(name)
    p = _photo_path(name)
    if p is None:
        raise CorpusError(f"the photo of {name!r} is not in {shared_faces_dir()}")
    img = cv2.imread(str(p))
    if img is None:
        raise CorpusError(f"cannot read {p}")
    return np.ascontiguousarray(img)


@lru_cache(maxsize=12)
def photo_landmarks(name: str) -> NDArray[np.float64]:
    """FaceMesh landmarks of an identity's photo, pixels (z scaled like x), read-only."""
    return still_landmarks(load_photo(name), f"the photo of {name!r}")


def renderer(name: str, **kwargs: Any) -> FaceRenderer:
    """A :class:`vtuber.synth.face.FaceRenderer` of one identity (kwargs: distance_cm, hfov_deg,
    mouth_shade, skin_tone)."""
    _check(name)
    return FaceRenderer.from_landmarks(load_photo(name), photo_landmarks(name), **kwargs)


# -- sequences with ground truth ------------------------------------------------------------------


_PER_FRAME = ("yaw", "pitch", "roll", "eye_close", "mouth", "iris", "smile", "brows")


@dataclass(frozen=True)
class Sequence:
    """A rendered performance with its truth, frame by frame (``fps`` frames per second).

    yaw / pitch / roll: head angles in degrees (vtuber.synth.face convention; frame 0 is frontal,
    so the truth is relative to the first frontal frame); eye_close (n, 2): closure 0..1 of the
    person's [left, right] eye; mouth: jaw opening 0..1; iris (n, 2): iris shift in eye widths
    (vtuber.synth.face.gaze_angles gives the gaze). face_px: the face's width in the image;
    size: (width, height) of the frames; lighting: (gain, side gradient, gamma); noise: pixel
    noise std (grey levels).
    """

    name: str
    seed: int
    fps: float
    yaw: F64
    pitch: F64
    roll: F64
    eye_close: F64
    mouth: F64
    iris: F64
    face_px: float
    size: tuple[int, int]
    lighting: tuple[float, float, float]
    noise: float
    glasses: bool = False  # the same performance wearing glasses (FaceRenderer.glasses_model)
    fringe: bool = False  # the same performance with a fringe (FaceRenderer.fringe_model)
    # The inside of the mouth this many times as bright against the skin as in the corpus's
    # renders (FaceRenderer's mouth_shade; face.LIT_MOUTH_SHADE: the lit-mouth condition).
    mouth_shade: float = 1.0
    # The photo's skin recoloured (face.SKIN_TONES: "brown", "dark"; "": as photographed), the
    # skin-tone condition.
    skin_tone: str = ""
    # (n,) smile -1..1 (FaceRenderer.deformed_model: > 0 smiles, < 0 frowns); None: none at all
    # (the corpus's performances before expressions, rendered the same as ever).
    smile: F64 | None = None
    # (n, 2) brows of the person's [left, right] -1..1 (FaceRenderer.deformed_model: > 0
    # raised, < 0 lowered); None: never moved (the performances before brows, rendered as ever).
    brows: F64 | None = None
    # A webcam's shutter and compression (the webcam condition, :func:`webcam`): the shutter is
    # open ``exposure`` of the frame interval, centred on the frame, so whatever moves meanwhile
    # is smeared (motion blur); each frame is then JPEG-compressed at ``jpeg_quality`` (0: an
    # instant shutter and no compression, the corpus's renders as ever).
    exposure: float = 0.0
    jpeg_quality: int = 0
    # Filmed every ``step``-th frame of a performance made at ``fps * step`` (:meth:`every`).
    step: int = 1

    def __len__(self) -> int:
        return len(self.yaw)

    def starting_at(self, frame: int) -> Sequence:
        """The same performance from ``frame`` on (tracking that starts mid-performance: a
        user already talking, or a face found again mid-word). Its truth stays as it was, so
        the head is scored relative to that first frame (scoring.head_errors), which need not be
        frontal."""
        cut = {f: v[frame:] for f in _PER_FRAME if (v := getattr(self, f)) is not None}
        return replace(self, **cut)

    def every(self, step: int) -> Sequence:
        """The same performance filmed at ``fps / step`` frames per second (a webcam that drops
        to 15 fps in dim light): every ``step``-th frame, its truth the same at each."""
        kept = {f: v[::step] for f in _PER_FRAME if (v := getattr(self, f)) is not None}
        return replace(self, fps=self.fps / step, step=self.step * step, **kept)


def _smooth_path(rng: np.random.Generator, n: int, fps: float, amp: float, vmax: float) -> F64:
    """A smooth random angle path starting at 0, within +-amp degrees, speed <= vmax deg/s,
    with still stretches (a person who talks, looks around and pauses)."""
    out = np.zeros(n)
    x, target, hold = 0.0, 0.0, int(fps * 0.5)
    speed = 0.0
    for i in range(1, n):
        if hold > 0:
            hold -= 1
        elif abs(target - x) < 0.5:
            target = float(rng.uniform(-amp, amp)) if rng.random() < 0.8 else 0.0
            speed = float(rng.uniform(0.25, 1.0)) * vmax
            hold = int(rng.integers(0, int(1.2 * fps)))
        step = speed / fps
        d = target - x
        # Ease in and out: slow down near the target (no instant stops).
        v = min(step, abs(d) * 0.25 + step * 0.05)
        x += math.copysign(min(v, abs(d)), d)
        out[i] = x
    return out


def _blink_frames(rng: np.random.Generator, fps: float) -> int:
    """A blink's length in frames at ``fps``: 130-300 ms (4-8 frames at 30 fps)."""
    per_30 = fps / 30.0
    return int(rng.integers(round(4 * per_30), round(9 * per_30)))


def _blink_shape(dur: int, peak: float) -> F64:
    """A blink's closure over its ``dur`` frames: a quick close to ``peak``, held a little."""
    shape = peak * np.sin(np.linspace(0.0, np.pi, dur + 2)[1:-1]) ** 0.6
    return np.minimum(shape * 1.15, peak)


def make_sequence(
    name: str,
    seed: int,
    *,
    seconds: float = 10.0,
    fps: float = 30.0,
    face_px: float | None = None,
    max_speed_dps: float = 60.0,
    amplitude: tuple[float, float, float] = (35.0, 20.0, 15.0),
    expressions: bool = False,
    brows: bool = False,
) -> Sequence:
    """A seeded performance of ``seconds``: the head wanders (yaw/pitch/roll within
    ``amplitude`` degrees, at up to ``max_speed_dps``), the person blinks (both eyes, winks,
    partial closures), talks in bursts (syllables at 3-6 Hz, varied opening) and glances around.
    Frame 0 is frontal, eyes open, mouth closed. ``expressions``: the person also smiles and
    frowns now and then (:func:`expression_track`; the rest of the performance is the same as
    without); ``brows``: the person also raises and lowers their brows (:func:`brow_track`,
    the same way)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * fps))
    yaw = _smooth_path(rng, n, fps, amplitude[0], max_speed_dps)
    pitch = _smooth_path(rng, n, fps, amplitude[1], max_speed_dps * 0.6)
    roll = _smooth_path(rng, n, fps, amplitude[2], max_speed_dps * 0.4)
    first = int(fps * 0.5)  # half a second frontal and still at the start
    for a in (yaw, pitch, roll):
        a[:first] = 0.0
        a[first:] -= a[first]
        a[first:] *= np.clip(np.arange(n - first) / fps, 0.0, 1.0)  # ease into the motion

    eye = np.zeros((n, 2))
    t = first + int(rng.integers(0, int(fps)))
    per_30 = fps / 30.0  # the blinks' lengths are in frames at 30 fps
    while t < n - round(10 * per_30):
        kind = rng.choice(["both", "both", "both", "left", "right", "partial"])
        dur = _blink_frames(rng, fps)
        peak = 1.0 if kind != "partial" else float(rng.uniform(0.3, 0.75))
        shape = _blink_shape(dur, peak)
        cols = {"both": [0, 1], "partial": [0, 1], "left": [0], "right": [1]}[str(kind)]
        for c in cols:
            eye[t : t + dur, c] = np.maximum(eye[t : t + dur, c], shape)
        if kind == "left" and rng.random() < 0.5:  # a wink with the other eye narrowing a bit
            eye[t : t + dur, 1] = np.maximum(eye[t : t + dur, 1], 0.15 * shape)
        t += dur + int(rng.integers(int(1.2 * fps), int(3.5 * fps)))

    mouth = np.zeros(n)
    t = first + int(rng.integers(0, int(fps)))
    while t < n:
        burst = int(rng.integers(int(0.8 * fps), int(3.0 * fps)))
        u = t
        while u < min(t + burst, n):
            syl = int(rng.integers(int(fps / 6), int(fps / 3)))
            peak = float(rng.uniform(0.15, 1.0))
            k = min(syl, n - u)
            mouth[u : u + k] = peak * np.sin(np.linspace(0.0, np.pi, syl + 2)[1 : k + 1])
            u += syl
        t += burst + int(rng.integers(int(0.6 * fps), int(2.0 * fps)))

    iris = np.zeros((n, 2))
    t = first + int(rng.integers(int(fps), int(2 * fps)))
    while t < n:
        dur = int(rng.integers(int(0.4 * fps), int(1.5 * fps)))
        # Up to ~20 deg of gaze yaw and ~12 deg of pitch (shift = sin(angle) * 0.4 eye widths).
        target = (
            0.4 * math.sin(math.radians(rng.uniform(-20, 20))),
            0.4 * math.sin(math.radians(rng.uniform(-12, 12))),
        )
        iris[t : t + dur] = target
        t += dur + int(rng.integers(int(0.8 * fps), int(2.5 * fps)))

    if face_px is None:
        face_px = float(rng.uniform(120.0, 400.0))
    size = (640, 480) if face_px <= 260 else (1280, 720)
    lighting = (
        float(rng.uniform(0.6, 1.25)),  # overall gain
        float(rng.uniform(-0.35, 0.35)),  # side light: brightness slope across the frame
        float(rng.uniform(0.8, 1.25)),  # gamma
    )
    return Sequence(
        name=name,
        seed=seed,
        fps=fps,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        eye_close=eye,
        mouth=mouth,
        iris=iris,
        face_px=float(face_px),
        size=size,
        lighting=lighting,
        noise=float(rng.uniform(1.0, 4.0)),
        smile=expression_track(seed, n, fps) if expressions else None,
        brows=brow_track(seed, n, fps) if brows else None,
    )


# Seeds of the calibration clips (:func:`calibration_clip`): the performance's seed plus this,
# so no clip shares its seed with a performance.
CALIBRATION_SEED = 7_000_000


def calibration_clip(seq: Sequence, seconds: float = 3.0) -> Sequence:
    """What ``vtuber calibrate`` records before the performance ``seq``: the same person,
    camera, light and condition (glasses, skin, ...) looking at the screen with a relaxed face
    for ``seconds`` (its default): the head sways a little around the frontal pose (2, 1.5 and
    1 degrees of yaw, pitch and roll, at up to 5 degrees a second), the eyes open but for one
    blink, the mouth closed, the gaze on the screen, no smile and the brows at rest."""
    rng = np.random.default_rng(seq.seed + CALIBRATION_SEED)
    fps = seq.fps
    n = int(round(seconds * fps))
    # Centred: the head's rest is where it points while the user looks at the screen, so the
    # clip's mean pose is the truth's frontal (the neutral a profile should hold).
    yaw, pitch, roll = (
        p - p.mean() for p in (_smooth_path(rng, n, fps, a, 5.0) for a in (2.0, 1.5, 1.0))
    )
    eye = np.zeros((n, 2))
    dur = _blink_frames(rng, fps)
    t = int(rng.integers(int(0.5 * fps), max(n - dur, int(0.5 * fps) + 1)))
    eye[t : t + dur] = _blink_shape(dur, 1.0)[:, None]
    return replace(
        seq,
        seed=seq.seed + CALIBRATION_SEED,
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        eye_close=eye,
        mouth=np.zeros(n),
        iris=np.zeros((n, 2)),
        smile=None,
        brows=None,
    )


T = TypeVar("T")


def _episodes(
    rng: np.random.Generator,
    n: int,
    fps: float,
    rise_s: tuple[float, float],
    hold_s: tuple[float, float],
    draw: Callable[[np.random.Generator], T],
) -> Iterator[tuple[int, F64, T]]:
    """Episodes of an expression track over ``n`` frames: after the first second, every 1.5-4 s
    one rises over ``rise_s`` seconds (a raised cosine), holds ``hold_s`` and falls as fast.
    Yields each one's first frame, its envelope (0..1, cut at the end of the track) and what
    ``draw`` drew for it (after its rise and hold)."""
    t = int(fps) + int(rng.integers(0, int(fps)))
    while t < n:
        rise = int(rng.integers(int(rise_s[0] * fps), int(rise_s[1] * fps)))
        hold = int(rng.integers(int(hold_s[0] * fps), int(hold_s[1] * fps)))
        what = draw(rng)
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, rise + 1)[1:])
        shape = np.concatenate([ramp, np.ones(hold), ramp[::-1]])
        yield t, shape[: n - t], what
        t += len(shape) + int(rng.integers(int(1.5 * fps), int(4.0 * fps)))


def brow_track(seed: int, n: int, fps: float = 30.0) -> F64:
    """(n, 2) brow movements of the person's [left, right] brow, from their own random stream
    (so a performance with them is the same performance otherwise): after the first second,
    every 1.5-4 s a movement rises over 0.15-0.4 s, holds 0.4-1.5 s and falls as fast; half
    raise both brows, a third lower both (a frown's brows), the rest raise one, each of 0.4-1.
    Between them the brows are at rest (0)."""

    def draw(rng: np.random.Generator) -> F64:
        u = rng.random()
        peak = float(rng.uniform(0.4, 1.0))
        if u < 0.5:
            return np.array([peak, peak])
        if u < 5.0 / 6.0:
            return np.array([-peak, -peak])
        return np.array([peak, 0.0]) if rng.random() < 0.5 else np.array([0.0, peak])

    out = np.zeros((n, 2))
    for t, env, side in _episodes(
        np.random.default_rng((seed, 11)), n, fps, (0.15, 0.4), (0.4, 1.5), draw
    ):
        out[t : t + len(env)] = env[:, None] * side
    return out


def expression_track(seed: int, n: int, fps: float = 30.0) -> F64:
    """(n,) smiles and frowns, from their own random stream (so a performance with them is the
    same performance otherwise): after the first second, every 1.5-4 s an expression rises over
    0.2-0.5 s, holds 0.5-2 s and falls as fast; two in three are smiles, of 0.3-1, the rest
    frowns of 0.3-1. Between them the face is at rest (0)."""

    def draw(rng: np.random.Generator) -> float:
        return float(rng.uniform(0.3, 1.0)) * (1.0 if rng.random() < 2.0 / 3.0 else -1.0)

    out = np.zeros(n)
    for t, env, peak in _episodes(
        np.random.default_rng((seed, 7)), n, fps, (0.2, 0.5), (0.5, 2.0), draw
    ):
        out[t : t + len(env)] = env * peak
    return out


def webcam(seq: Sequence) -> Sequence:
    """The same performance through a webcam: a shutter open 1/4 to all of the frame interval
    (1/120 to 1/30 s at 30 fps: auto exposure indoors opens it long) and Motion-JPEG at quality
    55-90, drawn from their own random stream (so the performance is otherwise the same)."""
    rng = np.random.default_rng((seq.seed, 13))
    return replace(
        seq, exposure=float(rng.uniform(0.25, 1.0)), jpeg_quality=int(rng.integers(55, 91))
    )


def distance_for_width(
    rend, face_px: float, size: tuple[int, int], hfov_deg: float = 60.0
) -> float:  # type: ignore[no-untyped-def]
    """Camera distance (cm) at which ``rend``'s face is ``face_px`` pixels wide."""
    width_cm = float(np.ptp(rend.model[:468, 0]))
    f = 0.5 * size[0] / math.tan(math.radians(hfov_deg) / 2.0)
    return f * width_cm / face_px


def light(img: NDArray[np.uint8], lighting: tuple[float, float, float]) -> NDArray[np.uint8]:
    """Change a render's lighting: gain, a left-right brightness slope (a lamp at one side) and
    gamma."""
    gain, slope, gamma = lighting
    w = img.shape[1]
    ramp = 1.0 + slope * np.linspace(-1.0, 1.0, w, dtype=np.float32)
    x = img.astype(np.float32) / 255.0
    x = np.power(x, gamma) * (gain * ramp)[None, :, None]
    return np.clip(x * 255.0, 0, 255).astype(np.uint8)


class SequenceRenderer:
    """Renders the frames of one :class:`Sequence` (lighting and noise applied; ``keep``: each
    frame is kept once rendered, for measures taken of the same frames again)."""

    def __init__(self, seq: Sequence, hfov_deg: float = 60.0, keep: bool = False) -> None:
        self.seq = seq
        self._kept: dict[int, NDArray[np.uint8]] | None = {} if keep else None
        base = renderer(seq.name)
        dist = distance_for_width(base, seq.face_px, seq.size, hfov_deg)
        self.renderer = renderer(
            seq.name,
            distance_cm=dist,
            hfov_deg=hfov_deg,
            mouth_shade=seq.mouth_shade,
            skin_tone=seq.skin_tone,
        )

    def _state(self, t: float) -> dict[str, F64]:
        """The performance's truth at time ``t`` (frames, fractional: linear between frames,
        held beyond the ends)."""
        s = self.seq
        i0 = min(max(int(math.floor(t)), 0), len(s) - 1)
        i1 = min(i0 + 1, len(s) - 1)
        a = min(max(t - i0, 0.0), 1.0)
        out = {}
        for f in _PER_FRAME:
            v = getattr(s, f)
            if v is not None:
                out[f] = np.asarray((1.0 - a) * v[i0] + a * v[i1], np.float64)
        return out

    def _render(self, st: dict[str, F64]) -> NDArray[np.uint8]:
        s = self.seq
        smile, brows = st.get("smile"), st.get("brows")
        return self.renderer.render(
            float(st["yaw"]),
            float(st["pitch"]),
            float(st["roll"]),
            eye_close=(float(st["eye_close"][0]), float(st["eye_close"][1])),
            mouth_open=float(st["mouth"]),
            iris=(float(st["iris"][0]), float(st["iris"][1])),
            size=s.size,
            noise=0.0,
            glasses=s.glasses,
            fringe=s.fringe,
            smile=0.0 if smile is None else float(smile),
            brows=(0.0, 0.0) if brows is None else (float(brows[0]), float(brows[1])),
        )

    def exposures(self, i: int) -> int:
        """How many instants frame ``i``'s shutter is rendered at: enough that whatever moves
        while it is open moves under about a pixel between two of them (at most 12), 1 for an
        instant shutter or a still frame."""
        s = self.seq
        if s.exposure <= 0.0:
            return 1
        a, b = self._state(i - s.exposure / 2), self._state(i + s.exposure / 2)
        turn = max(abs(float(b[f] - a[f])) for f in ("yaw", "pitch", "roll"))
        # How far each part moves in the image, as a share of the face's width: the face's front
        # about 0.6 face widths from the axes the head turns about, the lids over 0.08, the jaw
        # 0.15, the iris 0.25 (one eye width), the brows and the mouth's corners 0.05.
        share = 0.6 * math.radians(turn)
        share = max(share, 0.08 * float(np.abs(b["eye_close"] - a["eye_close"]).max()))
        share = max(share, 0.15 * abs(float(b["mouth"] - a["mouth"])))
        share = max(share, 0.25 * float(np.abs(b["iris"] - a["iris"]).max()))
        for f in ("smile", "brows"):
            if f in a:
                share = max(share, 0.05 * float(np.abs(b[f] - a[f]).max()))
        return int(min(max(math.ceil(share * s.face_px), 1), 12))

    def frame(self, i: int) -> NDArray[np.uint8]:
        if self._kept is None:
            return self._frame(i)
        if i not in self._kept:
            self._kept[i] = self._frame(i)
        return self._kept[i]

    def _frame(self, i: int) -> NDArray[np.uint8]:
        s = self.seq
        k = self.exposures(i)
        if k == 1:
            img = self._render(self._state(float(i)))
        else:  # the shutter's light summed over k instants spread evenly while it is open
            acc = np.zeros((s.size[1], s.size[0], 3), np.float32)
            for j in range(k):
                acc += self._render(self._state(i + s.exposure * ((j + 0.5) / k - 0.5)))
            img = np.clip(acc / k + 0.5, 0, 255).astype(np.uint8)
        img = light(img, s.lighting)
        if s.noise > 0:
            rng = np.random.default_rng((s.seed, i))
            noisy = img.astype(np.float32) + rng.normal(0.0, s.noise, img.shape).astype(np.float32)
            img = np.clip(noisy, 0, 255).astype(np.uint8)
        if s.jpeg_quality > 0:
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, s.jpeg_quality])
            img = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)
        return img
