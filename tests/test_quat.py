import numpy as np
from scipy.spatial.transform import Rotation

from vtuber import quat


def rand_q(rng, n):
    return Rotation.random(n, random_state=rng).as_quat()


def test_multiply_and_matrix_match_scipy():
    rng = np.random.default_rng(1)
    a, b = rand_q(rng, 50), rand_q(rng, 50)
    ours = quat.multiply(a, b)
    ref = (Rotation.from_quat(a) * Rotation.from_quat(b)).as_quat()
    assert np.allclose(np.abs(np.sum(ours * ref, axis=1)), 1.0, atol=1e-9)
    assert np.allclose(quat.to_matrix(a), Rotation.from_quat(a).as_matrix(), atol=1e-9)


def test_matrix_round_trip_and_rotvec():
    rng = np.random.default_rng(2)
    for q in rand_q(rng, 100):
        q2 = quat.from_matrix(quat.to_matrix(q))
        assert quat.angle_between(q, q2) < 1e-6
        v = quat.to_rotvec(q)
        assert np.linalg.norm(v) <= np.pi + 1e-9
        assert quat.angle_between(quat.from_rotvec(v), q) < 1e-6


def test_power_splits_rotation():
    q = quat.from_axis_angle([0.2, 1.0, 0.1], 1.2)
    a = quat.power(q, 0.35)
    b = quat.power(q, 0.65)
    assert quat.angle_between(quat.multiply(a, b), q) < 1e-9
    assert np.isclose(quat.angle_between(a, quat.IDENTITY), 0.35 * 1.2)


def test_mirror_x_flips_yaw_and_roll_not_pitch():
    yaw = quat.from_axis_angle([0, 1, 0], 0.5)
    pitch = quat.from_axis_angle([1, 0, 0], 0.5)
    roll = quat.from_axis_angle([0, 0, 1], 0.5)
    assert np.allclose(quat.mirror_x(yaw), quat.from_axis_angle([0, 1, 0], -0.5))
    assert np.allclose(quat.mirror_x(pitch), pitch)
    assert np.allclose(quat.mirror_x(roll), quat.from_axis_angle([0, 0, 1], -0.5))
    # Conjugating by the reflection diag(-1, 1, 1) is what mirror_x means.
    rng = np.random.default_rng(3)
    S = np.diag([-1.0, 1.0, 1.0])
    for q in rand_q(rng, 20):
        assert np.allclose(quat.to_matrix(quat.mirror_x(q)), S @ quat.to_matrix(q) @ S, atol=1e-9)


def test_from_two_vectors():
    q = quat.from_two_vectors([1, 0, 0], [0, 1, 0])
    assert np.allclose(quat.rotate(q, [1, 0, 0]), [0, 1, 0], atol=1e-12)
    q = quat.from_two_vectors([1, 0, 0], [-1, 0, 0])
    assert np.allclose(quat.rotate(q, [1, 0, 0]), [-1, 0, 0], atol=1e-12)
