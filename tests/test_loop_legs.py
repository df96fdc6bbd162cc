"""`vtuber track --loop` (video files and image folders; frame times and /VMC/Ext/T keep increasing
across passes, checked on real UDP on loopback) and `--legs` (reachable from the command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.test_replay import Receiver, vmc_times
from vtuber.sources import ImageFolderSource, VideoSource, open_source


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtuber", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture()
def face_video(tmp_path: Path, grace_bgr: np.ndarray) -> Path:
    """10 frames at 25 fps of a real photo panning sideways (MJPG, no ffmpeg needed)."""
    img = cv2.resize(grace_bgr, (240, 280))
    out = tmp_path / "face.avi"
    vw = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (240, 280))
    for i in range(10):
        vw.write(np.roll(img, 2 * i, axis=1))
    vw.release()
    return out


@pytest.fixture()
def face_folder(tmp_path: Path, grace_bgr: np.ndarray, astronaut_bgr: np.ndarray) -> Path:
    d = tmp_path / "faces"
    d.mkdir()
    for i, img in enumerate((grace_bgr, astronaut_bgr, grace_bgr)):
        cv2.imwrite(str(d / f"{i:02d}.png"), cv2.resize(img, (240, 280)))
    return d


def test_video_source_loop_times_and_indices_keep_increasing(face_video: Path) -> None:
    with VideoSource(face_video, realtime=False, loop=True) as src:
        assert src.frame_count is None  # endless
        frames = []
        for f in src:
            frames.append((f.t, f.index))
            if len(frames) == 25:
                break
    ts = [t for t, _ in frames]
    assert [i for _, i in frames] == list(range(25))
    assert np.allclose(np.diff(ts), 1 / 25, atol=1e-3), np.diff(ts)  # incl. across the seams
    assert ts[10] == pytest.approx(10 / 25, abs=1e-3)  # pass 2 starts one interval after pass 1
    with VideoSource(face_video, realtime=False) as src:
        assert src.frame_count == 10 and len(list(src)) == 10  # no --loop: ends


def test_image_folder_loop(face_folder: Path) -> None:
    src = ImageFolderSource(face_folder, fps=30.0, loop=True)
    assert src.frame_count is None
    it = iter(src)
    got = [next(it) for _ in range(8)]
    assert [f.index for f in got] == list(range(8))
    assert [f.t for f in got] == pytest.approx([i / 30 for i in range(8)])
    assert np.array_equal(got[3].image, got[0].image) and not np.array_equal(
        got[1].image, got[0].image
    )
    assert len(list(ImageFolderSource(face_folder))) == 3


def test_loop_refuses_a_camera() -> None:
    from vtuber.errors import SourceError

    with pytest.raises(SourceError, match="not a camera"):
        open_source("0", loop=True)


@pytest.mark.parametrize("kind", ["video", "folder"])
def test_track_loop_keeps_vmc_time_increasing_over_udp(
    kind: str, face_video: Path, face_folder: Path
) -> None:
    src, n = (face_video, 24) if kind == "video" else (face_folder, 8)
    rx = Receiver()
    r = run_cli("track", "--source", str(src), "--loop", "--fast", "--max-frames", str(n),
                "--quiet", "--no-smoothing", "--vmc", f"127.0.0.1:{rx.port}")  # fmt: skip
    assert r.returncode == 0, r.stderr
    ts = vmc_times(rx.stop(0.2))
    assert len(ts) == n  # more frames than the file holds: it looped
    assert all(b > a for a, b in zip(ts, ts[1:], strict=False)), ts
    step = 1 / 25 if kind == "video" else 1 / 30
    assert np.allclose(np.diff(ts), step, atol=2e-3), np.diff(ts)


def test_loop_without_a_file_is_one_error_line() -> None:
    r = run_cli("track", "--loop", "--no-vmc", "--quiet", timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (
        "vtuber: error: --loop repeats a video file or image folder: give one with --source"
    )


def _leg_landmarks():  # type: ignore[no-untyped-def]
    """A standing person facing the camera, right knee raised forward (tests/test_body.py)."""
    from tests.test_body import P, pose, seen
    from vtuber.landmarks import Landmarks, PoseLandmarks

    pts = pose()
    pts[P.LEFT_KNEE], pts[P.RIGHT_KNEE] = (-0.1, -0.45, 0.0), (0.1, -0.45, 0.2)
    pts[P.LEFT_ANKLE], pts[P.RIGHT_ANKLE] = (-0.1, -0.9, 0.0), (0.1, -0.7, -0.2)
    vis = seen().astype(np.float32)
    return Landmarks(
        t=0.0, width=640, height=480, pose=PoseLandmarks(True, vis, (-pts).astype(np.float32))
    )


def test_legs_flag_reaches_the_tracker() -> None:
    from vtuber.cli import build_parser
    from vtuber.commands.track import make_tracker
    from vtuber.rig import Bone

    lm = _leg_landmarks()
    parser = build_parser()
    with_legs = make_tracker(parser.parse_args(["track", "--mode", "full", "--legs"]))
    fr = with_legs.solve(lm)
    assert {Bone.LeftUpperLeg, Bone.LeftLowerLeg, Bone.RightUpperLeg, Bone.RightLowerLeg} <= set(
        fr.bones
    )
    without = make_tracker(parser.parse_args(["track", "--mode", "full"])).solve(lm)
    assert Bone.RightUpperLeg not in without.bones and Bone.Hips in without.bones


def test_legs_in_face_mode_is_one_error_line(face_folder: Path) -> None:
    r = run_cli("track", "--source", str(face_folder), "--legs", "--no-vmc", "--quiet")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "vtuber: error: --legs needs --mode full (legs come from the body model)"
    )


def test_legs_out_of_view_are_not_invented_on_the_real_clip(clip_path: Path, tmp_path: Path):
    """The shared clip shows the upper body only: with --legs the torso is driven and no leg is,
    since the pose model's guesses for unseen hips and legs are gated out."""
    from vtuber.recording import read_recording
    from vtuber.rig import Bone

    rec = tmp_path / "legs.vtrec"
    r = run_cli("track", "--source", str(clip_path), "--fast", "--mode", "full", "--legs",
                "--max-frames", "30", "--no-vmc", "--quiet", "--record", str(rec))  # fmt: skip
    assert r.returncode == 0, r.stderr
    frames = read_recording(rec).frames
    assert len(frames) == 30 and all(f.tracking.body for f in frames)
    legs = {Bone.LeftUpperLeg, Bone.RightUpperLeg, Bone.LeftLowerLeg, Bone.RightLowerLeg}
    assert not any(legs & set(f.bones) for f in frames)
    assert all(Bone.Spine in f.bones and Bone.Chest in f.bones for f in frames)  # torso driven
