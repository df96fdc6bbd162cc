"""Gestures: features, the built-in classifier on held-out synthetic hands, hysteresis, bindings,
body poses, custom training, VMC key events (decoded by liblo's oscdump), the EVNT recording
chunk, and the real clip (thumbs up with her right hand; nothing while her hand is down)."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from vtuber.errors import ConfigError, FormatError
from vtuber.gestures.bindings import GestureSettings, GestureStage, load_settings, parse_settings
from vtuber.gestures.features import hand_features
from vtuber.gestures.model import GestureModel, load_builtin, per_class_report
from vtuber.gestures.poses import PoseRecognizer
from vtuber.gestures.recognizer import Debouncer, GestureRecognizer, RecognizerSettings
from vtuber.gestures.training import Take, load_takes, synthetic_set, train_custom
from vtuber.landmarks import HandLandmarks, Landmarks
from vtuber.recording import RecordingWriter, read_recording
from vtuber.rig import AvatarFrame, FrameEvent
from vtuber.synth.hands import (
    BUILTIN_HAND_CLASSES,
    make_hands,
    random_motion,
)
from vtuber.vmc import encode_frame, frame_messages, key_message

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "data" / "media" / "person_thumbsup_720p.mp4"
# Ground truth of the clip, by eye: her right hand is out of the frame (down) in frames 0-24,
# rises as a fist in 25-53, and the thumb is up from frame 54 to the end (194).
HAND_DOWN = range(0, 25)
THUMB_UP = range(54, 195)


@pytest.fixture(scope="module")
def model() -> GestureModel:
    return load_builtin()


def _lm(t: float, right: np.ndarray | None = None, left: np.ndarray | None = None) -> Landmarks:
    lm = Landmarks(t=t, width=640, height=480)
    if right is not None:
        lm.right_hand = HandLandmarks(found=True, world=right.astype(np.float32))
    if left is not None:
        lm.left_hand = HandLandmarks(found=True, world=left.astype(np.float32))
    return lm


# ------------------------------------------------------------------------------ features / model
def test_features_are_position_scale_and_handedness_invariant() -> None:
    rng = np.random.default_rng(0)
    pts, is_left = make_hands(rng, "peace", 4, noise_m=0.0, left_share=0.0)
    p = pts[0]
    f = hand_features(p, False)
    assert np.allclose(hand_features(p * 1.7 + [0.3, -0.2, 0.5], False), f, atol=1e-9)
    # The same hand seen as a left hand (reflected) gives the same features.
    assert np.allclose(hand_features(p * [-1.0, 1.0, 1.0], True), f, atol=1e-9)
    # A turn about the camera's "up" axis changes nothing but where the camera is: same shape
    # features, same up vector.
    a = 0.7
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    assert np.allclose(hand_features(p @ ry.T, False), f, atol=1e-9)
    # Upside down: the shape part is the same, the up vector is not (thumbs up vs down).
    rz = np.diag([-1.0, -1.0, 1.0])
    g = hand_features(p @ rz.T, False)
    assert np.allclose(g[:60], f[:60], atol=1e-9)
    assert not np.allclose(g[60:63], f[60:63], atol=1e-3)


def test_builtin_model_on_held_out_synthetic_hands(model: GestureModel) -> None:
    # A seed the built-in model was not trained on (training: BUILTIN_SEED).
    x, y = synthetic_set(seed=4242, per_class=200)
    rep = per_class_report(y, model.predict(x), model.classes)
    assert set(model.classes) == set(BUILTIN_HAND_CLASSES) | {"none"}
    for c, (p, r, n) in rep.items():
        assert n == 200
        assert p >= 0.95 and r >= 0.95, (c, p, r)


def test_fewer_than_one_false_trigger_per_minute_on_random_hand_motion(model: GestureModel) -> None:
    rng = np.random.default_rng(11)
    minutes = 4.0
    fps = 30.0
    pts, like = random_motion(rng, minutes * 60.0, fps)
    rec = GestureRecognizer(model, RecognizerSettings(body=False))
    false = 0
    for i, p in enumerate(pts):
        edges = rec.update(_lm(i / fps, right=p))
        # A start is false unless the angles matched a class over the whole hold.
        hold = int(np.ceil(rec.settings.min_hold * fps)) + 1
        false += sum(1 for e in edges if e.active and not like[max(0, i - hold) : i + 1].all())
    assert false / minutes < 1.0, false


def test_recall_at_precision(model: GestureModel) -> None:
    from vtuber.gestures.model import recall_at_precision

    x, y = synthetic_set(seed=31, per_class=60)
    pred = model.predict(x)
    p, r, _ = per_class_report(y, pred, model.classes)["peace"]
    # Any precision goal the plain winner meets gives at least its recall.
    rap, thr = recall_at_precision(model, x, y, "peace", min(p, 0.95))
    assert rap >= r and 0.0 < thr <= 1.0
    # 20 fists labelled 'peace': the model never calls them peace, whatever the threshold.
    fist = [i for i, c in enumerate(y) if c == "fist"]
    y_bad = [("peace" if i in fist[:20] else c) for i, c in enumerate(y)]  # mislabelled fists
    full, _ = recall_at_precision(model, x, y_bad, "peace", 0.0)
    assert full < 1.0
    assert recall_at_precision(model, x, y, "peace", 1.01) == (0.0, 1.0)


def test_model_file_round_trip_and_errors(tmp_path: Path, model: GestureModel) -> None:
    path = tmp_path / "m.npz"
    model.save(path)
    again = GestureModel.load(path)
    x, _ = synthetic_set(seed=3, per_class=5)
    assert again.classes == model.classes
    assert np.allclose(again.proba(x), model.proba(x), atol=1e-5)
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(FormatError):
        GestureModel.load(tmp_path / "bad.npz")
    with pytest.raises(FormatError):
        GestureModel.load(tmp_path / "missing.npz")
    # A model for another feature vector (e.g. an older vtuber's) is refused when read, not
    # failing on the first hand it sees.
    short = dataclasses.replace(model, mean=model.mean[:-4], std=model.std[:-4], w1=model.w1[:-4])
    short.save(tmp_path / "short.npz")
    with pytest.raises(FormatError, match="hand features"):
        GestureModel.load(tmp_path / "short.npz")


# ------------------------------------------------------------------------------ hysteresis
def _hands(cls: str, n: int, seed: int) -> np.ndarray:
    pts, _ = make_hands(np.random.default_rng(seed), cls, n, left_share=0.0)
    return pts


def test_binding_fires_within_150_ms_of_first_held(model: GestureModel) -> None:
    fps = 30.0
    seq = list(_hands("none", 30, 1)) + list(_hands("thumbs_up", 30, 2))
    first_held = 30 / fps
    settings = parse_settings({"binding": [{"gesture": "thumbs_up", "expression": "happy"}]})
    stage = GestureStage(settings, model)
    fired = None
    for i, p in enumerate(seq):
        t = i / fps
        out = stage.apply(AvatarFrame(t=t), _lm(t, right=p))
        if fired is None and out.blendshapes.get("happy") == 1.0:
            fired = t
    assert fired is not None
    assert settings.recognizer.min_hold - 1e-9 <= fired - first_held <= 0.150


def test_debouncer_hold_release_cooldown() -> None:
    d = Debouncer(RecognizerSettings(min_hold=0.1, release=0.1, cooldown=0.5))
    dt = 1 / 30
    on = {"fist_right"}
    seen = [d.update(i * dt, on, on) for i in range(3)]  # 0, 33, 67 ms: not yet
    assert not any(seen)
    assert [e.active for e in d.update(3 * dt, on, on)] == [True]  # 100 ms held
    assert d.update(4 * dt, set(), set()) == []  # one dropped frame: still on
    assert d.update(5 * dt, on, on) == []
    assert d.update(6 * dt, set(), set()) == []
    ends = d.update(9 * dt, set(), set())
    assert [(e.name, e.active) for e in ends] == [("fist_right", False)]
    # Cool-down: held again at once, it does not start before 0.5 s after the end.
    starts = [(i, d.update(i * dt, on, on)) for i in range(10, 40)]
    first = next(i for i, e in starts if e)
    assert (first - 9) * dt >= 0.5 - 1e-9


def test_one_gesture_per_hand_body_poses_apart() -> None:
    d = Debouncer(RecognizerSettings(min_hold=0.0, release=1.0, cooldown=0.0))
    d.solo |= {"fist_right", "peace_right"}
    d.update(0.0, {"fist_right", "hand_on_cheek_right"}, {"fist_right", "hand_on_cheek_right"})
    edges = d.update(0.1, {"peace_right"}, {"peace_right"})
    assert ("fist_right", False) in [(e.name, e.active) for e in edges]
    assert set(d.active()) == {"peace_right", "hand_on_cheek_right"}


# ------------------------------------------------------------------------------ bindings
def test_no_bindings_sends_each_gesture_as_a_key_event(model: GestureModel) -> None:
    stage = GestureStage(GestureSettings(), model)
    seq = list(_hands("peace", 10, 3)) + [None] * 10
    events: list[FrameEvent] = []
    for i, p in enumerate(seq):
        lm = _lm(i / 30, left=None if p is None else p * [-1.0, 1.0, 1.0])
        events += stage.apply(AvatarFrame(t=i / 30), lm).events
    keys = [(e.name, e.active) for e in events if e.kind == "key"]
    assert keys == [("peace_left", True), ("peace_left", False)]
    assert ("peace_left", True) in [(e.name, e.active) for e in events if e.kind == "gesture"]


def test_expression_binding_blocks_blink_and_toggle_mode(model: GestureModel) -> None:
    table = {
        "binding": [
            {"gesture": "fist", "hand": "right", "expression": "angry", "blink": "block",
             "mouth": "blend", "weight": 0.8, "key": "F5", "keycode": 116},
            {"gesture": "open_palm", "mode": "toggle", "event": "sparkle"},
        ]
    }  # fmt: skip
    stage = GestureStage(parse_settings(table), model)
    face = {"blinkLeft": 0.9, "aa": 0.5, "happy": 0.1}
    fist = _hands("fist", 8, 4)
    out = [stage.apply(AvatarFrame(t=i / 30, blendshapes=dict(face)), _lm(i / 30, right=p))
           for i, p in enumerate(fist)]  # fmt: skip
    last = out[-1].blendshapes
    assert last["angry"] == pytest.approx(0.8)
    assert last["blinkLeft"] == 0.0  # blocked
    assert last["aa"] == pytest.approx(0.5 * 0.2)  # blended
    assert last["happy"] == 0.1
    keys = [e for f in out for e in f.events if e.kind == "key"]
    assert [(k.name, k.active, k.keycode) for k in keys] == [("F5", True, 116)]
    # The left hand's fist is not bound (hand = right).
    stage2 = GestureStage(parse_settings(table), model)
    out2 = [stage2.apply(AvatarFrame(t=i / 30), _lm(i / 30, left=p * [-1.0, 1.0, 1.0]))
            for i, p in enumerate(fist)]  # fmt: skip
    assert "angry" not in out2[-1].blendshapes
    # Toggle: open palm twice -> sparkle on, then off.
    palm = _hands("open_palm", 10, 5)
    seq = list(palm) + [None] * 20 + list(palm)
    ev = []
    for i, p in enumerate(seq):
        out_i = stage.apply(AvatarFrame(t=i / 30), _lm(i / 30, right=p))
        ev += [(e.name, e.active) for e in out_i.events if e.kind == "viewer"]
    assert ev == [("sparkle", True), ("sparkle", False)]


@pytest.mark.parametrize(
    "table, words",
    [
        ({"binding": [{"gesture": "thumbs_up"}]}, "at least one"),
        ({"binding": [{"gesture": "thumbs_up", "key": True, "hand": "middle"}]}, "hand"),
        ({"binding": [{"gesture": "x", "key": True, "mode": "sometimes"}]}, "mode"),
        ({"binding": [{"gesture": "thumbs_up", "key": True, "blink": "maybe"}]}, "blink"),
        ({"min_hold": -1}, "min_hold"),
        ({"wiggle": 1}, "unknown"),
    ],
)
def test_bad_gesture_settings_are_config_errors(table: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_settings(table)


def test_binding_to_an_unknown_gesture_is_refused(model: GestureModel) -> None:
    with pytest.raises(ConfigError, match="unknown gesture"):
        GestureStage(parse_settings({"binding": [{"gesture": "salute", "key": True}]}), model)


def test_cli_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[gestures]\nbinding = [{ gesture = "thumbs_up", hand = "middle", key = true }]\n'
    )
    assert load_settings(None).bindings == []
    with pytest.raises(ConfigError):
        load_settings(cfg)
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "track", "--mode", "full", "--gestures", "--config",
         str(cfg), "--source", str(tmp_path), "--no-vmc"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("vtuber: error:"), r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "track", "--gestures", "--source", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and "--mode full" in r.stderr


# ------------------------------------------------------------------------------ body poses
def _pose(**moves: tuple[float, float]) -> np.ndarray:
    """A person facing the camera, arms hanging (normalised image points, y down)."""
    p = np.zeros((33, 4))
    p[:, 3] = 1.0
    base = {0: (0.5, 0.3), 2: (0.52, 0.28), 5: (0.48, 0.28), 7: (0.56, 0.3), 8: (0.44, 0.3),
            9: (0.52, 0.36), 10: (0.48, 0.36), 11: (0.6, 0.5), 12: (0.4, 0.5), 13: (0.63, 0.65),
            14: (0.37, 0.65), 15: (0.64, 0.8), 16: (0.36, 0.8), 19: (0.64, 0.83), 20: (0.36, 0.83),
            23: (0.57, 0.85), 24: (0.43, 0.85)}  # fmt: skip
    for i, (x, y) in base.items():
        p[i, :2] = x, y
    names = {"lw": 15, "rw": 16, "li": 19, "ri": 20, "le": 13, "re": 14}
    for k, (x, y) in moves.items():
        p[names[k], :2] = x, y
    return p


def test_body_poses() -> None:
    pr = PoseRecognizer()
    assert pr.update(_pose(), True, 1.0, 0.0) == set()
    up = _pose(lw=(0.65, 0.1), rw=(0.35, 0.1), le=(0.63, 0.3), re=(0.37, 0.3))
    assert "both_arms_up" in pr.update(up, True, 1.0, 0.1)
    crossed = _pose(lw=(0.42, 0.62), rw=(0.58, 0.63), le=(0.63, 0.66), re=(0.37, 0.66))
    assert "arms_crossed" in PoseRecognizer().update(crossed, True, 1.0, 0.0)
    cheek = _pose(ri=(0.45, 0.34), rw=(0.44, 0.42), re=(0.38, 0.6))
    assert PoseRecognizer().update(cheek, True, 1.0, 0.0) == {"hand_on_cheek_right"}
    # Waving: her left hand raised, swinging left-right 2 times a second.
    wr = PoseRecognizer()
    seen = []
    for i in range(60):
        t = i / 30
        x = 0.72 + 0.06 * np.sin(2 * np.pi * 2.0 * t)
        seen.append("waving_left" in wr.update(_pose(lw=(x, 0.3), le=(0.68, 0.5)), True, 1.0, t))
    assert not seen[0] and seen[-1]
    # Time going back (a source started again) forgets the swings: not waving at once.
    assert "waving_left" not in wr.update(_pose(lw=(0.72, 0.3), le=(0.68, 0.5)), True, 1.0, 0.0)
    # The same raised hand held still is not waving.
    still = PoseRecognizer()
    assert not any(
        "waving_left" in still.update(_pose(lw=(0.72, 0.3), le=(0.68, 0.5)), True, 1.0, i / 30)
        for i in range(60)
    )


# ------------------------------------------------------------------------------ custom training
def test_custom_training_of_three_new_gestures(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    folder = tmp_path / "samples"
    folder.mkdir()
    for c in ("call_me", "claw", "four"):
        for k in range(3):  # three takes of 60 frames each, both hands
            pts, left = make_hands(rng, c, 60)
            Take(c, pts, left, np.arange(60) / 30.0, "synth").save(folder / f"{c}-{k}.npz")
    out = tmp_path / "mine.npz"
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "gestures", "train", "--dir", str(folder), "--out",
         str(out)], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "call_me" in r.stdout and out.is_file()
    model = GestureModel.load(out)  # reload
    takes = load_takes(folder)
    res = train_custom(takes)  # the same split the command used (the last 25 % of each take)
    assert np.allclose(res.model.w2, model.w2, atol=1e-5)  # same seed, same model
    for c in ("call_me", "claw", "four"):
        p, rc, n = res.report[c]
        assert n == 45 and rc >= 0.9 and p >= 0.95, (c, p, rc)
    # The reloaded model in the recognizer names a custom gesture per hand.
    rec = GestureRecognizer(model, RecognizerSettings(body=False))
    pts, _ = make_hands(np.random.default_rng(5), "call_me", 10, left_share=0.0)
    names = {e.name for i, p in enumerate(pts) for e in rec.update(_lm(i / 30, right=p))}
    assert names == {"call_me_right"}
    # The built-in model does not know it.
    assert "call_me" not in load_builtin().classes


# Custom gestures recorded with the real `record` path (MediaPipe Hands) from rendered videos:
# 3 new shapes, 3 training takes each (one a left hand) and 2 held-out takes from other seeds.
RENDERED = ("call_me", "gun", "four")
RENDER_SECONDS = 1.6


def _rendered_videos(root: Path) -> dict[str, list[Path]]:
    """Videos of every take, rendered once into a cache folder keyed by the renderer's source
    (a changed renderer renders again)."""
    import hashlib
    import os
    import tempfile

    from vtuber.synth import hand_video, hands

    key = hashlib.sha256(
        Path(hand_video.__file__).read_bytes() + Path(hands.__file__).read_bytes()
    ).hexdigest()[:12]
    cache = Path(os.environ.get("VTUBER_TEST_CACHE", tempfile.gettempdir()))
    folder = cache / f"vtuber-gesture-videos-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, list[Path]] = {"train": [], "held": []}
    for gi, g in enumerate(RENDERED):
        for split, seeds in (("train", (0, 1, 2)), ("held", (50, 51))):
            for k, seed in enumerate(seeds):
                path = folder / f"{g}-{seed}.avi"
                if not path.is_file():
                    tmp = path.with_suffix(".part.avi")
                    hand_video.render_take(tmp, g, 1000 * gi + seed, RENDER_SECONDS, left=(k == 1))
                    tmp.replace(path)
                out[split].append(path)
    return out


def test_custom_gestures_recorded_from_rendered_videos(tmp_path: Path) -> None:
    from vtuber.cli import main
    from vtuber.gestures.model import recall_at_precision
    from vtuber.gestures.training import heldout_report, split_takes
    from vtuber.synth import hand_video

    videos = _rendered_videos(tmp_path)
    truth = {}  # video -> the rendered hand's points
    for path in videos["train"] + videos["held"]:
        name, seed = path.stem.split("-")
        truth[str(path)] = hand_video.take_points(
            name, 1000 * RENDERED.index(name) + int(seed), RENDER_SECONDS, left=int(seed) % 50 == 1
        )
    failed = []
    for split in ("train", "held"):
        for path in videos[split]:
            name, seed = path.stem.split("-")
            # The hand as the user names it: MediaPipe often calls a rendered hand the other one.
            hand = "left" if int(seed) % 50 == 1 else "right"
            rc = main(
                [
                    "gestures",
                    "record",
                    name,
                    "--source",
                    str(path),
                    "--hand",
                    hand,
                    "--seconds",
                    str(RENDER_SECONDS),
                    "--dir",
                    str(tmp_path / split),
                ]
            )
            if rc != 0:  # no hand found in the whole take: one error line, exit status 2
                assert rc == 2
                failed.append(path.name)
    train_takes, held = load_takes(tmp_path / "train"), load_takes(tmp_path / "held")
    n_videos = len(videos["train"]) + len(videos["held"])
    found = sum(len(t.world) for t in train_takes + held) / (n_videos * RENDER_SECONDS * 25)
    # MediaPipe finds the rendered hand, labelled as the recorded hand, in 60 % of the frames
    # (in 12 of the 15 takes): a guard against the renders getting worse.
    assert found >= 0.5 and len(failed) <= 3, (found, failed)
    out = tmp_path / "mine.npz"
    assert main(["gestures", "train", "--dir", str(tmp_path / "train"), "--out", str(out)]) == 0
    model = GestureModel.load(out)  # reload
    res = train_custom(train_takes)  # the command's training, timed here
    assert res.cpu_seconds <= 5.0, res.cpu_seconds
    # Held out: every frame of the takes from other seeds (other videos), with a fresh
    # synthetic set of the built-in classes as negatives (measured precision / recall: call_me
    # 0.96 / 1.00, gun 1.00 / 1.00, four 1.00 / 0.92).
    _, (x, y) = split_takes(held, holdout=1.0)
    report, _ = heldout_report(model, x, y, seed=99)
    for g in RENDERED:
        p, r, n = report[g]
        assert n >= 20 and r >= 0.9 and p >= 0.9, (g, p, r, n)
    # MediaPipe's fit shows the hand that was rendered (no finger extended in one and curled in
    # the other) in nearly every held-out frame of these takes (measured: no misfit in 154; 19
    # of 114 in the earlier renders' takes): a guard on the renders.
    misfit = np.array(
        [
            hand_video.fit_contradicts(w, truth[tk.source][int(round(t * 25))])
            for tk in held
            for w, t in zip(tk.world, tk.t, strict=True)
        ]
    )
    assert misfit.mean() <= 0.1, (int(misfit.sum()), len(misfit))
    # The goal: recall >= 0.9 at precision >= 0.95 on all held-out frames (measured
    # 1.000 / 1.000 / 0.919 with these 3 short training takes per gesture).
    xs, ys = synthetic_set(99, 100)
    xa, ya = np.concatenate([x, xs]), y + ys
    for g in RENDERED:
        assert recall_at_precision(model, xa, ya, g, 0.95)[0] >= 0.9, g
    # The reloaded model names a recorded gesture per hand in the recognizer.
    rec = GestureRecognizer(model, RecognizerSettings(body=False))
    gun = next(t for t in held if t.label == "gun" and not t.is_left.any())
    names = {e.name for i, w in enumerate(gun.world) for e in rec.update(_lm(i / 25, right=w))}
    assert "gun_right" in names


def test_take_file_errors(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        load_takes(tmp_path)
    (tmp_path / "x.npz").write_bytes(b"junk")
    with pytest.raises(FormatError):
        load_takes(tmp_path)


# ------------------------------------------------------------------------------ outputs
def test_key_message_bytes() -> None:
    m = key_message(True, "thumbs_up_right", 0)
    assert m.startswith(b"/VMC/Ext/Key\x00\x00\x00\x00,isi\x00\x00\x00\x00")
    assert m[24:28] == b"\x00\x00\x00\x01"
    assert m[28:] == b"thumbs_up_right\x00" + b"\x00\x00\x00\x00"
    f = AvatarFrame(
        t=1.0, events=(FrameEvent("key", "a", True, 7), FrameEvent("gesture", "b", True))
    )
    msgs = frame_messages(f)
    keys = [x for x in msgs if x.startswith(b"/VMC/Ext/Key")]
    assert keys == [key_message(True, "a", 7)]
    assert msgs.index(keys[0]) == len(msgs) - 3  # before /VMC/Ext/OK and /VMC/Ext/T


@pytest.mark.skipif(shutil.which("oscdump") is None, reason="liblo-tools (oscdump) not installed")
def test_oscdump_decodes_key_events() -> None:
    from vtuber.sinks.vmc import VMCSink

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen(
        ["oscdump", "-L", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(0.5)
        frames = [
            AvatarFrame(t=0.0, events=(FrameEvent("key", "thumbs_up_right", True),)),
            AvatarFrame(t=0.1, events=(FrameEvent("key", "thumbs_up_right", False, 112),)),
        ]
        with VMCSink([("127.0.0.1", port)]) as sink:
            for f in frames:
                sink.send(f)
        time.sleep(0.5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    keys = [ln.split(" ", 1)[1] for ln in out.splitlines() if "/VMC/Ext/Key" in ln]
    assert keys == [
        '/VMC/Ext/Key isi 1 "thumbs_up_right" 0',
        '/VMC/Ext/Key isi 0 "thumbs_up_right" 112',
    ], out[-2000:]


def test_recording_stores_events_and_plain_readers_skip_them(tmp_path: Path) -> None:
    path = tmp_path / "g.vtrec"
    ev = (FrameEvent("gesture", "thumbs_up_right", True), FrameEvent("key", "F1", True, 112),
          FrameEvent("viewer", "sparkle", False))  # fmt: skip
    with RecordingWriter(path) as w:
        w.write_frame(AvatarFrame(t=0.0, index=0))
        w.write_frame(AvatarFrame(t=0.04, index=1, events=ev))
        w.write_frame(AvatarFrame(t=0.08, index=2))
    rec = read_recording(path)
    assert [f.events for f in rec.frames] == [(), ev, ()]
    assert not rec.damage
    # A reader that does not know EVNT skips it by its length (the documented rule).
    data = path.read_bytes()
    pos, tags = 12, []
    while pos < len(data):
        tag = data[pos : pos + 4]
        (length,) = np.frombuffer(data[pos + 4 : pos + 8], "<u4")
        tags.append(tag)
        pos += 12 + int(length)
    assert pos == len(data) and tags.count(b"FRAM") == 3 and tags.count(b"EVNT") == 1
    assert tags.index(b"EVNT") == tags.index(b"FRAM") + 2  # right after frame 1's FRAM
    # The JSONL export carries them.
    from vtuber.export.jsonl import frame_record

    exported = frame_record(rec.frames[1], 0.0)["events"]
    assert isinstance(exported, list)
    assert exported[1] == {
        "kind": "key", "name": "F1", "active": True, "keycode": 112,
    }  # fmt: skip
    assert encode_frame(rec.frames[1]) != encode_frame(rec.frames[0])


# ------------------------------------------------------------------------------ the real clip
@pytest.fixture(scope="module")
def clip_landmarks() -> list[Landmarks]:
    if not CLIP.is_file():
        pytest.skip(f"shared clip not present: {CLIP}")
    from vtuber.landmarks.body import FullBodyBackend

    cap = cv2.VideoCapture(str(CLIP))
    out = []
    with FullBodyBackend() as be:
        i = 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            out.append(be.process(np.asarray(img, np.uint8), i / 25.0))
            i += 1
    cap.release()
    assert len(out) == 195
    return out


@pytest.mark.parametrize("mirror", [True, False])
def test_real_clip_thumbs_up_right_hand(clip_landmarks: list[Landmarks], mirror: bool) -> None:
    from vtuber.config import TrackConfig
    from vtuber.pipeline import Pipeline
    from vtuber.sources import Frame
    from vtuber.tracker import Tracker

    stage = GestureStage()
    pipe = Pipeline([], None, Tracker(TrackConfig(mode="full")), [],  # type: ignore[arg-type]
                    mirror=mirror, gestures=stage)  # fmt: skip
    img = np.zeros((1, 1, 3), np.uint8)
    per_frame: list[tuple[str, ...]] = []
    labels: list[dict[str, tuple[str, float]]] = []
    events: dict[int, list[FrameEvent]] = {}
    for i, lm in enumerate(clip_landmarks):
        av = pipe.build(lm, Frame(img, lm.t, 0.0, i))
        per_frame.append(tuple(sorted(stage.recognizer.active())))
        labels.append(dict(stage.recognizer.last))
        if av.events:
            events[i] = list(av.events)
    # Per-frame classification of her right hand where the thumb is up.
    right = [labels[i].get("right", ("-", 0.0))[0] for i in THUMB_UP]
    share = right.count("thumbs_up") / len(THUMB_UP)
    assert share >= 0.9, share
    # The recognised (debounced) gesture: thumbs_up_right in >= 90 % of those frames.
    active = sum("thumbs_up_right" in per_frame[i] for i in THUMB_UP) / len(THUMB_UP)
    assert active >= 0.9, active
    # Nothing at all while her hand is down: no label, no gesture, no event.
    for i in HAND_DOWN:
        assert not labels[i] and not per_frame[i] and i not in events, i
    # While the thumb is up no other gesture is active, except the fist she raised before it
    # (still up, thumb in, in 25-53), for at most the hold time as the thumb comes out.
    other = [i for i in THUMB_UP if set(per_frame[i]) - {"thumbs_up_right"}]
    assert all(per_frame[i] == ("fist_right",) for i in other), [per_frame[i] for i in other]
    assert all(i < THUMB_UP[0] + 5 for i in other), other
    keys = [(e.name, e.active) for i, ev in events.items() if i in THUMB_UP for e in ev
            if e.kind == "key"]  # fmt: skip
    assert ("thumbs_up_right", False) not in keys


def test_real_clip_with_skipped_frames_stays_thumbs_up() -> None:
    """Every 2nd frame (as a loaded machine delivers them in real time): MediaPipe's
    tracker, picking the hand up again after its fast move, latched onto a fit with the thumb
    taken for the index finger ('pointing' in 64 of 68 thumb-up frames at every 2nd frame).
    A fresh detection now checks a newly tracked fit (vtuber/landmarks/body.py)."""
    if not CLIP.is_file():
        pytest.skip(f"shared clip not present: {CLIP}")
    from vtuber.landmarks.body import FullBodyBackend

    cap = cv2.VideoCapture(str(CLIP))
    images = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        images.append(np.asarray(img, np.uint8))
    rec = GestureRecognizer(settings=RecognizerSettings(body=False))
    labels: dict[int, str] = {}
    with FullBodyBackend() as be:
        for i in range(0, len(images), 2):
            rec.classify(be.process(images[i], i / 25.0))
            labels[i] = rec.last.get("right", ("-", 0.0))[0]
        refits = be.hands["right"].refits
    # From the first frame the thumb is up and the hand has come to rest (frame 64).
    held = [lab for i, lab in labels.items() if i >= 64]
    share = held.count("thumbs_up") / len(held)
    assert share >= 0.9 and "pointing" not in held, (share, held)
    assert refits >= 1  # the check did replace a tracked fit
    assert not any(labels[i] != "-" for i in labels if i in HAND_DOWN)


def test_record_from_the_real_clip_and_test_the_samples(tmp_path: Path) -> None:
    if not CLIP.is_file():
        pytest.skip(f"shared clip not present: {CLIP}")
    folder = tmp_path / "samples"
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "gestures", "record", "thumb", "--source", str(CLIP),
         "--start", "4", "--seconds", "1", "--hand", "right", "--dir", str(folder)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (take,) = load_takes(folder)
    assert take.label == "thumb" and 20 <= len(take.world) <= 26  # 1 s at 25 fps, hand seen
    assert not take.is_left.any() and 4.0 <= take.t.min() and take.t.max() < 5.0
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "gestures", "test", "--dir", str(folder)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0 and "thumb" in r.stdout, r.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "vtuber", "gestures", "record", "no way", "--source", str(CLIP)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip().startswith("vtuber: error:")


@pytest.mark.skipif(
    shutil.which("mcs") is None or shutil.which("mono") is None,
    reason="mcs/mono not installed (apt: mono-mcs mono-devel)",
)
def test_csharp_reader_skips_evnt_chunks(tmp_path: Path) -> None:
    """An independent reader that knows nothing of EVNT (the Unity bridge's C# core, under mono)
    reads the golden recording with EVNT chunks inserted after every frame exactly as before."""
    from vtuber.recording import TAG_EVNT, TAG_FRAM, TAG_LMRK, chunk, encode_events

    fixtures = ROOT / "tests" / "fixtures"
    fx = tmp_path / "fixtures"
    shutil.copytree(fixtures, fx)
    data = (fixtures / "golden_v1.vtrec").read_bytes()
    out, pos, n_evnt = bytearray(data[:12]), 12, 0
    ev = encode_events(
        (FrameEvent("gesture", "thumbs_up_right", True), FrameEvent("key", "k", False))
    )
    while pos < len(data):
        tag = data[pos : pos + 4]
        end = pos + 12 + int.from_bytes(data[pos + 4 : pos + 8], "little")
        out += data[pos:end]
        nxt = data[end : end + 4]
        if tag == TAG_LMRK or (tag == TAG_FRAM and nxt != TAG_LMRK):
            out += chunk(TAG_EVNT, ev)
            n_evnt += 1
        pos = end
    (fx / "golden_v1.vtrec").write_bytes(bytes(out))
    assert n_evnt >= 2
    # Python reads the events back, frames unchanged.
    plain, with_ev = (
        read_recording(fixtures / "golden_v1.vtrec"),
        read_recording(fx / "golden_v1.vtrec"),
    )
    assert len(plain.frames) == len(with_ev.frames) == n_evnt and not with_ev.damage
    assert all(f.events and f.events[0].name == "thumbs_up_right" for f in with_ev.frames)
    # C#: build the bridge core and its tests, run them on the modified fixtures.
    build = tmp_path / "build"
    build.mkdir()
    core = sorted((ROOT / "unity_bridge" / "Runtime" / "Core").glob("*.cs"))
    for args in (
        ["-target:library", f"-out:{build / 'Core.dll'}", "-r:System.Net", *map(str, core)],
        [f"-out:{build / 'CoreTests.exe'}", f"-r:{build / 'Core.dll'}", "-r:System.Net",
         str(ROOT / "tests" / "csharp" / "CoreTests.cs")],
    ):  # fmt: skip
        r = subprocess.run(["mcs", "-nologo", *args], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(
        ["mono", str(build / "CoreTests.exe"), str(fx)],
        capture_output=True, text=True, timeout=300, cwd=build,
    )  # fmt: skip
    lines = {ln.split()[1].rstrip(":"): ln.split()[0] for ln in r.stdout.splitlines()
             if ln.startswith(("PASS ", "FAIL ", "SKIP "))}  # fmt: skip
    assert len(lines) >= 20, r.stdout[-3000:]  # the suite really ran
    assert lines.get("TestGoldenRecordingMatchesJson") == "PASS", r.stdout[-3000:]


def test_replay_sends_recorded_key_events(tmp_path: Path) -> None:
    from pythonosc.osc_packet import OscPacket

    path = tmp_path / "g.vtrec"
    with RecordingWriter(path) as w:
        for i in range(6):
            ev: tuple[FrameEvent, ...] = ()
            if i == 2:
                ev = (FrameEvent("key", "thumbs_up_right", True),)
            elif i == 4:
                ev = (FrameEvent("key", "thumbs_up_right", False, 9),)
            w.write_frame(AvatarFrame(t=i / 30, index=i, events=ev))
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    port = rx.getsockname()[1]
    try:
        r = subprocess.run(
            [sys.executable, "-m", "vtuber", "replay", str(path), "--vmc", f"127.0.0.1:{port}",
             "--quiet"], capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        keys = []
        while True:
            try:
                data = rx.recv(65536)
            except TimeoutError:
                break
            for m in OscPacket(data).messages:
                if m.message.address == "/VMC/Ext/Key":
                    keys.append(list(m.message.params))
    finally:
        rx.close()
    assert keys == [[1, "thumbs_up_right", 0], [0, "thumbs_up_right", 9]]


def test_binding_min_hold_and_cooldown(model: GestureModel) -> None:
    table = {"binding": [{"gesture": "fist", "key": True, "min_hold": 0.3, "cooldown": 1.0}]}
    stage = GestureStage(parse_settings(table), model)
    fist = list(_hands("fist", 15, 8))
    # held 0.5 s, gone 0.3 s, held 0.5 s (inside the cool-down), gone 1 s, held 0.5 s
    seq = fist + [None] * 9 + fist + [None] * 30 + fist
    presses = []
    for i, p in enumerate(seq):
        out = stage.apply(AvatarFrame(t=i / 30), _lm(i / 30, right=p))
        presses += [(i, e.active) for e in out.events if e.kind == "key"]
    assert [a for _, a in presses] == [True, False, True]  # the last hold is still on
    first_on = presses[0][0]
    assert 0.3 - 1e-9 <= first_on / 30 <= 0.3 + 1 / 30  # from the first held frame (0)
    second_start = 15 + 9 + 15 + 30  # the third hold; the second fell in the cool-down
    assert presses[2][0] / 30 - second_start / 30 == pytest.approx(0.3, abs=1 / 30 + 1e-9)
