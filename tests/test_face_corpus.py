"""Face fidelity on faces the tracker was never fitted on: the corpus's VALIDATION identities
(docs/face_corpus.md), rendered performing (head moving up to 60 deg/s, blinking, winking,
talking, glancing, varied light, noise and size), through real MediaPipe FaceMesh and vtuber's
Tracker with no smoothing, under both mirror settings.

The thresholds are regression guards at or below the issue's goals; docs/face_corpus.md gives the
measured figures and which goals are not met yet. The split itself is guarded too: a fitting
script can not read a validation face."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.synth import corpus, scoring

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 6.0


def test_fitting_scripts_cannot_read_validation_faces() -> None:
    # At run time: once a script says it is fitting, a validation face is refused.
    code = (
        "from vtuber.synth import corpus\n"
        "corpus.load_photo('grace_hopper')\n"
        "corpus.begin_fitting()\n"
        "corpus.load_photo('grace_hopper')\n"
        f"corpus.load_photo({corpus.VALIDATION[0]!r})\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "is a validation face" in r.stderr, r.stderr[-500:]
    # In the source: every fitting script declares itself and names no validation face.
    scripts = sorted((ROOT / "benchmarks").glob("fit_*.py"))
    assert scripts, "no fitting scripts found"
    for path in scripts:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            n.func.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        }
        assert "begin_fitting" in calls, f"{path.name} must call corpus.begin_fitting()"
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert not strings & set(corpus.VALIDATION), f"{path.name} names a validation face"


def test_split_is_by_person_and_disjoint() -> None:
    assert len(corpus.TRAINING) == len(corpus.VALIDATION) == 5
    assert not set(corpus.TRAINING) & set(corpus.VALIDATION)
    assert set(corpus.IDENTITIES) == set(corpus.TRAINING) | set(corpus.VALIDATION)


def test_a_face_pooled_blink_f1_counts_all_its_frames() -> None:
    # bench_face_corpus.py's per-face figure: the performances' counts summed give the F1 of
    # their frames taken together, not the mean of their F1s.
    rng = np.random.default_rng(3)
    truth = [rng.random(n) < 0.08 for n in (300, 240)]
    pred = [t ^ (rng.random(len(t)) < 0.03) for t in truth]
    parts = [scoring.counts(t, p) for t, p in zip(truth, pred, strict=True)]
    summed = (sum(c[0] for c in parts), sum(c[1] for c in parts), sum(c[2] for c in parts))
    together = scoring.f1(np.concatenate(truth), np.concatenate(pred))
    assert scoring.f1_of(summed) == pytest.approx(together)
    assert scoring.f1_of(parts[0]) == scoring.f1(truth[0], pred[0])
    assert scoring.f1_of((0, 0, 0)) == 0.0


def test_a_performance_started_later_is_scored_from_its_own_first_frame() -> None:
    """bench_face_corpus.py --start: the performance from a later frame on (a user already
    talking), its head scored relative to that frame, however turned; and perfect sync's
    shapes at rest read from the still frames only."""
    from vtuber import quat
    from vtuber.rig import ARKIT_NAMES, AvatarFrame

    seq = corpus.make_sequence("grace_hopper", 7, seconds=3.0)
    cut = seq.starting_at(45)
    assert len(cut) == len(seq) - 45 and cut.mouth[0] == seq.mouth[45]
    np.testing.assert_array_equal(cut.eye_close, seq.eye_close[45:])
    truth = scoring.truth_head(cut, mirror=False)
    assert quat.angle_between(truth[0], np.array([0.0, 0.0, 0.0, 1.0])) > 0.01  # turned
    # A tracker reading the truth exactly, but relative to its own first frame (its neutral):
    # no error.
    sent = np.array([quat.multiply(q, quat.conjugate(truth[0])) for q in truth])
    assert np.max(scoring.head_errors(sent, truth)) < 1e-6
    # Shapes at rest: only still frames count (no word, no blink, two frames around either):
    # here a word over the first 20 frames, then a still face.
    n = len(cut)
    mouth = np.where(np.arange(n) < 20, 0.5, 0.0)
    cut = dataclasses.replace(cut, mouth=mouth, eye_close=np.zeros((n, 2)))
    frames = [
        AvatarFrame(t=i / 30.0, blendshapes={"mouthPucker": 0.9 if i < 22 else 0.2})
        for i in range(n)
    ]
    z = np.zeros((n, 2))
    fake = scoring.Sent(
        sent,
        z,
        mouth,
        np.zeros((n, 5)),
        z,
        z,
        mouth,
        np.ones(n, bool),
        False,
        frames,
        np.zeros((n, 5)),
    )
    sc = scoring.score(cut, fake, perfect_sync=True)
    assert sc.shapes_at_rest == pytest.approx(0.2)
    assert "mouthPucker" in scoring.SHAPES_AT_REST and "jawOpen" not in scoring.SHAPES_AT_REST
    assert len(scoring.SHAPES_AT_REST) == len(ARKIT_NAMES) - 11
    assert scoring.score(cut, fake).shapes_at_rest is None  # FaceMesh mode: not read


def test_a_calibration_clip_is_the_same_person_at_rest_before_the_performance() -> None:
    """corpus.calibration_clip: what `vtuber calibrate` records before a performance, in its
    light and condition: the head swaying a little around the frontal pose, one blink, the
    mouth closed, the gaze on the screen."""
    seq = dataclasses.replace(
        corpus.make_sequence("astronaut", 11, seconds=2.0, expressions=True),
        glasses=True,
        skin_tone="brown",
    )
    clip = corpus.calibration_clip(seq, 3.0)
    assert len(clip) == 90 and clip.seed != seq.seed
    same = ("name", "fps", "face_px", "size", "lighting", "noise", "glasses", "skin_tone")
    assert all(getattr(clip, f) == getattr(seq, f) for f in same)
    for path, amp in ((clip.yaw, 2.0), (clip.pitch, 1.5), (clip.roll, 1.0)):
        assert abs(path.mean()) < 1e-9 and 0.1 < np.abs(path).max() <= 2 * amp
    assert not clip.mouth.any() and not clip.iris.any() and clip.smile is None
    shut = clip.eye_close[:, 0]
    np.testing.assert_array_equal(shut, clip.eye_close[:, 1])
    runs = np.flatnonzero(np.diff((shut > 0).astype(int)) == 1)
    assert len(runs) == 1 and shut.max() == 1.0  # one blink, fully closed
    other = corpus.calibration_clip(corpus.make_sequence("astronaut", 12, seconds=2.0))
    assert not np.array_equal(other.yaw, clip.yaw)  # each performance its own clip


def test_a_profile_recorded_first_holds_a_session_started_turned_and_talking() -> None:
    """The issue's "better with calibration": a user who starts tracking with the head turned,
    mid-word, gets the head's rest, the mouth's and the eyes' from a profile recorded before
    (`vtuber calibrate`, as tracker.ProfileRecorder records it), where without one the first
    frames stand in for them. grace_hopper (a training face; nothing here is fitted). On the
    bench's performances (docs/face_corpus.md, "Calibrated"): the head against the truth
    12-23 deg -> 2-3.5 deg, the mouth's Spearman up on every face. Here (2026-12-06): the head
    13.0 -> 1.8 deg, the mouth 0.78 -> 0.95, vowels on 0.61 -> 1.00 of the open frames."""
    from vtuber import quat
    from vtuber.config import TrackConfig
    from vtuber.tracker import ProfileRecorder, Tracker

    seq = corpus.make_sequence("grace_hopper", 61_000, seconds=7.0)
    truth = scoring.truth_head(seq, mirror=False)
    turn = np.degrees(quat.angle_between(truth, np.array([0.0, 0.0, 0.0, 1.0])))
    k0 = 30 + int(np.argmax(turn[30:90]))  # the most turned frame 1-3 s in
    assert turn[k0] >= 10.0, turn[k0]  # the scenario: tracking starts with the head turned
    cut = seq.starting_at(k0)
    assert cut.mouth[: round(cut.fps * 1.5)].max() > 0.3  # ... and talking within 1.5 s
    rec = ProfileRecorder()
    for lm in scoring.landmark_run(corpus.calibration_clip(seq), FaceMeshBackend):
        rec.add(lm)
    assert len(rec) == 90
    lms = scoring.landmark_run(cut, FaceMeshBackend)
    unc = scoring.score(cut, scoring.track(lms))
    tracker = Tracker(TrackConfig(), rec.calibrator.profile())
    cal = scoring.score(cut, scoring.track(lms, tracker=tracker))
    print("uncalibrated", {k: round(v, 3) for k, v in unc.row().items()}, unc.head_rest_mean)
    print("calibrated", {k: round(v, 3) for k, v in cal.row().items()}, cal.head_rest_mean)
    assert cal.found == 1.0
    assert cal.head_rest_mean <= 4.0 and unc.head_rest_mean >= cal.head_rest_mean + 5.0
    assert cal.mouth_spearman >= max(unc.mouth_spearman - 0.01, 0.85)
    assert cal.vowel_at_rest <= 0.2
    assert min(cal.blink_f1) >= min(unc.blink_f1) - 0.05


def test_smiles_and_frowns_leave_the_rest_of_a_performance_as_it_was() -> None:
    """A performance with expressions is the same performance (pose, eyes, mouth, gaze,
    lighting) plus a smile track from its own random stream; the emotions' figures score it."""
    a = corpus.make_sequence("grace_hopper", 7, seconds=10.0)
    b = corpus.make_sequence("grace_hopper", 7, seconds=10.0, expressions=True)
    assert a.smile is None and b.smile is not None and len(b.smile) == len(b)
    for key in ("yaw", "pitch", "roll", "eye_close", "mouth", "iris"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key
    assert (a.lighting, a.noise, a.face_px) == (b.lighting, b.noise, b.face_px)
    assert np.all(b.smile[:30] == 0.0) and np.abs(b.smile).max() <= 1.0
    assert np.abs(b.smile).max() >= 0.3 and np.mean(b.smile == 0.0) > 0.3
    # A tracker whose happy / sad follow the smile exactly scores F1 1 and nothing at rest.
    n = len(b)
    emotions = np.zeros((n, len(scoring.EMOTION_KEYS)))
    emotions[:, 0], emotions[:, 1] = np.clip(b.smile, 0, 1), np.clip(-b.smile, 0, 1)
    z = np.zeros((n, 2))
    sent = scoring.Sent(
        np.tile([0.0, 0.0, 0.0, 1.0], (n, 1)), z, b.mouth.copy(), np.zeros((n, 5)), z, z,
        np.zeros(n), np.ones(n, bool), False, emotions=emotions,
    )  # fmt: skip
    s = scoring.score(b, sent)
    assert s.expression_at_rest == 0.0
    assert s.smile_counts is not None and s.smile_counts[1:] == (0, 0) and s.smile_counts[0] > 0
    assert s.frown_counts is not None and s.frown_counts[1:] == (0, 0)


def test_brows_leave_the_rest_of_a_performance_as_it_was() -> None:
    """A performance with brows is the same performance plus a brow track of its own random
    stream; the brows' figures score it: a tracker whose shapes follow it exactly reads every
    raise and lowering (Spearman 1) and nothing while the brows rest."""
    a = corpus.make_sequence("grace_hopper", 0, seconds=10.0)
    b = corpus.make_sequence("grace_hopper", 0, seconds=10.0, brows=True)
    assert a.brows is None and b.brows is not None and b.brows.shape == (len(b), 2)
    for key in ("yaw", "pitch", "roll", "eye_close", "mouth", "iris"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key
    assert (a.lighting, a.noise, a.face_px) == (b.lighting, b.noise, b.face_px)
    assert np.all(b.brows[:30] == 0.0) and np.abs(b.brows).max() <= 1.0
    assert b.brows.max() >= 0.4 and b.brows.min() <= -0.4 and np.mean(b.brows == 0.0) > 0.3
    assert np.array_equal(b.starting_at(45).brows, b.brows[45:])
    frames = []
    for left, right in b.brows.tolist():
        up = {"browInnerUp": max(left, right, 0.0)}
        up.update(browOuterUpLeft=max(left, 0.0), browOuterUpRight=max(right, 0.0))
        up.update(browDownLeft=max(-left, 0.0), browDownRight=max(-right, 0.0))
        frames.append(SimpleNamespace(blendshapes=up))
    n = len(b)
    z = np.zeros((n, 2))
    sent = scoring.Sent(
        np.tile([0.0, 0.0, 0.0, 1.0], (n, 1)), z, b.mouth.copy(), np.zeros((n, 5)), z, z,
        np.zeros(n), np.ones(n, bool), False, frames,  # type: ignore[arg-type]
    )  # fmt: skip
    s = scoring.score(b, sent)
    assert s.brows_at_rest == 0.0
    assert s.brow_raise == pytest.approx(1.0) and s.brow_lower == pytest.approx(1.0)
    # The same shapes a second late read worse.
    late = dataclasses.replace(sent, frames=frames[-30:] + frames[:-30])
    s2 = scoring.score(b, late)
    assert s2.brow_raise is not None and s2.brow_raise < 0.8 and s2.brows_at_rest > 0.3


def test_a_webcam_smears_what_moves_and_compresses_every_frame() -> None:
    """The webcam condition (docs/face_corpus.md, "A webcam"): the same performance, its frames
    JPEG-compressed, and a frame where the head turns fast smeared along the turn (the shutter
    open a share of the frame interval), while a still frame is only compressed."""
    import cv2

    seq = corpus.make_sequence("astronaut", 1, seconds=4.0, face_px=240.0)
    cam = corpus.webcam(seq)
    for key in ("yaw", "pitch", "roll", "eye_close", "mouth", "iris"):
        assert np.array_equal(getattr(seq, key), getattr(cam, key)), key
    assert 0.25 <= cam.exposure <= 1.0 and 55 <= cam.jpeg_quality <= 90
    assert (cam.exposure, cam.jpeg_quality) != (
        (w := corpus.webcam(corpus.make_sequence("astronaut", 5, seconds=4.0))).exposure,
        w.jpeg_quality,
    )
    sharp, worn = corpus.SequenceRenderer(seq), corpus.SequenceRenderer(cam)
    # Frame 0: the head still, the eyes open, the mouth shut: one instant, compressed.
    assert worn.exposures(0) == 1
    ok, buf = cv2.imencode(".jpg", sharp.frame(0), [cv2.IMWRITE_JPEG_QUALITY, cam.jpeg_quality])
    assert ok and np.array_equal(worn.frame(0), cv2.imdecode(buf, cv2.IMREAD_COLOR))
    # The fastest turn: the same frame compressed without the smear has sharper edges across it.
    speed = np.abs(np.diff(seq.yaw))
    i = int(np.argmax(speed[:-1] + speed[1:])) + 1
    assert speed[i] * seq.fps >= 20.0 and worn.exposures(i) >= 3
    still = corpus.SequenceRenderer(dataclasses.replace(cam, exposure=0.0)).frame(i)
    smeared = worn.frame(i)

    def edges(img: np.ndarray) -> float:
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float64)
        return float(np.mean(np.abs(np.diff(g, axis=1))))

    assert edges(smeared) < 0.95 * edges(still), (edges(smeared), edges(still))
    assert float(np.mean(np.abs(smeared.astype(float) - still.astype(float)))) > 0.3
    kept = corpus.SequenceRenderer(cam, keep=True)
    assert kept.frame(i) is kept.frame(i) and np.array_equal(kept.frame(i), smeared)


def test_other_frame_rates_keep_the_motion_in_seconds() -> None:
    """A performance made at 60 fps blinks as long in seconds as one at 30 (130-300 ms), and
    filmed every other frame it is the same motion at 30 fps (docs/face_corpus.md, "A
    webcam")."""
    from scipy.ndimage import label

    fast = corpus.make_sequence("astronaut", 2, fps=60.0)
    half = fast.every(2)
    assert (half.fps, half.step, len(half)) == (30.0, 2, len(fast) // 2)
    for key in ("yaw", "pitch", "roll", "eye_close", "mouth", "iris"):
        assert np.array_equal(getattr(half, key), getattr(fast, key)[::2]), key
    assert half.face_px == fast.face_px and half.every(1).fps == 30.0
    for seq in (fast, corpus.make_sequence("astronaut", 2)):
        lengths = []
        for eye in (0, 1):
            runs, _ = label(seq.eye_close[:, eye] > 0.0)
            lengths.extend(np.bincount(runs.ravel())[1:].tolist())
        seconds = np.array(lengths) / seq.fps
        assert len(seconds) >= 4, (seq.fps, seconds)
        assert seconds.min() >= 0.13 and seconds.max() <= 0.29, (seq.fps, seconds)


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[corpus.Sequence, list]]:  # type: ignore[type-arg]
    names = corpus.available(corpus.VALIDATION)
    if not names:
        pytest.skip(f"the shared face photos are not present in {corpus.shared_faces_dir()}")
    out = {}
    for name in names:
        seed = 50_000 + corpus.IDENTITIES.index(name)  # not a seed any bench or fit uses
        seq = corpus.make_sequence(name, seed, seconds=SECONDS)
        out[name] = (seq, scoring.landmark_run(seq, FaceMeshBackend))
    return out


@pytest.fixture(scope="module")
def scores(runs) -> dict[tuple[str, bool], scoring.Scores]:  # type: ignore[no-untyped-def]
    table = {}
    for name, (seq, lms) in runs.items():
        for mirror in (False, True):
            table[name, mirror] = scoring.score(seq, scoring.track(lms, mirror=mirror))
    print()
    for (name, mirror), s in table.items():
        print(
            name, "mirror" if mirror else "anatomical", {k: round(v, 3) for k, v in s.row().items()}
        )
    return table


def test_every_frame_has_the_face(scores) -> None:  # type: ignore[no-untyped-def]
    assert all(s.found == 1.0 for s in scores.values())


def test_blinks_per_eye_on_the_correct_side(scores) -> None:  # type: ignore[no-untyped-def]
    f1s = []
    for (name, mirror), s in scores.items():
        # Guards below the goal (>= 0.9, none): on these performances 0.857-1.0 and no
        # false blink since a lone eye needs a clear closure (eyes.EyeConfig.wink_at).
        assert min(s.blink_f1) >= 0.8, (name, mirror, s.blink_f1)
        assert s.false_blinks_turning <= 2, (name, mirror, s.false_blinks_turning)
        f1s += list(s.blink_f1)
        assert tuple(scoring.f1_of(c) for c in s.blink_counts) == s.blink_f1
        # The mirror swaps the sides and nothing else.
        if mirror:
            other = scores[name, False]
            assert s.blink_f1 == other.blink_f1[::-1]
            assert s.blink_counts == other.blink_counts[::-1]
    assert float(np.mean(f1s)) >= 0.9, f1s


def test_mouth_follows_the_jaw(scores) -> None:  # type: ignore[no-untyped-def]
    # The goals (met on these performances since the mouth's darkness: 0.92-0.97).
    rho = [s.mouth_spearman for (_, m), s in scores.items() if not m]
    assert min(rho) >= 0.85 and float(np.mean(rho)) >= 0.9, rho
    # No vowel shape above 0.2 at rest, under either mirror setting (the goal; at most
    # 0.012 on these performances since the vowels need the darkness's word, mouth.py).
    at_rest = {k: round(s.vowel_at_rest, 3) for k, s in scores.items()}
    assert max(at_rest.values()) <= 0.2, at_rest


def test_the_mouth_talks_with_vowels_and_opens_wide(scores) -> None:  # type: ignore[no-untyped-def]
    """A rank correlation cannot see a mouth that opens half as far as it should or vowels that
    never come: the frames with the mouth at least half open send a vowel (the largest >= 0.3),
    and a wide-open mouth sends jawOpen well over half."""
    talk = {k: (round(s.vowels_open, 3), round(s.jaw_wide, 3)) for k, s in scores.items()}
    # (2026-12-06: vowels on 0.91-1.00 of the open frames, jawOpen 0.60-0.97 wide open; one
    # performance never opens 0.8 wide: NaN.)
    assert float(np.nanmin([v for v, _ in talk.values()])) >= 0.8, talk
    assert float(np.nanmin([j for _, j in talk.values()])) >= 0.5, talk


def test_emotions_stay_calm_while_the_head_moves(scores) -> None:  # type: ignore[no-untyped-def]
    """These performances show no expression at all, so every emotion sent at rest is false:
    the 95th percentile of the largest, per performance (docs/face_corpus.md "Emotions").
    Measured 2026-12-06: 0.70 (alex_lacamoire: his resting smile's corners read as a frown as
    his head moves), 0.31, 0.28, 0.26, 0.18; before the corners' own noise and the rest's
    weaker ridge, 0.70, 0.53, 0.36, 0.39, 0.34."""
    calm = {k: round(float(s.expression_at_rest), 3) for k, s in scores.items()}
    print("emotion at rest, p95:", calm)
    assert max(calm.values()) <= 0.75 and float(np.median(list(calm.values()))) <= 0.35, calm


def test_brows_stay_still_while_the_head_moves(scores) -> None:  # type: ignore[no-untyped-def]
    """The brows never move in these performances, so every brow shape sent is false: the 95th
    percentile of the largest, per performance (docs/face_corpus.md "Brows").
    Measured 2026-12-06: 0.23 (rose_leslie), 0.19, 0.16, 0.16, 0.14; without each brow's own
    scatter as its noise (BrowConfig.noise_k = 0), 0.36, 0.29, 0.29, 0.25, 0.22."""
    still = {k: round(float(s.brows_at_rest or 0.0), 3) for k, s in scores.items()}
    print("brows at rest, p95:", still)
    assert all(s.brows_at_rest is not None for s in scores.values())
    assert max(still.values()) <= 0.3 and float(np.median(list(still.values()))) <= 0.22, still


def test_head_pose_relative_to_the_first_frontal_frame(runs, scores) -> None:  # type: ignore[no-untyped-def]
    means = []
    for name, (seq, lms) in runs.items():
        s = scores[name, False]
        base = scoring.baseline_head_error(seq, lms)
        print(f"{name}: head {s.head_mean:.2f} deg, plain solvePnP baseline {base:.2f} deg")
        # Same accuracy under the mirror (the reflection is exact).
        assert scores[name, True].head_mean == pytest.approx(s.head_mean, abs=1e-6)
        # The goals (met on these performances: 1.7-2.2 deg each, baselines 2.2-4.6).
        assert s.head_mean <= 3.0, (name, s.head_mean)
        assert s.head_mean <= base, (name, s.head_mean, base)
        means.append(s.head_mean)
    assert float(np.mean(means)) <= 2.5, means


def test_gaze_follows_the_eyes(scores) -> None:  # type: ignore[no-untyped-def]
    """Eye-bone gaze vs the true gaze (eyes open, gaze steady), the same under the mirror."""
    gaze = [s.gaze_mean for (_, m), s in scores.items() if not m]
    for (name, mirror), s in scores.items():
        assert s.gaze_mean == pytest.approx(scores[name, not mirror].gaze_mean, abs=1e-6)
    # 2026-12-05, with the user's gaze noise (eyes.GazeNoise): 4.30, 5.06, 3.71, 2.99, 4.43.
    assert max(gaze) <= 6.0 and float(np.mean(gaze)) <= 5.0, gaze


def test_the_plain_baseline_reads_every_figure(runs, scores) -> None:  # type: ignore[no-untyped-def]
    """scoring.baseline: the textbook counterpart of every figure (bench_face_corpus.py prints it
    beside vtuber's). It must be a working reading, or "better than the baseline" says nothing:
    its head is the solvePnP baseline's, its mouth ranks the opening on most faces, its gaze has
    the right signs (with its yaw flipped it scores clearly worse: 7.7 against 5.0 deg on these
    performances), its blinks fire. vtuber is judged against it over the faces together here;
    per face the bench lists where it is not better (docs/face_corpus.md)."""
    plain, flipped = {}, []
    for name, (seq, lms) in runs.items():
        sent = scoring.baseline(lms)
        p = plain[name] = scoring.score(seq, sent)
        print(name, "plain", {k: round(v, 3) for k, v in p.row().items()})
        assert p.head_mean == pytest.approx(scoring.baseline_head_error(seq, lms), abs=1e-9)
        sent.gaze[:, 0] *= -1.0
        flipped.append(scoring.score(seq, sent).gaze_mean)
        assert sum(c[0] for c in p.blink_counts) > 0, (name, p.blink_counts)
    ours = [scores[name, False] for name in plain]
    theirs = list(plain.values())
    gaze = [s.gaze_mean for s in theirs]
    print("plain gaze", np.round(gaze, 2), "its yaw flipped", np.round(flipped, 2))
    assert float(np.mean(gaze)) < 0.75 * float(np.mean(flipped)), (gaze, flipped)
    # The lip gap over the mouth's width ranks the opening on most faces (not on one whose
    # lips FaceMesh misreads over a smile's teeth: alex_lacamoire 0.12 on this performance).
    assert float(np.median([s.mouth_spearman for s in theirs])) > 0.5, theirs
    for figure, sign in (("head_mean", -1), ("mouth_spearman", 1), ("gaze_mean", -1)):
        a = float(np.mean([getattr(s, figure) for s in ours]))
        b = float(np.mean([getattr(s, figure) for s in theirs]))
        assert sign * (a - b) >= 0.0, (figure, a, b)
    blink_ours = float(np.mean([f for s in ours for f in s.blink_f1]))
    blink_plain = float(np.mean([f for s in theirs for f in s.blink_f1]))
    assert blink_ours >= blink_plain, (blink_ours, blink_plain)


def _condition_scores(runs, label: str, change) -> dict[str, scoring.Scores]:  # type: ignore[no-untyped-def]
    """The same performances rendered again as ``change`` makes them (a Sequence from a
    Sequence: glasses on, ...), run through FaceMesh and scored."""
    out = {}
    for name, (seq, _) in runs.items():
        other = change(seq)
        out[name] = scoring.score(
            other, scoring.track(scoring.landmark_run(other, FaceMeshBackend))
        )
        print(name, label, {k: round(v, 3) for k, v in out[name].row().items()})
    return out


@pytest.fixture(scope="module")
def glasses_scores(runs) -> dict[str, scoring.Scores]:  # type: ignore[no-untyped-def]
    """The same performances wearing glasses (docs/face_corpus.md, "Glasses")."""
    return _condition_scores(runs, "glasses", lambda s: dataclasses.replace(s, glasses=True))


def test_with_glasses_the_mouth_holds_and_the_gaze_stays_calm(glasses_scores) -> None:  # type: ignore[no-untyped-def]
    """Glasses are not handled yet (docs/face_corpus.md): the blinks fail on these renders, so
    only what holds is a goal here, and the rest is guarded where it stands (2026-12-05: mouth
    0.87-0.97, gaze 6.3-7.8 deg with the user's gaze noise, 7-17 deg without it on the bench's
    performances; blink F1 per eye 0.50-1.00, mean 0.74 with the eyes' pixels, 0.67 from the
    lids alone)."""
    s = glasses_scores
    assert all(x.found == 1.0 for x in s.values())
    rho = [x.mouth_spearman for x in s.values()]
    assert min(rho) >= 0.85, rho
    gaze = [x.gaze_mean for x in s.values()]
    assert max(gaze) <= 9.0 and float(np.mean(gaze)) <= 7.5, gaze
    f1 = [f for x in s.values() for f in x.blink_f1]
    assert float(np.mean(f1)) >= 0.7, f1


@pytest.fixture(scope="module")
def lit_scores(runs) -> dict[str, scoring.Scores]:  # type: ignore[no-untyped-def]
    """The same performances with the inside of the mouth lit, or a skin darker than it
    (docs/face_corpus.md, "A lit mouth")."""
    from vtuber.synth.face import LIT_MOUTH_SHADE

    return _condition_scores(
        runs, "lit mouth", lambda s: dataclasses.replace(s, mouth_shade=LIT_MOUTH_SHADE)
    )


def test_a_mouth_whose_inside_does_not_read_dark(lit_scores) -> None:  # type: ignore[no-untyped-def]
    """The fixed cut of the mouth's darkness cannot see this mouth (its inside no darker than
    0.35 of the skin), so the solver reads it at a brighter cut it learns per user
    (calibration.DarkCut, docs/blendshapes.md step 4). Before, such a mouth sent no vowel and
    about half the jawOpen. On these performances (2026-12-06): vowels on 0.61-1.00 of the
    open frames, mouth 0.71-0.96, jawOpen wide open 0.46-1.00; the largest vowel at rest
    0.00-0.04, and alex_lacamoire's 0.26 (for 2 s the cut chosen, 0.55 of the reference, reads
    his closed mouth at a head turn its rest had not yet been learned at: a known cost,
    docs/face_corpus.md "A lit mouth")."""
    s = lit_scores
    talk = {k: (round(x.vowels_open, 3), round(x.jaw_wide, 3)) for k, x in s.items()}
    assert min(v for v, _ in talk.values()) >= 0.5, talk
    assert float(np.nanmin([j for _, j in talk.values()])) >= 0.4, talk
    rho = sorted(x.mouth_spearman for x in s.values())
    assert rho[0] >= 0.6 and rho[1] >= 0.9, rho
    at_rest = sorted(x.vowel_at_rest for x in s.values())
    assert at_rest[-2] <= 0.1 and at_rest[-1] <= 0.3, at_rest


@pytest.fixture(scope="module")
def webcam_scores(runs) -> dict[str, scoring.Scores]:  # type: ignore[no-untyped-def]
    """The same performances through a webcam: motion blur and Motion-JPEG (docs/face_corpus.md,
    "A webcam")."""
    return _condition_scores(runs, "webcam", corpus.webcam)


def test_through_a_webcam_every_figure_holds(scores, webcam_scores) -> None:  # type: ignore[no-untyped-def]
    """A webcam's smeared, compressed frames cost the tracker little against the same
    performances' sharp frames (docs/face_corpus.md, "A webcam": on the bench's performances the
    head lost up to 0.25 deg, one eye's blink F1 0.07, the mouth nothing). On these (2026-12-06),
    webcam minus sharp: head -0.33 to +0.04 deg, mean blink F1 0.00 to +0.09, mouth -0.002 to
    +0.006, gaze -0.32 to +0.17 deg."""
    held = _against_as_rendered(scores, webcam_scores)
    assert all(w.found == 1.0 and w.vowel_at_rest <= 0.2 for w in webcam_scores.values())
    assert max(h[0] for h in held.values()) <= 0.4, held
    assert min(h[1] for h in held.values()) >= -0.1, held
    assert min(h[2] for h in held.values()) >= -0.03, held
    assert max(h[3] for h in held.values()) <= 0.75, held


def _against_as_rendered(scores, other) -> dict[str, tuple[float, float, float, float]]:  # type: ignore[no-untyped-def]
    """Per face, a condition's figures minus the same performances' as rendered (FaceMesh, no
    mirror): head error, mean blink F1, mouth Spearman and gaze error."""
    held = {}
    for name, w in other.items():
        b = scores[name, False]
        held[name] = (
            round(w.head_mean - b.head_mean, 2),
            round(float(np.mean(w.blink_f1) - np.mean(b.blink_f1)), 3),
            round(w.mouth_spearman - b.mouth_spearman, 3),
            round(w.gaze_mean - b.gaze_mean, 2),
        )
    print(held)
    return held


@pytest.fixture(scope="module")
def dark_scores(runs) -> dict[str, scoring.Scores]:  # type: ignore[no-untyped-def]
    """The same performances with the skin recoloured dark (docs/face_corpus.md, "Skin
    tones")."""
    return _condition_scores(runs, "dark skin", lambda s: dataclasses.replace(s, skin_tone="dark"))


def test_on_a_dark_skin_every_figure_holds(scores, dark_scores) -> None:  # type: ignore[no-untyped-def]
    """A dark skin, its mouth's inside nearly as bright as the skin around it (docs/face_corpus.md,
    "Skin tones"): every face is found on every frame, the mouth still follows the jaw, talks
    with vowels and sends none at rest, and the head, blinks and gaze stay within a margin of
    the same performances on the photo's own skin. Guards where the figures stand, not the
    issue's goals, which a dark skin does not meet on the bench's performances. On these
    (2026-12-06), dark minus the photo's skin: head -0.26 to +0.35 deg, mean blink F1 -0.013 to
    0, gaze -0.91 to +1.24 deg; mouth 0.86-0.95, vowels on 0.39 (rose_leslie) and 0.73-0.90
    of the open frames, the largest vowel at rest 0.10."""
    held = _against_as_rendered(scores, dark_scores)
    d = dark_scores
    assert all(x.found == 1.0 for x in d.values())
    assert max(h[0] for h in held.values()) <= 0.75, held
    assert min(h[1] for h in held.values()) >= -0.1, held
    assert max(h[3] for h in held.values()) <= 1.5, held
    mouth = {k: (round(x.mouth_spearman, 3), round(x.vowels_open, 3)) for k, x in d.items()}
    assert min(m for m, _ in mouth.values()) >= 0.8, mouth
    talk = sorted(v for _, v in mouth.values())
    assert talk[0] >= 0.3 and talk[1] >= 0.6, mouth
    assert max(x.vowel_at_rest for x in d.values()) <= 0.2, mouth


@pytest.fixture(scope="module")
def fringe_scores(runs) -> dict[str, scoring.Scores]:  # type: ignore[no-untyped-def]
    """The same performances with a fringe down into the brows (docs/face_corpus.md, "A
    fringe")."""
    return _condition_scores(runs, "fringe", lambda s: dataclasses.replace(s, fringe=True))


def test_under_a_fringe_the_face_holds_and_the_brows_stay_calm(scores, fringe_scores) -> None:  # type: ignore[no-untyped-def]
    """Hair over the forehead and the brows' upper half (docs/face_corpus.md, "A fringe"):
    every face is found on every frame, no vowel shows at rest, and the head, blinks, mouth,
    gaze and the brows at rest stay within a margin of the same performances without it.
    Guards where the figures stand, not the issue's goals. On these (2026-12-06), fringe minus
    without: head -0.10 to +0.75 deg, mean blink F1 -0.022 to +0.043, mouth -0.054 to +0.003,
    gaze -0.24 to +1.43 deg; the brows at rest (the 95th percentile of the largest brow shape)
    0.14-0.23 -> 0.29-0.56: FaceMesh's brow points under the hair follow its edge, which moves
    against the brows as the head pitches."""
    held = _against_as_rendered(scores, fringe_scores)
    f = fringe_scores
    brows = {
        k: (round(scores[k, False].brows_at_rest, 3), round(x.brows_at_rest, 3))
        for k, x in f.items()
    }
    print(brows)
    assert all(x.found == 1.0 and x.vowel_at_rest <= 0.2 for x in f.values())
    assert max(h[0] for h in held.values()) <= 1.0, held
    assert min(h[1] for h in held.values()) >= -0.1, held
    assert min(h[2] for h in held.values()) >= -0.08, held
    assert max(h[3] for h in held.values()) <= 2.0, held
    assert max(b - a for a, b in brows.values()) <= 0.45, brows
