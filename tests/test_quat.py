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


def test_row_forms_match_scipy_on_random_inputs():
    rng = np.random.default_rng(4)
    a, b = rand_q(rng, 200), rand_q(rng, 200)
    # Random double-cover signs: q and -q are one rotation.
    a *= np.where(rng.uniform(size=(200, 1)) < 0.5, -1.0, 1.0)
    ra, rb = Rotation.from_quat(a), Rotation.from_quat(b)
    ab = quat.multiply_rows(a, b)
    np.testing.assert_allclose(ab, quat.multiply(a, b), atol=1e-15)
    assert np.allclose(np.abs(np.sum(ab * (ra * rb).as_quat(), axis=1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(quat.conjugate_rows(a), ra.inv().as_quat(), atol=0)
    rv = quat.to_rotvec_rows(a)
    np.testing.assert_allclose(rv, ra.as_rotvec(), atol=1e-12)  # scipy also takes w >= 0
    assert np.all(np.linalg.norm(rv, axis=1) <= np.pi + 1e-12)
    v = rng.normal(0.0, 1.5, (200, 3))
    v[:3] = [[0.0, 0.0, 0.0], [1e-12, 0.0, 0.0], [0.0, -3e-9, 1e-9]]  # zero and tiny angles
    q = quat.from_rotvec_rows(v)
    ref = Rotation.from_rotvec(v).as_quat()
    assert np.allclose(np.abs(np.sum(q * ref, axis=1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(quat.to_rotvec_rows(quat.from_rotvec_rows(v[:3])), v[:3], atol=1e-20)
    w = rng.uniform(0.0, 1.0, 200)
    s = quat.slerp_rows(a, b, w)
    for i in range(0, 200, 7):  # scipy's Slerp on each pair
        from scipy.spatial.transform import Slerp

        ref_i = Slerp([0.0, 1.0], Rotation.from_quat([a[i], b[i]]))([w[i]]).as_quat()[0]
        assert abs(abs(float(s[i] @ ref_i)) - 1.0) < 1e-12
    np.testing.assert_allclose(np.abs(np.sum(s * quat.slerp(a, b, w), axis=1)), 1.0, atol=1e-12)
