"""The fast protobuf -> numpy landmark conversion equals plain attribute access, on real MediaPipe
output (face mesh, pose with visibility) and on hand-built messages that defeat the shortcut."""

from __future__ import annotations

import mediapipe as mp
import numpy as np
from mediapipe.framework.formats import landmark_pb2

from vtuber.landmarks.proto import landmark_array


def slow(lst, names=("x", "y", "z")):
    return np.array([[getattr(p, a) for a in names] for p in lst.landmark], np.float32)


def test_face_mesh_output_matches_attribute_access(grace_bgr):
    import cv2

    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True) as fm:
        res = fm.process(cv2.cvtColor(grace_bgr, cv2.COLOR_BGR2RGB))
    lst = res.multi_face_landmarks[0]
    fast = landmark_array(lst)
    assert fast.shape == (478, 3)
    assert np.array_equal(fast, slow(lst))


def test_pose_with_visibility_matches(grace_bgr):
    import cv2

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        res = pose.process(cv2.cvtColor(grace_bgr, cv2.COLOR_BGR2RGB))
    assert res.pose_landmarks is not None
    names = ("x", "y", "z", "visibility")
    assert np.array_equal(landmark_array(res.pose_landmarks, 4), slow(res.pose_landmarks, names))
    assert np.array_equal(landmark_array(res.pose_world_landmarks), slow(res.pose_world_landmarks))


def test_irregular_messages_fall_back():
    rng = np.random.default_rng(5)
    lst = landmark_pb2.NormalizedLandmarkList()
    for i in range(20):
        p = lst.landmark.add()
        p.x, p.y = rng.uniform(0, 1, 2)
        if i % 3:  # z missing on some: records of different sizes
            p.z = float(rng.normal())
    assert np.array_equal(landmark_array(lst), slow(lst))
    empty = landmark_pb2.NormalizedLandmarkList()
    assert landmark_array(empty).shape == (0, 3)
