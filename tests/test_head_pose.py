"""Head pose against rendered ground truth (vtuber.synth.face), through real MediaPipe FaceMesh.

Accuracy: the error of one render is the angle between the tracker's head rotation relative to
the unturned render (its calibrated neutral) and the render's true rotation. Signs: through the
real Pipeline, for both mirror settings.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vtuber import quat
from vtuber.config import TrackConfig
from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.pipeline import Pipeline
from vtuber.rig import AvatarFrame, Bone
from vtuber.solvers.head import HeadTracker, correct_rotation, solve_head_pose
from vtuber.sources import Frame
from vtuber.synth.face import PHOTOS, FaceRenderer, true_rotation
from vtuber.tracker import Tracker

W, H = 640, 480


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """The angle of the rotation taking matrix b to matrix a, degrees."""
    c = (np.trace(a @ b.T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def axis_sweeps() -> np.ndarray:
    """One axis at a time in 5-degree steps: yaw -45..45, pitch -30..30, roll -30..30."""
    out = []
    for axis, limit in ((0, 45.0), (1, 30.0), (2, 30.0)):
        for v in np.arange(-limit, limit + 0.1, 5.0):
            if v != 0.0:
                a = np.zeros(3)
                a[axis] = v
                out.append(a)
    return np.array(out)


def track_errors(
    renderer: FaceRenderer, angles: np.ndarray, pnp_only: list[float] | None = None
) -> np.ndarray:
    """Errors (degrees) of HeadTracker on a rendered video that moves to each pose in turn (two
    in-between frames), MediaPipe in tracking mode, neutral calibrated on the unturned render.
    ``pnp_only`` collects the errors of the same frames without the 3D estimate."""
    tracker = HeadTracker()
    errors = []
    with FaceMeshBackend(static_images=False) as fm:
        for _ in range(3):
            lm = fm.process(renderer.render(), 0.0)
        assert lm.face.found
        tracker.neutral = tracker.update(lm.face_pixels(), W, H).rotation
        prev = np.zeros(3)
        for a in angles:
            for k in (1 / 3, 2 / 3):
                fm.process(renderer.render(*(prev + (a - prev) * k)), 0.0)
            lm = fm.process(renderer.render(*a), 0.0)
            assert lm.face.found, f"no face at yaw/pitch/roll {a}"
            pose = tracker.update(lm.face_pixels(), W, H)
            est = quat.to_matrix(tracker.avatar_rotation(pose))
            errors.append(angle_deg(est, true_rotation(*a)))
            if pnp_only is not None:
                est = quat.to_matrix(tracker.avatar_rotation(replace(pose, rotation_3d=None)))
                pnp_only.append(angle_deg(est, true_rotation(*a)))
            prev = a
    return np.array(errors)


@pytest.fixture(scope="module")
def renderers() -> dict[str, FaceRenderer]:
    return {name: FaceRenderer.from_photo(name) for name in PHOTOS}


def test_accuracy_per_axis_sweeps(renderers: dict[str, FaceRenderer]) -> None:
    angles = axis_sweeps()
    axis = np.argmax(np.abs(angles), axis=1)
    errs = {name: track_errors(r, angles) for name, r in renderers.items()}
    all_errs = np.concatenate(list(errs.values()))
    report = {
        name: {ax: round(float(e[axis == i].mean()), 2) for i, ax in enumerate("ypr")}
        for name, e in errs.items()
    }
    assert all_errs.mean() <= 3.0, f"mean {all_errs.mean():.2f} deg; per photo/axis {report}"
    assert all_errs.max() <= 8.0, f"max {all_errs.max():.2f} deg; per photo/axis {report}"
    # Roll is what FaceMesh measures best (its crop is roll-aligned): a tighter bound.
    assert np.concatenate([e[axis == 2] for e in errs.values()]).mean() <= 2.0


def test_accuracy_combined_angles(renderers: dict[str, FaceRenderer]) -> None:
    """All three axes at once, seeded random within the same box (poses disjoint from the
    seeded set the correction constants were fitted on; docs/head_pose.md). The blend with the
    3D-landmark estimate is what brings this under 3 degrees: solvePnP alone is ~3.1."""
    rng = np.random.default_rng(7)
    angles = rng.uniform([-45.0, -30.0, -30.0], [45.0, 30.0, 30.0], size=(16, 3))
    pnp: list[float] = []
    errs = {name: track_errors(r, angles, pnp) for name, r in renderers.items()}
    all_errs = np.concatenate(list(errs.values()))
    report = {
        name: (round(float(e.mean()), 2), round(float(e.max()), 2)) for name, e in errs.items()
    }
    assert all_errs.mean() <= 3.0, f"mean {all_errs.mean():.2f} deg; per photo (mean, max) {report}"
    assert all_errs.max() <= 8.0, f"max {all_errs.max():.2f} deg; per photo (mean, max) {report}"
    assert all_errs.mean() < np.mean(pnp), f"fused {all_errs.mean():.2f} vs {np.mean(pnp):.2f}"


def test_gain_correction_beats_plain_solvepnp(renderers: dict[str, FaceRenderer]) -> None:
    """On yaw-only renders the corrected rotation is closer to the truth than plain solvePnP."""
    r = renderers["astronaut"]
    plain, corrected = [], []
    with FaceMeshBackend(static_images=True) as fm:
        r0 = solve_head_pose(fm.process(r.render(), 0.0).face_pixels(), W, H).rotation
        for yaw in (-40.0, -25.0, 25.0, 40.0):
            pts = fm.process(r.render(yaw), 0.0).face_pixels()
            rel = solve_head_pose(pts, W, H).rotation @ r0.T
            plain.append(angle_deg(rel, true_rotation(yaw)))
            corrected.append(angle_deg(correct_rotation(rel), true_rotation(yaw)))
    assert np.mean(corrected) < np.mean(plain)


# -- signs through the real pipeline --------------------------------------------------------


def pipeline_frames(renderer: FaceRenderer, poses: list[tuple[float, float, float]], mirror: bool):
    frames = [Frame(renderer.render(*p), i / 30.0, 0.0, i) for i, p in enumerate(poses)]
    out: list[AvatarFrame] = []
    with FaceMeshBackend(static_images=True) as fm:
        pipe = Pipeline(
            frames,
            fm,
            Tracker(TrackConfig()),
            [],
            mirror=mirror,
            on_frame=lambda av, lm, fr: out.append(av),
        )
        pipe.run()
    assert len(out) == len(poses) and all(f.tracking.face for f in out)
    return out


def head_rotation(frame: AvatarFrame) -> np.ndarray:
    """Neck * Head composed (the head relative to the chest), (x, y, z, w)."""
    return quat.multiply(frame.bones[Bone.Neck], frame.bones[Bone.Head])


@pytest.mark.parametrize("mirror", [False, True])
def test_head_turn_and_tilt_signs(renderers: dict[str, FaceRenderer], mirror: bool) -> None:
    """The person turns to their own left (yaw +25) and tilts toward their own left shoulder
    (roll +20). Mirror off: the avatar turns/tilts to ITS own left (its forward and up vectors
    move toward -X; a negative rotation about +Y for the turn); mirror on: the opposite."""
    frames = pipeline_frames(renderers["grace_hopper"], [(0, 0, 0), (25, 0, 0), (0, 0, 20)], mirror)
    q0, q_turn, q_tilt = (head_rotation(f) for f in frames)
    side = 1.0 if mirror else -1.0  # expected sign of the X movement
    fwd0 = quat.rotate(q0, [0.0, 0.0, 1.0])
    fwd = quat.rotate(q_turn, [0.0, 0.0, 1.0])
    assert side * (fwd[0] - fwd0[0]) > np.sin(np.radians(15.0))
    rel_turn = quat.to_rotvec(quat.multiply(q_turn, quat.conjugate(q0)))
    assert side * rel_turn[1] > np.radians(15.0)  # about +Y: negative = to the avatar's left
    up0 = quat.rotate(q0, [0.0, 1.0, 0.0])
    up = quat.rotate(q_tilt, [0.0, 1.0, 0.0])
    assert side * (up[0] - up0[0]) > np.sin(np.radians(12.0))


def test_the_first_reading_is_the_neutral_head(renderers: dict[str, FaceRenderer]) -> None:
    """Without a profile, a user who sits down turned from the camera (a camera beside and above
    the screen: yaw 20, pitch -12) gets an avatar that faces forward, and their turns read
    relative to that (vtuber.solvers.adaptation.StartingHead); a new person after the face was
    gone is measured from their own first reading; a profile's neutral is taken as given."""
    r = renderers["grace_hopper"]
    poses = [(20.0, -12.0, 0.0)] * 3 + [(45.0, -12.0, 0.0)] * 3
    tracker = Tracker(TrackConfig())
    heads = []
    with FaceMeshBackend(static_images=False) as fm:
        for i, p in enumerate(poses):
            frame = tracker.solve(fm.process(r.render(*p), i / 30.0), index=i)
            heads.append(head_rotation(frame))
        start = np.degrees(quat.angle_between(heads[0], [0.0, 0.0, 0.0, 1.0]))
        assert start < 0.5, start  # the avatar faces forward from the first frame
        # The 25-degree turn reads as a turn of about 25 degrees toward the avatar's left (about
        # -Y). (At 45 degrees of yaw with the head pitched, FaceMesh adds some pitch, with or
        # without this neutral: the accuracy tests above measure that.)
        turn = np.degrees(quat.to_rotvec(quat.multiply(heads[-1], quat.conjugate(heads[2]))))
        assert -31.0 < turn[1] < -19.0, turn
        # Gone longer than forget_after_s, then someone sits down facing the camera squarely.
        t = len(poses) / 30.0 + 2.0 * tracker.forget_after_s
        blank = np.zeros((H, W, 3), np.uint8)
        assert not tracker.solve(fm.process(blank, t - 0.5), index=10).tracking.face
        back = tracker.solve(fm.process(r.render(), t), index=11)
        again = np.degrees(quat.angle_between(head_rotation(back), [0.0, 0.0, 0.0, 1.0]))
        assert again < 0.5, again
    assert tracker.starting is not None and tracker.starting.done
    # With a profile its neutral rules and nothing is learned from the first reading.
    from vtuber.solvers.calibration import FaceProfile

    assert Tracker(TrackConfig(), FaceProfile()).starting is None


@pytest.mark.parametrize("photo", PHOTOS)
def test_a_newly_found_face_settles_before_it_is_sent(photo: str) -> None:
    """The frame where FaceMesh first finds a face is read from its face detector's box, the next
    ones from the previous frame's landmarks; FaceMeshBackend runs that first frame again from its
    own landmarks (``settle``, the mean of the last two of four reruns) so it reads like the
    frames after it. On a still face: the first frame's points lie nearer the later frames' with
    settling than without."""
    img = FaceRenderer.from_photo(photo).render(yaw=10.0, pitch=-5.0)
    gaps = {}
    for settle in (0, 4):
        with FaceMeshBackend(settle=settle) as fm:
            pts = [fm.process(img, i / 30.0).face.points[:468, :2] * (W, H) for i in range(5)]
        gaps[settle] = float(np.mean([np.linalg.norm(pts[0] - p, axis=1).mean() for p in pts[1:]]))
    assert gaps[0] > 0.6, gaps  # without it the first frame stands apart (pixels)
    assert gaps[4] < 0.7 * gaps[0], gaps
