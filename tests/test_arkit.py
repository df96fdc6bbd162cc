"""ARKit calibration and derived presets (vtuber.solvers.arkit), with known inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vtuber.rig import ARKIT_NAMES, AvatarFrame, mirror_frame
from vtuber.solvers.adaptation import AGREE_WINDOW, pose_features
from vtuber.solvers.arkit import (
    EYE_LEAD_FALL,
    EYE_LEAD_RISE,
    EYE_MODEL_BEYOND,
    EYELID_CLOSED,
    EYELID_OPEN,
    EYELID_OPEN_MAX,
    FUSE_EYE_GEOMETRY,
    FUSE_JAW_GEOMETRY,
    JAW_PATH_DEG,
    VOWEL_OPEN,
    ArkitCalibration,
    ArkitSolver,
    Geometry,
    derive_presets,
    jaw_path_gain,
)

I = {n: i for i, n in enumerate(ARKIT_NAMES)}


def raw(**values: float) -> np.ndarray:
    v = np.zeros(52, np.float32)
    for k, x in values.items():
        v[I[k]] = x
    return v


def test_rest_is_subtracted_except_for_the_eyelids() -> None:
    rest = raw(mouthSmileLeft=0.3, eyeBlinkLeft=0.2, eyeBlinkRight=0.2)
    cal = ArkitCalibration(rest=rest)
    out = cal.remap(raw(mouthSmileLeft=0.3, eyeBlinkLeft=0.2, eyeBlinkRight=0.2))
    assert out[I["mouthSmileLeft"]] == 0.0  # at rest: nothing
    # The eyelids keep the fixed open level: a high rest does not eat the blink.
    assert out[I["eyeBlinkLeft"]] > 0.5
    closed = cal.remap(raw(eyeBlinkLeft=EYELID_CLOSED, eyeBlinkRight=EYELID_CLOSED))
    np.testing.assert_allclose(closed[[I["eyeBlinkLeft"], I["eyeBlinkRight"]]], 1.0, atol=1e-6)


def test_dead_zone_and_reach() -> None:
    cal = ArkitCalibration(rest=raw(jawOpen=0.01), dead_zone=0.1)
    reach = float(cal.reach[I["jawOpen"]])
    assert cal.remap(raw(jawOpen=0.01 + 0.05 * (reach - 0.01)))[I["jawOpen"]] == 0.0
    assert cal.remap(raw(jawOpen=reach))[I["jawOpen"]] == pytest.approx(1.0)
    mid = cal.remap(raw(jawOpen=0.01 + 0.55 * (reach - 0.01)))[I["jawOpen"]]
    assert mid == pytest.approx(0.5, abs=1e-5)
    assert cal.remap(raw(jawOpen=0.99))[I["jawOpen"]] == 1.0  # clipped


def test_wink_crosstalk_is_removed() -> None:
    cal = ArkitCalibration()
    # The open right eye reads 0.14 because the left one is closed (0.4): no half-blink sent.
    out = cal.remap(raw(eyeBlinkLeft=0.4, eyeBlinkRight=0.14))
    assert out[I["eyeBlinkLeft"]] == 1.0 and out[I["eyeBlinkRight"]] < 0.3
    both = cal.remap(raw(eyeBlinkLeft=0.4, eyeBlinkRight=0.4))
    assert both[I["eyeBlinkRight"]] == 1.0


def test_solver_learns_rest_from_warmup_then_keeps_it() -> None:
    s = ArkitSolver(warmup=5)
    resting = raw(mouthSmileLeft=0.3, mouthSmileRight=0.3, eyeSquintLeft=0.5)
    for _ in range(5):
        out = s.update(resting)
    assert s.calibrated
    assert out["mouthSmileLeft"] == 0.0 and out["happy"] == 0.0 and out["eyeSquintLeft"] == 0.0
    assert s.update(raw(mouthSmileLeft=0.85, mouthSmileRight=0.85))["happy"] > 0.9
    assert s.update(resting)["mouthSmileLeft"] == 0.0  # rest fixed after the warm-up
    assert len(out) == 52 + 12 and set(ARKIT_NAMES) <= set(out)


def _geometry(yaw: float = 0.0, pitch: float = 0.0) -> Geometry:
    return Geometry((0.0, 0.0), 0.0, pose_features(yaw, pitch))


def test_a_warm_up_spent_smiling_is_corrected_once_the_face_rests() -> None:
    """A user who smiles while tracking starts: the warm-up takes the smile for the rest. Once
    the face has rested for a while (at the warm-up's head pose), the rest comes down to it and
    the next smile is sent; frames at another head pose, where the model reads the face
    differently, do not count, and a still face's own jitter lowers nothing."""
    rng = np.random.default_rng(5)

    def face(smile: float) -> np.ndarray:
        v = raw(mouthSmileLeft=smile, mouthSmileRight=smile, eyeSquintLeft=0.4)
        return np.clip(v + rng.normal(0.0, 0.015, 52).astype(np.float32), 0.0, 1.0)

    s = ArkitSolver()
    for _ in range(s.warmup):
        s.update(face(0.55), _geometry())
    smiling = face(0.6)
    assert s.update(smiling, _geometry())["happy"] < 0.2  # the smile is the rest for now
    for _ in range(150):  # 5 s at rest, head turned 20 degrees: the pose the floor cannot judge
        s.update(face(0.1), _geometry(yaw=math.radians(20.0)))
    assert s.update(smiling, _geometry())["happy"] < 0.2
    for _ in range(90):  # 3 s at rest facing the screen
        s.update(face(0.1), _geometry())
    assert s.update(face(0.1), _geometry())["mouthSmileLeft"] < 0.15
    assert s.update(smiling, _geometry())["happy"] > 0.5
    assert s.update(face(0.4), _geometry())["eyeSquintLeft"] < 0.15  # its rest kept

    # A neutral warm-up, then the same face talking half the time: talking lowers some shapes
    # (the lips roll out as the jaw drops), which says nothing of the rest, so the rest stays.
    calm = ArkitSolver()
    resting = raw(mouthRollLower=0.3, mouthSmileLeft=0.1, mouthSmileRight=0.1)
    for _ in range(calm.warmup):
        calm.update(resting, _geometry())
    warm_rest = calm.calibration.rest.copy()
    talking = raw(jawOpen=0.35, mouthRollLower=0.0, mouthSmileLeft=0.1, mouthSmileRight=0.1)
    for i in range(300):
        if i % 10 < 5:
            calm.update(talking, Geometry((0.0, 0.0), 0.7, pose_features(0.0, 0.0)))
        else:
            calm.update(resting, _geometry())
    np.testing.assert_array_equal(calm.calibration.rest, warm_rest)
    assert calm.update(resting, _geometry())["mouthRollLower"] == 0.0


def test_recalibrate_goes_back_to_the_profile_or_starts_now() -> None:
    """A profile's rest holds, and again after a new face; the preview's ``c`` key (live)
    starts a warm-up on the face the user makes now, which then replaces the profile's."""
    s = ArkitSolver(ArkitCalibration(rest=raw(mouthSmileLeft=0.3, mouthSmileRight=0.3)))
    smiling = raw(mouthSmileLeft=0.6, mouthSmileRight=0.6)
    assert s.update(smiling)["happy"] > 0.4
    s.recalibrate()
    assert s.update(smiling)["happy"] > 0.4
    s.recalibrate(live=True)
    assert s.update(smiling)["happy"] == 0.0
    s.recalibrate()  # the live rest replaced the profile's for the session: a new warm-up
    assert s.update(raw(mouthSmileLeft=0.9, mouthSmileRight=0.9))["happy"] == 0.0


def test_switched_off_emotions_are_not_sent() -> None:
    s = ArkitSolver(expressions=("happy", "surprised"))
    out = s.update(raw(mouthSmileLeft=0.85, browDownLeft=0.6))
    assert "happy" in out and not {"angry", "sad", "relaxed"} & set(out)


def test_presets() -> None:
    v = np.zeros(52, np.float32)
    p = derive_presets(v)
    assert all(x == 0.0 for x in p.values())
    v[I["jawOpen"]] = 1.0
    p = derive_presets(v)
    assert (
        p["aa"] == 1.0 and p["ou"] == 0.0 and sum(p[k] for k in ("aa", "ih", "ou", "ee", "oh")) <= 1
    )
    # A closed mouth sends no vowel, however the lips are shaped (a resting smile, a pucker):
    # I and U need the jaw a little open (VOWEL_OPEN).
    for shape in ("mouthPucker", "mouthSmileLeft", "mouthStretchLeft"):
        v[:] = 0
        v[I[shape]] = 1.0
        if shape != "mouthPucker":
            v[I[shape.replace("Left", "Right")]] = 1.0
        p = derive_presets(v)
        assert max(p[k] for k in ("aa", "ih", "ou", "ee", "oh")) == 0.0, shape
        v[I["jawOpen"]] = VOWEL_OPEN
        p = derive_presets(v)
        top = max(("aa", "ih", "ou", "ee", "oh"), key=lambda k: p[k])
        assert top == ("ou" if shape == "mouthPucker" else "ih"), (shape, p)
    v[:] = 0
    v[I["mouthPucker"]] = 1.0
    v[I["jawOpen"]] = 0.05  # half the ramp
    assert derive_presets(v)["ou"] == pytest.approx(0.95 * 0.5)
    v[:] = 0
    v[I["eyeBlinkLeft"]] = 0.9
    p = derive_presets(v)
    assert p["blinkLeft"] == pytest.approx(0.9) and p["blinkRight"] == 0.0 and p["blink"] == 0.0
    v[:] = 0
    v[I["browDownLeft"]] = v[I["browDownRight"]] = 0.8
    assert derive_presets(v)["angry"] == pytest.approx(0.8)


def test_mirror_swaps_arkit_and_preset_sides() -> None:
    s = ArkitSolver(calibration=ArkitCalibration())
    for _ in range(10):  # open eyes first: the open levels are learned
        s.update(raw())
    out = s.update(raw(eyeBlinkLeft=0.4, mouthSmileLeft=0.85))
    m = mirror_frame(AvatarFrame(t=0.0, blendshapes=out)).blendshapes
    assert m["eyeBlinkRight"] == out["eyeBlinkLeft"] == 1.0
    assert m["blinkRight"] == 1.0 and m["blinkLeft"] == out["blinkRight"]
    assert m["mouthSmileRight"] == out["mouthSmileLeft"] > 0.9


def test_calibration_round_trip() -> None:
    rng = np.random.default_rng(3)
    cal = ArkitCalibration.from_neutral(rng.uniform(0, 0.3, (10, 52)).astype(np.float32))
    assert "eyelid_open" not in cal.to_dict()  # learned, not stored
    assert ArkitCalibration.from_dict(cal.to_dict()).eyelid_open is None
    cal.eyelid_open = 0.1  # pinned (a profile's value): stored
    back = ArkitCalibration.from_dict(cal.to_dict())
    np.testing.assert_allclose(back.rest, cal.rest, atol=1e-5)
    np.testing.assert_allclose(back.reach, cal.reach, atol=1e-5)
    assert back.eyelid_open == 0.1 != EYELID_OPEN
    x = rng.uniform(0, 1, 52).astype(np.float32)
    np.testing.assert_allclose(back.remap(x), cal.remap(x), atol=1e-4)


def _eyes(rng: np.random.Generator, n: int, left: float, right: float) -> np.ndarray:
    """n frames of raw coefficients: open eyes at these levels (+-0.02 noise), a 5-frame blink
    (both eyes 0.6) every 90 frames."""
    frames = np.zeros((n, 52), np.float32)
    frames[:, I["eyeBlinkLeft"]] = left + rng.uniform(-0.02, 0.02, n)
    frames[:, I["eyeBlinkRight"]] = right + rng.uniform(-0.02, 0.02, n)
    for start in range(40, n, 90):
        frames[start : start + 5, [I["eyeBlinkLeft"], I["eyeBlinkRight"]]] = 0.6
    return frames


def test_open_eye_level_is_learned_per_eye_and_blinks_still_close() -> None:
    """A face whose open eyes score high (0.19 left, as the shared clip's) and unevenly (0.10
    right): each eye's open level is learned, so open eyes send ~0 and blinks still send 1."""
    rng = np.random.default_rng(5)
    s = ArkitSolver()
    frames = _eyes(rng, 400, 0.19, 0.10)
    sent = np.array([[(o := s.update(f))["eyeBlinkLeft"], o["eyeBlinkRight"]] for f in frames])
    # Levels are in cross-talk-corrected units: the right eye's 0.10 reads 0.10 - 0.3 * 0.09.
    level = s.calibration.open_eyes
    assert abs(level[0] - 0.19) < 0.03 and abs(level[1] - 0.073) < 0.03
    blink = frames[:, I["eyeBlinkLeft"]] == np.float32(0.6)
    assert np.all(sent[blink] > 0.9)
    assert np.all(sent[~blink] < 0.2)  # from the very first frame
    # With the fixed level of v1 (pinned at 0.07) the left eye looks half closed.
    pinned = ArkitCalibration(eyelid_open=EYELID_OPEN)
    s2 = ArkitSolver(calibration=pinned)
    left = np.array([s2.update(f)["eyeBlinkLeft"] for f in frames])
    assert np.median(left[~blink]) > 0.3 and pinned.open_eyes[0] == np.float32(EYELID_OPEN)


def test_eyes_closed_for_long_cannot_be_learned_as_open() -> None:
    """Dozing (eyes at 0.55 for 20 s, also through the rest warm-up): the open level stops at
    its cap, so closed eyes still send closed; once the eyes open the level comes back down."""
    rng = np.random.default_rng(6)
    s = ArkitSolver()
    closed = raw(eyeBlinkLeft=0.55, eyeBlinkRight=0.55)
    for _ in range(600):
        out = s.update(closed)
    assert np.all(s.calibration.open_eyes == np.float32(EYELID_OPEN_MAX))
    assert out["eyeBlinkLeft"] == 1.0 and out["blink"] == 1.0
    frames = _eyes(rng, 300, 0.08, 0.08)
    for f in frames:
        out = s.update(f)
    assert np.all(s.calibration.open_eyes < 0.1) and out["eyeBlinkLeft"] < 0.2
    assert s.update(raw(eyeBlinkLeft=0.6, eyeBlinkRight=0.6))["blink"] == 1.0


# ---- Perfect sync fused with the geometry of the same landmarks (arkit.Fusion).


def _geo(
    closure: tuple[float, float] = (0.0, 0.0), jaw: float = 0.0, pitch: float = 0.0
) -> Geometry:
    return Geometry(closure, jaw, pose_features(0.0, pitch))


def _hold(s: ArkitSolver, r: np.ndarray, g: Geometry, n: int = 4) -> dict[str, float]:
    """Send the same readings ``n`` frames (a blink lasts 3+ frames); the last frame's output
    (by then the lead of arkit.Fusion adds nothing)."""
    for _ in range(n):
        out = s.update(r, g)
    return out


def test_fused_eyelids_need_either_source_to_close() -> None:
    """Open eyes the model scores high (0.19, the shared clip's left eye) send ~0; a closure seen
    by both sources sends 1; a full closure the geometry sees alone still crosses 0.5; a partial
    reading of both (geometry 0.3, model +0.06) stays open. The model alone does not close an eye
    whose lid points read open (its closure counts at most EYE_MODEL_BEYOND above the
    geometry's), but with the lids seen partly closing its excess counts."""
    s = ArkitSolver()
    rng = np.random.default_rng(8)
    for _ in range(60):
        b = 0.19 + rng.uniform(-0.02, 0.02)
        out = s.update(raw(eyeBlinkLeft=b, eyeBlinkRight=b), _geo())
    assert out["eyeBlinkLeft"] < 0.1 and out["blinkRight"] < 0.1
    both = _hold(s, raw(eyeBlinkLeft=0.5, eyeBlinkRight=0.5), _geo((1.0, 1.0)))
    assert both["eyeBlinkLeft"] == both["eyeBlinkRight"] == both["blink"] == 1.0
    geo_only = _hold(s, raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), _geo((1.0, 0.0)))
    assert geo_only["eyeBlinkLeft"] > 0.5 > geo_only["eyeBlinkRight"]
    model_only = _hold(s, raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.5), _geo())
    # The model's share times EYE_MODEL_BEYOND before the dead zone, whatever the model reads.
    model_most = (1.0 - FUSE_EYE_GEOMETRY) * EYE_MODEL_BEYOND
    assert model_only["eyeBlinkRight"] == pytest.approx(max(model_most - 0.05, 0.0) / 0.9)
    assert model_only["eyeBlinkRight"] < 0.5
    very_high = _hold(s, raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.9), _geo())
    assert very_high["eyeBlinkRight"] == pytest.approx(model_only["eyeBlinkRight"])
    with_lids = _hold(s, raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.5), _geo((0.0, 0.4)))
    assert with_lids["eyeBlinkRight"] > 0.5 > with_lids["eyeBlinkLeft"]
    partial = _hold(s, raw(eyeBlinkLeft=0.25, eyeBlinkRight=0.25), _geo((0.3, 0.3)))
    assert partial["eyeBlinkLeft"] < 0.5


def test_fused_eyelids_lead_a_closing_lid() -> None:
    """A closing lid's first frames are under-read (docs/perfect_sync.md section 3b, v8): the fused
    eyelid is led by EYE_LEAD_RISE of its change while it rises and EYE_LEAD_FALL while it falls.
    A blink whose geometric closure reads 0 -> 0.5 -> 1 -> 1 -> 0.6 -> 0 is sent closed from its
    first rising frame and open from its first falling one; a reading held at 0.5 (a partial
    closure) is sent as it is once steady. A new face starts without a previous frame."""
    s = ArkitSolver()
    for _ in range(60):
        s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), _geo())
    # The model at its open level (0.19): the fused value is FUSE_EYE_GEOMETRY * the closure.
    closures = (0.5, 1.0, 1.0, 0.6, 0.0, 0.5, 0.5, 0.5)
    sent = [
        s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), _geo((c, 0.0)))["eyeBlinkLeft"]
        for c in closures
    ]
    fused = [FUSE_EYE_GEOMETRY * c for c in closures]
    lead, prev = [], 0.0
    for x in fused:
        lead.append(x + (EYE_LEAD_RISE if x > prev else EYE_LEAD_FALL) * (x - prev))
        prev = x
    expected = [min(max((x - 0.05) / 0.9, 0.0), 1.0) for x in lead]
    assert sent == pytest.approx(expected, abs=1e-4)
    assert sent[0] > expected[-1]  # the rise is led
    assert sent[0] >= 0.5 and sent[3] < 0.5 and sent[-1] < 0.5
    s.recalibrate()
    first = s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), _geo((0.5, 0.0)))
    assert first["eyeBlinkLeft"] == pytest.approx((fused[0] - 0.05) / 0.9, abs=1e-4)


def test_fused_open_level_follows_the_head_pose() -> None:
    """The model reads an open eye higher when the head is tilted down; the open level is learned
    as a function of the pose, so an open eye looking down is sent open while a blink at the
    frontal pose (where the open level is low) still closes."""
    rng = np.random.default_rng(9)
    s = ArkitSolver()
    for i in range(450):
        pitch = -0.35 * (0.5 + 0.5 * math.sin(i / 20.0))  # 0 .. -20 deg, back and forth
        b = 0.05 - 0.5 * pitch + rng.uniform(-0.01, 0.01)  # 0.05 frontal .. 0.225 down
        s.update(raw(eyeBlinkLeft=b, eyeBlinkRight=b), _geo(pitch=pitch))
    down = _hold(s, raw(eyeBlinkLeft=0.225, eyeBlinkRight=0.225), _geo(pitch=-0.35))
    assert down["eyeBlinkLeft"] < 0.25, down["eyeBlinkLeft"]
    # The same score at the frontal pose is a closing eye for this user.
    front = _hold(s, raw(eyeBlinkLeft=0.225, eyeBlinkRight=0.225), _geo((0.5, 0.5)))
    assert front["eyeBlinkLeft"] > 0.5
    # A pinned open level (a profile's 0.05) is used as given: 0.2 reads 0.75 of the model's
    # span, the model's share of it after the fusion, then the dead zone; learned, it is open.
    pinned = ((1.0 - FUSE_EYE_GEOMETRY) * 0.75 - 0.05) / 0.9
    for cal, expected in ((ArkitCalibration(eyelid_open=0.05), pinned), (None, 0.0)):
        solver = ArkitSolver(calibration=cal)
        for _ in range(30):
            out = solver.update(raw(eyeBlinkLeft=0.2, eyeBlinkRight=0.2), _geo(pitch=-0.35))
        assert out["eyeBlinkLeft"] == pytest.approx(expected, abs=1e-3)


def test_fused_eyelids_trust_the_model_less_at_a_pose_not_seen() -> None:
    """The model's open level at a head pose the session has not seen is extrapolated: there a
    high eyeBlink with the lids seen partly closed (geometry 0.4) is not sent closed, while a
    closure the geometry sees is; once the pose has been seen for SUPPORT_FULL frames the model
    counts in full again."""
    from vtuber.solvers.arkit import SUPPORT_FULL

    s = ArkitSolver()
    frontal = Geometry((0.0, 0.0), 0.0, pose_features(0.0, 0.0))
    for _ in range(60):
        s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), frontal)
    turned = pose_features(0.55, 0.3)  # 31 deg of yaw, 17 of pitch: never seen
    high = raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.45)  # 1.3 spans over the open level
    first = s.update(high, Geometry((0.0, 0.0), 0.0, turned))
    assert first["eyeBlinkRight"] == 0.0
    geo = s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), Geometry((1.0, 0.4), 0.0, turned))
    assert geo["eyeBlinkLeft"] > 0.5
    sent = [s.update(high, Geometry((0.0, 0.4), 0.0, turned))["eyeBlinkRight"] for _ in range(12)]
    # The share grows with the frames seen at this pose (2 after the first two above).
    assert max(sent[:2]) < 0.5 < min(sent[SUPPORT_FULL - 2 :]), sent
    assert sent[: SUPPORT_FULL - 2] == sorted(sent[: SUPPORT_FULL - 2])
    assert sent[-1] == sent[-2] == sent[-3]  # full support (and no lead left): steady
    # With a profile's open level (no guess) the model counts in full at once.
    pinned = ArkitSolver(calibration=ArkitCalibration(eyelid_open=0.19))
    for _ in range(60):
        pinned.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.19), frontal)
    assert _hold(pinned, high, Geometry((0.0, 0.4), 0.0, turned))["eyeBlinkRight"] > 0.5


def _talk(rng: np.random.Generator, n: int) -> np.ndarray:
    """A jaw opening 0..1 per frame: syllables with pauses."""
    t = np.arange(n)
    return np.clip(np.sin(t / 3.0) * (rng.uniform(0, 1, n) > 0.3), 0.0, 1.0)


def test_fused_jaw_keeps_the_geometry_when_the_model_misreads_the_mouth() -> None:
    """The model follows a jaw only loosely on some faces (a resting smile with teeth: Spearman
    0.58-0.74 on a validation face, against 0.80-0.96 for the geometric openness, which checks
    its lips against the mouth's dark inside itself). However long the two disagree, the
    geometry keeps its weight, so the sent jawOpen still follows the opening; where the model
    agrees it adds to it; and a closed mouth is sent closed either way."""
    from scipy.stats import spearmanr

    rng = np.random.default_rng(10)
    opening = _talk(rng, 400)
    wander = rng.uniform(0.0, 0.3, 400)  # the model's jawOpen, unrelated to the opening
    for model_jaw, lower, least in (
        (wander, 0.0 * opening, 0.75),
        (0.02 + 0.3 * opening, 0.2 * opening, 0.95),
    ):
        s = ArkitSolver()
        sent = []
        for o, m, d in zip(opening, model_jaw, lower, strict=True):
            model = raw(jawOpen=float(m), mouthLowerDownLeft=float(d))
            sent.append(s.update(model, _geo(jaw=0.9 * float(o)))["jawOpen"])
        late = slice(AGREE_WINDOW, None)  # after a whole window of disagreement
        sent_late = np.array(sent)[late]
        assert spearmanr(opening[late], sent_late).statistic > least
        assert np.mean(sent_late[opening[late] > 0.8]) > 0.5  # wide open reads wide open
        if model_jaw is not wander:
            assert max(sent_late[opening[late] == 0.0]) < 0.15  # rest is rest


def test_fused_jaw_undoes_the_jaw_paths_foreshortening() -> None:
    """The chin swings down and back, so the lip gap a camera sees for the same opening shrinks
    with the head tilted down and grows tilted up, by cos(a - pitch) / cos(a): the geometric jaw
    is divided by that, so one opening sends one jawOpen at any pitch (the model, flat here,
    says nothing), and a level head is left as it is."""
    a = math.radians(JAW_PATH_DEG)
    assert jaw_path_gain(0.0) == 1.0
    assert jaw_path_gain(-0.3) > 1.0 > jaw_path_gain(0.3)
    assert all(math.isfinite(jaw_path_gain(p)) for p in (-math.pi, -1.5, 1.5, math.pi))
    s = ArkitSolver()
    sent: dict[float, list[float]] = {0.0: [], -0.3: [], 0.25: []}
    rng = np.random.default_rng(11)
    for i in range(300):
        opening = float(rng.uniform(0.0, 1.0)) if i % 3 else 0.0
        pitch = (0.0, -0.3, 0.25)[(i // 20) % 3]
        seen = 0.8 * opening * math.cos(a - pitch) / math.cos(a)  # what the camera shows
        out = s.update(raw(jawOpen=0.01), _geo(jaw=seen, pitch=pitch))["jawOpen"]
        if i >= 30:
            expected = min(max((FUSE_JAW_GEOMETRY * 0.8 * opening - 0.05) / 0.9, 0.0), 1.0)
            sent[pitch].append(out - expected)
    for errors in sent.values():
        assert np.abs(errors).max() < 1e-6


def test_a_covered_eye_takes_the_other_eyes_coefficients() -> None:
    """Perfect sync, a hand in front of the person's right eye: its lids take the left eye's
    values and its gaze the same direction (looking toward the person's left, the left eye
    looks out and the right eye in); both covered keep the frame before's; the rest stays."""
    from vtuber.solvers.arkit import share_covered_eyes

    raw = np.zeros(len(ARKIT_NAMES), np.float32)
    raw[I["eyeBlinkRight"]] = 0.9  # the guess behind the hand
    raw[I["eyeLookOutLeft"]] = 0.6
    raw[I["eyeLookInRight"]] = 0.1
    raw[I["eyeSquintLeft"]] = 0.3
    raw[I["jawOpen"]] = 0.4
    out = share_covered_eyes(raw, (False, True), None)
    assert out[I["eyeBlinkRight"]] == 0.0
    assert out[I["eyeLookInRight"]] == pytest.approx(0.6)
    assert out[I["eyeLookOutRight"]] == 0.0
    assert out[I["eyeSquintRight"]] == pytest.approx(0.3)
    assert out[I["jawOpen"]] == pytest.approx(0.4)
    assert out[I["eyeLookOutLeft"]] == pytest.approx(0.6) and out[I["eyeBlinkLeft"]] == 0.0
    last = np.full(len(ARKIT_NAMES), 0.2, np.float32)
    held = share_covered_eyes(raw, (True, True), last)
    assert held[I["eyeBlinkRight"]] == held[I["eyeLookOutLeft"]] == pytest.approx(0.2)
    assert held[I["jawOpen"]] == pytest.approx(0.4)
    assert np.array_equal(share_covered_eyes(raw, (False, False), last), raw)


def test_a_covered_eye_is_sent_as_the_other_eye_whatever_its_open_level() -> None:
    """A user whose two open eyes score apart (the shared clip: 0.19 and 0.10): behind a hand
    the right eye is sent as the left eye is, not the left eye's score against its own open
    level (which would send it half closed)."""
    s = ArkitSolver()
    for _ in range(60):
        s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.05), _geo())
    for _ in range(5):
        out = s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.6), _geo(), covered=(False, True))
    assert out["eyeBlinkRight"] == out["eyeBlinkLeft"] < 0.1
    for _ in range(5):
        out = s.update(raw(eyeBlinkLeft=0.19, eyeBlinkRight=0.6), _geo((0.0, 1.0)))
    assert out["eyeBlinkRight"] > 0.5 > out["eyeBlinkLeft"]  # uncovered: its own reading
