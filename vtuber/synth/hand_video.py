"""Rendered videos of a synthetic hand holding a gesture, for MediaPipe Hands (docs/gestures.md).

Custom gestures are taught from recordings (``vtuber gestures record NAME --source VIDEO``). To
test that path end to end with real MediaPipe inference but without a person, this module films
the forward-kinematics hands of :mod:`vtuber.synth.hands`: each take holds one gesture (its joint
angles wandering inside the class's box) while the hand drifts and turns slowly, with a forearm,
in front of a seeded, cluttered background, at the size a hand has at arm's length from a
webcam (about 200 px tall in 640 x 480).

The hand is drawn as shaded, depth-tested capsules (sphere-swept segments): three per finger,
radial capsules for the palm (about 3 cm thick), a tapering forearm. Each pixel keeps the
nearest surface; shading is Lambert from one light plus ambient light, on one of a few skin
tones, with a nail on the back of each distal phalanx, rendered at twice the size and
downscaled (anti-aliasing). That is enough for MediaPipe's palm detector (tests/test_gestures.py
measures the share of frames with a hand found). A finger the gesture curls rests its tip on
the palm (:func:`resting_params`): a hooked finger over the palm, with no nail showing at its
lower end, is what MediaPipe read as a short extended finger (docs/gestures.md).

Nothing here reads data: every take is a function of its seed.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber import quat
from vtuber.gestures.features import BEND_SLICE, hand_features
from vtuber.synth.hands import (
    CURLED,
    CUSTOM_SHAPES,
    PALM_TO_CAMERA,
    SHAPES,
    forward_kinematics,
    random_orientation,
    sample_params,
)

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

WIDTH, HEIGHT = 640, 480
FOCAL = 560.0  # pixels: a ~60 degree horizontal field of view, like a webcam's
AMBIENT = 0.6  # the share of light every surface gets (the rest is Lambert)

# Capsules (point a, point b, radius at a, radius at b; metres) of a hand's 21 points.
_FINGER_R = {  # radius at MCP, PIP, DIP, tip
    1: (0.0125, 0.0115, 0.0105, 0.0095),  # thumb: CMC, MCP, IP, tip
    5: (0.0100, 0.0092, 0.0083, 0.0075),
    9: (0.0102, 0.0094, 0.0085, 0.0077),
    13: (0.0097, 0.0089, 0.0080, 0.0072),
    17: (0.0088, 0.0080, 0.0072, 0.0065),
}
_CAPSULES: list[tuple[int, int, float, float]] = []
for _base, _r in _FINGER_R.items():
    for _k in range(3):
        _CAPSULES.append((_base + _k, _base + _k + 1, _r[_k], _r[_k + 1]))
# The palm, a solid slab about 3 cm thick: extra points 21/22 are the wrist's index and little
# sides, 23-26 the middle of the palm below each knuckle (see :func:`_palm_points`).
_CAPSULES += [
    (21, 5, 0.015, 0.0125),
    (22, 17, 0.015, 0.0115),
    (21, 22, 0.016, 0.016),
    (0, 9, 0.016, 0.0130),
    (0, 13, 0.016, 0.0125),
    (23, 26, 0.0145, 0.0135),
    (5, 9, 0.0115, 0.0115),
    (9, 13, 0.0115, 0.0115),
    (13, 17, 0.0110, 0.0105),
    (21, 1, 0.0150, 0.0135),
    (1, 5, 0.0100, 0.0105),
    (2, 5, 0.0085, 0.0095),
]


# The capsule of each distal phalanx (thumb, index..little) in _CAPSULES, and a nail's colour.
_DISTAL = tuple(3 * i + 2 for i in range(5))
NAIL_BGR = (200, 205, 235)


def _palm_points(points: F64) -> F64:
    """The 21 points and 6 more that fill the palm (the wrist's two sides, mid-palm points)."""
    across = points[5] - points[17]
    across /= max(float(np.linalg.norm(across)), 1e-9)
    side_i, side_l = points[0] + 0.021 * across, points[0] - 0.019 * across
    wrist = (side_i, side_i * 0.66 + side_l * 0.34, side_i * 0.34 + side_l * 0.66, side_l)
    mid = [0.55 * w + 0.45 * points[k] for w, k in zip(wrist, (5, 9, 13, 17), strict=True)]
    return np.vstack([points, side_i, side_l, *mid])


SKIN_BGR = (
    (150, 180, 230),
    (120, 160, 215),
    (95, 135, 190),
    (70, 105, 160),
    (50, 75, 120),
)


def background(rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT) -> U8:
    """A seeded indoor-looking background: a lit wall gradient, a few blurred pieces of furniture
    and shelves, sensor noise added per frame by :func:`render`."""
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    top = rng.uniform(60, 200, 3)
    bottom = top * rng.uniform(0.5, 0.9)
    img = (top * (1.0 - y) + bottom * y) * np.ones((1, width, 1))
    for _ in range(int(rng.integers(4, 9))):
        x0, y0 = int(rng.integers(-width // 4, width)), int(rng.integers(-height // 4, height))
        w, h = int(rng.integers(40, width // 2)), int(rng.integers(20, height // 2))
        colour = rng.uniform(20, 230, 3)
        cv2.rectangle(img, (x0, y0), (x0 + w, y0 + h), colour.tolist(), -1)
    blurred = cv2.GaussianBlur(img, (0, 0), 3.0)
    return np.asarray(np.clip(blurred, 0, 255), np.uint8)


def _project(p: F64, focal: float, cx: float, cy: float) -> F64:
    return np.stack([cx + focal * p[..., 0] / p[..., 2], cy + focal * p[..., 1] / p[..., 2]], -1)


Capsule = tuple[F64, F64, float, float]  # ends a, b (metres), radius at a, radius at b


def _body(points: F64, elbow: F64) -> list[Capsule]:
    """The hand's capsules (palm, fingers, thumb) and its tapering forearm."""
    pts = _palm_points(points)
    out: list[Capsule] = [(pts[a], pts[b], ra, rb) for a, b, ra, rb in _CAPSULES]
    out.append((points[0], elbow, 0.024, 0.034))
    return out


F32 = NDArray[np.float32]


def _raster(
    caps: list[tuple[float, ...]], h: int, w: int, focal: float
) -> tuple[F32, F32, F32, F32, NDArray[np.int32], F32]:
    """Depth-tested sphere-swept segments in an (h, w) raster of a camera of focal length
    ``focal`` (pixels). Each ``caps`` row is (ax, ay, bx, by, ra, rb, za, zb): the projected
    ends and radii in pixels, the ends' depths in metres. Returns the nearest surface's depth
    (inf where empty), its normal's x, y, z (z toward the camera negative), which capsule it
    is (-1: none) and where along it (0 at a, 1 at b)."""
    depth = np.full((h, w), np.inf, np.float32)
    nx, ny, nz, along = (np.zeros((h, w), np.float32) for _ in range(4))
    ident = np.full((h, w), -1, np.int32)
    for i, (ax, ay, bx, by, pra, prb, za, zb) in enumerate(caps):
        rm = max(pra, prb)
        x0, x1 = int(max(min(ax, bx) - rm - 1, 0)), int(min(max(ax, bx) + rm + 2, w))
        y0, y1 = int(max(min(ay, by) - rm - 1, 0)), int(min(max(ay, by) + rm + 2, h))
        if x1 <= x0 or y1 <= y0:
            continue
        gx = (np.arange(x0, x1, dtype=np.float32) + 0.5)[None, :]
        gy = (np.arange(y0, y1, dtype=np.float32) + 0.5)[:, None]
        dx, dy = bx - ax, by - ay
        t = np.clip(((gx - ax) * dx + (gy - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
        ox, oy = gx - (ax + t * dx), gy - (ay + t * dy)
        rad = pra + t * (prb - pra)
        d2 = ox * ox + oy * oy
        inside = d2 < rad * rad
        if not inside.any():
            continue
        hz = np.sqrt(np.maximum(rad * rad - d2, 0.0))
        zc = za + t * (zb - za)
        z = zc - hz * zc / focal  # the surface facing the camera
        sub = depth[y0:y1, x0:x1]
        win = inside & (z < sub)
        sub[win] = z[win]
        r = np.maximum(rad, 1e-6)
        nx[y0:y1, x0:x1][win] = (ox / r)[win]
        ny[y0:y1, x0:x1][win] = (oy / r)[win]
        nz[y0:y1, x0:x1][win] = (-hz / r)[win]
        ident[y0:y1, x0:x1][win] = i
        along[y0:y1, x0:x1][win] = np.broadcast_to(t, win.shape)[win]
    return depth, nx, ny, nz, ident, along


def render(
    points: F64,
    elbow: F64,
    bg: U8,
    skin: tuple[int, int, int],
    light: F64,
    rng: np.random.Generator,
    nails: F64 | None = None,
    focal: float = FOCAL,
    supersample: int = 2,
) -> U8:
    """One frame: the hand's 21 camera-frame points (metres; x right, y down, z away, the
    camera at the origin) and its elbow, shaded over ``bg`` (BGR). ``light``: the direction
    the light travels (a distant lamp). ``nails`` (5, 3): the way the back of each distal
    phalanx faces (thumb, index..little; :func:`nail_directions`), where its nail is drawn."""
    height, width = bg.shape[:2]
    s = supersample
    f, cx, cy = focal * s, 0.5 * width * s, 0.5 * height * s
    body = _body(points, elbow)
    caps = []
    for a3, b3, ra, rb in body:
        (ax, ay), (bx, by) = _project(np.stack([a3, b3]), f, cx, cy)
        caps.append((ax, ay, bx, by, ra * f / a3[2], rb * f / b3[2], a3[2], b3[2]))
    # Draw only in the window (original pixels) the capsules cover.
    c = np.array(caps)
    r = c[:, 4:6].max(axis=1)
    wx0 = max(int((np.minimum(c[:, 0], c[:, 2]) - r).min() // s) - 1, 0)
    wy0 = max(int((np.minimum(c[:, 1], c[:, 3]) - r).min() // s) - 1, 0)
    wx1 = min(int((np.maximum(c[:, 0], c[:, 2]) + r).max() // s) + 2, width)
    wy1 = min(int((np.maximum(c[:, 1], c[:, 3]) + r).max() // s) + 2, height)
    out = bg.astype(np.float32)
    if wx1 > wx0 and wy1 > wy0:
        w, h = (wx1 - wx0) * s, (wy1 - wy0) * s
        ox, oy = wx0 * s, wy0 * s
        win = [(ax - ox, ay - oy, bx - ox, by - oy, *rest) for ax, ay, bx, by, *rest in caps]
        depth, nx, ny, nz, ident, along = _raster(win, h, w, f)
        hit = np.isfinite(depth)
        nx, ny, nz = nx[hit], ny[hit], nz[hit]
        # Lambert against the light, from the surface's normal.
        lh = np.clip(-(nx * light[0] + ny * light[1] + nz * light[2]), 0.0, 1.0)
        # Ambient plus Lambert, a soft highlight, a little blotchy skin texture.
        tex = cv2.resize(rng.standard_normal((h // 8 + 1, w // 8 + 1), np.float32), (w, h))[hit]
        shade = (AMBIENT + (1.0 - AMBIENT) * lh) * (1.0 + 0.04 * tex)
        skin_c = np.array(skin, np.float32)
        big = cv2.resize(out[wy0:wy1, wx0:wx1], (w, h), interpolation=cv2.INTER_LINEAR)
        colour = np.broadcast_to(skin_c, (int(hit.sum()), 3)).copy()
        gloss = np.full(len(colour), 38.0, np.float32)
        if nails is not None:
            # A nail on the back of each distal phalanx's outer 65 %: paler and glossier skin.
            which, outer = ident[hit], along[hit] > 0.35
            nail = np.zeros(len(colour), bool)
            for k, v in enumerate(nails):
                sel = np.flatnonzero((which == _DISTAL[k]) & outer)
                facing = nx[sel] * v[0] + ny[sel] * v[1] + nz[sel] * v[2]
                nail[sel[facing > 0.45]] = True
            colour[nail] = 0.55 * skin_c + 0.45 * np.array(NAIL_BGR, np.float32)
            gloss[nail] = 70.0
        big[hit] = colour * shade[:, None] + gloss[:, None] * lh[:, None] ** 12
        out[wy0:wy1, wx0:wx1] = cv2.resize(
            big, (wx1 - wx0, wy1 - wy0), interpolation=cv2.INTER_AREA
        )
    soft = np.asarray(cv2.GaussianBlur(out, (0, 0), 1.0), np.float32)  # a webcam's optics
    soft += rng.standard_normal(out.shape, np.float32) * 2.5  # sensor noise
    return np.asarray(np.clip(soft, 0, 255), np.uint8)


def _smooth(u: F64) -> F64:
    return u * u * (3.0 - 2.0 * u)


def _facing(rng: np.random.Generator, local: F64, cls: str, back: bool) -> F64:
    """A camera-frame rotation for a hand shown to the camera the way one holds a gesture to
    record it: fingers within 30 degrees of up, the palm (or the back) turned at most 45
    degrees from the camera. Thumbs up/down keep :func:`random_orientation`'s rule (the thumb
    within 35 degrees of up/down, any turn about it)."""
    if cls.startswith("thumbs"):
        return random_orientation(rng, local, cls)
    turn = math.radians(rng.uniform(-45.0, 45.0)) + (math.pi if back else 0.0)
    roll = quat.to_matrix(quat.from_axis_angle([0.0, 1.0, 0.0], turn))
    axis = rng.normal(size=3)
    tilt = quat.to_matrix(
        quat.from_axis_angle(
            axis / np.linalg.norm(axis), math.radians(30.0) * math.sqrt(rng.random())
        )
    )
    out: F64 = tilt @ PALM_TO_CAMERA @ roll
    return out


# A curled finger of a held gesture rests its tip on the palm, as a person's does: the fingertip's
# surface between REST_GAP[0] below and REST_GAP[1] above the palm's surface (PALM_TOP above the
# plane of the hand's bones; the palm capsules' top), not hooked over the palm and not through it.
PALM_TOP = 0.0165
REST_GAP = (0.002, 0.006)
_TIP_R = {5: _FINGER_R[5][3], 9: _FINGER_R[9][3], 13: _FINGER_R[13][3], 17: _FINGER_R[17][3]}


def resting_params(rng: np.random.Generator, cls: str, n: int) -> F64:
    """``n`` joint-angle rows of class ``cls`` (:func:`vtuber.synth.hands.sample_params`) in
    which every finger the class curls (its box is ``CURLED``) rests its tip on the palm: each
    such finger's angles are drawn from the same box until the fingertip touches (REST_GAP).
    Fingers are independent in the class boxes, so this is the box conditioned on the rest."""
    params = sample_params(rng, cls, n)
    shape = SHAPES.get(cls) or CUSTOM_SHAPES.get(cls)
    if shape is None:
        return params
    lo, hi = PALM_TOP - REST_GAP[0], PALM_TOP + REST_GAP[1]
    for f, box in enumerate(shape[0]):
        if box != CURLED:
            continue
        base = 5 + 4 * f
        todo = np.arange(n)
        while todo.size:
            cand = sample_params(rng, cls, 64)
            tip = forward_kinematics(cand)[:, base + 3, 2] - _TIP_R[base]
            good = cand[(tip >= lo) & (tip <= hi)][: todo.size]
            params[todo[: len(good)], 4 * f : 4 * f + 4] = good[:, 4 * f : 4 * f + 4]
            todo = todo[len(good) :]
    return params


def _about(axis: F64, angles: F64) -> F64:
    """Rotation matrices (n, 3, 3) of ``angles`` (radians) about one axis."""
    return quat.to_matrix(quat.from_axis_angle(axis, angles))


def nail_directions(params: F64) -> F64:
    """The direction each distal phalanx's nail faces (n, 5, 3: thumb, index..little) in the
    hand's local frame, from joint angles (:mod:`vtuber.synth.hands`' forward kinematics: a
    segment's back is its rotation applied to -z, the back of the hand)."""
    p = np.radians(np.atleast_2d(params))
    x, z = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    out = np.zeros((len(p), 5, 3))
    for f in range(4):
        rot = _about(z, -p[:, 4 * f]) @ _about(x, p[:, 4 * f + 1 : 4 * f + 4].sum(axis=1))
        out[:, 1 + f] = -rot[:, :, 2]
    t = 16
    rot = _about(z, p[:, t] - math.radians(40.0)) @ _about(x, p[:, t + 1] + p[:, t + 2])
    rot = rot @ _about(z, p[:, t + 3]) @ _about(x, p[:, t + 4])
    out[:, 0] = -rot[:, :, 2]
    return out


def gesture_take(
    rng: np.random.Generator,
    cls: str,
    frames: int,
    fps: float = 25.0,
    left: bool = False,
) -> tuple[F64, F64, F64]:
    """A hand holding gesture ``cls`` (a built-in, custom-shape or ``"none"`` class of
    :mod:`vtuber.synth.hands`) for ``frames`` frames: its joint angles and orientation glide
    between random key poses of the class every 0.8-1.6 s, its wrist drifts a few centimetres.
    Returns (points (frames, 21, 3), elbow (frames, 3), the way each fingernail faces
    (frames, 5, 3): thumb, index..little) in camera coordinates (metres)."""
    seconds = frames / fps
    times = [0.0]
    while times[-1] < seconds + 1.0:
        times.append(times[-1] + float(rng.uniform(0.8, 1.6)))
    k = len(times)
    params = resting_params(rng, cls, k)
    size = float(rng.uniform(0.9, 1.1))
    bone = rng.uniform(0.94, 1.06, (1, 5))
    local = forward_kinematics(params, np.repeat(bone, k, axis=0)) * size
    back = False  # MediaPipe finds these renders seen from the back too rarely (docs)
    key_q = np.array([quat.from_matrix(_facing(rng, local[i], cls, back)) for i in range(k)])
    for i in range(1, k):  # the short way round between neighbouring keys
        if float(np.dot(key_q[i], key_q[i - 1])) < 0.0:
            key_q[i] = -key_q[i]
    # The middle knuckle (the hand's centre) somewhere near the image's centre, the hand held
    # 38-50 cm from the camera (~250 px tall), drifting a little.
    z = rng.uniform(0.38, 0.5)
    centre = np.array([rng.uniform(-0.12, 0.12) * z, rng.uniform(-0.08, 0.1) * z, z])
    key_centre = centre + rng.normal(0.0, 0.015, (k, 3))
    t = np.arange(frames) / fps
    seg = np.searchsorted(np.array(times), t, side="right") - 1
    u = _smooth((t - np.array(times)[seg]) / (np.array(times)[seg + 1] - np.array(times)[seg]))
    par = (1.0 - u[:, None]) * params[seg] + u[:, None] * params[seg + 1]
    pts_local = forward_kinematics(par, np.repeat(bone, frames, axis=0)) * size
    rot = quat.to_matrix(quat.slerp_rows(key_q[seg], key_q[seg + 1], u))
    where = (1.0 - u[:, None]) * key_centre[seg] + u[:, None] * key_centre[seg + 1]
    pts = np.einsum("nij,nkj->nki", rot, pts_local)
    nails = np.einsum("nij,nkj->nki", rot, nail_directions(par))
    if left:
        pts[..., 0] *= -1.0
        nails[..., 0] *= -1.0
    # The forearm leaves the wrist away from the fingers, bent toward the floor and the camera's
    # far side (an arm raised in front of the body).
    back = pts[:, 0] - pts[:, 9]
    back /= np.linalg.norm(back, axis=1, keepdims=True)
    arm = 0.5 * back + np.array([0.0, 0.85, 0.35])
    arm /= np.linalg.norm(arm, axis=1, keepdims=True)
    pts = pts - pts[:, 9:10] + where[:, None, :]
    elbow = pts[:, 0] + 0.26 * arm
    return pts, elbow, nails


def _frames(seconds: float, fps: float) -> int:
    return max(1, int(round(seconds * fps)))


def take_points(
    cls: str, seed: int, seconds: float = 2.0, fps: float = 25.0, left: bool = False
) -> F64:
    """The ground-truth hand points (frames, 21, 3) of the take :func:`render_take` films with
    the same arguments, without rendering it."""
    return gesture_take(np.random.default_rng(seed), cls, _frames(seconds, fps), fps, left)[0]


def render_take(
    path: str | Path,
    cls: str,
    seed: int,
    seconds: float = 2.0,
    fps: float = 25.0,
    left: bool = False,
) -> F64:
    """Write a video (``path``, .mp4 or .avi) of one take of gesture ``cls``; return its
    ground-truth hand points (frames, 21, 3) in camera coordinates."""
    rng = np.random.default_rng(seed)
    pts, elbow, nails = gesture_take(rng, cls, _frames(seconds, fps), fps, left)
    bg = background(rng)
    skin = SKIN_BGR[int(rng.integers(len(SKIN_BGR)))]
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(0.2, 0.8), 1.0])  # from above
    light /= np.linalg.norm(light)
    fourcc = cv2.VideoWriter.fourcc(*("mp4v" if str(path).endswith(".mp4") else "MJPG"))
    out = cv2.VideoWriter(str(path), fourcc, fps, (WIDTH, HEIGHT))
    if not out.isOpened():
        raise OSError(f"cannot write video {path}")
    try:
        for i in range(len(pts)):
            out.write(render(pts[i], elbow[i], bg, skin, light, rng, nails[i]))
    finally:
        out.release()
    return pts


# Per-finger flexion totals (MCP + PIP + DIP angles between segments, degrees) read from points:
# below EXTENDED_BELOW a finger is extended, above CURLED_ABOVE curled (the class boxes of
# vtuber.synth.hands keep extended fingers <= 48 degrees and curled ones >= 187 degrees).
EXTENDED_BELOW = 100.0
CURLED_ABOVE = 140.0


def finger_states_of(points: F64) -> str:
    """'E' (extended), 'C' (curled) or 'M' (between) for the index..little fingers of one
    hand's 21 points (any frame, any scale: MediaPipe world points or a render's truth)."""
    cos = hand_features(np.asarray(points, np.float64), False)[BEND_SLICE].reshape(5, 3)[1:]
    totals = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).sum(axis=1)
    return "".join(
        "E" if t < EXTENDED_BELOW else "C" if t > CURLED_ABOVE else "M" for t in totals.tolist()
    )


def fit_contradicts(fit: F64, truth: F64) -> bool:
    """Whether a landmark fit (MediaPipe's 21 points of a rendered frame) calls a finger
    extended that the rendered hand has curled, or the other way round: a misfit that shows
    another hand shape than the one filmed (docs/gestures.md, "Recorded from rendered videos")."""
    pairs = zip(finger_states_of(fit), finger_states_of(truth), strict=True)
    return any({a, b} == {"E", "C"} for a, b in pairs)
