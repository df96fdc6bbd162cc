import numpy as np

from vtuber import quat
from vtuber.rig import (
    ARKIT_NAMES,
    BONE_ORDER,
    PARENT,
    REST_POSE,
    TPOSE_OFFSETS,
    AvatarFrame,
    Bone,
    Tracking,
    mirror_blendshape_key,
    mirror_frame,
)


def test_bone_enum_is_unity_humanbodybones():
    assert len(Bone) == 55
    assert Bone.Hips == 0 and Bone.Head == 10 and Bone.Jaw == 23 and Bone.UpperChest == 54
    assert Bone.LeftThumbProximal == 24 and Bone.RightLittleDistal == 53
    assert Bone.LeftUpperArm.vrm_name == "leftUpperArm"
    # VRM 1.0 renamed the thumb: Unity's proximal is its metacarpal.
    assert Bone.LeftThumbProximal.vrm_name == "leftThumbMetacarpal"
    assert Bone.LeftThumbIntermediate.vrm_name == "leftThumbProximal"
    assert Bone.RightThumbDistal.vrm_name == "rightThumbDistal"


def test_hierarchy_order_parents_first():
    seen = set()
    for b in BONE_ORDER:
        p = PARENT[b]
        assert p is None or p in seen
        seen.add(b)
    assert seen == set(Bone)


def test_tpose_offsets_are_plausible_and_symmetric():
    assert set(TPOSE_OFFSETS) == set(Bone)
    for b in Bone:
        if b != Bone.Hips:
            assert 0.005 < np.linalg.norm(TPOSE_OFFSETS[b]) < 0.5
        m = TPOSE_OFFSETS[b.mirrored]
        assert np.allclose(m, (-TPOSE_OFFSETS[b][0],) + TPOSE_OFFSETS[b][1:])


def test_rest_pose_arms_hang_down():
    # The left upper arm points along -X in T-pose; at rest it must point mostly down (-Y).
    d = quat.rotate(REST_POSE[Bone.LeftUpperArm], [-1.0, 0.0, 0.0])
    assert d[1] < -0.9
    d = quat.rotate(REST_POSE[Bone.RightUpperArm], [1.0, 0.0, 0.0])
    assert d[1] < -0.9
    # Forearms bend slightly forward (+Z, the avatar's front), never backward.
    for side, x in (("Left", -1.0), ("Right", 1.0)):
        upper = REST_POSE[Bone[side + "UpperArm"]]
        lower = REST_POSE[Bone[side + "LowerArm"]]
        fore = quat.rotate(quat.multiply(upper, lower), [x, 0.0, 0.0])
        assert fore[2] > 0.1, side


def test_arkit_names_are_52_unique_and_mirror_pairs_exist():
    assert len(ARKIT_NAMES) == 52 == len(set(ARKIT_NAMES))
    for n in ARKIT_NAMES:
        assert mirror_blendshape_key(n) in ARKIT_NAMES


def test_mirror_frame_swaps_sides_and_reflects():
    yaw_left = tuple(quat.from_axis_angle([0, 1, 0], -0.4))  # head turned to its own left
    f = AvatarFrame(
        t=1.0,
        tracking=Tracking(face=True, left_hand=True),
        bones={Bone.Head: yaw_left, Bone.LeftHand: (0.1, 0.2, 0.3, 0.927)},
        blendshapes={"blinkLeft": 1.0, "eyeBlinkLeft": 0.8, "aa": 0.5},
    )
    m = mirror_frame(f)
    assert m.tracking.right_hand and not m.tracking.left_hand
    assert Bone.RightHand in m.bones and Bone.LeftHand not in m.bones
    assert np.allclose(m.bones[Bone.Head], quat.from_axis_angle([0, 1, 0], 0.4))
    assert m.blendshapes == {"blinkRight": 1.0, "eyeBlinkRight": 0.8, "aa": 0.5}
    back = mirror_frame(m)
    assert back.bones == f.bones and back.blendshapes == f.blendshapes
