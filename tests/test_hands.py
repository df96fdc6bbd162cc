"""Hand solver on synthetic hands with known joint angles (tier a) and the mirror invariance.

The synthetic hands are built directly in the avatar's axes with plain trigonometry (finger
directions from curl/spread angles), then converted to MediaPipe's world axes (``-v``), so the
test does not reuse the solver's own decomposition.
"""

from __future__ import annotations

import numpy as np
import pytest

from vtuber import quat
from vtuber.rig import FINGERS, PHALANGES, Bone
from vtuber.solvers.hands import bend_degrees, solve_hand

# Right hand in T-pose, avatar axes (x = along the arm, y = back of the hand, z = thumb side).
MCP = {
    "Index": (0.090, 0.0, 0.025),
    "Middle": (0.095, 0.0, 0.0),
    "Ring": (0.088, 0.0, -0.020),
    "Little": (0.080, 0.0, -0.040),
}
LENGTHS = {"Index": (0.045, 0.027, 0.022), "Middle": (0.05, 0.03, 0.024),
           "Ring": (0.046, 0.028, 0.022), "Little": (0.036, 0.022, 0.02)}  # fmt: skip
THUMB_CMC = np.array([0.025, -0.012, 0.022])
THUMB_LEN = (0.04, 0.032, 0.028)
CHAIN0 = {"Thumb": 1, "Index": 5, "Middle": 9, "Ring": 13, "Little": 17}


def finger_dir(curl_deg: float, spread_deg: float) -> np.ndarray:
    c, s = np.radians(curl_deg), np.radians(spread_deg)
    return np.array([np.cos(c) * np.cos(s), -np.sin(c), np.cos(c) * np.sin(s)])


def make_hand(
    curls: dict[str, tuple[float, float, float]],
    spreads: dict[str, float] | None = None,
    thumb_dirs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(21, 3) right-hand points in avatar axes; curls are cumulative-free per joint angles."""
    spreads = spreads or {}
    pts = np.zeros((21, 3))
    for f, mcp in MCP.items():
        i = CHAIN0[f]
        p = np.array(mcp)
        pts[i] = p
        total = 0.0
        for k in range(3):
            total += curls[f][k]
            p = p + LENGTHS[f][k] * finger_dir(total, spreads.get(f, 0.0))
            pts[i + k + 1] = p
    if thumb_dirs is None:
        d = np.array([np.cos(np.radians(40)), 0.0, np.sin(np.radians(40))])
        thumb_dirs = (d, d, d)
    p = THUMB_CMC.copy()
    pts[1] = p
    for k in range(3):
        p = p + THUMB_LEN[k] * thumb_dirs[k] / np.linalg.norm(thumb_dirs[k])
        pts[2 + k] = p
    return pts


def to_mp(pts_avatar: np.ndarray, rot: np.ndarray | None = None) -> np.ndarray:
    """Avatar-space points (optionally rotated in the world) -> MediaPipe world axes."""
    p = pts_avatar if rot is None else pts_avatar @ rot.T
    return -p


def curl_q(side: str, deg: float) -> np.ndarray:
    """Expected finger curl: about -Z for the right hand, +Z for the left (toward the palm)."""
    axis = (0.0, 0.0, -1.0) if side == "right" else (0.0, 0.0, 1.0)
    return quat.from_axis_angle(axis, np.radians(deg))


def deg(a, b) -> float:  # noqa: ANN001
    return float(np.degrees(quat.angle_between(np.asarray(a), np.asarray(b))))


FLAT = {f: (0.0, 0.0, 0.0) for f in MCP}
FIST = {f: (85.0, 95.0, 60.0) for f in MCP}


def test_flat_hand_is_near_identity() -> None:
    sol = solve_hand(to_mp(make_hand(FLAT)), "right")
    for f in FINGERS[1:]:
        for ph in PHALANGES:
            b = Bone["Right" + f + ph]
            assert bend_degrees(sol.bones[b]) < 10.0, (b, sol.bones[b])
    # The palm frame is the T-pose hand frame.
    assert deg(quat.from_matrix(sol.palm), quat.IDENTITY) < 5.0


@pytest.mark.parametrize("side", ["right", "left"])
def test_fist_curls_every_joint(side: str) -> None:
    pts = make_hand(FIST)
    if side == "left":
        pts = pts * np.array([-1.0, 1.0, 1.0])  # the left hand is the right one mirrored
    sol = solve_hand(to_mp(pts), side)
    n = "Right" if side == "right" else "Left"
    for f in FINGERS[1:]:
        for k, ph in enumerate(PHALANGES):
            b = Bone[n + f + ph]
            assert deg(sol.bones[b], curl_q(side, FIST[f][k])) < 10.0, (b, sol.curls[b])


def test_spread_hand() -> None:
    spreads = {"Index": 15.0, "Middle": 0.0, "Ring": -12.0, "Little": -22.0}
    sol = solve_hand(to_mp(make_hand(FLAT, spreads)), "right")
    for f, sp in spreads.items():
        q = sol.bones[Bone["Right" + f + "Proximal"]]
        # spread toward the thumb side (+Z) is a turn about -Y for the right hand
        expected = quat.from_axis_angle((0.0, -1.0, 0.0), np.radians(sp))
        assert deg(q, expected) < 10.0, (f, q)
        tip_dir = quat.rotate(q, [1.0, 0.0, 0.0])
        assert np.sign(tip_dir[2]) == np.sign(sp) or sp == 0.0


def test_thumbs_up_in_the_world() -> None:
    # Fingers curled into the palm, thumb straight along the thumb side (+Z of the hand), then the
    # whole hand turned -90 deg about X so the thumb points up (+Y) in the world.
    tz = np.array([0.2, 0.0, 1.0])
    pts = make_hand(FIST, thumb_dirs=(tz, tz, tz))
    rot = quat.to_matrix(quat.from_axis_angle((1.0, 0.0, 0.0), np.radians(-90.0)))
    sol = solve_hand(to_mp(pts, rot), "right")
    assert deg(quat.from_matrix(sol.palm), quat.from_matrix(rot)) < 10.0
    for f in FINGERS[1:]:
        prox = sol.curls[Bone["Right" + f + "Proximal"]]
        inter = sol.curls[Bone["Right" + f + "Intermediate"]]
        assert prox + inter >= 150.0, f
    assert abs(sol.curls[Bone.RightThumbIntermediate]) < 10.0
    assert abs(sol.curls[Bone.RightThumbDistal]) < 10.0
    # The thumb's tip bone points where the synthetic thumb points (up, 11 deg toward the
    # fingers) within 10 deg.
    R = sol.palm
    for ph in PHALANGES:
        R = R @ quat.to_matrix(sol.bones[Bone["RightThumb" + ph]])
    from vtuber.solvers.hands import thumb_rest_axis

    up = R @ thumb_rest_axis("right")
    want = rot @ tz / np.linalg.norm(tz)
    assert np.degrees(np.arccos(np.clip(up @ want, -1, 1))) < 10.0


def test_limits_stop_backward_bends() -> None:
    back = {f: (-60.0, -80.0, -70.0) for f in MCP}  # impossible hyperextension
    sol = solve_hand(to_mp(make_hand(back)), "right")
    for f in FINGERS[1:]:
        assert sol.curls[Bone["Right" + f + "Proximal"]] >= -25.0
        assert sol.curls[Bone["Right" + f + "Intermediate"]] >= -5.0
        assert sol.curls[Bone["Right" + f + "Distal"]] >= -15.0


def test_mirrored_hand_gives_mirrored_rotations() -> None:
    rng = np.random.default_rng(5)
    curls = {f: tuple(rng.uniform(0, 80, 3)) for f in MCP}
    spreads = {f: float(rng.uniform(-15, 15)) for f in MCP}
    rot = quat.to_matrix(quat.normalize(rng.normal(size=4)))
    right = make_hand(curls, spreads) @ rot.T
    left = right * np.array([-1.0, 1.0, 1.0])
    r = solve_hand(-right, "right")
    le = solve_hand(-left, "left")
    for b, q in r.bones.items():
        assert deg(le.bones[b.mirrored], quat.mirror_x(q)) < 1e-3, b
