"""Each eye's lids read again by MediaPipe's iris model, one eye at a time
(vtuber.landmarks.eye_contours): real inference on rendered faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vtuber.errors import ModelError
from vtuber.landmarks import face_mesh as fm
from vtuber.landmarks.eye_contours import RINGS, WEIGHT, EyeContours, blend
from vtuber.landmarks.facemesh import FaceMeshBackend
from vtuber.synth import corpus
from vtuber.synth.face import FaceRenderer

UPPER, LOWER = slice(10, 15), slice(2, 7)  # the five middle points of each lid, paired


def aperture(ring: np.ndarray) -> float:
    """Mean gap between the paired lid points over the corner distance, (16, 2) ring."""
    gap = np.linalg.norm(ring[UPPER] - ring[LOWER], axis=1).mean()
    return float(gap / np.linalg.norm(ring[0] - ring[8]))


def read(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FaceMesh's points (unrefined) and the iris model's contours of one image, in pixels."""
    with FaceMeshBackend(static_images=True, eye_contours=False) as b:
        face = b.process(bgr, 0.0).face
    assert face.found
    h, w = bgr.shape[:2]
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return face.points[:, :2] * (w, h), EyeContours().read(rgb, face.points) * (w, h)


@pytest.fixture(scope="module")
def grace() -> FaceRenderer:
    return corpus.renderer("grace_hopper")


def test_the_contour_lies_on_the_eye_and_the_sides_mirror(grace) -> None:  # type: ignore[no-untyped-def]
    """On an open, frontal eye the iris model's contour lies about where FaceMesh puts the eye,
    in the ring's order (on grace_hopper, whose photo wears glasses, the two differ by up to
    0.13 eye widths toward one eye's outer corner: two readings, not one); a mirrored image
    gives the same contours with the sides swapped."""
    bgr = grace.render(8.0, -4.0)
    pts, got = read(bgr)
    for e, ring in enumerate(RINGS):
        width = np.linalg.norm(pts[ring[0]] - pts[ring[8]])
        off = np.linalg.norm(got[e] - pts[list(ring)], axis=1) / width
        assert np.median(off) < 0.1 and off.max() < 0.2, (e, off.round(3))
        # Outer corner farther from the nose than the inner one; upper lid above the lower.
        assert got[e, UPPER, 1].mean() < got[e, LOWER, 1].mean()
    nose_x = pts[fm.EYE_INNER_L, 0] / 2 + pts[fm.EYE_INNER_R, 0] / 2
    assert abs(got[0, 0, 0] - nose_x) > abs(got[0, 8, 0] - nose_x)
    assert abs(got[1, 0, 0] - nose_x) > abs(got[1, 8, 0] - nose_x)
    w = bgr.shape[1]
    _, flipped = read(bgr[:, ::-1].copy())
    back = flipped[::-1].copy()  # the person's sides swap
    back[..., 0] = w - back[..., 0]
    width = np.linalg.norm(got[0, 0] - got[0, 8])
    assert np.median(np.linalg.norm(back - got, axis=2)) < 0.05 * width


def test_a_wink_closes_one_eye_only(grace) -> None:  # type: ignore[no-untyped-def]
    """The point of reading each eye alone: an eye shut by itself reads shut and the other
    stays open, at a turned head too. (FaceMesh's lids on the same renders, one pass over the
    whole face: the open eye at 0.88 of its open aperture while the other winks, and a wink
    of the left eye at 20 degrees of yaw at only 0.82.)"""
    for yaw in (0.0, 20.0):
        _, open_ = read(grace.render(yaw, 0.0))
        for shut in (0, 1):
            close = (1.0, 0.0) if shut == 0 else (0.0, 1.0)
            _, wink = read(grace.render(yaw, 0.0, eye_close=close))
            rel = [aperture(wink[e]) / aperture(open_[e]) for e in (0, 1)]
            assert rel[shut] < 0.75, (yaw, shut, rel)
            assert rel[1 - shut] > 0.9, (yaw, shut, rel)


def test_both_runtimes_read_the_same_contours(grace) -> None:  # type: ignore[no-untyped-def]
    """The TensorFlow Lite runtime (the faster, where installed) and OpenCV's importer (the
    fallback) run the same model to the same contours."""
    pytest.importorskip(
        "tflite_runtime",
        reason="tflite-runtime is not installed here (Linux x86_64, Python < 3.12)",
    )
    bgr = grace.render(10.0, 3.0, eye_close=(0.6, 0.0))
    with FaceMeshBackend(static_images=True) as b:
        pts = b.process(bgr, 0.0).face.points
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    a = EyeContours(runtime="tflite").read(rgb, pts)
    c = EyeContours(runtime="opencv").read(rgb, pts)
    assert np.isfinite(a).all()
    assert np.abs(a - c).max() * bgr.shape[1] < 0.01  # pixels


def test_blend_moves_the_eye_contours_only() -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0.2, 0.8, (478, 3)).astype(np.float32)
    contours = rng.uniform(0.2, 0.8, (2, 16, 2)).astype(np.float32)
    out = blend(pts, contours)
    ring = np.array(RINGS)
    others = np.setdiff1d(np.arange(478), ring.ravel())
    assert np.array_equal(out[others], pts[others])
    assert np.array_equal(out[ring.ravel(), 2], pts[ring.ravel(), 2])  # depth stays
    want = (1 - WEIGHT) * pts[ring, :2] + WEIGHT * contours
    assert np.allclose(out[ring, :2], want, atol=1e-6)
    # An eye the model could not read is left as FaceMesh put it.
    contours[1] = np.nan
    out = blend(pts, contours)
    assert np.array_equal(out[ring[1]], pts[ring[1]])
    assert not np.array_equal(out[ring[0]], pts[ring[0]])


def test_a_missing_or_wrong_model_is_one_clear_error(tmp_path, grace) -> None:  # type: ignore[no-untyped-def]
    bgr = grace.render(0.0, 0.0)
    with FaceMeshBackend(static_images=True, eye_contours=False) as b:
        pts = b.process(bgr, 0.0).face.points
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    with pytest.raises(ModelError, match="missing"):
        EyeContours(tmp_path / "nope.tflite").read(rgb, pts)
    wrong = tmp_path / "iris_landmark.tflite"
    wrong.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not the iris model"):
        EyeContours(wrong).read(rgb, pts)


def test_the_backends_send_the_blended_contours(grace, model_path) -> None:  # type: ignore[no-untyped-def]
    """Live, the Face Landmarker backend (perfect sync) sends its points with the eyes'
    contours blended and everything else as the landmarker gave it; FaceMesh's backend does
    so only when asked (off by default: docs/face_corpus.md)."""
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

    bgr = grace.render(5.0, 0.0)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    got = {}
    for name, make in (
        ("landmarker", lambda **kw: FaceLandmarkerBackend(model_path, static_images=True, **kw)),
        ("facemesh", lambda **kw: FaceMeshBackend(static_images=True, **kw)),
    ):
        for on in (True, False, None):
            with make(**({} if on is None else {"eye_contours": on})) as b:
                got[name, on] = b.process(bgr, 0.0).face.points
        sent, raw = got[name, True], got[name, False]
        assert np.allclose(sent, blend(raw, EyeContours().read(rgb, raw)), atol=1e-6)
        assert not np.allclose(sent, raw)
    assert np.array_equal(got["landmarker", None], got["landmarker", True])
    assert np.array_equal(got["facemesh", None], got["facemesh", False])
