"""Eye solver on synthetic measures and real-photo landmarks: hysteresis, linked blinks, winks,
gaze hold during a blink, gaze rotation signs, and invariance of the measures to head rotation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vtuber import quat
from vtuber.solvers.expressions import face_frame, measure
from vtuber.solvers.eyes import (
    EyeConfig,
    EyeSolver,
    dead_zone,
    eye_visibility,
    eye_widths,
    gaze_rotation,
    iris_offsets,
    lid_heights,
)

REST = np.zeros((2, 2))


def _open(closure_l: float, closure_r: float) -> tuple[float, float]:
    return (closure_l, closure_r)


def test_hysteresis_no_flicker_around_threshold() -> None:
    es = EyeSolver()
    cfg = es.config
    seq = [0.0, 0.2, cfg.close_at + 0.02, cfg.close_at - 0.05, cfg.close_at + 0.01, 0.36, 0.2, 0.0]
    states = [es.update(_open(c, c), np.zeros((2, 2)), REST).closed for c in seq]
    # Both eyes (a blink): close once at close_at, stay closed while the closure wobbles above
    # open_at, reopen only below open_at.
    assert [s[0] for s in states] == [False, False, True, True, True, True, False, False]
    assert all(s[0] == s[1] for s in states)
    # One eye alone: the same, from wink_at up.
    es.reset()
    seq = [0.0, cfg.wink_at - 0.05, cfg.wink_at + 0.01, cfg.close_at - 0.05, 0.36, 0.2, 0.0]
    states = [es.update(_open(c, 0.0), np.zeros((2, 2)), REST).closed for c in seq]
    assert [s[0] for s in states] == [False, False, True, True, True, False, False]
    assert not any(s[1] for s in states)


def test_a_lone_partial_dip_is_not_a_wink() -> None:
    """One eye at a closure between close_at and wink_at while the other stays open (the
    landmarker misreading one eye): it stays open, below half; the same closure on both eyes
    is a blink, and a full closure of one eye a wink."""
    es = EyeSolver()
    cfg = es.config
    c = 0.5 * (cfg.close_at + cfg.wink_at)
    assert cfg.close_at < c < cfg.wink_at
    r = es.update(_open(c, 0.0), np.zeros((2, 2)), REST)
    assert r.closed == (False, False) and 0.4 < r.blink[0] < 0.5 and r.blink[1] == 0.0
    es.reset()
    r = es.update(_open(c, c), np.zeros((2, 2)), REST)
    assert r.closed == (True, True) and r.blink == (1.0, 1.0)
    es.reset()
    r = es.update(_open(0.0, 1.0), np.zeros((2, 2)), REST)
    assert r.closed == (False, True) and r.blink == (0.0, 1.0)


def test_a_wink_closes_from_close_at_right_after_the_eye_read_open() -> None:
    """A lone eye that read open (closure <= wink_onset) on both frames before closes from
    close_at (a wink's first frame); the same closure reached by creeping up (a misread) still
    needs wink_at; a face just found has not been seen open; a negative wink_onset turns the
    rule off."""
    cfg = EyeConfig()
    c = 0.5 * (cfg.close_at + cfg.wink_at)
    assert cfg.close_at < c < cfg.wink_at and cfg.wink_onset >= 0.0
    es = EyeSolver(cfg)
    for ci in (0.0, cfg.wink_onset, c):
        r = es.update(_open(ci, 0.0), np.zeros((2, 2)), REST)
    assert r.closed == (True, False) and r.blink[0] >= 0.5 and r.blink[1] == 0.0
    es.reset()
    for ci in (0.0, cfg.wink_onset + 0.1, c):
        r = es.update(_open(ci, 0.0), np.zeros((2, 2)), REST)
    assert r.closed == (False, False) and r.blink[0] < 0.5
    es.reset()
    for ci in (0.0, c):
        r = es.update(_open(ci, 0.0), np.zeros((2, 2)), REST)
    assert r.closed == (False, False)  # one open frame seen, not two
    es = EyeSolver(EyeConfig(wink_onset=-1.0))
    for ci in (0.0, 0.0, c):
        r = es.update(_open(ci, 0.0), np.zeros((2, 2)), REST)
    assert r.closed == (False, False)


def test_a_lone_eye_whose_iris_stays_up_reads_open() -> None:
    """One eye reads closed alone while its iris centre sits above its rest by more than
    wink_iris_rise (the lids misread on an open eye): open, below half. With the iris dropped
    (a closing lid takes it down) it is a wink; both eyes closing are a blink whatever the iris
    does; an infinite wink_iris_rise turns the rule off."""
    cfg = EyeConfig()
    up = np.array([[0.0, cfg.wink_iris_rise + 0.01], [0.0, 0.0]])  # left iris raised
    down = np.array([[0.0, -0.04], [0.0, 0.0]])
    es = EyeSolver(cfg)
    r = es.update(_open(1.0, 0.0), up, REST)
    assert r.closed == (False, False) and 0.0 < r.blink[0] < 0.5
    r = es.update(_open(1.0, 0.0), down, REST)
    assert r.closed == (True, False) and r.blink == (1.0, 0.0)
    r = es.update(_open(1.0, 0.0), up, REST)  # the iris back up: open again
    assert r.closed == (False, False)
    es.reset()
    r = es.update(_open(1.0, 1.0), up, REST)
    assert r.closed == (True, True) and r.blink == (1.0, 1.0)
    es = EyeSolver(EyeConfig(wink_iris_rise=math.inf))
    r = es.update(_open(1.0, 0.0), up, REST)
    assert r.closed == (True, False)


def test_open_eye_noise_reads_zero_and_partial_stays_below_half() -> None:
    es = EyeSolver()
    r = es.update(_open(0.08, 0.1), np.zeros((2, 2)), REST)
    assert r.blink == (0.0, 0.0)
    r = es.update(_open(0.4, 0.0), np.zeros((2, 2)), REST)
    assert 0.0 < r.blink[0] < 0.5 and r.blink[1] == 0.0


def test_both_nearly_closed_close_together_but_a_wink_stays() -> None:
    es = EyeSolver()
    r = es.update(_open(1.0, 0.4), np.zeros((2, 2)), REST)
    assert r.blink == (1.0, 1.0)  # the lagging eye is pulled along
    es.reset()
    r = es.update(_open(1.0, 0.1), np.zeros((2, 2)), REST)
    assert r.blink[0] == 1.0 and r.blink[1] == 0.0  # a wink
    es.reset()
    es.config = EyeConfig(link_at=1.0)  # linking off
    r = es.update(_open(1.0, 0.4), np.zeros((2, 2)), REST)
    assert r.blink[0] == 1.0 and r.blink[1] < 0.5


def test_gaze_held_while_eyes_close() -> None:
    es = EyeSolver(EyeConfig(gaze_dead_zone_deg=(0.0, 0.0), gaze_noise_k=0.0))
    look_up = np.array([[0.0, 0.03], [0.0, 0.03]])
    r0 = es.update(_open(0, 0), look_up, REST)
    # Closing: MediaPipe's iris slides down with the lid; the gaze must not follow.
    r1 = es.update(_open(1, 1), np.array([[0.0, -0.08], [0.0, -0.08]]), REST)
    assert r0.pitch > 0 and r1.pitch == pytest.approx(r0.pitch)
    assert r1.blendshapes(es.config)["lookDown"] == 0.0


def test_winking_eye_gaze_comes_from_the_open_eye() -> None:
    es = EyeSolver(EyeConfig(gaze_dead_zone_deg=(0.0, 0.0), gaze_noise_k=0.0))
    offs = np.array([[0.5, -0.5], [0.02, 0.0]])  # left eye closed: its iris reading is junk
    r = es.update(_open(1.0, 0.0), offs, REST)
    cfg = es.config
    expect = math.asin(0.02 / (cfg.eyeball_ratio * cfg.iris_gain[0]))
    assert r.yaw == pytest.approx(expect, rel=1e-6)


def test_gaze_rotation_signs_and_range() -> None:
    fwd = np.array([0.0, 0.0, 1.0])
    right = quat.rotate(gaze_rotation(math.radians(20), 0.0), fwd)
    up = quat.rotate(gaze_rotation(0.0, math.radians(10)), fwd)
    assert right[0] > 0.3 and abs(right[1]) < 1e-9  # toward +X = the avatar's right
    assert up[1] > 0.15 and abs(up[0]) < 1e-9  # +Y = up
    both = quat.rotate(gaze_rotation(math.radians(20), math.radians(10)), fwd)
    assert both[1] == pytest.approx(math.sin(math.radians(10)))
    es = EyeSolver(EyeConfig(yaw_range_deg=10.0))
    r = es.update(_open(0, 0), np.array([[0.15, 0.0], [0.15, 0.0]]), REST)
    assert math.degrees(r.yaw) == pytest.approx(10.0)
    b = r.blendshapes(es.config)
    assert b["lookRight"] == 1.0 and b["lookLeft"] == 0.0


def test_measures_do_not_change_when_the_landmarks_turn(grace_bgr) -> None:  # type: ignore[no-untyped-def]
    """Rotate real landmarks rigidly in 3D (pixels) and tell the solver the rotation: openness,
    mouth and brow measures stay the same (the face frame undoes the head pose)."""
    from vtuber.landmarks.facemesh import FaceMeshBackend

    with FaceMeshBackend(static_images=True) as b:
        lm = b.process(grace_bgr, 0.0)
    pts = lm.face_pixels()
    base = measure(pts, np.eye(3))
    c = pts.mean(axis=0)
    for yaw, pitch in ((30, 0), (-30, 10), (0, -20)):
        rot = quat.to_matrix(
            quat.multiply(
                quat.from_axis_angle([0, 1, 0], math.radians(yaw)),
                quat.from_axis_angle([1, 0, 0], math.radians(pitch)),
            )
        )
        turned = (pts - c) @ rot.T + c
        m = measure(turned, rot)
        assert np.allclose(m.openness, base.openness, atol=1e-9)
        assert m.mouth_gap == pytest.approx(base.mouth_gap, abs=1e-9)
        assert np.allclose(m.brows, base.brows, atol=1e-9)


def _turn(pts: np.ndarray, yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks (pixels) rotated rigidly in 3D about their centre, and the rotation."""
    rot = quat.to_matrix(
        quat.multiply(
            quat.from_axis_angle([0, 1, 0], math.radians(yaw)),
            quat.from_axis_angle([1, 0, 0], math.radians(pitch)),
        )
    )
    c = pts.mean(axis=0)
    return (pts - c) @ rot.T + c, rot


def test_iris_in_front_of_the_corners_reads_the_same_when_the_head_turns(grace_bgr) -> None:  # type: ignore[no-untyped-def]
    """Put each iris centre ``depth`` eye widths in front of its corner midpoint (toward the
    camera, -z in pixels), turn the head: the offsets with that depth do not change (to rounding),
    while assuming the iris at the corners' depth reads a turned head as a gaze."""
    from vtuber.landmarks.facemesh import FaceMeshBackend

    with FaceMeshBackend(static_images=True) as b:
        pts = b.process(grace_bgr, 0.0).face_pixels().copy()
    depth = 0.2
    for iris, a, c in ((473, 263, 362), (468, 33, 133)):
        width = float(np.linalg.norm(pts[a] - pts[c]))
        pts[iris, 2] = 0.5 * (pts[a, 2] + pts[c, 2]) - depth * width
    base = iris_offsets(pts, np.eye(3), face_frame(pts, np.eye(3)), depth=depth)
    for yaw, pitch in ((30, 0), (-25, 10), (0, -20)):
        turned, rot = _turn(pts, yaw, pitch)
        face = face_frame(turned, rot)
        got = iris_offsets(turned, rot, face, depth=depth, lid_weight=(0.0, 0.0))
        assert np.allclose(got, base, atol=1e-9)
        flat = iris_offsets(turned, rot, face, depth=0.0, lid_weight=(0.0, 0.0))
        assert np.abs(flat - base).max() > 0.05


def test_lid_heights_and_their_weight_in_the_vertical_offset(grace_bgr) -> None:  # type: ignore[no-untyped-def]
    """Raising an upper lid raises its height (eye widths above the corner line) and, with a lid
    weight, the vertical gaze offset by weight x rise; the lower lid likewise; x is untouched."""
    from vtuber.landmarks import face_mesh as fm
    from vtuber.landmarks.facemesh import FaceMeshBackend

    with FaceMeshBackend(static_images=True) as b:
        pts = b.process(grace_bgr, 0.0).face_pixels()
    face = face_frame(pts, np.eye(3))
    widths = eye_widths(face)
    lids = lid_heights(face, widths)
    assert np.all(lids[:, 0] > 0.0) and np.all(lids[:, 1] < 0.0)  # above / below the corners
    raised = pts.copy()
    raised[list(fm.UPPER_LID_L[2:5]), 1] -= (
        0.05 * widths[0] * np.linalg.norm(pts[fm.EYE_OUTER_L] - pts[fm.EYE_OUTER_R])
    )  # image y is down: 0.05 eye widths up
    f2 = face_frame(raised, np.eye(3))
    assert lid_heights(f2)[0, 0] - lids[0, 0] == pytest.approx(0.05, rel=0.05)
    assert lid_heights(f2)[1] == pytest.approx(lids[1])
    w = (0.5, -0.3)
    d = iris_offsets(raised, np.eye(3), f2, lid_weight=w) - iris_offsets(
        pts, np.eye(3), face, lid_weight=w
    )
    assert d[0, 1] == pytest.approx(0.5 * 0.05, rel=0.1) and d[0, 0] == pytest.approx(0.0)
    assert np.allclose(d[1], 0.0)


def test_gaze_dead_zone_is_a_soft_threshold() -> None:
    """Within the dead zone the gaze reads straight ahead; beyond it, it is reduced by the zone's
    width (continuous, no jump at the edge), on each axis separately."""
    assert dead_zone(0.05, 0.07) == 0.0 and dead_zone(-0.05, 0.07) == 0.0
    assert dead_zone(0.2, 0.07) == pytest.approx(0.13)
    assert dead_zone(-0.2, 0.07) == pytest.approx(-0.13)
    assert dead_zone(0.0700001, 0.07) == pytest.approx(0.0, abs=1e-6)
    cfg = EyeConfig(gaze_dead_zone_deg=(4.0, 8.0), iris_gain=(1.0, 1.0), gaze_noise_k=0.0)
    es = EyeSolver(cfg)
    r = cfg.eyeball_ratio

    def offsets(yaw_deg: float, pitch_deg: float) -> np.ndarray:
        o = [r * math.sin(math.radians(yaw_deg)), r * math.sin(math.radians(pitch_deg))]
        return np.array([o, o])

    small = es.update(_open(0, 0), offsets(3.0, -7.0), REST)
    assert small.yaw == 0.0 and small.pitch == 0.0
    big = es.update(_open(0, 0), offsets(15.0, -12.0), REST)
    assert math.degrees(big.yaw) == pytest.approx(11.0)
    assert math.degrees(big.pitch) == pytest.approx(-4.0)


def test_gaze_noise_is_learned_from_the_two_eyes_disagreeing() -> None:
    """GazeNoise: eyes that agree (a constant vergence apart) leave a glance nearly whole; eyes
    whose readings scatter independently widen the zone around straight ahead by
    gaze_noise_k times the noise of their mean, so small readings read 0 and a large glance
    shows, reduced; a new face starts from the prior again."""
    rng = np.random.default_rng(7)
    cfg = EyeConfig(gaze_dead_zone_deg=(0.0, 0.0), iris_gain=(1.0, 1.0))
    r = cfg.eyeball_ratio

    def offsets(yaw_l: float, yaw_r: float) -> np.ndarray:
        return np.array([[r * math.sin(math.radians(yaw_l)), 0.0],
                         [r * math.sin(math.radians(yaw_r)), 0.0]])  # fmt: skip

    prior = EyeSolver(cfg).noise.sigma[0]
    calm = EyeSolver(cfg)
    for _ in range(2000):  # the eyes agree but for a 2 deg vergence and 0.3 deg of noise each
        g = float(rng.normal(0.0, 5.0))
        calm.update(
            _open(0, 0), offsets(g + 1.0 + rng.normal(0, 0.3), g - 1.0 + rng.normal(0, 0.3)), REST
        )
    assert math.degrees(calm.noise.sigma[0]) == pytest.approx(0.3 / math.sqrt(2.0), abs=0.05)
    glance = calm.update(_open(0, 0), offsets(21.0, 19.0), REST)
    assert math.degrees(glance.yaw) == pytest.approx(20.0 - 1.5 * 0.21, abs=0.1)

    noisy = EyeSolver(cfg)
    for _ in range(2000):  # each eye's reading scatters by 6 deg on its own
        noisy.update(_open(0, 0), offsets(rng.normal(0, 6.0), rng.normal(0, 6.0)), REST)
    sigma = math.degrees(noisy.noise.sigma[0])
    assert sigma == pytest.approx(6.0 / math.sqrt(2.0), rel=0.2)  # the mean's noise
    assert noisy.update(_open(0, 0), offsets(5.0, 5.0), REST).yaw == 0.0
    wide = noisy.update(_open(0, 0), offsets(25.0, 25.0), REST)
    assert math.degrees(wide.yaw) == pytest.approx(25.0 - 1.5 * sigma, rel=0.05)
    # A frame with one eye closed teaches nothing; a new face starts again from the prior.
    before = noisy.noise.sigma
    noisy.update(_open(1.0, 0.0), offsets(40.0, -40.0), REST)
    assert noisy.noise.sigma == before
    noisy.reset()
    assert noisy.noise.sigma[0] == pytest.approx(prior)


@pytest.fixture(scope="module")
def grace_points(grace_bgr) -> np.ndarray:  # type: ignore[no-untyped-def]
    """FaceMesh's landmarks (pixels) of the grace_hopper photo."""
    from vtuber.landmarks.facemesh import FaceMeshBackend

    with FaceMeshBackend(static_images=True) as b:
        return b.process(grace_bgr, 0.0).face_pixels()


def _right_eye(pts: np.ndarray) -> tuple[list[int], list[int], np.ndarray]:
    """The person's right eye's corner and lid points, its iris points, and its corners'
    midpoint."""
    from vtuber.landmarks import face_mesh as fm

    eye = [fm.EYE_OUTER_R, fm.EYE_INNER_R, *fm.UPPER_LID_R, *fm.LOWER_LID_R]
    iris = list(range(fm.IRIS_R, fm.IRIS_R + 5))
    return eye, iris, pts[[fm.EYE_OUTER_R, fm.EYE_INNER_R]].mean(axis=0)


def _eye_solver(pts: np.ndarray, hidden: tuple[float, float] | None = None):  # type: ignore[no-untyped-def]
    """A FaceSolver that has seen 30 frames of the open eyes of ``pts``."""
    from vtuber.solvers.expressions import FaceSolver

    solver = FaceSolver()
    if hidden is not None:
        solver.eye_config.hidden_eye = hidden
    for _ in range(30):  # the open eyes' levels
        solver.update(pts, np.eye(3))
    return solver


def test_eye_visibility_of_a_turned_head(grace_points) -> None:  # type: ignore[no-untyped-def]
    """Real landmarks: frontal, each eye shows about as wide as the other; turned far, the far
    eye shows narrower than the near one, which reads 1.0, and the other turn swaps them."""
    pts = grace_points
    front = eye_visibility(pts)
    assert min(front) > 0.8 and max(front) == 1.0
    left_turn, _ = _turn(pts, 60.0, 0.0)
    right_turn, _ = _turn(pts, -60.0, 0.0)
    a, b = eye_visibility(left_turn), eye_visibility(right_turn)
    assert max(a) == 1.0 and min(a) < 0.75
    assert (a[0] < a[1]) != (b[0] < b[1])  # the other eye is the far one
    assert max(b) == 1.0 and min(b) < 0.75


def test_an_eye_the_image_barely_shows_takes_the_other_eyes_closure(grace_points) -> None:  # type: ignore[no-untyped-def]
    """The landmarker squeezing a far eye's points together reads it closed; with the eye 10 %
    as wide as the other in the image it takes the open eye's closure (EyeConfig.hidden_eye),
    while the rule off lets it blink; a wink of an eye seen whole still closes that eye."""
    from vtuber.landmarks import face_mesh as fm

    pts = grace_points
    eye, iris, centre = _right_eye(pts)
    squeezed = pts.copy()
    squeezed[eye, 0] = centre[0] + 0.1 * (pts[eye, 0] - centre[0])
    squeezed[eye, 1] = centre[1]  # lids on the corner line: the lids read shut
    # its iris squeezed with it, where it was
    squeezed[iris, :2] = centre[:2] + 0.1 * (pts[iris, :2] - centre[:2])
    assert eye_visibility(squeezed)[1] < EyeConfig().hidden_eye[0]
    winked = pts.copy()
    lids = [*fm.UPPER_LID_R, *fm.LOWER_LID_R]
    winked[lids, 1] = centre[1]
    for hidden, frame, right_closed in (
        (EyeConfig().hidden_eye, squeezed, False),
        ((0.0, 0.0), squeezed, True),
        (EyeConfig().hidden_eye, winked, True),
    ):
        solver = _eye_solver(pts, hidden)
        for _ in range(3):
            r = solver.update(frame, np.eye(3))
        assert r.eyes.closed == (False, right_closed), hidden


def test_the_gaze_of_an_eye_the_image_barely_shows_does_not_count(grace_points) -> None:  # type: ignore[no-untyped-def]
    """A squeezed far eye's iris is no gaze: moving it leaves the gaze where the near eye puts
    it, while moving the near eye's iris moves the gaze."""
    from vtuber.landmarks import face_mesh as fm

    pts = grace_points
    eye, iris_r, centre = _right_eye(pts)
    iris_l = list(range(fm.IRIS_L, fm.IRIS_L + 5))
    squeezed = pts.copy()
    squeezed[eye + iris_r, 0] = centre[0] + 0.1 * (pts[eye + iris_r, 0] - centre[0])
    width_l = float(np.linalg.norm(pts[fm.EYE_OUTER_L, :2] - pts[fm.EYE_INNER_L, :2]))

    def gaze_yaw(frame: np.ndarray) -> float:
        return _eye_solver(pts).update(frame, np.eye(3)).eyes.yaw

    far = squeezed.copy()
    far[iris_r, 0] += 0.05 * width_l  # half the squeezed eye's width
    near = squeezed.copy()
    near[iris_l, 0] += 0.15 * width_l
    base = gaze_yaw(squeezed)
    assert gaze_yaw(far) == pytest.approx(base, abs=1e-9)
    assert abs(gaze_yaw(near) - base) > math.radians(5.0)


def _hand_around(point: np.ndarray, radius: float) -> np.ndarray:
    """21 hand points (pixels) on a circle of ``radius`` around ``point``: a hand whose outline
    is that circle (to the hull's 21-gon)."""
    a = np.linspace(0.0, 2.0 * math.pi, 21, endpoint=False)
    return np.stack([point[0] + radius * np.cos(a), point[1] + radius * np.sin(a), 0 * a], 1)


def test_a_hand_over_an_eye_covers_it(grace_points) -> None:  # type: ignore[no-untyped-def]
    """An eye is covered when its centre lies inside a found hand's outline widened by half a
    finger (0.15 of the distance between the eyes): a hand over the right eye covers it and
    not the left, one whose outline passes 0.1 from the eye's centre still covers it, one 0.25
    away does not, and two hands cover both."""
    from vtuber.landmarks import face_mesh as fm
    from vtuber.solvers.eyes import eyes_covered

    pts = grace_points
    _, _, right = _right_eye(pts)
    left = pts[[fm.EYE_OUTER_L, fm.EYE_INNER_L]].mean(axis=0)
    iod = float(np.linalg.norm(left[:2] - right[:2]))
    assert eyes_covered(pts, []) == (False, False)
    assert eyes_covered(pts, [_hand_around(right, 0.3 * iod)]) == (False, True)
    below = right + np.array([0.0, 0.4 * iod, 0.0])  # a fist under the eye, the face model's y down
    assert eyes_covered(pts, [_hand_around(below, 0.3 * iod)]) == (False, True)
    assert eyes_covered(pts, [_hand_around(below, 0.15 * iod)]) == (False, False)
    both = [_hand_around(left, 0.2 * iod), _hand_around(right, 0.2 * iod)]
    assert eyes_covered(pts, both) == (True, True)


def test_a_covered_eye_takes_the_other_eyes_closure(grace_points) -> None:  # type: ignore[no-untyped-def]
    """Behind a hand the face model's lid points are a guess: the covered eye takes the open
    eye's closure (no wink), a blink of the eye still seen closes both, both covered keep the
    last frame's eyes; a covered eye teaches the user's rest face nothing (its open level and
    blink depth stay as they were), while the mouth is still learned."""
    from vtuber.landmarks import face_mesh as fm

    pts = grace_points
    _, _, centre = _right_eye(pts)
    centre_l = pts[[fm.EYE_OUTER_L, fm.EYE_INNER_L]].mean(axis=0)
    winked, blink = pts.copy(), pts.copy()
    winked[[*fm.UPPER_LID_R, *fm.LOWER_LID_R], 1] = centre[1]
    blink[[*fm.UPPER_LID_R, *fm.LOWER_LID_R], 1] = centre[1]
    blink[[*fm.UPPER_LID_L, *fm.LOWER_LID_L], 1] = centre_l[1]
    for frame, covered, closed in (
        (winked, (False, False), (False, True)),  # seen: a wink
        (winked, (False, True), (False, False)),  # behind a hand: the lids' guess
        (blink, (False, True), (True, True)),  # the eye still seen closes both
        (blink, (True, True), (False, False)),  # both covered: as they were
    ):
        solver = _eye_solver(pts)
        ad = solver.adapter
        seen_open = [d.open_frames for d in ad.depth]
        mouth = ad.baseline.samples
        for _ in range(3):
            r = solver.update(frame, np.eye(3), covered=covered)
        assert r.eyes.closed == closed, covered
        for i in (0, 1):  # an open eye seen adds open frames; a covered one adds none
            assert (ad.depth[i].open_frames == seen_open[i]) == (covered[i] or closed[i]), covered
        assert ad.baseline.samples == mouth + 3
