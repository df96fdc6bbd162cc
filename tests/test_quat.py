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


# ------------------------------------------------- plain-float twins (*_tuple) vs numpy and scipy


def _signed(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    """Random double-cover signs (q and -q are one rotation; the twins must agree on both)."""
    return q * np.where(rng.uniform(size=(len(q), 1)) < 0.5, -1.0, 1.0)


def _same_rotation(a, b, atol: float = 1e-12) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return abs(abs(float(a @ b)) - 1.0) < atol


def test_tuple_twins_match_numpy_and_scipy_on_random_inputs() -> None:
    rng = np.random.default_rng(16)
    n = 300
    a, b = _signed(rng, rand_q(rng, n)), _signed(rng, rand_q(rng, n))
    a[:4] = [[0, 0, 0, 1], [0, 0, 0, -1], [1, 0, 0, 0], [0, 0.6, 0, -0.8]]  # identities, 180 deg
    ra, rb = Rotation.from_quat(a), Rotation.from_quat(b)
    m_ref = ra.as_matrix()
    v = rng.normal(0.0, 1.2, (n, 3))
    v[:3] = [[0.0, 0.0, 0.0], [1e-12, 0.0, 0.0], [0.0, -3e-9, 1e-9]]  # zero and tiny angles
    angles = rng.uniform(-2 * np.pi, 2 * np.pi, n)
    t = rng.uniform(-1.0, 2.0, n)
    for i in range(n):
        qa, qb = tuple(a[i]), tuple(b[i])
        # normalize
        raw = tuple(a[i] * rng.uniform(0.1, 10.0))
        np.testing.assert_allclose(quat.normalize_tuple(raw), quat.normalize(raw), atol=1e-15)
        # product and conjugate
        ab = quat.multiply_tuple(qa, qb)
        np.testing.assert_allclose(ab, quat.multiply(qa, qb), atol=1e-15)
        assert _same_rotation(ab, (ra[i] * rb[i]).as_quat())
        np.testing.assert_array_equal(quat.conjugate_tuple(qa), quat.conjugate(qa))
        assert _same_rotation(quat.conjugate_tuple(qa), ra[i].inv().as_quat())
        # mirror: conjugation by diag(-1, 1, 1)
        np.testing.assert_array_equal(quat.mirror_x_tuple(qa), quat.mirror_x(qa))
        S = np.diag([-1.0, 1.0, 1.0])
        np.testing.assert_allclose(
            np.array(quat.to_matrix_tuple(quat.mirror_x_tuple(qa))), S @ m_ref[i] @ S, atol=1e-12
        )
        # quaternion <-> matrix
        m = quat.to_matrix_tuple(qa)
        np.testing.assert_allclose(np.array(m), quat.to_matrix(qa), atol=1e-15)
        np.testing.assert_allclose(np.array(m), m_ref[i], atol=1e-12)
        back = quat.from_matrix_tuple(m_ref[i].tolist())
        np.testing.assert_array_equal(back, quat.from_matrix(m_ref[i]))
        assert back[3] >= 0.0 and _same_rotation(back, a[i])
        # rotation vector <-> quaternion
        rv = quat.to_rotvec_tuple(qa)
        np.testing.assert_allclose(rv, quat.to_rotvec(qa), atol=1e-14)
        np.testing.assert_allclose(rv, ra[i].as_rotvec(), atol=1e-12)  # both take w >= 0
        qv = quat.from_rotvec_tuple(tuple(v[i]))
        np.testing.assert_allclose(qv, quat.from_rotvec(v[i]), atol=1e-15)
        assert _same_rotation(qv, Rotation.from_rotvec(v[i]).as_quat())
        # axis-angle (the axis normalized by the function)
        axis = tuple(v[i] if i > 0 else (0.0, 0.0, 2.0))
        qaa = quat.from_axis_angle_tuple(axis, angles[i])
        np.testing.assert_allclose(qaa, quat.from_axis_angle(axis, angles[i]), atol=1e-15)
        ref = Rotation.from_rotvec(np.asarray(axis) / np.linalg.norm(axis) * angles[i])
        assert _same_rotation(qaa, ref.as_quat())
        unit_axis = tuple(np.asarray(axis) / np.linalg.norm(axis))
        qu = quat.from_unit_axis_angle_tuple(unit_axis, angles[i])
        np.testing.assert_allclose(qu, quat.from_axis_angle(unit_axis, angles[i]), atol=1e-15)
        # power: the same axis, t times the angle
        qp = quat.power_tuple(qa, t[i])
        np.testing.assert_allclose(qp, quat.power(qa, t[i]), atol=1e-14)
        assert _same_rotation(qp, Rotation.from_rotvec(ra[i].as_rotvec() * t[i]).as_quat())
        # shortest arc between two directions
        d1, d2 = v[i], rng.normal(size=3)
        q2 = quat.from_two_vectors_tuple(tuple(d1), tuple(d2)) if i > 2 else None
        if q2 is not None:
            np.testing.assert_allclose(q2, quat.from_two_vectors(d1, d2), atol=1e-14)
            np.testing.assert_allclose(
                Rotation.from_quat(q2).apply(d1 / np.linalg.norm(d1)),
                d2 / np.linalg.norm(d2),
                atol=1e-12,
            )
        # swing-twist about a random unit axis
        ax = rng.normal(size=3)
        ax /= np.linalg.norm(ax)
        sw, tw = quat.swing_twist_tuple(qa, tuple(ax))
        sw_np, tw_np = quat.swing_twist(qa, ax)
        np.testing.assert_allclose(sw, sw_np, atol=1e-14)
        np.testing.assert_allclose(tw, tw_np, atol=1e-14)
        assert _same_rotation(quat.multiply_tuple(sw, tw), qa)
        np.testing.assert_allclose(np.cross(quat.to_rotvec_tuple(tw), ax), 0.0, atol=1e-12)
        # the swing turns about an axis perpendicular to the twist axis
        assert abs(float(np.dot(quat.to_rotvec_tuple(sw), ax))) < 1e-9


def test_matrix_rotvec_pair_matches_scipy_and_opencv_on_random_inputs() -> None:
    """matrix <-> rotation vector (what head.py used cv2.Rodrigues for): the numpy pair and its
    plain-float twins against scipy's Rotation and OpenCV's Rodrigues, angles 0 to pi."""
    import cv2

    rng = np.random.default_rng(161)
    n = 200
    v = rng.normal(size=(n, 3))
    v *= (rng.uniform(0.0, np.pi, n) / np.linalg.norm(v, axis=1))[:, None]
    v[:4] = [[0.0, 0.0, 0.0], [1e-12, 0.0, 0.0], [0.0, -3e-9, 1e-9], [0.0, 0.0, np.pi - 1e-9]]
    m_ref = Rotation.from_rotvec(v).as_matrix()
    m = quat.rotvec_to_matrix(v)  # stacks too
    np.testing.assert_allclose(m, m_ref, atol=1e-14)
    for i in range(n):
        mi = quat.rotvec_to_matrix(v[i])
        np.testing.assert_allclose(mi, m[i], atol=0)
        np.testing.assert_allclose(
            np.array(quat.rotvec_to_matrix_tuple(tuple(v[i]))), mi, atol=1e-15
        )
        np.testing.assert_allclose(mi, cv2.Rodrigues(v[i])[0], atol=1e-14)
        back = quat.matrix_to_rotvec(m_ref[i])
        np.testing.assert_allclose(quat.matrix_to_rotvec_tuple(m_ref[i].tolist()), back, atol=0)
        if np.linalg.norm(v[i]) < np.pi - 1e-6:  # at pi, v and -v are one rotation
            np.testing.assert_allclose(back, v[i], atol=1e-12)
            np.testing.assert_allclose(back, Rotation.from_matrix(m_ref[i]).as_rotvec(), atol=1e-12)
            if i >= 3:  # OpenCV returns a zero vector below its own small-angle threshold
                np.testing.assert_allclose(back, cv2.Rodrigues(m_ref[i])[0].ravel(), atol=1e-12)
        else:
            np.testing.assert_allclose(quat.rotvec_to_matrix(back), m_ref[i], atol=1e-12)


def test_tuple_twins_edge_cases() -> None:
    # Opposite directions: a half turn about some perpendicular axis.
    for d in ((1.0, 0.0, 0.0), (0.0, 0.0, -2.0), (0.3, -0.4, 0.5)):
        q = quat.from_two_vectors_tuple(d, tuple(-np.asarray(d)))
        out = Rotation.from_quat(q).apply(np.asarray(d) / np.linalg.norm(d))
        np.testing.assert_allclose(out, -np.asarray(d) / np.linalg.norm(d), atol=1e-12)
    # A zero axis or vector gives NaNs, as numpy's 0/0 does (not an exception mid-frame).
    assert np.isnan(quat.from_axis_angle_tuple((0.0, 0.0, 0.0), 1.0)[0])
    assert np.isnan(quat.from_two_vectors_tuple((0.0, 0.0, 0.0), (1.0, 0.0, 0.0))[0])
    # The short way: q and -q give the same rotation vector, of angle <= pi.
    q = quat.from_axis_angle_tuple((0.0, 1.0, 0.0), 3.0)
    assert quat.to_rotvec_tuple(q) == quat.to_rotvec_tuple(tuple(-c for c in q))
    # A twist about an axis the rotation has no part of is the identity.
    q = quat.from_axis_angle_tuple((0.0, 1.0, 0.0), np.pi)
    sw, tw = quat.swing_twist_tuple(q, (1.0, 0.0, 0.0))
    assert tw == (0.0, 0.0, 0.0, 1.0) and sw == q


# Fingerprints of rotation and frame formulas written out by hand: (what, pattern, the only files
# of the package that may hold it, a line of an old copy the pattern must catch).
COPY_PRINTS = (
    ("quaternion -> matrix", r"1(\.0)? - 2(\.0)? \* \(", {"quat.py"},
     "fz = 1.0 - 2.0 * (x * x + y * y)"),
    ("rotation vector's small-angle series", r"/ 48", {"quat.py"}, "0.5 - a * a / 48.0"),
    ("quaternion log", r"atan2\(s, ", {"quat.py"}, "angle = 2.0 * math.atan2(s, w)"),
    ("mirror", r"-q\[1\], -q\[2\]", {"quat.py"}, "(q[0], -q[1], -q[2], q[3])"),
    # matrix <-> rotation vector: quat.matrix_to_rotvec / rotvec_to_matrix (and *_tuple)
    ("OpenCV's Rodrigues", r"cv2\.Rodrigues", set(), "rvec, _ = cv2.Rodrigues(rotation)"),
    ("Rodrigues' formula", r"np\.eye\(3\) \+|\bk @ k\b", set(),
     "return np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)"),
    # elementary rotation matrices: quat.from_axis_angle + to_matrix
    ("elementary rotation matrix", r"\bc\w*, -s\w*\b", set(),
     "rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])"),
    ("matrix times an elementary rotation", r"\bc\w* \* \w+ [+-] s\w* \* \w+", set(),
     "(a0, ca * a1 + sa * a2, ca * a2 - sa * a1),"),
    # the nearest rotation (Kabsch, chordal mean, re-orthogonalising) and the angle between
    # two rotation matrices: quat.nearest_rotation, quat.matrix_angle
    ("SVD projection onto rotations", r"linalg\.svd", {"quat.py"},
     "u, _, vt = np.linalg.svd(cloud.T @ self._ref)"),
    ("rotation angle from a trace", r"- 1(\.0)?\) / 2", {"quat.py"},
     'c = (float(np.einsum("ij,ij->", a, b)) - 1.0) / 2.0  # trace(a @ b.T)'),
    # a frame from two directions, cross products: vtuber/solvers/geometry.py (basis, basis3,
    # cross3) beside quat.py's own
    ("cross product on plain floats",
     r"\b(\w)y \* (\w)z - \1z \* \2y\b" r"|\[1\] \* \w+\[2\] - \w+\[2\] \* \w+\[1\]",
     {"quat.py", "solvers/geometry.py"},
     "back = np.array([s * (iy * pz - iz * py), s * (iz * px - ix * pz), s * (ix * py - iy * px)"),
)  # fmt: skip


def test_rotation_formulas_are_written_only_in_quat() -> None:
    """Fingerprints of the rotation formulas (quaternion -> matrix, the rotation vector's
    small-angle series and log, the mirror, matrix <-> rotation vector, elementary rotation
    matrices) appear in vtuber/quat.py and nowhere else in the package; those of frames built
    from two directions (cross products) only in vtuber/solvers/geometry.py beside it."""
    import re
    from pathlib import Path

    pkg = Path(quat.__file__).resolve().parent
    files = {p.relative_to(pkg).as_posix(): p.read_text() for p in sorted(pkg.rglob("*.py"))}
    found = []
    for what, pattern, allowed, old_copy in COPY_PRINTS:
        rx = re.compile(pattern)
        assert rx.search(old_copy), f"the {what} fingerprint misses the copy it is for"
        for name, text in files.items():
            if name not in allowed:
                found += [
                    f"{name}:{n}: {what}"
                    for n, line in enumerate(text.splitlines(), 1)
                    if rx.search(line)
                ]
        for name in allowed:  # the home holds it (the check can match real code)
            assert rx.search(files[name]), f"{what} not found in its home {name}"
    assert found == []


def test_nearest_rotation_and_matrix_angle() -> None:
    """nearest_rotation recovers a rotation from a noisy or scaled copy, never returns a
    reflection, works on stacks; matrix_angle agrees with the quaternion angle."""
    rng = np.random.default_rng(7)
    qs = quat.normalize(rng.normal(size=(20, 4)))
    rots = quat.to_matrix(qs)
    noisy = 2.5 * rots + rng.normal(0.0, 0.01, rots.shape)
    got = quat.nearest_rotation(noisy)
    assert got.shape == (20, 3, 3)
    assert np.allclose(np.linalg.det(got), 1.0)
    assert max(quat.matrix_angle(g, r) for g, r in zip(got, rots, strict=True)) < 0.02
    # A reflection's nearest proper rotation, not the reflection itself.
    refl = rots[0] @ np.diag([1.0, 1.0, -1.0])
    assert np.linalg.det(quat.nearest_rotation(refl)) > 0.0
    # Kabsch: a rotated point cloud gives back its rotation.
    pts = rng.normal(size=(30, 3))
    pts -= pts.mean(axis=0)
    moved = pts @ rots[1].T
    assert quat.matrix_angle(quat.nearest_rotation(moved.T @ pts), rots[1]) < 1e-9
    for a, b in zip(qs[:-1], qs[1:], strict=True):
        ang = quat.matrix_angle(quat.to_matrix(a), quat.to_matrix(b))
        assert abs(ang - float(quat.angle_between(a, b))) < 1e-6
