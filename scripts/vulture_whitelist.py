"""Vulture whitelist: names the dead-code check (``make lint``, tests/test_lint.py; settings in
pyproject.toml's [tool.vulture]) must count as used. Vulture parses this file, it is never run.

The check runs at vulture's default --min-confidence of 60: the only level that reports unused
functions, classes, methods, attributes and module constants (vulture gives them all 60%; 90 and
100 only find unused imports, unreachable code and unused arguments), which is where the dead code
of issue 16 was. It reads vtuber/, tests/, scripts/, benchmarks/ and avatars/ together, so a name
used only by a test, a benchmark or a script counts as used.

Every entry is a false positive (a name used by a library, by name lookup, through
dataclasses.asdict or as a documented table), with its reason; dead code is deleted, never listed
here.
"""

# ruff: noqa
# fmt: off

# Landmark/bone index tables: whole tables as the models and Unity define them, members looked up
# by name (Bone["Left" + part]) or kept so the table stays complete.
(
    Bone.Hips, Bone.LeftUpperLeg, Bone.RightUpperLeg, Bone.LeftLowerLeg, Bone.RightLowerLeg,
    Bone.LeftFoot, Bone.RightFoot, Bone.Spine, Bone.Chest, Bone.Neck, Bone.Head,
    Bone.LeftShoulder, Bone.RightShoulder, Bone.LeftUpperArm, Bone.RightUpperArm,
    Bone.LeftLowerArm, Bone.RightLowerArm, Bone.LeftHand, Bone.RightHand, Bone.LeftToes,
    Bone.RightToes, Bone.LeftEye, Bone.RightEye, Bone.Jaw, Bone.LeftThumbProximal,
    Bone.LeftThumbIntermediate, Bone.LeftThumbDistal, Bone.LeftIndexProximal,
    Bone.LeftIndexIntermediate, Bone.LeftIndexDistal, Bone.LeftMiddleProximal,
    Bone.LeftMiddleIntermediate, Bone.LeftMiddleDistal, Bone.LeftRingProximal,
    Bone.LeftRingIntermediate, Bone.LeftRingDistal, Bone.LeftLittleProximal,
    Bone.LeftLittleIntermediate, Bone.LeftLittleDistal, Bone.RightThumbProximal,
    Bone.RightThumbIntermediate, Bone.RightThumbDistal, Bone.RightIndexProximal,
    Bone.RightIndexIntermediate, Bone.RightIndexDistal, Bone.RightMiddleProximal,
    Bone.RightMiddleIntermediate, Bone.RightMiddleDistal, Bone.RightRingProximal,
    Bone.RightRingIntermediate, Bone.RightRingDistal, Bone.RightLittleProximal,
    Bone.RightLittleIntermediate, Bone.RightLittleDistal, Bone.UpperChest,
)
(
    HandIndex.WRIST, HandIndex.THUMB_CMC, HandIndex.THUMB_MCP, HandIndex.THUMB_IP,
    HandIndex.THUMB_TIP, HandIndex.INDEX_MCP, HandIndex.INDEX_PIP, HandIndex.INDEX_DIP,
    HandIndex.INDEX_TIP, HandIndex.MIDDLE_MCP, HandIndex.MIDDLE_PIP, HandIndex.MIDDLE_DIP,
    HandIndex.MIDDLE_TIP, HandIndex.RING_MCP, HandIndex.RING_PIP, HandIndex.RING_DIP,
    HandIndex.RING_TIP, HandIndex.PINKY_MCP, HandIndex.PINKY_PIP, HandIndex.PINKY_DIP,
    HandIndex.PINKY_TIP,
)
(
    PoseIndex.NOSE, PoseIndex.LEFT_SHOULDER, PoseIndex.RIGHT_SHOULDER, PoseIndex.LEFT_ELBOW,
    PoseIndex.RIGHT_ELBOW, PoseIndex.LEFT_WRIST, PoseIndex.RIGHT_WRIST, PoseIndex.LEFT_PINKY,
    PoseIndex.RIGHT_PINKY, PoseIndex.LEFT_INDEX, PoseIndex.RIGHT_INDEX, PoseIndex.LEFT_HIP,
    PoseIndex.RIGHT_HIP, PoseIndex.LEFT_KNEE, PoseIndex.RIGHT_KNEE, PoseIndex.LEFT_ANKLE,
    PoseIndex.RIGHT_ANKLE,
)

# Attributes a library reads: numpy's read-only flag, argparse's required subcommand, filterpy's
# process noise (tests/test_smoothing.py), http.server's log hook (tests/test_vrma_browser.py).
_.writeable
_.required
_.Q
_.log_message
# Callback signatures a library fixes (websockets' process_request(connection, request)).
conn
# Dataclass fields read only through dataclasses.asdict (models.py's ModelSpec.description goes
# into models/manifest.json).
_.description
