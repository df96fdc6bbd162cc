"""Body solver on synthetic poses with known angles (tier a), visibility rules and the mirror."""

from __future__ import annotations

import numpy as np
import pytest

from vtuber import quat
from vtuber.rig import Bone
from vtuber.solvers.body import BodyConfig, PoseIndex, forward_kinematics, solve_body

P = PoseIndex


def pose(arms: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """(33, 3) avatar-space points of an upright person facing the camera; ``arms`` gives per
    side (upper arm direction, forearm direction)."""
    pts = np.zeros((33, 3))
    pts[P.NOSE] = (0.0, 0.65, 0.08)
    pts[P.LEFT_SHOULDER] = (-0.18, 0.5, 0.0)
    pts[P.RIGHT_SHOULDER] = (0.18, 0.5, 0.0)
    pts[P.LEFT_HIP] = (-0.1, 0.0, 0.0)
    pts[P.RIGHT_HIP] = (0.1, 0.0, 0.0)
    down = np.array([0.0, -1.0, 0.0])
    arms = arms or {}
    for side, (s, e, w) in (("left", (11, 13, 15)), ("right", (12, 14, 16))):
        u, f = arms.get(side, (down, down))
        pts[e] = pts[s] + 0.28 * np.asarray(u) / np.linalg.norm(u)
        pts[w] = pts[e] + 0.25 * np.asarray(f) / np.linalg.norm(f)
    return pts


def seen(n: int = 33) -> np.ndarray:
    pts = np.full((n, 4), 0.5)
    pts[:, 3] = 1.0
    return pts


def deg(a, b) -> float:  # noqa: ANN001
    return float(np.degrees(quat.angle_between(np.asarray(a), np.asarray(b))))


def y_rot(d: float) -> np.ndarray:
    return quat.from_axis_angle((0.0, 1.0, 0.0), np.radians(d))


def test_arm_raised_forward_90() -> None:
    fwd = np.array([0.0, 0.0, 1.0])
    sol = solve_body(-pose({"right": (fwd, fwd)}), seen(), {})
    assert sol.arms == {"left": True, "right": True}
    assert deg(sol.bones[Bone.Spine], quat.IDENTITY) < 1.0
    # +X turned to +Z: -90 deg about Y (Unity: positive yaw turns +Z toward +X).
    assert deg(sol.bones[Bone.RightUpperArm], y_rot(-90.0)) < 10.0
    assert deg(sol.bones[Bone.RightLowerArm], quat.IDENTITY) < 10.0
    # The hanging left arm: 90 deg down about +Z.
    left = quat.from_axis_angle((0.0, 0.0, 1.0), np.radians(90.0))
    assert deg(sol.bones[Bone.LeftUpperArm], left) < 10.0
    w = forward_kinematics(sol.bones)
    assert np.allclose(quat.rotate(w[Bone.RightUpperArm], [1, 0, 0]), fwd, atol=0.05)


@pytest.mark.parametrize("side", ["right", "left"])
def test_elbow_bent_45(side: str) -> None:
    s = 1.0 if side == "right" else -1.0
    u = np.array([s, 0.0, 0.0])
    f = np.array([s * np.cos(np.radians(45)), 0.0, np.sin(np.radians(45))])
    sol = solve_body(-pose({side: (u, f)}), seen(), {})
    n = "Right" if side == "right" else "Left"
    assert deg(sol.bones[Bone[n + "UpperArm"]], quat.IDENTITY) < 10.0
    assert deg(sol.bones[Bone[n + "LowerArm"]], y_rot(-45.0 * s)) < 10.0


def test_raised_arm_lifts_the_shoulder_and_leans() -> None:
    up = np.array([0.3, 1.0, 0.0])
    pts = pose({"right": (up, up)})
    sol = solve_body(-pts, seen(), {})
    sh = sol.bones[Bone.RightShoulder]
    assert 5.0 < np.degrees(quat.angle_between(sh, quat.IDENTITY)) <= 25.0
    w = forward_kinematics(sol.bones)
    arm = quat.rotate(w[Bone.RightUpperArm], [1, 0, 0])
    assert np.degrees(np.arccos(arm @ (up / np.linalg.norm(up)))) < 10.0
    # Lean: the shoulders tilted 20 deg (right shoulder down) roll the spine about +Z by -20 deg.
    pts = pose()
    c = np.radians(20.0)
    for i, x in ((P.LEFT_SHOULDER, -0.18), (P.RIGHT_SHOULDER, 0.18)):
        pts[i] = (x * np.cos(c), 0.5 - x * np.sin(c), 0.0)
    sol = solve_body(-pts, seen(), {})
    spine = quat.multiply(sol.bones[Bone.Spine], sol.bones[Bone.Chest])
    roll = quat.from_axis_angle((0.0, 0.0, 1.0), -c)
    assert deg(spine, roll) < 10.0
    assert deg(quat.from_matrix(sol.chest), spine) < 1.0


def test_arms_out_of_view_are_not_driven() -> None:
    vis = seen()
    vis[[P.LEFT_ELBOW, P.LEFT_WRIST], 1] = 1.3  # below the image
    vis[[P.RIGHT_ELBOW, P.RIGHT_WRIST], 3] = 0.2  # low visibility
    sol = solve_body(-pose(), vis, {})
    assert sol.torso and sol.arms == {"left": False, "right": False}
    assert Bone.LeftUpperArm not in sol.bones and Bone.RightLowerArm not in sol.bones
    vis[[P.LEFT_SHOULDER, P.RIGHT_SHOULDER], 3] = 0.1
    sol = solve_body(-pose(), vis, {})
    assert not sol.torso and not sol.bones


def test_legs_only_when_asked() -> None:
    pts = pose()
    pts[P.LEFT_KNEE], pts[P.RIGHT_KNEE] = (-0.1, -0.45, 0.0), (0.1, -0.45, 0.2)
    pts[P.LEFT_ANKLE], pts[P.RIGHT_ANKLE] = (-0.1, -0.9, 0.0), (0.1, -0.7, -0.2)
    assert Bone.LeftUpperLeg not in solve_body(-pts, seen(), {}).bones
    sol = solve_body(-pts, seen(), {}, BodyConfig(legs=True))
    assert deg(sol.bones[Bone.LeftUpperLeg], quat.IDENTITY) < 5.0
    w = forward_kinematics(sol.bones)
    thigh = quat.rotate(w[Bone.RightUpperLeg], [0, -1, 0])
    assert thigh[2] > 0.35  # thigh forward
    assert np.degrees(quat.angle_between(sol.bones[Bone.RightLowerLeg], quat.IDENTITY)) > 45.0


def test_mirrored_pose_gives_mirrored_rotations() -> None:
    rng = np.random.default_rng(3)
    arms = {s: (rng.normal(size=3), rng.normal(size=3)) for s in ("left", "right")}
    pts = pose(arms)
    mirrored = pts * np.array([-1.0, 1.0, 1.0])
    swap = np.arange(33)
    for a, b in ((11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (23, 24), (25, 26), (27, 28)):
        swap[a], swap[b] = b, a
    mirrored = mirrored[swap]
    a = solve_body(-pts, seen(), {})
    b = solve_body(-mirrored, seen(), {})
    for bone, q in a.bones.items():
        assert deg(b.bones[bone.mirrored], quat.mirror_x(q)) < 1e-3, bone


def _arm_with_hand(hand_rot: np.ndarray) -> dict:  # noqa: ANN401
    from tests.test_hands import FLAT, make_hand

    x = np.array([1.0, 0.0, 0.0])
    hand = make_hand(FLAT) @ hand_rot.T
    return solve_body(-pose({"right": (x, x)}), seen(), {"right": -hand}).bones


def test_forearm_twist_comes_from_the_palm() -> None:
    # Palm turned to face forward (back of the hand backward): a -90 deg turn about the arm (+X).
    turn = quat.from_axis_angle((1.0, 0.0, 0.0), np.radians(-90.0))
    bones = _arm_with_hand(quat.to_matrix(turn))
    assert deg(bones[Bone.RightLowerArm], turn) < 10.0
    assert deg(bones[Bone.RightHand], quat.IDENTITY) < 10.0
    assert deg(bones[Bone.RightUpperArm], quat.IDENTITY) < 10.0


def test_wrist_bends_in_three_dof() -> None:
    up = quat.from_axis_angle((0.0, 0.0, 1.0), np.radians(45.0))  # extension: fingers up
    bones = _arm_with_hand(quat.to_matrix(up))
    assert deg(bones[Bone.RightHand], up) < 10.0
    assert deg(bones[Bone.RightLowerArm], quat.IDENTITY) < 10.0
    side = quat.from_axis_angle((0.0, 1.0, 0.0), np.radians(-30.0))  # deviation toward +Z
    both = quat.multiply(side, up)
    bones = _arm_with_hand(quat.to_matrix(both))
    # The wrist cannot twist: any twist about the forearm goes to LowerArm, the rest to Hand.
    total = quat.multiply(bones[Bone.RightLowerArm], bones[Bone.RightHand])
    assert deg(total, both) < 5.0
    _, twist = quat.swing_twist(np.asarray(bones[Bone.RightHand]), np.array([1.0, 0.0, 0.0]))
    assert deg(twist, quat.IDENTITY) < 1.0


def test_tracker_full_mode_flags_and_omitted_parts() -> None:
    from tests.test_hands import FIST, make_hand
    from vtuber.config import TrackConfig
    from vtuber.landmarks import HandLandmarks, Landmarks, PoseLandmarks
    from vtuber.rig import mirror_frame
    from vtuber.tracker import Tracker

    vis = seen().astype(np.float32)
    vis[[P.RIGHT_ELBOW, P.RIGHT_WRIST], 1] = 1.4  # right arm below the image, no right hand
    left = make_hand(FIST) * np.array([-1.0, 1.0, 1.0])
    lm = Landmarks(
        t=0.0,
        width=640,
        height=480,
        pose=PoseLandmarks(True, vis, (-pose()).astype(np.float32)),
        left_hand=HandLandmarks(True, np.zeros((21, 3), np.float32), (-left).astype(np.float32)),
    )
    fr = Tracker(TrackConfig(mode="full")).solve(lm)
    assert fr.tracking.body and fr.tracking.left_hand and not fr.tracking.right_hand
    assert Bone.LeftHand in fr.bones and Bone.LeftLittleDistal in fr.bones
    assert Bone.RightUpperArm not in fr.bones and Bone.RightIndexProximal not in fr.bones
    m = mirror_frame(fr)  # --mirror: the person's left hand drives the avatar's right hand
    assert m.tracking.right_hand and Bone.RightLittleDistal in m.bones
    face_mode = Tracker(TrackConfig(mode="face")).solve(lm)
    assert not face_mode.bones and not face_mode.tracking.body


# -- the torso in a close-up (hips out of view) ------------------------------------------------


def _turned(yaw_deg: float, roll_deg: float = 0.0) -> np.ndarray:
    """pose() with the shoulders turned by ``yaw_deg`` about the spine (+Y) and tilted by
    ``roll_deg`` (right shoulder up), avatar space."""
    pts = pose()
    r = quat.to_matrix(
        quat.multiply(y_rot(yaw_deg), quat.from_axis_angle((0.0, 0.0, 1.0), np.radians(roll_deg)))
    )
    centre = 0.5 * (pts[P.LEFT_SHOULDER] + pts[P.RIGHT_SHOULDER])
    for i in (P.LEFT_SHOULDER, P.RIGHT_SHOULDER):
        pts[i] = centre + r @ (pts[i] - centre)
    return pts


def _closeup(roll_deg: float, w: int = 640, h: int = 360) -> np.ndarray:
    """Normalized image points of a close-up: hips below the image, the shoulder line tilted by
    ``roll_deg`` in the image (the person's right shoulder, on the image's left, up), in pixels
    of a ``w`` x ``h`` image."""
    pts = seen()
    pts[[P.LEFT_HIP, P.RIGHT_HIP], 1] = 1.4
    half, r = 120.0, np.radians(roll_deg)
    cx, cy = 320.0, 300.0
    pts[P.RIGHT_SHOULDER, :2] = ((cx - half * np.cos(r)) / w, (cy - half * np.sin(r)) / h)
    pts[P.LEFT_SHOULDER, :2] = ((cx + half * np.cos(r)) / w, (cy + half * np.sin(r)) / h)
    return pts


def _chest_yaw_roll(sol) -> tuple[float, float]:  # noqa: ANN001
    x = sol.chest[:, 0]  # the shoulder line (left -> right shoulder) in avatar axes
    return float(np.degrees(np.arctan2(-x[2], x[0]))), float(
        np.degrees(np.arctan2(x[1], np.hypot(x[0], x[2])))
    )


def test_a_shoulder_turn_with_the_hips_in_view_is_shown_in_full() -> None:
    sol = solve_body(-_turned(30.0, 10.0), seen(), {}, aspect=16 / 9)
    yaw, roll = _chest_yaw_roll(sol)
    assert abs(yaw - 30.0) < 0.5 and abs(roll - 10.0) < 0.5
    assert Bone.Hips in sol.bones


@pytest.mark.parametrize(
    ("pose_yaw", "shown"), [(0.0, 0.0), (12.0, 0.0), (-19.0, 0.0), (45.0, 25.0), (-60.0, -40.0)]
)
def test_in_a_closeup_the_torso_twist_from_pose_depth_is_deadbanded(
    pose_yaw: float, shown: float
) -> None:
    """Hips out of view: Pose's shoulder depth (a twist) counts only beyond 20 degrees, and the
    lean comes from the shoulder line in the image, whatever Pose's 3D line says."""
    sol = solve_body(-_turned(pose_yaw, -15.0), _closeup(8.0), {}, aspect=640 / 360)
    yaw, roll = _chest_yaw_roll(sol)
    assert abs(yaw - shown) < 0.5, yaw
    assert abs(roll - 8.0) < 0.5, roll  # from the image, not the 3D line's -15
    assert Bone.Hips not in sol.bones
    off = solve_body(-_turned(pose_yaw), _closeup(8.0), {}, BodyConfig(closeup_yaw_deadband_deg=0))
    assert abs(_chest_yaw_roll(off)[0] - pose_yaw) < 0.5  # no aspect: the 3D line's lean (0)
    assert abs(_chest_yaw_roll(off)[1]) < 0.5


def test_in_a_closeup_the_lean_uses_the_image_aspect() -> None:
    # 8 deg in a 640 x 360 image's pixels is a different slope in normalized units: the aspect
    # must turn it back into pixels (without it, 4.5 deg).
    sol = solve_body(-_turned(0.0), _closeup(8.0), {}, aspect=640 / 360)
    assert abs(_chest_yaw_roll(sol)[1] - 8.0) < 0.1
    squeezed = solve_body(-_turned(0.0), _closeup(8.0), {}, aspect=1.0)
    assert abs(_chest_yaw_roll(squeezed)[1] - 8.0) > 3.0


def test_closeup_torso_is_mirror_invariant() -> None:
    pts, img = _turned(35.0, 5.0), _closeup(6.0)
    swap = np.arange(33)
    for a, b in ((11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (23, 24), (25, 26), (27, 28)):
        swap[a], swap[b] = b, a
    m_pts = (pts * np.array([-1.0, 1.0, 1.0]))[swap]
    m_img = img[swap].copy()
    m_img[:, 0] = 1.0 - m_img[:, 0]
    sa = solve_body(-pts, img, {}, aspect=16 / 9)
    sb = solve_body(-m_pts, m_img, {}, aspect=16 / 9)
    assert sa.bones.keys() == sb.bones.keys()
    for bone, q in sa.bones.items():
        assert deg(sb.bones[bone.mirrored], quat.mirror_x(q)) < 1e-6, bone


def test_solve_landmarks_passes_the_image_aspect() -> None:
    from vtuber.landmarks import Landmarks, PoseLandmarks
    from vtuber.solvers.body import solve_landmarks

    img = _closeup(8.0).astype(np.float32)
    lm = Landmarks(
        t=0.0, width=640, height=360,
        pose=PoseLandmarks(True, img, (-_turned(10.0, -15.0)).astype(np.float32)),
    )  # fmt: skip
    yaw, roll = _chest_yaw_roll(solve_landmarks(lm))
    assert abs(roll - 8.0) < 0.1 and abs(yaw) < 1e-6
