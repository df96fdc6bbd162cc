"""Calibration profile: file round trip and errors, robust summaries, and the calibrate -> track
command line on rendered faces."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from vtuber import quat
from vtuber.cli import main
from vtuber.errors import ConfigError
from vtuber.rig import ARKIT_NAMES
from vtuber.solvers import calibration
from vtuber.solvers.adaptation import BlinkDepth, PoseBaseline, RestingHead, pose_features
from vtuber.solvers.calibration import (
    DEFAULT_PROFILE,
    Calibrator,
    DarkCut,
    FaceAdapter,
    FaceMeasures,
    FaceProfile,
)


def _m(openness=(0.3, 0.3), gap=0.01, rng=None) -> FaceMeasures:  # type: ignore[no-untyped-def]
    n = 0.0 if rng is None else rng.normal(0, 0.005)
    return FaceMeasures(
        openness=np.array(openness, dtype=float) + n,
        iris=np.array([[0.01, 0.05], [-0.01, 0.05]]) + n,
        mouth_gap=gap,
        mouth_width=0.6 + n,
        mouth_corner=-0.07,
        brows=np.array([[0.2, 0.15], [0.2, 0.15]]) + n,
    )


def test_profile_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cal = Calibrator()
    rot = quat.to_matrix(quat.from_axis_angle([0, 1, 0], 0.2))
    for _ in range(30):
        cal.add(_m(rng=rng), rot)
    p = cal.profile()
    path = tmp_path / "p.json"
    p.save(path)
    q = FaceProfile.load(path)
    assert q == p
    assert np.allclose(q.neutral_rotation(), rot, atol=1e-9)
    assert json.loads(path.read_text())["version"] == 3
    assert p.mouth_dark == -1.0  # no darkness measured in these frames: left to adaptation


def test_profile_keeps_the_mouth_darkness_rest_and_reads_version_2_without_it(
    tmp_path: Path,
) -> None:
    cal = Calibrator()
    for i in range(40):
        m = _m(gap=0.2 if i % 10 < 3 else 0.01)
        cal.add(FaceMeasures(**{**{f: getattr(m, f) for f in m.__slots__}, "mouth_dark": 0.002}))
    p = cal.profile()
    assert p.mouth_dark == pytest.approx(0.002)
    ad = FaceAdapter(p)
    ad.start(_m())
    assert ad.rest(pose_features(0.0, 0.0))[9] == pytest.approx(0.002)
    # Version 2 had no darkness rest: read, with it left to the first frame and adaptation.
    d = p.to_json() | {"version": 2}
    del d["mouth_dark"]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(d))
    q = FaceProfile.load(path)
    assert q.mouth_dark < 0 and q.mouth_gap == pytest.approx(p.mouth_gap)


def test_version_1_profile_reads_with_its_mouth_rest_left_to_adaptation(tmp_path: Path) -> None:
    # Version 1 measured the inner lip gap only: its mouth rest is not this version's.
    d = DEFAULT_PROFILE.to_json() | {"version": 1, "mouth_gap": 0.01}
    path = tmp_path / "v1.json"
    path.write_text(json.dumps(d))
    p = FaceProfile.load(path)
    assert p.mouth_gap < 0 and p.eye_open == DEFAULT_PROFILE.eye_open
    ad = FaceAdapter(p)
    ad.start(_m(gap=0.27))  # the first frame's gap stands in for the unknown rest
    assert ad.rest(pose_features(0.0, 0.0))[2] == pytest.approx(0.27)
    assert ad.rest(pose_features(0.0, 0.0))[0] == pytest.approx(DEFAULT_PROFILE.eye_open[0])


def test_calibrator_is_robust_to_a_blink_and_a_word() -> None:
    rng = np.random.default_rng(2)
    cal = Calibrator()
    for i in range(60):
        blink = 20 <= i < 24
        talk = 40 <= i < 46
        cal.add(_m(openness=(0.06, 0.07) if blink else (0.32, 0.3), gap=0.2 if talk else 0.01))
    p = cal.profile()
    assert abs(p.eye_open[0] - 0.32) < 0.01 and abs(p.eye_open[1] - 0.3) < 0.01
    # The blink was seen, so the closed value comes from it, not from the default fraction.
    assert p.eye_closed[0] < 0.1 and p.eye_closed[1] < 0.1
    assert abs(p.mouth_gap - 0.01) < 1e-6
    del rng


def test_face_adapter_learns_the_rest_face_and_forgets_it_for_a_new_face() -> None:
    rng = np.random.default_rng(3)
    ad = FaceAdapter()
    phi = pose_features(0.0, 0.0)
    first = _m(openness=(0.2, 0.22), gap=0.3)
    ad.start(first)  # the first frame of a face is the starting rest
    assert ad.rest(phi)[:3] == pytest.approx([0.2, 0.22, 0.3])
    for i in range(200):
        blink = i % 60 < 4
        talk = i % 20 < 8
        m = _m(openness=(0.05, 0.05) if blink else (0.25, 0.24), gap=0.5 if talk else 0.3, rng=rng)
        rel = tuple(float(o) / r for o, r in zip(m.openness, ad.rest(phi)[:2], strict=True))
        ad.observe(phi, m, rel)  # type: ignore[arg-type]
    rest = ad.rest(phi)
    # Blinks and words do not pull the rest: eyes open, mouth closed.
    assert rest[0] == pytest.approx(0.25, abs=0.01) and rest[1] == pytest.approx(0.24, abs=0.01)
    assert rest[2] == pytest.approx(0.3, abs=0.02)
    # The blinks taught how far this user's eyes close (0.05 / 0.25 = 0.2).
    assert ad.kappa[0] == pytest.approx(0.2, abs=0.05)
    ad.reset()
    ad.start(_m(openness=(0.35, 0.35), gap=0.1))
    assert ad.rest(phi)[:3] == pytest.approx([0.35, 0.35, 0.1])
    assert ad.kappa[0] == pytest.approx(0.5)  # the prior again


def test_pose_baseline_learns_how_a_measure_drifts_with_the_head() -> None:
    """An eye that reads narrower the more the head turns: the pose-aware rest follows it; a
    rest that ignores the pose (an infinite ridge on the pose terms) cannot. The default ridge
    (fitted on the corpus's training faces) learns the pose terms only partly from 400 frames;
    a weak one learns them fully."""
    rng = np.random.default_rng(4)
    aware, flat = PoseBaseline([0.5], [0.3]), PoseBaseline([0.5], [0.3], ridge=1e9)
    weak = PoseBaseline([0.5], [0.3], ridge=0.5)

    def truth(yaw: float, pitch: float) -> float:
        return 0.3 - 0.2 * abs(yaw) + 0.1 * pitch

    for _ in range(400):
        yaw, pitch = rng.uniform(-0.6, 0.6), rng.uniform(-0.4, 0.4)
        v = truth(yaw, pitch) + rng.normal(0, 0.005)
        for pb in (aware, flat, weak):
            pb.add(pose_features(yaw, pitch), [v])
    for yaw, pitch in ((0.5, 0.0), (-0.5, 0.3), (0.0, -0.35)):
        phi = pose_features(yaw, pitch)
        e_aware = abs(aware.predict(phi)[0] - truth(yaw, pitch))
        e_flat = abs(flat.predict(phi)[0] - truth(yaw, pitch))
        e_weak = abs(weak.predict(phi)[0] - truth(yaw, pitch))
        assert e_weak < 0.01 < e_flat and e_aware < e_flat, (yaw, pitch, e_aware, e_flat)


def test_pose_baseline_start_counts_as_a_few_samples_however_far() -> None:
    """The starting value (the first frame's reading, or a profile's) counts as prior_weight
    samples of the quantile's own loss: a start far from the rest (a face found mid-word, its
    mouth open) does not bias the rest once a window of readings is in. As a squared pull it
    kept the lip gap's 15th percentile at the 20th."""
    rng = np.random.default_rng(2)
    y = rng.uniform(0.0, 0.5, 450)
    for start in (0.1, 1.0, 3.0):
        pb = PoseBaseline([0.15], [start])
        for v in y:
            pb.add((1.0, 0.0, 0.0, 0.0), [float(v)])
        pb.fit()
        # 3 samples among 450 move the 15th percentile by under 1 percentile point here.
        assert abs(pb.w[0, 0] - np.quantile(y, 0.15)) < 0.006, (start, pb.w[0, 0])
    # While readings are few the start still holds them back.
    pb = PoseBaseline([0.15], [1.0])
    for v in y[:10]:
        pb.add((1.0, 0.0, 0.0, 0.0), [float(v)])
    assert pb.w[0, 0] > np.quantile(y[:10], 0.15) + 0.01


def test_pose_baseline_knows_how_far_a_measure_scatters() -> None:
    """``spread``: the robust scatter of a measure around its fitted rest, per measure. Readings
    with a noise of 0.01 around a rest that moves with the head, a quarter of them an
    expression 0.05-0.1 above it: 0.01-0.02 (the median's fit moves toward the expressions and
    widens it by about half: 0.017 here), and a measure four times noisier with no expressions
    reads its own 0.04."""
    rng = np.random.default_rng(11)
    pb = PoseBaseline([0.5, 0.5], [0.0, 0.0], ridge=1.0)
    assert (pb.spread(0), pb.spread(1)) == (0.0, 0.0)
    for _ in range(450):
        yaw, pitch = rng.uniform(-0.5, 0.5), rng.uniform(-0.3, 0.3)
        rest = 0.1 * pitch - 0.05 * abs(yaw)
        smile = rng.uniform(0.05, 0.1) if rng.random() < 0.25 else 0.0
        pb.add(
            pose_features(yaw, pitch),
            [rest + smile + rng.normal(0, 0.01), rest + rng.normal(0, 0.04)],
        )
    assert 0.01 < pb.spread(0) < 0.02, pb.spread(0)
    assert 0.03 < pb.spread(1) < 0.05, pb.spread(1)


def test_eye_open_level_follows_the_head_pose_within_a_few_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An eye that FaceMesh reads 30 % narrower at 30 deg of yaw (and blinks now and then): after
    8 s of a head turning either way, the eyes' own pose fit (calibration.EYE_RIDGE, EYE_REFIT)
    gives its open level at a turned head and a frontal one within 5 % (3-5 %); the shared fit's
    ridge and refit rate (the other measures', which the eyes used before) are still 11-14 % off
    there."""

    def truth(yaw: float) -> float:
        return 0.3 * (1.0 - 0.3 * abs(yaw) / 0.52)

    def run() -> list[float]:
        rng = np.random.default_rng(7)
        ad = FaceAdapter()
        ad.start(_m(openness=(0.3, 0.3)))
        for i in range(240):
            yaw = 0.5 * math.sin(2 * math.pi * i / 60)  # one turn each way every 2 s
            phi = pose_features(yaw, 0.0)
            op = 0.06 if i % 40 == 20 else truth(yaw) * (1 + rng.normal(0, 0.03))
            m = _m(openness=(op, op))
            rest = ad.rest(phi)
            ad.observe(phi, m, (op / rest[0], op / rest[1]))
        return [abs(ad.rest(pose_features(y, 0.0))[0] / truth(y) - 1) for y in (-0.45, 0.0, 0.45)]

    assert max(run()) < 0.05, run()
    monkeypatch.setattr(calibration, "EYE_RIDGE", 20.0)
    monkeypatch.setattr(calibration, "EYE_REFIT", 15)
    assert min(run()) > 0.1, run()


def test_blink_depth_ignores_noise_and_slow_squints() -> None:
    rng = np.random.default_rng(5)
    bd = BlinkDepth(0.5)
    for i in range(600):
        rel = 1.0 + rng.normal(0, 0.03)
        if 100 <= i < 200:
            rel = 0.7  # a long squint: not a blink
        if i % 90 == 50:
            rel = 0.3  # a blink, 1 frame (30 fps) ... with its neighbours
        bd.add(rel)
    assert bd.kappa == pytest.approx(0.3, abs=0.02)
    assert 0.3 in bd.dips and 0.7 not in bd.dips


def test_blink_depth_learns_a_noisy_eye_from_its_first_frames() -> None:
    """An eye whose aperture jitters by 15 % of its open level: its noise is known within a few
    frames (a running mean, not an average creeping up from a made-up start), so a 2-sigma dip
    in the first second is not taken for a blink and does not move the blink depth."""
    bd = BlinkDepth(0.5)
    for i in range(8):
        bd.add(1.15 if i % 2 else 0.85)  # 15 % either way: sigma ~1.25 * 0.15
    assert 0.15 < bd.sigma < 0.2  # the exponential average alone would still be near 0.07
    for rel in (1.0, 0.70, 0.72, 1.0, 1.0):  # a noise dip, 2 frames
        bd.add(rel)
    assert bd.dips == [] and bd.kappa == 0.5


def test_resting_head_learns_a_camera_above_the_screen_slowly() -> None:
    """A user facing a screen below the camera rests 15 deg pitched down, glancing around a
    fifth of the time: after 20 s of evidence the rest is removed, at <= 2 deg/s; a head that
    only wanders around straight ahead is left alone."""
    rng = np.random.default_rng(6)
    rest = np.radians([15.0, 0.0, 0.0])
    rh = RestingHead()
    offsets, prev = [], (0.0, 0.0, 0.0)
    target = rest
    for i in range(30 * 60):
        if i % 45 == 0:  # a new look every 1.5 s: mostly the screen, sometimes elsewhere
            target = rest if rng.random() < 0.8 else rest + np.radians(rng.uniform(-25, 25, 3))
        v = target + rng.normal(0, np.radians(0.3), 3)
        off = rh.update(i / 30.0, (float(v[0]), float(v[1]), float(v[2])))
        assert np.degrees(np.linalg.norm(np.subtract(off, prev))) <= 2.0 / 30.0 + 1e-9
        prev = off
        offsets.append(off)
    assert np.allclose(offsets[30 * 15], 0.0)  # not enough evidence yet
    assert np.degrees(np.linalg.norm(np.subtract(offsets[-1], rest))) < 1.5
    wander = RestingHead()
    for i in range(30 * 60):
        yaw = np.radians(15.0 if (i // 60) % 2 else -15.0)  # looks left and right in turn
        off = wander.update(i / 30.0, (0.0, float(yaw), 0.0))
    assert off == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "edit, message",
    [
        ({"format": "x"}, "not a vtuber face profile"),
        ({"version": 9}, "version 9 is not supported"),
        ({"eye_open": [0.3]}, "malformed"),
        ({"eye_closed": [0.5, 0.5]}, "eye_closed must be below"),
        ({"neutral_head": [0, 0, 0, 2]}, "unit quaternion"),
        ({"arkit_rest": {"jawOpen": 0.1}}, "each of the 52 ARKit names"),
        ({"arkit_rest": dict.fromkeys(ARKIT_NAMES, 1.5)}, r"in \[0, 1\]"),
    ],
)
def test_bad_profiles_are_one_line_config_errors(tmp_path: Path, edit, message) -> None:  # type: ignore[no-untyped-def]
    d = DEFAULT_PROFILE.to_json() | edit
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))
    with pytest.raises(ConfigError, match=message):
        FaceProfile.load(path)


def test_missing_profile_is_a_clean_cli_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rc = main(
        ["track", "--source", str(tmp_path), "--profile", str(tmp_path / "nope.json"), "--no-vmc"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "error" in err


def test_calibrate_then_track_with_the_profile(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from vtuber.synth.face import FaceRenderer

    r = FaceRenderer.from_photo("astronaut")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(15):  # 0.5 s at 30 fps, head turned 10 deg to the person's left
        cv2.imwrite(str(folder / f"{i:03d}.png"), r.render(10.0, noise=1.0, seed=i))
    out = tmp_path / "me.json"
    assert main(["calibrate", "--source", str(folder), "--out", str(out), "--seconds", "1"]) == 0
    p = FaceProfile.load(out)
    assert p.frames == 15
    # The neutral head is the turned pose: about 10 deg of yaw.
    ang = np.degrees(quat.angle_between(p.neutral_head, [0, 0, 0, 1]))
    assert 6.0 < ang < 14.0, ang
    assert 0.25 < p.eye_open[0] < 0.45
    rc = main(
        ["track", "--source", str(folder), "--profile", str(out), "--no-vmc", "--fast", "--quiet"]
    )
    assert rc == 0


def test_calibrate_with_the_landmarker_records_the_perfect_sync_rest(tmp_path: Path) -> None:
    """``calibrate --face-model landmarker`` stores the model's coefficients at rest (each the
    median over the frames), and ``track --profile`` starts perfect sync from them: a face
    whose rest is a smile (the model's mouthSmile raised on every frame) sends no smile on its
    first frame, where the first frame alone would teach a rest only from then on."""
    from vtuber.synth.face import FaceRenderer
    from vtuber.tracker import Tracker

    r = FaceRenderer.from_photo("grace_hopper")
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):
        cv2.imwrite(str(folder / f"{i:03d}.png"), r.render(0.0, noise=1.0, seed=i))
    out = tmp_path / "me.json"
    args = ["calibrate", "--source", str(folder), "--out", str(out), "--seconds", "1"]
    assert main([*args, "--face-model", "landmarker"]) == 0
    p = FaceProfile.load(out)
    assert p.arkit_rest is not None and len(p.arkit_rest) == 52
    assert FaceProfile.from_json(json.loads(out.read_text())) == p  # survives the file
    # What the model read at rest: its eyelids open, its jaw closed.
    rest = dict(zip(ARKIT_NAMES, p.arkit_rest, strict=True))
    assert rest["eyeBlinkLeft"] < 0.3 and rest["jawOpen"] < 0.1
    # FaceMesh's calibration leaves it to be learned.
    out2 = tmp_path / "fm.json"
    assert main(["calibrate", "--source", str(folder), "--out", str(out2)]) == 0
    assert FaceProfile.load(out2).arkit_rest is None
    # The tracker starts perfect sync at the profile's rest.
    smiling = tuple(min(v + 0.4, 1.0) if "Smile" in n else v for n, v in rest.items())
    tr = Tracker(profile=dataclasses.replace(p, arkit_rest=smiling))
    frame = np.asarray(smiling, np.float32)
    assert tr.arkit.update(frame)["mouthSmileLeft"] == 0.0
    assert Tracker(profile=p).arkit.update(frame)["mouthSmileLeft"] > 0.3


def test_preview_c_key_recalibrates_the_face_and_perfect_sync(capsys) -> None:  # type: ignore[no-untyped-def]
    """The preview's ``c``: perfect sync's rest is learned from the face the user makes now (a
    profile's rest set aside), as the geometric face's is."""
    from vtuber.commands.track import calibration_key
    from vtuber.tracker import Tracker

    tr = Tracker(profile=dataclasses.replace(DEFAULT_PROFILE, arkit_rest=(0.0,) * 52))
    smiling = np.zeros(52, np.float32)
    smiling[[ARKIT_NAMES.index("mouthSmileLeft"), ARKIT_NAMES.index("mouthSmileRight")]] = 0.6
    assert tr.arkit.update(smiling)["happy"] > 0.5
    calibration_key(tr)(ord("c"))
    assert "calibrating" in capsys.readouterr().err
    assert tr.arkit.update(smiling)["happy"] == 0.0


def test_calibrate_without_a_face_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "blank"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((120, 160, 3), 90, np.uint8))
    rc = main(["calibrate", "--source", str(folder), "--out", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert rc == 2 and "saw a face in only 0 of 3 frames" in err


def _talk(cuts: tuple[float, ...], n: int, seed: int) -> list[tuple[float, ...]]:
    """Each cut's dark area (IOD^2) over ``n`` frames of a mouth that opens fully every 2 s
    and rests between: a cut darker than the inside (the cuts under ``cuts[i]`` where the
    value is 0) sees only noise; the others see the opening over a rest that grows with the
    cut (more of the lips' shading counts), plus noise."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        opening = max(0.0, math.sin(2.0 * math.pi * i / 60.0)) ** 2
        out.append(
            tuple(
                0.004 * j + c * 0.075 * opening + float(rng.normal(0.0, 0.002))
                for j, c in enumerate(cuts)
            )
        )
    return out


@pytest.mark.parametrize(
    ("seen_by", "chosen"),
    [
        ((1.0, 1.0, 1.0, 1.0), 0),  # the usual dark inside: every cut sees it, the fixed one reads
        ((0.0, 1.0, 1.0, 1.0), 1),  # a lit inside the fixed cut cannot see
        ((0.0, 0.0, 1.0, 1.0), 2),
        ((0.1, 1.0, 1.0, 1.0), 1),  # the fixed cut barely sees it: the brighter one reads
        ((0.8, 1.0, 1.0, 1.0), 0),  # most of it: the fixed one still reads
    ],
)
def test_dark_cut_reads_the_darkest_cut_that_sees_the_mouth_open(seen_by, chosen) -> None:  # type: ignore[no-untyped-def]
    cut = DarkCut()
    phi = pose_features(0.0, 0.0)
    frames = _talk(seen_by, 300, seed=3)
    picked = []
    for f in frames:
        dark, rest = cut.pick(phi, f[0], 0.0, f[1:], 0.075)
        picked.append(cut.index)
    assert cut.index == chosen
    assert dark == frames[-1][chosen]
    if chosen:  # the brighter cut's own rest, learned (its lips' shading: 0.004 per cut)
        assert rest == pytest.approx(0.004 * chosen, abs=0.003)
    assert picked[:5] == [0] * 5  # nothing seen yet: the fixed cut
    cut.reset()  # a new face starts from the fixed cut
    assert cut.index == 0


def test_dark_cut_follows_a_light_switched_on_within_the_window() -> None:
    cut = DarkCut(window=600)
    phi = pose_features(0.0, 0.0)
    for f in _talk((1.0, 1.0, 1.0, 1.0), 600, seed=4) + _talk((0.0, 1.0, 1.0, 1.0), 700, seed=5):
        cut.pick(phi, f[0], 0.0, f[1:], 0.075)
    assert cut.index == 1


def test_dark_cut_keeps_its_choice_while_the_mouth_stays_closed() -> None:
    cut = DarkCut(window=300)
    phi = pose_features(0.0, 0.0)
    rng = np.random.default_rng(6)
    for f in _talk((0.0, 1.0, 1.0, 1.0), 300, seed=7):
        cut.pick(phi, f[0], 0.0, f[1:], 0.075)
    assert cut.index == 1
    for _ in range(900):  # closed for 30 s: the window empties, the choice stays
        d = [0.004 * j + float(rng.normal(0.0, 0.002)) for j in range(4)]
        cut.pick(phi, d[0], 0.0, tuple(d[1:]), 0.075)
    assert cut.index == 1


def test_a_pose_baseline_knows_which_poses_it_has_seen() -> None:
    """PoseBaseline.support: 1 until ``after`` samples are in; then the share of ``full``
    samples near the pose asked about."""
    base = PoseBaseline([0.5], [1.0])
    front, turned = pose_features(0.0, 0.0), pose_features(0.5, 0.1)
    for _ in range(20):
        base.add(front, [1.0])
    assert base.support(turned, 0.2, 10, 30) == 1.0  # too few samples to judge
    for _ in range(20):
        base.add(front, [1.0])
    assert base.support(front, 0.2, 10, 30) == 1.0
    assert base.support(turned, 0.2, 10, 30) == 0.0
    for _ in range(4):
        base.add(pose_features(0.45, 0.05), [1.0])
    assert base.support(turned, 0.2, 10, 30) == pytest.approx(0.4)
