"""Head pose from face landmarks with cv2.solvePnP against a 3D face model.

Frames (docs/coordinates.md):
- The face model (vtuber/data/face_model.npy, built by scripts/make_face_model.py from real photos)
  is in MediaPipe landmark order and axes: x to the image right, y down, z away from the camera,
  centimetres. A face looking straight into the camera has rotation identity.
- solvePnP gives the model -> OpenCV camera rotation (x right, y down, z forward).
- The avatar's head rotation (Unity basis, avatar facing +Z) has the SAME matrix: mapping camera
  axes to the avatar's anatomical axes (user's right = camera -x, up = -y, forward = -z) is -I,
  which commutes with every rotation. So ``quat.from_matrix(R @ R_neutral.T)`` is the anatomical
  (un-mirrored) head rotation of a normalized humanoid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.landmarks import face_mesh as fm

F64 = NDArray[np.float64]


@lru_cache(maxsize=1)
def face_model() -> F64:
    """The generic 3D face model, (478, 3) centimetres, MediaPipe axes."""
    with resources.files("vtuber.data").joinpath("face_model.npy").open("rb") as f:
        return np.load(f).astype(np.float64)


def face_width_px(points: NDArray[np.floating], width: int, height: int) -> float:
    """How wide a face is in the image, as if it faced the camera: the 3D distance between its
    outer eye corners in pixels (normalized landmarks; FaceMesh's z is scaled like x) times the
    face model's width over that distance (13.7 cm over 8.9), so a turned head does not read
    smaller: close to the face corpus's face width, the spread of the face's points facing the
    camera (docs/face_corpus.md, "Small faces")."""
    a, b = points[fm.EYE_OUTER_L], points[fm.EYE_OUTER_R]
    dx, dy, dz = (
        float(a[0] - b[0]) * width,
        float(a[1] - b[1]) * height,
        float(a[2] - b[2]) * width,
    )
    return _width_over_eyes() * math.sqrt(dx * dx + dy * dy + dz * dz)


@lru_cache(maxsize=1)
def _width_over_eyes() -> float:
    """The face model's width (its 468 points' spread in x) over its outer eye corners'
    distance."""
    model = face_model()
    eyes = np.linalg.norm(model[fm.EYE_OUTER_L] - model[fm.EYE_OUTER_R])
    return float(np.ptp(model[:468, 0]) / eyes)


def mirror_pairs(model: F64) -> NDArray[np.intp]:
    """For each landmark, the index of its left/right counterpart (itself on the midline),
    found as the nearest point to its x-reflection."""
    refl = model * np.array([-1.0, 1.0, 1.0])
    d = np.linalg.norm(model[None, :, :] - refl[:, None, :], axis=-1)
    return np.argmin(d, axis=1)


def similarity_align(src: F64, dst: F64, scale: bool = True) -> F64:
    """``src`` moved onto ``dst`` by the least-squares rotation (+ scale) + translation
    (Umeyama / Kabsch)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    cov = b.T @ a
    r = quat.nearest_rotation(cov)
    k = float(np.einsum("ij,ij->", r, cov)) / float((a**2).sum()) if scale else 1.0
    return (k * (r @ a.T)).T + md


def camera_matrix(width: int, height: int, hfov_deg: float = 60.0) -> F64:
    """Pinhole intrinsics for a webcam of the given horizontal field of view."""
    f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


@lru_cache(maxsize=8)
def _camera_matrix_ro(width: int, height: int, hfov_deg: float) -> F64:
    """:func:`camera_matrix`, cached per frame size (read-only)."""
    k = camera_matrix(width, height, hfov_deg)
    k.flags.writeable = False
    return k


# The points used for the pose: the 468 mesh points minus the face outline and the lips.
POSE_POINTS: NDArray[np.intp] = np.setdiff1d(np.arange(468), np.array(fm.FACE_OVAL + fm.LIPS))


@lru_cache(maxsize=1)
def _pose_model_points() -> F64:
    """``face_model()[POSE_POINTS]``, contiguous, computed once (read-only)."""
    obj = np.ascontiguousarray(face_model()[POSE_POINTS], dtype=np.float64)
    obj.flags.writeable = False
    return obj


_NO_DISTORTION = np.zeros(4)
_NO_DISTORTION.flags.writeable = False
# Row sums as one BLAS product (ones @ cloud): ~5x cheaper than cloud.mean(axis=0).
_POSE_ONES = np.ones(len(POSE_POINTS))

# FaceMesh's 2D landmarks lag behind a turning head: on faces rendered at known angles
# (vtuber.synth.face; docs/head_pose.md) solvePnP recovers only ~80-87 % of the true pitch and
# yaw, while roll is exact. The gains undo that, per component of the rotation vector (x: pitch
# axis, y: yaw axis, z: roll axis). FaceMesh also reports a turned face as looking slightly up:
# YAW_PITCH_COUPLING_DEG * (1 - cos(yaw)) degrees, ~4 deg at 45 deg of yaw. Both were measured
# on a yaw x pitch x roll grid of renders of two photos, and cross-checked photo against photo.
# Since the head is corrected around the user's first reading rather than the camera axis
# (vtuber.solvers.adaptation.StartingHead), both yaw gains (here and in ROTATION_GAIN_3D) are
# 0.95 of those first fits: a scale on a grid chosen on the face corpus's five training faces,
# two performances each (mean head error 2.32 -> 2.20 deg; x1.0 / 0.975 / 0.95 / 0.925 / 0.9:
# 2.32 / 2.24 / 2.20 / 2.20 / 2.23; the validation faces 2.40 -> 2.01, docs/face_corpus.md).
ROTATION_GAIN: F64 = np.array([1.2, 1.0925, 1.0])
YAW_PITCH_COUPLING_DEG = 15.0

# The second estimate (docs/head_pose.md): Kabsch of the user's own FaceMesh 3D landmarks (x, y
# pixels, z scaled like x) at a reference pose onto the frame's. Its biases differ from solvePnP's
# (it over-reports pitch, under-reports yaw, and its pitch errors are uncorrelated with
# solvePnP's), so it is corrected with its own gains and the two are blended:
# FUSION_WEIGHT of the way from the solvePnP rotation to the Kabsch one. Fitted on renders of
# both photos at 64 seeded random poses disjoint from the test poses; cross-checked photo against
# photo.
ROTATION_GAIN_3D: F64 = np.array([0.92, 1.045, 1.0])
YAW_PITCH_COUPLING_3D_DEG = 16.5
FUSION_WEIGHT = 0.78


_X = (1.0, 0.0, 0.0)


def correct_rotation(
    rotation: F64, gain: F64 = ROTATION_GAIN, coupling_deg: float = YAW_PITCH_COUPLING_DEG
) -> F64:
    """FaceMesh's bias removed from a 3x3 head rotation relative to the neutral pose (camera
    frame = avatar Unity basis): the rotation vector scaled per axis by ``gain``, then the head
    pitched down (about its own x axis) by ``coupling_deg * (1 - cos(yaw))``."""
    # Plain floats (vtuber.quat's twins): numpy's call overhead dominates on one 3x3 matrix.
    vx, vy, vz = quat.matrix_to_rotvec_tuple(np.asarray(rotation, dtype=np.float64).tolist())
    gx, gy, gz = np.asarray(gain, dtype=np.float64).tolist()
    q = quat.from_rotvec_tuple((vx * gx, vy * gy, vz * gz))
    r = quat.to_matrix_tuple(q)
    if coupling_deg:
        yaw = math.atan2(r[0][2], r[2][2])  # of the forward (+z) axis
        a = math.radians(coupling_deg * (1.0 - math.cos(yaw)))
        r = quat.to_matrix_tuple(quat.multiply_tuple(q, quat.from_unit_axis_angle_tuple(_X, a)))
    return np.array(r)


def fuse_rotations(a: F64, b: F64, weight: float) -> F64:
    """The rotation ``weight`` of the way from ``a`` to ``b`` (3x3; geodesic interpolation)."""
    step = quat.power_tuple(quat.from_matrix_tuple((b @ a.T).tolist()), weight)
    return np.array(quat.to_matrix_tuple(step)) @ a


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Pose of the face model in the OpenCV camera frame.

    rotation: 3x3 matrix model -> camera; quaternion: the same as (x, y, z, w);
    translation: centimetres in the camera frame; reprojection_error: RMS pixels over the points
    used. rotation_3d: the second, landmark-3D estimate of the same rotation (Kabsch of the
    tracker's reference cloud onto this frame's FaceMesh 3D points; None outside a
    :class:`HeadTracker`), fused with ``rotation`` by :meth:`HeadTracker.avatar_rotation`.
    """

    rotation: F64
    quaternion: F64
    rvec: F64
    translation: F64
    reprojection_error: float
    rotation_3d: F64 | None = None


def solve_head_pose(
    points_px: F64,
    width: int,
    height: int,
    *,
    model: F64 | None = None,
    indices: NDArray[np.intp] = POSE_POINTS,
    hfov_deg: float = 60.0,
    guess: HeadPose | None = None,
) -> HeadPose:
    """Head pose from face landmarks in pixels ((478, 3) or (468+, 2+); only x, y are used).

    Without ``guess``: SQPnP, a global solver (no starting point, no wrong branch); on rendered
    ground truth it is as accurate as adding a Levenberg-Marquardt polish and ~8x cheaper
    (docs/head_pose.md). With ``guess`` (a previous pose): Levenberg-Marquardt started there.
    """
    if model is None and indices is POSE_POINTS:
        obj = _pose_model_points()
    else:
        mdl = face_model() if model is None else model
        obj = np.ascontiguousarray(mdl[indices], dtype=np.float64)
    img = np.ascontiguousarray(points_px.take(indices, axis=0)[:, :2], dtype=np.float64)
    K = _camera_matrix_ro(width, height, float(hfov_deg))
    dist = _NO_DISTORTION
    if guess is not None:
        rvec0 = guess.rvec.reshape(3, 1).copy()
        tvec0 = guess.translation.reshape(3, 1).copy()
        ok, rvec, tvec = cv2.solvePnP(obj, img, K, dist, rvec0, tvec0, True, cv2.SOLVEPNP_ITERATIVE)
    else:
        ok, rvec, tvec = cv2.solvePnP(obj, img, K, dist, flags=cv2.SOLVEPNP_SQPNP)
    rvec = np.asarray(rvec, dtype=np.float64).reshape(3)
    tvec = np.asarray(tvec, dtype=np.float64).reshape(3)
    R = np.array(quat.rotvec_to_matrix_tuple(rvec.tolist()))
    # RMS reprojection error over the points used (pinhole, no distortion).
    # (Column form, one contiguous row per axis: ~2x cheaper than row form on 400 points.)
    cam = R @ obj.T + tvec[:, None]  # (3, n)
    f_z = K[0, 0] / cam[2]
    dx = cam[0] * f_z + K[0, 2] - img[:, 0]
    dy = cam[1] * f_z + K[1, 2] - img[:, 1]
    err = math.sqrt(float(dx @ dx + dy @ dy) / len(dx))
    return HeadPose(R, quat.from_matrix(R), rvec, tvec, err)


# A head does not turn this far between two frames; a bigger jump is checked against the
# previous pose (degrees).
MAX_JUMP_DEG = 25.0
_MAX_JUMP_RAD = math.radians(MAX_JUMP_DEG)


class HeadTracker:
    """Stateful wrapper. Each frame is solved globally (SQPnP); when that jumps more than
    :data:`MAX_JUMP_DEG` from the previous frame, the solve is repeated from the previous pose as
    the starting guess and the better fit (reprojection error) wins. The previous pose is
    forgotten after a lost face or a bad fit. ``neutral`` (a 3x3 rotation, from calibration) is
    the pose that maps to the avatar's identity head.

    Second estimate: the tracker keeps a reference cloud of the user's own FaceMesh 3D landmarks
    (the frame seen closest to ``neutral``, rotated back to the model's orientation by that
    frame's solvePnP rotation) and Kabsch-aligns it to each frame's 3D landmarks
    (``HeadPose.rotation_3d``); :meth:`avatar_rotation` corrects both estimates and blends them."""

    def __init__(self, hfov_deg: float = 60.0, model: F64 | None = None) -> None:
        self.hfov_deg = hfov_deg
        self.model = model
        self._neutral: F64 = np.eye(3)
        self._prev: HeadPose | None = None
        # Reference for the 3D estimate: centred cloud in the model's orientation, and the angle
        # (degrees) of its frame from neutral. The last frame's cloud is a candidate when
        # neutral changes.
        self._ref: F64 | None = None
        self._ref_rotation: F64 = np.eye(3)
        self._ref_angle = np.inf
        self._last: tuple[F64, F64] | None = None  # (centred cloud, PnP rotation)

    @property
    def neutral(self) -> F64:
        return self._neutral

    @neutral.setter
    def neutral(self, rotation: F64) -> None:
        self._neutral = np.asarray(rotation, dtype=np.float64)
        if self._ref is not None:
            self._ref_angle = math.degrees(quat.matrix_angle(self._ref_rotation, self._neutral))
        if self._last is not None:
            self._offer_reference(*self._last)

    def _offer_reference(self, cloud: F64, rotation: F64) -> None:
        """Keep ``cloud`` (centred, camera frame) as the reference if its pose is the closest
        to neutral so far."""
        ang = math.degrees(quat.matrix_angle(rotation, self._neutral))
        if ang < self._ref_angle:
            self._ref = cloud @ rotation  # rotated back to the model's orientation (R.T per row)
            self._ref_rotation = rotation
            self._ref_angle = ang

    def reset(self) -> None:
        """A frame without a face: the next solve starts fresh (no starting guess)."""
        self._prev = None

    def forget(self) -> None:
        """The face is gone for good (maybe another person comes): drop the 3D reference cloud
        too, so the next face is measured against its own."""
        self._prev = None
        self._ref = None
        self._ref_rotation = np.eye(3)
        self._ref_angle = np.inf
        self._last = None

    def update(self, points_px: F64, width: int, height: int) -> HeadPose:
        pose = solve_head_pose(points_px, width, height, model=self.model, hfov_deg=self.hfov_deg)
        prev = self._prev
        if prev is not None and quat.matrix_angle(pose.rotation, prev.rotation) > _MAX_JUMP_RAD:
            alt = solve_head_pose(
                points_px, width, height, model=self.model, hfov_deg=self.hfov_deg, guess=prev
            )
            if alt.reprojection_error < pose.reprojection_error:
                pose = alt
        # A fit worse than ~5 % of the face width means a wrong branch: start fresh next time.
        face_w = float(np.ptp(points_px[:, 0]))
        good = pose.reprojection_error < 0.05 * max(face_w, 1.0)
        self._prev = pose if good else None
        if points_px.shape[1] < 3:
            return pose
        cloud = points_px.take(POSE_POINTS, axis=0)[:, :3]
        cloud = cloud - (_POSE_ONES @ cloud) / len(cloud)
        if good:
            self._last = (cloud, pose.rotation)
            self._offer_reference(cloud, pose.rotation)
        if self._ref is None:
            return pose
        # Kabsch of the two centred clouds: R maximizing trace(R.T @ cloud.T @ ref).
        kabsch = quat.nearest_rotation(cloud.T @ self._ref)
        return HeadPose(
            pose.rotation,
            pose.quaternion,
            pose.rvec,
            pose.translation,
            pose.reprojection_error,
            rotation_3d=kabsch,
        )

    def avatar_rotation(self, pose: HeadPose) -> F64:
        """The anatomical (un-mirrored) head rotation for the avatar, Unity basis, (x, y, z, w):
        the pose relative to ``neutral``, with FaceMesh's biases corrected
        (:func:`correct_rotation`), the solvePnP and the 3D estimates blended
        (:data:`FUSION_WEIGHT`)."""
        rot = correct_rotation(pose.rotation @ self._neutral.T)
        if pose.rotation_3d is not None:
            rot3 = correct_rotation(
                pose.rotation_3d @ self._neutral.T, ROTATION_GAIN_3D, YAW_PITCH_COUPLING_3D_DEG
            )
            rot = fuse_rotations(rot, rot3, FUSION_WEIGHT)
        return quat.from_matrix(rot)
