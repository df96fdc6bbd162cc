"""The avatar rig: bone names, hierarchy, rest offsets, blendshape names and the AvatarFrame.

Conventions (docs/coordinates.md):
- Bones are Unity ``HumanBodyBones`` (what VMC sends); the enum values are Unity's own numbers.
- Rotations are LOCAL rotations of a *normalized* humanoid: identity in every bone = T-pose, the
  avatar facing +Z, its right hand toward +X, y up, in Unity's left-handed basis. Quaternions are
  ``(x, y, z, w)``.
- Positions are local offsets in metres in the same basis.
- Blendshape keys are VRM 1.0 preset names (``aa``, ``blinkLeft``, ``happy`` ...) or ARKit names
  (``eyeBlinkLeft``, ``jawOpen`` ...); sinks translate them (e.g. VMC also sends VRM 0.x names).
  ``Left``/``Right`` in a key is the AVATAR's side.
- The mirror choice is applied exactly once, by :func:`mirror_frame`, when the pipeline builds the
  frame from the solvers' anatomical (un-mirrored) result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import IntEnum

from vtuber.quat import from_axis_angle_tuple, mirror_x_tuple

Quat = tuple[float, float, float, float]
Vec3 = tuple[float, float, float]

IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)


class Bone(IntEnum):
    """Unity's HumanBodyBones, same names and numbers."""

    Hips = 0
    LeftUpperLeg = 1
    RightUpperLeg = 2
    LeftLowerLeg = 3
    RightLowerLeg = 4
    LeftFoot = 5
    RightFoot = 6
    Spine = 7
    Chest = 8
    Neck = 9
    Head = 10
    LeftShoulder = 11
    RightShoulder = 12
    LeftUpperArm = 13
    RightUpperArm = 14
    LeftLowerArm = 15
    RightLowerArm = 16
    LeftHand = 17
    RightHand = 18
    LeftToes = 19
    RightToes = 20
    LeftEye = 21
    RightEye = 22
    Jaw = 23
    LeftThumbProximal = 24
    LeftThumbIntermediate = 25
    LeftThumbDistal = 26
    LeftIndexProximal = 27
    LeftIndexIntermediate = 28
    LeftIndexDistal = 29
    LeftMiddleProximal = 30
    LeftMiddleIntermediate = 31
    LeftMiddleDistal = 32
    LeftRingProximal = 33
    LeftRingIntermediate = 34
    LeftRingDistal = 35
    LeftLittleProximal = 36
    LeftLittleIntermediate = 37
    LeftLittleDistal = 38
    RightThumbProximal = 39
    RightThumbIntermediate = 40
    RightThumbDistal = 41
    RightIndexProximal = 42
    RightIndexIntermediate = 43
    RightIndexDistal = 44
    RightMiddleProximal = 45
    RightMiddleIntermediate = 46
    RightMiddleDistal = 47
    RightRingProximal = 48
    RightRingIntermediate = 49
    RightRingDistal = 50
    RightLittleProximal = 51
    RightLittleIntermediate = 52
    RightLittleDistal = 53
    UpperChest = 54

    @property
    def vrm_name(self) -> str:
        """The VRM 1.0 / three-vrm humanoid name (``leftUpperArm``). Thumbs differ from Unity:
        Unity's ThumbProximal/Intermediate/Distal are VRM 1.0's thumbMetacarpal/Proximal/Distal
        (VRM 0.x used Unity's names)."""
        return _VRM_NAMES[self]

    @property
    def mirrored(self) -> Bone:
        """The same bone on the other side (itself for centre bones)."""
        return _MIRROR_BONE[self]


def _vrm_name(b: Bone) -> str:
    n = b.name.replace("ThumbProximal", "ThumbMetacarpal").replace(
        "ThumbIntermediate", "ThumbProximal"
    )
    return n[0].lower() + n[1:]


_VRM_NAMES = {b: _vrm_name(b) for b in Bone}


def _mirror_bone(b: Bone) -> Bone:
    n = b.name
    if n.startswith("Left"):
        return Bone["Right" + n[4:]]
    if n.startswith("Right"):
        return Bone["Left" + n[5:]]
    return b


_MIRROR_BONE = {b: _mirror_bone(b) for b in Bone}

FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
PHALANGES = ("Proximal", "Intermediate", "Distal")

# Parent of each bone in Unity's humanoid (UpperChest present).
PARENT: dict[Bone, Bone | None] = {
    Bone.Hips: None,
    Bone.Spine: Bone.Hips,
    Bone.Chest: Bone.Spine,
    Bone.UpperChest: Bone.Chest,
    Bone.Neck: Bone.UpperChest,
    Bone.Head: Bone.Neck,
    Bone.LeftEye: Bone.Head,
    Bone.RightEye: Bone.Head,
    Bone.Jaw: Bone.Head,
}
for _s in ("Left", "Right"):
    PARENT[Bone[_s + "Shoulder"]] = Bone.UpperChest
    PARENT[Bone[_s + "UpperArm"]] = Bone[_s + "Shoulder"]
    PARENT[Bone[_s + "LowerArm"]] = Bone[_s + "UpperArm"]
    PARENT[Bone[_s + "Hand"]] = Bone[_s + "LowerArm"]
    PARENT[Bone[_s + "UpperLeg"]] = Bone.Hips
    PARENT[Bone[_s + "LowerLeg"]] = Bone[_s + "UpperLeg"]
    PARENT[Bone[_s + "Foot"]] = Bone[_s + "LowerLeg"]
    PARENT[Bone[_s + "Toes"]] = Bone[_s + "Foot"]
    for _f in FINGERS:
        PARENT[Bone[_s + _f + "Proximal"]] = Bone[_s + "Hand"]
        PARENT[Bone[_s + _f + "Intermediate"]] = Bone[_s + _f + "Proximal"]
        PARENT[Bone[_s + _f + "Distal"]] = Bone[_s + _f + "Intermediate"]


def depth(b: Bone) -> int:
    """Number of ancestors of ``b`` (Hips: 0)."""
    p = PARENT[b]
    return 0 if p is None else 1 + depth(p)


# Bones in an order where every parent comes before its children.
BONE_ORDER: tuple[Bone, ...] = tuple(sorted(Bone, key=lambda b: (depth(b), int(b))))

# T-pose local offsets in metres (child position in the parent's frame) of a ~1.6 m avatar. These
# are sent as VMC bone positions so that receivers with "bone position synchronize" on see a
# plausible body instead of every bone collapsed onto its parent.
_RIGHT_SIDE_OFFSETS: dict[str, Vec3] = {
    "Shoulder": (0.02, 0.09, 0.0),
    "UpperArm": (0.09, 0.0, 0.0),
    "LowerArm": (0.26, 0.0, 0.0),
    "Hand": (0.24, 0.0, 0.0),
    "UpperLeg": (0.09, -0.05, 0.0),
    "LowerLeg": (0.0, -0.42, 0.0),
    "Foot": (0.0, -0.42, 0.0),
    "Toes": (0.0, -0.06, 0.12),
    "Eye": (0.03, 0.06, 0.07),
    "ThumbProximal": (0.025, -0.008, 0.025),
    "ThumbIntermediate": (0.03, 0.0, 0.015),
    "ThumbDistal": (0.025, 0.0, 0.01),
    "IndexProximal": (0.085, 0.005, 0.03),
    "IndexIntermediate": (0.04, 0.0, 0.0),
    "IndexDistal": (0.025, 0.0, 0.0),
    "MiddleProximal": (0.088, 0.005, 0.01),
    "MiddleIntermediate": (0.045, 0.0, 0.0),
    "MiddleDistal": (0.028, 0.0, 0.0),
    "RingProximal": (0.083, 0.003, -0.01),
    "RingIntermediate": (0.04, 0.0, 0.0),
    "RingDistal": (0.025, 0.0, 0.0),
    "LittleProximal": (0.075, 0.0, -0.03),
    "LittleIntermediate": (0.03, 0.0, 0.0),
    "LittleDistal": (0.02, 0.0, 0.0),
}

TPOSE_OFFSETS: dict[Bone, Vec3] = {
    Bone.Hips: (0.0, 0.95, 0.0),
    Bone.Spine: (0.0, 0.08, 0.0),
    Bone.Chest: (0.0, 0.12, 0.0),
    Bone.UpperChest: (0.0, 0.12, 0.0),
    Bone.Neck: (0.0, 0.13, 0.0),
    Bone.Head: (0.0, 0.08, 0.0),
    Bone.Jaw: (0.0, -0.01, 0.03),
}
for _part, (_x, _y, _z) in _RIGHT_SIDE_OFFSETS.items():
    TPOSE_OFFSETS[Bone["Right" + _part]] = (_x, _y, _z)
    TPOSE_OFFSETS[Bone["Left" + _part]] = (-_x, _y, _z)


def _axis_angle(axis: Vec3, degrees: float) -> Quat:
    return from_axis_angle_tuple(axis, math.radians(degrees))


# The pose shown for parts that are not tracked: arms hanging relaxed at the sides (a T-pose looks
# broken on stream), fingers slightly curled. Upper arms turn about +Z (left: +, right: -).
REST_POSE: dict[Bone, Quat] = {
    Bone.LeftUpperArm: _axis_angle((0, 0, 1), 70.0),
    Bone.RightUpperArm: _axis_angle((0, 0, 1), -70.0),
    # Elbows bent a little forward: about +Y, +angle turns -X (left forearm) toward +Z.
    Bone.LeftLowerArm: _axis_angle((0, 1, 0), 10.0),
    Bone.RightLowerArm: _axis_angle((0, 1, 0), -10.0),
}
for _f in FINGERS[1:]:
    for _p in PHALANGES:
        # Curl is a rotation about the bone's forward axis: left hand +Z, right hand -Z.
        REST_POSE[Bone["Left" + _f + _p]] = _axis_angle((0, 0, 1), 12.0)
        REST_POSE[Bone["Right" + _f + _p]] = _axis_angle((0, 0, -1), 12.0)


# ---------------------------------------------------------------------------------- blendshapes
# VRM 1.0 preset -> VRM 0.x preset. "surprised" has no 0.x preset; VRoid/UniVRM users add a custom
# clip named "Surprised", which is what we send.
VRM1_TO_VRM0: dict[str, str] = {
    "neutral": "Neutral",
    "aa": "A",
    "ih": "I",
    "ou": "U",
    "ee": "E",
    "oh": "O",
    "blink": "Blink",
    "blinkLeft": "Blink_L",
    "blinkRight": "Blink_R",
    "happy": "Joy",
    "angry": "Angry",
    "sad": "Sorrow",
    "relaxed": "Fun",
    "surprised": "Surprised",
    "lookUp": "LookUp",
    "lookDown": "LookDown",
    "lookLeft": "LookLeft",
    "lookRight": "LookRight",
}
VRM0_TO_VRM1 = {v: k for k, v in VRM1_TO_VRM0.items()}
VRM1_PRESETS: tuple[str, ...] = tuple(VRM1_TO_VRM0)

# The 52 ARKit face blendshapes, in Apple's documented order ("perfect sync" names).
ARKIT_NAMES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft",
    "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
    "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper",
    "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight", "tongueOut",
)  # fmt: skip

# Every key a frame may carry, in a fixed order (recordings and the WebSocket hello use it).
BLENDSHAPE_KEYS: tuple[str, ...] = VRM1_PRESETS + ARKIT_NAMES


def mirror_blendshape_key(key: str) -> str:
    """The key for the other side: blinkLeft <-> blinkRight, lookLeft <-> lookRight,
    eyeBlinkLeft <-> eyeBlinkRight, jawLeft <-> jawRight, mouthLeft <-> mouthRight ..."""
    if key.endswith("Left"):
        return key[:-4] + "Right"
    if key.endswith("Right"):
        return key[:-5] + "Left"
    return key


# ---------------------------------------------------------------------------------- the frame
@dataclass(frozen=True, slots=True)
class Tracking:
    """Which parts were measured in this frame (avatar sides after the mirror)."""

    face: bool = False
    body: bool = False
    left_hand: bool = False
    right_hand: bool = False


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """A discrete event a frame carries (gestures, docs/gestures.md).

    kind: ``"gesture"`` (a recognised gesture or pose started/ended; name e.g.
    ``thumbs_up_right``), ``"key"`` (sent as the VMC key event ``/VMC/Ext/Key``) or ``"viewer"``
    (a WebSocket event for the viewer page). active: started/pressed (True) or ended/released.
    keycode: the key code of a ``"key"`` event (0 when none)."""

    kind: str
    name: str
    active: bool
    keycode: int = 0


@dataclass(slots=True)
class AvatarFrame:
    """One pose of the avatar: the record every sink consumes.

    Attributes:
        t: source time in seconds (video position for files, capture time for cameras).
        t_capture: ``time.perf_counter()`` when the source produced the frame (latency basis).
        index: frame number from the source.
        tracking: which parts were measured.
        bones: local rotations of the normalized humanoid, Unity basis, (x, y, z, w). Bones absent
            here are at their rest pose (:data:`REST_POSE`, else identity).
        positions: local positions overriding :data:`TPOSE_OFFSETS` (metres), usually empty.
        root_position / root_rotation: the avatar root in its space (metres, xyzw).
        blendshapes: weights in [0, 1] by key (see module doc).
        landmarks: optional raw landmarks (for recording with ``--record-landmarks``).
        events: discrete events of this frame (:class:`FrameEvent`; gesture starts/ends, key
            presses), usually none.
    """

    t: float
    t_capture: float = 0.0
    index: int = 0
    tracking: Tracking = field(default_factory=Tracking)
    bones: dict[Bone, Quat] = field(default_factory=dict)
    positions: dict[Bone, Vec3] = field(default_factory=dict)
    root_position: Vec3 = (0.0, 0.0, 0.0)
    root_rotation: Quat = IDENTITY
    blendshapes: dict[str, float] = field(default_factory=dict)
    landmarks: object | None = None
    events: tuple[FrameEvent, ...] = ()

    def bone(self, b: Bone) -> Quat:
        """The rotation a receiver should apply to ``b`` (rest pose when not in ``bones``)."""
        return self.bones.get(b) or REST_POSE.get(b, IDENTITY)

    def position(self, b: Bone) -> Vec3:
        return self.positions.get(b) or TPOSE_OFFSETS[b]

    def full_pose(self) -> dict[Bone, Quat]:
        """Every bone's rotation, rest pose filled in."""
        return {b: self.bone(b) for b in Bone}


def mirror_frame(frame: AvatarFrame) -> AvatarFrame:
    """The frame as seen in a mirror: sides swapped and every rotation reflected through the
    avatar's YZ plane. Applying it twice gives the original frame."""
    bones = {b.mirrored: mirror_x_tuple(q) for b, q in frame.bones.items()}
    positions = {b.mirrored: (-p[0], p[1], p[2]) for b, p in frame.positions.items()}
    blend = {mirror_blendshape_key(k): v for k, v in frame.blendshapes.items()}
    tr = frame.tracking
    rp = frame.root_position
    return replace(
        frame,
        tracking=Tracking(tr.face, tr.body, tr.right_hand, tr.left_hand),
        bones=bones,
        positions=positions,
        root_position=(-rp[0], rp[1], rp[2]),
        root_rotation=mirror_x_tuple(frame.root_rotation),
        blendshapes=blend,
    )
