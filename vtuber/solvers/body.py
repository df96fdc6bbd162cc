"""Body solver: MediaPipe pose world landmarks (+ hands) -> hips, spine, arms (and legs).

Frames and conventions (docs/body.md): input is MediaPipe pose *world* landmarks, (33, 3) metres
centred between the hips, MediaPipe axes (x image-right, y down, z away from the camera), mapped
to the avatar's Unity axes by :func:`vtuber.solvers.geometry.to_avatar`. Output: LOCAL rotations
(x, y, z, w) of a normalized humanoid (identity = T-pose), anatomical sides (the person's right
arm drives ``RightUpperArm``); the pipeline mirrors later.

Each bone's WORLD rotation is built from the landmarks as a frame (bone axis + a second
direction: the elbow's bend plane, the palm, the shoulder line), then made local by the parent's
world rotation. Parts that are not reliably seen are left out of the result, so the frame shows
(or the smoothing stage eases to) :data:`vtuber.rig.REST_POSE` instead of guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.landmarks import Landmarks
from vtuber.quat import (
    Mat3,
    from_axis_angle_tuple,
    from_matrix_tuple,
    from_two_vectors_tuple,
    multiply_tuple,
    normalize_tuple,
    power_tuple,
    swing_twist_tuple,
    to_matrix_tuple,
    to_rotvec_tuple,
)
from vtuber.rig import Bone, Quat
from vtuber.solvers.eyes import dead_zone
from vtuber.solvers.geometry import (
    UP,
    basis,
    cross3,
    dot3,
    mat_mul3,
    mat_t_vec3,
    mat_vec3,
    side_sign,
    sub3,
    to_avatar,
    unit3,
)
from vtuber.solvers.hands import LIMITS, FingerLimits, palm_matrix, solve_hand

F64 = NDArray[np.float64]
I3: F64 = np.eye(3)


class PoseIndex(IntEnum):
    """MediaPipe pose landmark indices (LEFT/RIGHT = the person's own sides)."""

    NOSE = 0
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28


def arm_indices(side: str) -> tuple[int, int, int]:
    """(shoulder, elbow, wrist) pose indices of the person's ``side`` arm."""
    if side == "right":
        return PoseIndex.RIGHT_SHOULDER, PoseIndex.RIGHT_ELBOW, PoseIndex.RIGHT_WRIST
    return PoseIndex.LEFT_SHOULDER, PoseIndex.LEFT_ELBOW, PoseIndex.LEFT_WRIST


# BodyConfig.closeup_yaw_deadband_deg's default (docs/body.md, "Torso in a close-up").
CLOSEUP_YAW_DEADBAND_DEG = 20.0


@dataclass(frozen=True, slots=True)
class BodyConfig:
    """Body solver settings.

    legs: solve legs when hips, knees and ankles are visible (off by default: seated streamers).
    min_visibility: MediaPipe visibility below which a landmark counts as not seen.
    shoulder_share: part of the arm's elevation above the shoulder line given to the Shoulder
        (clavicle) bone, as the shoulder blade does (scapulohumeral rhythm, about 1/3).
    elbow_max_deg: elbow flexion limit; forearm_twist_max_deg: pronation/supination limit.
    closeup_yaw_deadband_deg: with the hips out of view (a close-up), the torso's yaw from Pose's
        shoulder depth is shrunk toward zero by this much (a soft deadband: a turn of 45 degrees
        shows as 25); Pose's shoulder depth is not reliable there (docs/body.md, "Torso").
    """

    legs: bool = False
    min_visibility: float = 0.5
    closeup_yaw_deadband_deg: float = CLOSEUP_YAW_DEADBAND_DEG
    shoulder_share: float = 0.33
    shoulder_max_deg: float = 25.0
    elbow_max_deg: float = 150.0
    forearm_twist_max_deg: float = 120.0
    fingers: FingerLimits = LIMITS


@dataclass(slots=True)
class BodySolution:
    """The body's local rotations plus what the tracker needs to attach the head.

    bones: Bone -> (x, y, z, w) local rotation; only bones that were measured.
    chest: world rotation (3x3, avatar axes) of the UpperChest, the Neck's parent (identity when
        the torso was not tracked).
    torso: the torso (spine and hips) was measured.
    arms: per person's side, whether that arm was driven.
    hands: per person's side, whether that hand's fingers were driven.
    """

    bones: dict[Bone, Quat] = field(default_factory=dict)
    chest: F64 = field(default_factory=lambda: I3.copy())
    torso: bool = False
    arms: dict[str, bool] = field(default_factory=lambda: {"left": False, "right": False})
    hands: dict[str, bool] = field(default_factory=lambda: {"left": False, "right": False})


def torso_matrix(
    p: F64,
    hips_seen: bool,
    image_line: tuple[float, float] | None = None,
    yaw_deadband_deg: float = CLOSEUP_YAW_DEADBAND_DEG,
) -> F64:
    """UpperChest world rotation from avatar-space pose points: x along the shoulder line (left ->
    right shoulder), y up the spine, z = x cross y (forward).

    With the hips seen: the shoulder line in 3D and y from the hip centre to the shoulder centre
    (lean, twist and bend all measured). With the hips out of view (a close-up, the usual stream)
    y is the camera's up and the shoulder line is taken apart, because Pose's shoulder *depth* is
    then unreliable (on the shared clip, a woman facing the camera with one arm stretched toward
    it, it reads up to 16 degrees of twist, and it moves by 3.4 degrees between two runs whose
    pixels differ by one grey level):
    its lean (roll) comes from ``image_line``, the shoulder line in the image (left -> right
    shoulder, pixels: x right, y down), when given and not degenerate, else from the 3D line
    without its depth; its twist (yaw) from Pose's depth is shrunk by ``yaw_deadband_deg`` toward
    zero (:func:`vtuber.solvers.eyes.dead_zone`, a soft threshold), so only a deliberate turn of
    the shoulders shows."""
    ls, rs = p[PoseIndex.LEFT_SHOULDER], p[PoseIndex.RIGHT_SHOULDER]
    if hips_seen:
        up = 0.5 * (ls + rs) - 0.5 * (p[PoseIndex.LEFT_HIP] + p[PoseIndex.RIGHT_HIP])
        return basis(rs - ls, up)
    wx, wy, wz = (rs - ls).tolist()
    # Avatar axes: the image's x right is the avatar's -X (the person's right is on the image's
    # left), the image's y down is -Y.
    lx, ly = (-image_line[0], -image_line[1]) if image_line is not None else (0.0, 0.0)
    if math.hypot(lx, ly) < 1e-6:
        lx, ly = math.hypot(wx, wz), wy
    roll = math.atan2(ly, lx)
    yaw = math.radians(dead_zone(math.degrees(math.atan2(-wz, wx)), yaw_deadband_deg))
    c = math.cos(roll)
    return basis(np.array([c * math.cos(yaw), math.sin(roll), -c * math.sin(yaw)]), UP)


def hips_matrix(p: F64) -> F64:
    """Hips world rotation: x along the hip line (left -> right hip), y the camera's up."""
    return basis(p[PoseIndex.RIGHT_HIP] - p[PoseIndex.LEFT_HIP], UP)


def _matrix(q: Quat) -> Mat3:
    """``quat.to_matrix`` (normalizing first) as rows of plain floats."""
    return to_matrix_tuple(normalize_tuple(q))


def solve_arm(
    shoulder: F64,
    elbow: F64,
    wrist: F64,
    side: str,
    chest: F64,
    palm: F64 | None = None,
    config: BodyConfig = BodyConfig(),
) -> tuple[dict[Bone, Quat], F64]:
    """Shoulder, UpperArm and LowerArm local rotations of one arm (avatar-space points, metres).

    The upper arm's twist comes from the elbow's bend plane (the elbow flexes about the arm's
    local up axis in T-pose); when the arm is nearly straight that plane is undefined and the
    swing-only rotation is used, blended in between 10 and 30 degrees of bend. The forearm's twist
    (pronation/supination) comes from the palm when ``palm`` (the hand's world rotation) is given.

    Returns (bones, lower arm world rotation 3x3)."""
    # Plain floats throughout: numpy's per-call overhead dominates on 3-vectors and single
    # quaternions (hot path); the same formulas as the quat module's.
    s = side_sign(side)
    n = "Right" if side == "right" else "Left"
    rest = (s, 0.0, 0.0)
    u = unit3(*sub3(elbow.tolist(), shoulder.tolist()))
    f = unit3(*sub3(wrist.tolist(), elbow.tolist()))
    # Shoulder (clavicle): a share of the elevation above the shoulder line, about chest forward.
    C = chest.tolist()
    u_chest = mat_t_vec3(C, u)
    elev = math.degrees(math.asin(min(max(u_chest[1], -1.0), 1.0)))
    sh_deg = min(max(config.shoulder_share * elev, 0.0), config.shoulder_max_deg)
    q_sh = from_axis_angle_tuple((0.0, 0.0, s), math.radians(sh_deg))
    sh_world = mat_mul3(C, _matrix(q_sh))
    # Upper arm: swing from rest, then twist so the bend plane matches.
    u_loc = mat_t_vec3(sh_world, u)
    swing = from_two_vectors_tuple(rest, u_loc)
    bend = math.degrees(math.acos(min(max(dot3(u, f), -1.0), 1.0)))
    q_up = swing
    if bend > 10.0:
        n_meas = mat_t_vec3(sh_world, unit3(*cross3(u, f)))
        n_rest = mat_vec3(_matrix(swing), (0.0, -s, 0.0))
        ang = math.atan2(dot3(cross3(n_rest, n_meas), u_loc), dot3(n_rest, n_meas))
        w = min(max((bend - 10.0) / 20.0, 0.0), 1.0)
        q_up = multiply_tuple(from_axis_angle_tuple(u_loc, w * ang), swing)
    up_world = mat_mul3(sh_world, _matrix(q_up))
    # Lower arm: flexion about the (now aligned) hinge, limited, then the forearm twist.
    f_loc = mat_t_vec3(up_world, f)
    if bend <= 10.0:
        q_lo = from_two_vectors_tuple(rest, f_loc)
    else:
        flex = math.atan2(f_loc[2], f_loc[0] * s)
        flex = min(max(flex, 0.0), math.radians(config.elbow_max_deg))
        q_lo = from_axis_angle_tuple((0.0, -s, 0.0), flex)
    if palm is not None:
        # Forearm twist: the twist part (about the forearm axis) of the hand's rotation relative
        # to the untwisted forearm; the wrist itself cannot twist, its swing stays in the Hand.
        lo0 = np.array(mat_mul3(up_world, _matrix(q_lo)))
        _, twist = swing_twist_tuple(from_matrix_tuple((lo0.T @ palm).tolist()), rest)
        tw = to_rotvec_tuple(twist)[0] * s
        lim = math.radians(config.forearm_twist_max_deg)
        q_lo = multiply_tuple(q_lo, from_axis_angle_tuple(rest, min(max(tw, -lim), lim)))
    lo_world = np.array(mat_mul3(up_world, _matrix(q_lo)))
    bones = {
        Bone[n + "Shoulder"]: q_sh,
        Bone[n + "UpperArm"]: q_up,
        Bone[n + "LowerArm"]: q_lo,
    }
    return bones, lo_world


def solve_leg(hip: F64, knee: F64, ankle: F64, side: str, hips_world: F64) -> dict[Bone, Quat]:
    """UpperLeg and LowerLeg local rotations (T-pose: legs straight down, knee bends backward
    about the local x axis)."""
    n = "Right" if side == "right" else "Left"
    t = unit3(*sub3(knee.tolist(), hip.tolist()))
    c = unit3(*sub3(ankle.tolist(), knee.tolist()))
    hw = hips_world.tolist()
    q_up = from_two_vectors_tuple((0.0, -1.0, 0.0), mat_t_vec3(hw, t))
    c_loc = mat_t_vec3(mat_mul3(hw, _matrix(q_up)), c)
    # Knee flexion moves the shin backward (-z) about +x.
    ang = math.atan2(-c_loc[2], -c_loc[1])
    q_lo = from_axis_angle_tuple((1.0, 0.0, 0.0), min(max(ang, 0.0), math.radians(150)))
    return {Bone[n + "UpperLeg"]: q_up, Bone[n + "LowerLeg"]: q_lo}


def visible(
    points: F64 | NDArray[np.float32], idx: int, min_vis: float, margin: float = 0.0
) -> bool:
    """Landmark ``idx`` of normalized pose points (33, 4) is inside the image (with ``margin``,
    a fraction of the image) and its visibility is at least ``min_vis``."""
    x, y, _, v = points[idx].tolist()
    return v >= min_vis and -margin <= x <= 1.0 + margin and -margin <= y <= 1.0 + margin


def solve_body(
    world: NDArray[np.floating],
    points: NDArray[np.floating],
    hands: dict[str, NDArray[np.floating] | None],
    config: BodyConfig = BodyConfig(),
    aspect: float | None = None,
) -> BodySolution:
    """Upper body (and optional legs) from one frame's pose and hands.

    Args:
        world: (33, 3) MediaPipe pose world landmarks (metres, MediaPipe axes).
        points: (33, 4) normalized image landmarks + visibility (decides what is seen).
        hands: per PERSON's side ("left", "right"), that hand's (21, 3) world landmarks or None.
        config: settings.
        aspect: the image's width / height: the shoulder line in the image then gives the
            torso's lean when the hips are out of view (:func:`torso_matrix`); None: the 3D
            shoulder line without its depth does.

    An arm is driven when its shoulder is seen and either its hand was found by the hand model or
    its elbow and wrist are both seen inside the image (pose alone invents arms that are out of
    frame, e.g. resting on a desk). Hands are driven whenever found; their Hand (wrist) bone only
    when the arm is driven too.
    """
    sol = BodySolution()
    p = to_avatar(world)
    mv = config.min_visibility
    sh_seen = visible(points, PoseIndex.LEFT_SHOULDER, mv) and visible(
        points, PoseIndex.RIGHT_SHOULDER, mv
    )
    hips_seen = visible(points, PoseIndex.LEFT_HIP, mv) and visible(points, PoseIndex.RIGHT_HIP, mv)
    chest = I3
    if sh_seen:
        line = None
        if aspect is not None:
            ls, rs = points[PoseIndex.LEFT_SHOULDER], points[PoseIndex.RIGHT_SHOULDER]
            line = (float(rs[0] - ls[0]) * aspect, float(rs[1] - ls[1]))
        chest = torso_matrix(p, hips_seen, line, config.closeup_yaw_deadband_deg)
        hips = hips_matrix(p) if hips_seen else I3
        if hips_seen:
            sol.bones[Bone.Hips] = from_matrix_tuple(hips.tolist())
        half = power_tuple(from_matrix_tuple((hips.T @ chest).tolist()), 0.5)
        sol.bones[Bone.Spine] = half
        sol.bones[Bone.Chest] = half
        sol.bones[Bone.UpperChest] = quat.IDENTITY
        sol.torso = True
        sol.chest = chest
        if config.legs and hips_seen:
            for side in ("left", "right"):
                hi, kn, an = (
                    (PoseIndex.LEFT_HIP, PoseIndex.LEFT_KNEE, PoseIndex.LEFT_ANKLE)
                    if side == "left"
                    else (PoseIndex.RIGHT_HIP, PoseIndex.RIGHT_KNEE, PoseIndex.RIGHT_ANKLE)
                )
                if visible(points, kn, mv) and visible(points, an, mv):
                    sol.bones.update(solve_leg(p[hi], p[kn], p[an], side, hips))
    for side in ("left", "right"):
        hw = hands.get(side)
        palm = None if hw is None else palm_matrix(to_avatar(hw), side)
        si, ei, wi = arm_indices(side)
        arm = (
            sol.torso
            and visible(points, si, mv)
            and (hw is not None or (visible(points, ei, 0.8) and visible(points, wi, 0.8)))
        )
        lo_world = None
        if arm:
            bones, lo_world = solve_arm(p[si], p[ei], p[wi], side, chest, palm, config)
            sol.bones.update(bones)
            sol.arms[side] = True
        if hw is not None:
            sol.bones.update(solve_hand(hw, side, lo_world, config.fingers).bones)
            sol.hands[side] = True
    return sol


def forward_kinematics(bones: dict[Bone, Quat]) -> dict[Bone, F64]:
    """World rotations (x, y, z, w) of every bone from local ones (missing = identity; the rest
    pose is NOT filled in), for tests and tools."""
    from vtuber.rig import BONE_ORDER, PARENT

    out: dict[Bone, F64] = {}
    for b in BONE_ORDER:
        q = np.asarray(bones.get(b, quat.IDENTITY), dtype=np.float64)
        par = PARENT[b]
        out[b] = q if par is None else quat.multiply(out[par], q)
    return out


__all__ = [
    "BodyConfig",
    "BodySolution",
    "PoseIndex",
    "forward_kinematics",
    "solve_arm",
    "solve_body",
    "solve_landmarks",
    "solve_leg",
    "torso_matrix",
]


def solve_landmarks(lm: Landmarks, config: BodyConfig = BodyConfig()) -> BodySolution:
    """:func:`solve_body` on one frame's :class:`vtuber.landmarks.Landmarks` (the person's own
    hands). Without a pose, found hands still drive their fingers (not the Hand bone)."""
    hands = {
        "left": lm.left_hand.world if lm.left_hand.found else None,
        "right": lm.right_hand.world if lm.right_hand.found else None,
    }
    if lm.pose.found:
        aspect = lm.width / lm.height if lm.width > 0 and lm.height > 0 else None
        return solve_body(lm.pose.world, lm.pose.points, hands, config, aspect)
    sol = BodySolution()
    for side, hw in hands.items():
        if hw is not None:
            sol.bones.update(solve_hand(hw, side, None, config.fingers).bones)
            sol.hands[side] = True
    return sol
