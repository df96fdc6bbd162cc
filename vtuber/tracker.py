"""Landmarks -> AvatarFrame: runs the solvers and assembles the anatomical (un-mirrored) frame.

The pipeline applies smoothing and then the mirror choice (:func:`vtuber.rig.mirror_frame`) to
the frame built here, exactly once.
"""

from __future__ import annotations

import math

import numpy as np

from vtuber import quat
from vtuber.config import TrackConfig
from vtuber.landmarks import Landmarks
from vtuber.rig import AvatarFrame, Bone, Tracking, mirror_blendshape_key
from vtuber.solvers.adaptation import RestingHead, StartingHead, pose_features
from vtuber.solvers.arkit import ArkitCalibration, ArkitSolver, Geometry
from vtuber.solvers.body import BodyConfig, BodySolution, solve_landmarks
from vtuber.solvers.calibration import Calibrator, FaceProfile
from vtuber.solvers.expressions import FaceSolver, measure
from vtuber.solvers.eyes import eyes_covered
from vtuber.solvers.head import HeadTracker

Quat = tuple[float, float, float, float]


def _split_head(q: np.ndarray, neck_share: float) -> tuple[Quat, Quat]:
    """:func:`split_head` on plain floats (the per-frame path: numpy costs ~20x more on one
    quaternion): neck = q^s, head = conj(neck) * q."""
    qt = (float(q[0]), float(q[1]), float(q[2]), float(q[3]))
    neck = quat.power_tuple(qt, neck_share)
    return neck, quat.multiply_tuple(quat.conjugate_tuple(neck), qt)


def split_head(q: np.ndarray, neck_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a head rotation (relative to the chest) into Neck and Head local rotations:
    neck = q^s, head = q^(1-s) (same axis, so neck * head == q)."""
    neck, head = _split_head(np.asarray(q, dtype=np.float64), neck_share)
    return np.array(neck), np.array(head)


def _blink_together(blend: dict[str, float]) -> None:
    """FaceConfig.winks False: both eyes send the lesser blink of the two (in place), VRM 1.0's
    keys and ARKit's (perfect sync)."""
    for left in ("blinkLeft", "eyeBlinkLeft"):
        right = mirror_blendshape_key(left)
        if left in blend and right in blend:
            blend[left] = blend[right] = min(blend[left], blend[right])


def _yaw_pitch(q: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch (radians) of the head's forward axis for an avatar head rotation (x, y, z,
    w), Unity basis: yaw > 0 toward the avatar's right, pitch > 0 up."""
    m = quat.to_matrix_tuple(quat.normalize_tuple([float(v) for v in q]))
    fx, fy, fz = m[0][2], m[1][2], m[2][2]  # the rotated forward (+z) axis
    return math.atan2(fx, fz), math.atan2(fy, math.hypot(fx, fz))


class ProfileRecorder:
    """What ``vtuber calibrate`` records: each frame's head pose (model -> camera, ``hfov_deg``
    the camera's field of view) and face measures, with the Face Landmarker's 52 coefficients
    where the backend gives them, into :attr:`calibrator`, whose ``profile()`` is the user's
    neutral face (vtuber.solvers.calibration.FaceProfile)."""

    def __init__(self, hfov_deg: float = TrackConfig.hfov_deg) -> None:
        self.head = HeadTracker(hfov_deg=hfov_deg)
        self.calibrator = Calibrator()

    def add(self, lm: Landmarks) -> bool:
        """Record one frame; False (nothing recorded, the head pose starts afresh) without a
        face."""
        if not lm.face.found:
            self.head.reset()
            return False
        pts = lm.face_pixels()
        pose = self.head.update(pts, lm.width, lm.height)
        m = measure(pts, pose.rotation, lm.face.mouth_dark)
        self.calibrator.add(
            m, pose.rotation, lm.face.blendshapes if lm.face.has_blendshapes else None
        )
        return True

    def __len__(self) -> int:
        return len(self.calibrator)


class Tracker:
    """Holds the per-user solver state (head pose guess, calibration) and builds frames.

    ``forget_after_s``: a face missing this long is forgotten (its 3D reference and its learned
    rest face): the next face may be someone else's. Shorter dropouts keep what was learned.
    """

    forget_after_s = 1.0

    def __init__(
        self, config: TrackConfig | None = None, profile: FaceProfile | None = None
    ) -> None:
        self.config = config or TrackConfig()
        self.head = HeadTracker(hfov_deg=self.config.hfov_deg)
        # Blink, gaze, mouth, brows, emotions; a calibration profile or on-the-fly adaptation.
        self.face = FaceSolver(self.config.face, profile)
        self._seen = -math.inf  # time of the last frame with a face
        self._person: int | None = None  # Landmarks.person of the last face (lock-on's id)
        # Without a recorded neutral head, where the head rests is learned (a camera above or
        # below the screen); a profile's neutral is taken as given.
        self.resting: RestingHead | None = RestingHead() if profile is None else None
        # ... and until it is, the user's first head reading is the neutral.
        self.starting: StartingHead | None = StartingHead() if profile is None else None
        if profile is not None:
            self.head.neutral = profile.neutral_rotation()
        # Perfect sync (Face Landmarker backend): calibrated ARKit weights + derived VRM presets.
        # A profile recorded with the Face Landmarker gives its starting rest.
        cal = None
        if profile is not None and profile.arkit_rest is not None:
            cal = ArkitCalibration(rest=np.asarray(profile.arkit_rest, np.float32))
        self.arkit = ArkitSolver(cal, expressions=self.config.face.expressions)
        self._body_config = BodyConfig(legs=self.config.legs)

    @property
    def person(self) -> int | None:
        """Lock-on's id of the person whose face this tracker has learned (None: unknown, or
        forgotten)."""
        return self._person

    def _forget(self) -> None:
        """Learn the next face afresh (no inherited 3D reference, rest face or ARKit rest)."""
        self.head.forget()
        self.face.reset()
        if self.resting is not None:
            self.resting.reset()
        if self.starting is not None:
            self.starting.reset()
        self.arkit.recalibrate()
        self._person = None

    def solve(self, lm: Landmarks, t_capture: float = 0.0, index: int = 0) -> AvatarFrame:
        """The anatomical avatar frame for one image's landmarks."""
        bones: dict[Bone, tuple[float, float, float, float]] = {}
        blend: dict[str, float] = {}
        face = lm.face.found
        body: BodySolution | None = None
        if self.config.mode == "full":  # hands, arms, spine (vtuber.solvers.body)
            body = solve_landmarks(lm, self._body_config)
            bones.update(body.bones)
        if face and lm.person != self._person:
            if self._person is not None and lm.person is not None:
                self._forget()  # lock-on gave this avatar another person
            self._person = lm.person
        if face:
            pts = lm.face_pixels()
            pose = self.head.update(pts, lm.width, lm.height)
            if self.starting is not None and not self.starting.done:
                self.head.neutral = self.starting.update(pose.rotation)
            head_q = self.head.avatar_rotation(pose)
            yaw, pitch = _yaw_pitch(head_q)  # relative to the camera: what the measures see
            if self.resting is not None:  # the user's resting head faces forward
                off = self.resting.update(lm.t, quat.to_rotvec_tuple(head_q.tolist()))
                if off != (0.0, 0.0, 0.0):
                    rest = quat.conjugate_tuple(quat.from_rotvec_tuple(off))
                    head_q = np.array(quat.multiply_tuple(head_q.tolist(), rest))
            if body is not None and body.torso:
                # The face gives the head relative to the camera; make it relative to the chest
                # the body drives, so the torso's lean and twist are not applied twice.
                chest = quat.from_matrix_tuple(body.chest.tolist())
                head_q = np.array(quat.multiply_tuple(quat.conjugate_tuple(chest), head_q.tolist()))
            bones[Bone.Neck], bones[Bone.Head] = _split_head(head_q, self.config.neck_share)
            covered = eyes_covered(pts, lm.hand_pixels())
            lf = lm.face
            fr = self.face.update(
                pts, pose.rotation, yaw, pitch, lf.mouth_dark, lf.eye_shut, covered, lf.mouth_dim
            )
            if fr.new_profile is not None:  # a live calibration (preview key 'c') finished
                self.head.neutral = fr.new_profile.neutral_rotation()
                self.resting = None  # the user just showed where their head rests
                self.starting = None
            bones[Bone.LeftEye] = bones[Bone.RightEye] = fr.eye_rotation
            blend.update(fr.blendshapes)
            self._seen = lm.t
        else:
            self.head.reset()
            self.face.lost()
            # Gone for a while: whoever comes next may be someone else. Unless lock-on says
            # this is still the same person's place (vtuber.performers: they are expected
            # back, docs/performers.md), learn them afresh.
            held = lm.person is not None and lm.person == self._person
            if lm.t - self._seen >= self.forget_after_s and not held:
                self._forget()
        if face and lm.face.has_blendshapes:
            # The model's 52 shapes and presets replace the geometric ones of the same name; its
            # eyelids and jaw are fused with the geometric solvers' readings of the same
            # landmarks, each normalised per user (vtuber.solvers.arkit.Fusion,
            # docs/perfect_sync.md "Which signal comes from where").
            geo = Geometry(fr.eyes.closure, fr.mouth_open, pose_features(yaw, pitch))
            blend.update(self.arkit.update(lm.face.blendshapes, geo, covered))
        if face and not self.config.face.winks:
            _blink_together(blend)
        return AvatarFrame(
            t=lm.t,
            t_capture=t_capture,
            index=index,
            tracking=Tracking(
                face=face,
                body=body is not None and body.torso,
                left_hand=body is not None and body.hands["left"],
                right_hand=body is not None and body.hands["right"],
            ),
            bones=bones,
            blendshapes=blend,
        )
