"""Rendered faces with known pose: a real photo's face as a textured 3D mesh, turned and drawn
with a pinhole camera. Ground truth for tests, benchmarks and the built-in demo.

How the mesh is made: MediaPipe FaceMesh (through :mod:`vtuber.landmarks.facemesh`) finds the
478 landmarks of a real frontal photo; their x, y (pixels) and z * image width (MediaPipe's
relative depth, on the scale of x) are the 3D vertices, scaled to centimetres (outer eye corners
9 cm apart). The triangles are the face mesh's own (vtuber/data/face_triangles.npy); the eye and
mouth openings are holes in that mesh and are filled here with their own triangle fans (eyes:
an eyeball made from the photo's eye; mouth, when open: a dark interior). Every triangle is
textured from the photo by an affine map, drawn in painter's order (far to near) with back faces
culled.

The eyes turn like eyeballs of 12 mm radius (``render``'s ``iris``): the photo's iris, its
lid-covered part filled in its mean colour, slides over a sclera made from the photo's (its centre
moves the radius times the sine of the gaze angle) and foreshortens to an ellipse (the cosine);
the upper lid follows a vertical gaze by half the iris's shift and the lower lid by a quarter,
uncovering or hiding the eyeball (the eye fans are windows on it), and the lid skin follows.

Angle convention (degrees, in the PERSON's anatomical terms, as the avatar should move with
``--no-mirror``):

- ``yaw > 0``: the person turns the head to their own left (in the un-mirrored camera image the
  nose moves to the image's right);
- ``pitch > 0``: the person looks up (chin up);
- ``roll > 0``: the person tilts the head toward their own left shoulder (in the un-mirrored
  image the top of the head moves to the image's right).

The true rotation (:func:`true_rotation`) is ``Ry(-yaw) @ Rx(-pitch) @ Rz(roll)`` with the
standard right-hand-rule matrices, applied in the avatar's Unity basis (x = its right, y up,
z forward; left-handed), i.e. Unity Euler angles (x, y, z) = (-pitch, -yaw, roll) in Unity's
Z-then-X-then-Y order. Because the OpenCV camera frame is the negation of that basis
(see vtuber.solvers.head), the same matrix is the rotation of the face in camera coordinates, so
vtuber's head solver should report ``HeadTracker.avatar_rotation(pose)`` (neutral = the unturned
render) equal to ``quat.from_matrix(true_rotation(yaw, pitch, roll))``: with --no-mirror the
avatar's Neck*Head then turns to its own left for yaw > 0 (a negative rotation about Unity +Y).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from vtuber import quat
from vtuber.errors import VtuberError
from vtuber.landmarks import face_mesh as fm

F64 = NDArray[np.float64]

# Face mesh indices (vtuber.landmarks.face_mesh).
EYE_OUTER_R, EYE_OUTER_L = fm.EYE_OUTER_R, fm.EYE_OUTER_L
EYE_INNER_R, EYE_INNER_L = fm.EYE_INNER_R, fm.EYE_INNER_L
IRIS_R, IRIS_L = fm.IRIS_R, fm.IRIS_L
MOUTH_CORNER_R, MOUTH_CORNER_L = fm.MOUTH_CORNER_R, fm.MOUTH_CORNER_L

EYE_DISTANCE_CM = 9.0  # outer eye corner to outer eye corner, sets the model's scale
EYE_WIDTH_MM = 30.0  # one eye's corner-to-corner width, for the iris -> gaze conversion
# A smile of 1 (FaceRenderer.deformed_model): each mouth corner 5 mm up and 3 mm out (a clear,
# closed-lipped smile; a broad one lifts the corners up to about a centimetre), the skin around
# it following with a Gaussian fall-off of 0.45 mouth half-widths; a frown of -1 lowers them 5 mm.
SMILE_LIFT_CM = 0.5
SMILE_WIDEN_CM = 0.3
SMILE_REACH = 0.45
# Brows (FaceRenderer.deformed_model(brows=)): at 1 a brow (its outline's points) and the skin
# around it rise 6 mm (a full raise lifts the brow about 5-10 mm), at -1 they come down 3 mm (a
# frown's lowering), fading with a Gaussian of BROW_REACH_CM from the nearest brow point and to
# nothing at the upper lid (as the square of the height over it, a fraction of the brow's), so
# the eye's lids and corners stay where they are.
BROW_LIFT_CM = 0.6
BROW_LOWER_CM = 0.3
BROW_REACH_CM = 0.8
EYEBALL_RADIUS_MM = 12.0
# How far the lids follow a vertical gaze, as a fraction of the iris centre's vertical shift in
# the image (the upper lid rides on the eyeball, turning about half the gaze pitch; the lower
# lid less). Chosen from anatomy, not fitted.
UPPER_LID_FOLLOW = 0.5
LOWER_LID_FOLLOW = 0.25
# The inside of the mouth, as a fraction of the photo's skin colour per channel (B, G, R): in the
# mouth's shadow it sends back about a quarter of the light the skin does, redder. A fixed colour
# would be relatively bright on a dimly exposed photo and dark on a bright one; a fraction keeps
# the same contrast on every face, as one light on a real face does. The values are the former
# fixed colour (40, 28, 72) over the median skin of the corpus's five training photos.
MOUTH_INTERIOR_SHADE = (0.29, 0.184, 0.365)
# The face corpus's lit-mouth condition (``mouth_shade``): the inside of the mouth 1.6 times as
# bright against the skin, about 0.40 of the skin's grey instead of 0.25: a tongue and palate in
# a front light (a ring light), or a skin darker than the inside of the mouth, as a dark skin
# under ordinary light can be. Chosen as the first step past vtuber.landmarks.cavity's
# DARK_FRACTION (0.35), not fitted: it tests what the tracker does when the darkness cannot see.
LIT_MOUTH_SHADE = 1.6
BACKGROUND_BGR = (118, 112, 104)
# The face corpus's skin-tone condition (``FaceRenderer(skin_tone=)``, :func:`skin_toned`): the
# photo's skin recoloured to a CIE L*a*b* lightness and hue (a*, b*) of a browner or darker skin,
# its shading kept (each pixel's lightness scaled by the same factor, its hue offset kept); the
# brows, lashes and lips darken with it, the eyes' whites and irises, the teeth and the hair
# beyond the face stay as photographed. The two levels are skin categories of the individual
# typology angle (ITA = atan((L* - 50) / b*)): "brown" (-30 to 10 degrees) and "dark" (under
# -30). The inside of the mouth keeps the colour it has on the photo as it is: its tissue is lit
# by the same light whatever the skin's pigment, so on a dark skin it is no longer much darker
# than the skin around it.
SKIN_TONES = {"brown": (45.0, 13.0, 22.0), "dark": (30.0, 11.0, 17.0)}  # L*, a*, b*
# Glasses (``render(glasses=True)``, the face corpus's glasses condition): a dark full-rim frame,
# sized from the wearer's own eyes like a fitted frame (each lens 1.5 eye widths wide and 1.1
# high, its centre a little outward of and below the eye's), its front 4 mm in front of the nose
# bridge, the rims 2.2 mm thick, temples running back to the face's edge at the ears, and lenses
# that send back GLASSES_GLARE of white (an uncoated lens reflects about 8 % of the light).
GLASSES_RIM_CM = 0.22
GLASSES_FRONT_CM = 0.4
GLASSES_BGR = (32, 30, 34)
GLASSES_GLARE = 0.08
# A fringe (``render(fringe=True)``, the face corpus's fringe condition): FRINGE_LOCKS locks of
# hair hanging over the forehead, rigid with the skull (a brow that rises moves under them),
# FRINGE_OFF_CM in front of the skin, from 2 cm above the top of the face down to a hem halfway down
# the brows, cut ragged (each lock ends up to FRINGE_RAGGED_CM above the hem, drawn from a
# generator seeded per renderer, and narrows to a point FRINGE_TIP_CM below that), dark brown,
# each lock a little lighter or darker.
FRINGE_BGR = (30, 38, 55)
FRINGE_OFF_CM = 0.3
FRINGE_RAGGED_CM = 0.3
FRINGE_TIP_CM = 0.2
FRINGE_LOCKS = 30
PHOTOS = ("grace_hopper", "astronaut")


_X, _Y, _Z = np.eye(3)


def true_rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> F64:
    """The head rotation a render shows, 3x3, relative to the unturned render; avatar's Unity
    basis (= OpenCV camera frame numerically). Angles in degrees, module docstring convention."""
    y, p, r = np.radians([-yaw, -pitch, roll])
    ry, rx, rz = (quat.from_axis_angle(axis, a) for axis, a in ((_Y, y), (_X, p), (_Z, r)))
    return quat.to_matrix(quat.multiply(quat.multiply(ry, rx), rz))


def gaze_angles(iris: tuple[float, float]) -> tuple[float, float]:
    """True gaze direction (yaw, pitch) in degrees, relative to the head, for ``render``'s
    ``iris=(dx, dy)``: the iris texture moves dx, dy eye widths (dx > 0: toward the person's own
    left; dy > 0: up), i.e. over an eyeball of 12 mm radius and an eye 30 mm wide, it rotates by
    asin(shift / radius). yaw > 0 = looking to the person's own left, pitch > 0 = looking up."""
    k = EYE_WIDTH_MM / EYEBALL_RADIUS_MM
    return (
        float(np.degrees(np.arcsin(np.clip(iris[0] * k, -1.0, 1.0)))),
        float(np.degrees(np.arcsin(np.clip(iris[1] * k, -1.0, 1.0)))),
    )


@lru_cache(maxsize=1)
def mesh_triangles() -> NDArray[np.int32]:
    """The face mesh's (852, 3) triangles (landmark indices), eye and mouth openings as holes."""
    with resources.files("vtuber.data").joinpath("face_triangles.npy").open("rb") as f:
        return np.load(f).astype(np.int32)


def _boundary_loops(tris: NDArray[np.int32]) -> list[list[int]]:
    """Closed loops of the edges used by one triangle only (face outline, eyes, mouth)."""
    count: dict[tuple[int, int], int] = {}
    for t in tris:
        for a, b in ((t[0], t[1]), (t[1], t[2]), (t[0], t[2])):
            e = (int(min(a, b)), int(max(a, b)))
            count[e] = count.get(e, 0) + 1
    nbr: dict[int, list[int]] = {}
    for (a, b), n in count.items():
        if n == 1:
            nbr.setdefault(a, []).append(b)
            nbr.setdefault(b, []).append(a)
    loops, seen = [], set()
    for start in nbr:
        if start in seen:
            continue
        loop, prev, cur = [start], -1, start
        seen.add(start)
        while True:
            nxt = [v for v in nbr[cur] if v != prev][0]
            if nxt == start:
                break
            loop.append(nxt)
            seen.add(nxt)
            prev, cur = cur, nxt
        loops.append(loop)
    return loops


def load_photo(name: str) -> NDArray[np.uint8]:
    """A real face photo shipped by a package, BGR: "grace_hopper" (matplotlib's sample data) or
    "astronaut" (scikit-image's data)."""
    if name == "grace_hopper":
        import matplotlib.cbook as cbook

        img = cv2.imread(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    elif name == "astronaut":
        try:
            import skimage.data
        except ImportError as e:  # a test extra; matplotlib comes with mediapipe
            raise VtuberError(
                "the astronaut photo needs scikit-image (pip install scikit-image)"
            ) from e

        img = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    else:
        raise VtuberError(f"unknown photo {name!r}; choose one of {', '.join(PHOTOS)}")
    if img is None:
        raise VtuberError(f"cannot read the sample photo {name!r}")
    return np.ascontiguousarray(img)


def _smoothstep(x: F64) -> F64:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _skin_band(photo: NDArray[Any], pts: F64) -> NDArray[Any]:
    """The photo's pixels (k, channels) between the outer eye corners, from the eyes down to the
    top of the upper lip: mostly cheek and nose skin, whose median is the face's skin."""
    (ax, ay), (bx, by) = pts[EYE_OUTER_R, :2], pts[EYE_OUTER_L, :2]
    top, bottom = int(min(ay, by)), int(pts[fm.UPPER_LIP_TOP, 1])
    band = photo[max(top, 0) : bottom, max(int(min(ax, bx)), 0) : int(max(ax, bx))]
    return band.reshape(-1, photo.shape[2])


def skin_toned(photo: NDArray[np.uint8], points_px: F64, tone: str) -> NDArray[np.uint8]:
    """``photo`` with its skin recoloured to one of :data:`SKIN_TONES` (see there).

    Inside the face's outline every pixel is recoloured but the eyes' openings and what shows
    between the lips (drawn from the landmarks), so the brows, lashes, lips and a fringe darken
    with the skin and keep their contrast with it in proportion. Outside it (ears, neck, the
    hairline) a pixel is skin by how close its hue is to the face's median skin's (a Gaussian in
    a*b* as wide as 1.25 times the distance that 90 % of the skin between the eyes and the mouth
    lies within, at least 6 units) and by not being much darker than it (hair). The photo's own
    exposure does not carry over: the skin comes out at the tone's L*, each pixel's lightness
    scaled by the same factor and its hue's offset from the median kept."""
    if tone not in SKIN_TONES:
        raise VtuberError(f"unknown skin tone {tone!r} (one of {', '.join(SKIN_TONES)})")
    lt, at, bt = SKIN_TONES[tone]
    pts = np.asarray(points_px, np.float64)
    lab = cv2.cvtColor(photo.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)
    band = _skin_band(lab, pts)
    ref = np.median(band, axis=0)

    def polygon(*outlines: tuple[int, ...]) -> NDArray[np.uint8]:
        m = np.zeros(photo.shape[:2], np.uint8)
        for o in outlines:
            cv2.fillPoly(m, [np.round(pts[list(o), :2]).astype(np.int32)], (1,))
        return m

    keep = polygon(  # the eyes' openings and what shows between the lips
        (EYE_OUTER_R, *fm.UPPER_LID_R, EYE_INNER_R, *reversed(fm.LOWER_LID_R)),
        (EYE_INNER_L, *reversed(fm.UPPER_LID_L), EYE_OUTER_L, *fm.LOWER_LID_L),
        (*fm.UPPER_INNER_LIP, *reversed(fm.LOWER_INNER_LIP)),
    )
    inside = polygon(fm.FACE_OVAL).astype(np.float64)
    spread = np.percentile(np.hypot(band[:, 1] - ref[1], band[:, 2] - ref[2]), 90)
    sigma = max(6.0, 1.25 * float(spread))
    hue = np.exp(-0.5 * (np.hypot(lab[..., 1] - ref[1], lab[..., 2] - ref[2]) / sigma) ** 2)
    dark = _smoothstep((lab[..., 0] / max(float(ref[0]), 1e-3) - 0.3) / 0.25)
    w = (inside + (1.0 - inside) * hue * dark) * (1 - keep)
    w = cv2.GaussianBlur(w.astype(np.float32), (0, 0), 1.5)[..., None]
    toned = np.empty_like(lab)
    toned[..., 0] = lab[..., 0] * (lt / max(float(ref[0]), 1e-3))
    toned[..., 1] = at + lab[..., 1] - ref[1]
    toned[..., 2] = bt + lab[..., 2] - ref[2]
    out = cv2.cvtColor(w * toned + (1.0 - w) * lab, cv2.COLOR_LAB2BGR)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


@dataclass
class _Eye:
    upper: NDArray[np.intp]
    lower: NDArray[np.intp]
    contour: NDArray[np.intp]  # hole loop
    iris: int
    width_px: float  # corner-to-corner width in the photo


class FaceRenderer:
    """Renders one photo's face mesh at any yaw/pitch/roll. Build with :meth:`from_photo` or
    :meth:`from_landmarks`.

    Args:
        photo: BGR texture. points_px: (478, 3) its FaceMesh landmarks, x, y in pixels, z scaled
        like x (``Landmarks.face_pixels()``). distance_cm: camera to the face's centre.
        hfov_deg: the camera's horizontal field of view (vtuber's solver assumes 60).
        mouth_shade: the inside of the mouth's shade, times :data:`MOUTH_INTERIOR_SHADE`.
        skin_tone: "" (as photographed) or one of :data:`SKIN_TONES` (:func:`skin_toned`).
    """

    def __init__(
        self,
        photo: NDArray[np.uint8],
        points_px: F64,
        *,
        distance_cm: float = 45.0,
        hfov_deg: float = 60.0,
        mouth_shade: float = 1.0,
        skin_tone: str = "",
    ) -> None:
        self.hfov_deg = hfov_deg
        self.distance_cm = distance_cm
        pts = np.asarray(points_px, dtype=np.float64)
        self.uv = pts[:, :2].copy()  # texture coordinates (photo pixels)
        scale = EYE_DISTANCE_CM / float(np.linalg.norm(pts[EYE_OUTER_L, :2] - pts[EYE_OUTER_R, :2]))
        self._cm_per_px = scale
        self.centre = pts[:468].mean(axis=0)
        self.model = (pts - self.centre) * scale  # cm, x right, y down, z away from the camera
        # The head turns about a point inside the skull, behind the face's centroid.
        self.pivot = np.array([0.0, 1.0, 7.0])

        tris = mesh_triangles()
        loops = _boundary_loops(tris)
        loops.sort(key=len)
        tris = np.concatenate([tris, self._add_head_rings(np.array(loops[-1]))])
        # Orient every triangle counter-clockwise on screen (y down) in the photo.
        a, b, c = self.uv[tris[:, 0]], self.uv[tris[:, 1]], self.uv[tris[:, 2]]
        cross = (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]
        tris = np.where((cross < 0)[:, None], tris[:, [0, 2, 1]], tris)
        self.face_tris = tris

        def loop_with(i: int) -> NDArray[np.intp]:
            return np.array(next(lp for lp in loops if i in lp), dtype=np.intp)

        self.eyes = (
            _Eye(
                np.array(fm.UPPER_LID_R), np.array(fm.LOWER_LID_R), loop_with(EYE_OUTER_R), IRIS_R,
                float(np.linalg.norm(self.uv[EYE_OUTER_R] - self.uv[EYE_INNER_R])),
            ),
            _Eye(
                np.array(fm.UPPER_LID_L), np.array(fm.LOWER_LID_L), loop_with(EYE_OUTER_L), IRIS_L,
                float(np.linalg.norm(self.uv[EYE_OUTER_L] - self.uv[EYE_INNER_L])),
            ),
        )  # fmt: skip
        self.mouth = loop_with(fm.INNER_LIP_UP)
        self._teeth_tris = self._add_teeth()

        # Texture: the photo, a strip of mouth-interior colour, then the eyeball atlas the eye
        # fans sample: a copy of the photo whose eyes :meth:`_iris_texture` redraws (an eyeball
        # reaching past the lids, so a lid that rises with the gaze uncovers more of it, while
        # the lid skin around keeps sampling the photo).
        h, w = photo.shape[:2]
        interior = self._mouth_interior(photo, pts, mouth_shade)  # the light's, not the skin's
        if skin_tone:
            photo = skin_toned(photo, pts, skin_tone)
        self.photo = photo
        self._glasses: tuple[list[F64], F64, list[tuple[F64, int]]] | None = None
        self._fringe: list[tuple[F64, tuple[int, int, int]]] | None = None
        self._atlas_x = w + 8
        self.texture = np.empty((h, 2 * w + 8, 3), np.uint8)
        self.texture[:, :w] = photo
        self.texture[:, w : w + 8] = interior
        self.texture[:, w + 8 :] = photo
        self._dark_uv = np.array([w + 4.0, h / 2.0])
        self._prepare_irises()
        # Looking straight ahead: the same eyeball as any other gaze (not the photo's own eye,
        # which FaceMesh reads slightly differently).
        self._rest_texture = self._iris_texture((0.0, 0.0))
        self._prepare_mouth()

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_photo(cls, name: str = "grace_hopper", **kwargs: Any) -> FaceRenderer:
        """A renderer for one of the package-shipped photos (see :func:`load_photo`)."""
        return cls.from_landmarks(load_photo(name), _photo_landmarks(name), **kwargs)

    @classmethod
    def from_landmarks(
        cls, photo: NDArray[np.uint8], points_px: F64, **kwargs: Any
    ) -> FaceRenderer:
        return cls(photo, points_px, **kwargs)

    def _add_head_rings(self, oval: NDArray[np.intp]) -> NDArray[np.int32]:
        """Extend the mesh past the face outline with two rings that curve back (hair, ears,
        jaw and neck from the photo), so the render shows a head rather than a mask. Appends the
        ring vertices to ``model`` and ``uv``; returns their triangles."""
        n0, k = len(self.model), len(oval)
        c_xy = self.model[oval, :2].mean(axis=0)
        c_uv = self.uv[oval].mean(axis=0)
        rim = self.model[oval]
        radius = np.linalg.norm(rim[:, :2] - c_xy, axis=1)
        verts, uvs = [], []
        for spread, back in ((1.12, 0.3), (1.3, 0.8)):  # (outward scale, depth / radius)
            v = rim.copy()
            v[:, :2] = c_xy + spread * (rim[:, :2] - c_xy)
            v[:, 2] = rim[:, 2] + back * radius
            verts.append(v)
            uvs.append(c_uv + spread * (self.uv[oval] - c_uv))
        self.model = np.concatenate([self.model, *verts])
        self.uv = np.concatenate([self.uv, *uvs])
        inner = [oval, n0 + np.arange(k)]
        outer = [n0 + np.arange(k), n0 + k + np.arange(k)]
        tris = []
        for a, b in (inner, outer):
            for i in range(k):
                j = (i + 1) % k
                tris.append((a[i], a[j], b[i]))
                tris.append((a[j], b[j], b[i]))
        return np.array(tris, dtype=np.int32)

    @staticmethod
    def _mouth_interior(photo: NDArray[np.uint8], pts: F64, scale: float) -> NDArray[np.uint8]:
        """The colour of the inside of the mouth: ``scale`` x :data:`MOUTH_INTERIOR_SHADE` of the
        photo's median skin between the eyes and the mouth (``scale`` > 1: a mouth whose inside
        is lit, or a skin darker than that inside; :data:`LIT_MOUTH_SHADE`)."""
        skin = np.median(_skin_band(photo, pts), axis=0)
        shade = np.minimum(np.array(MOUTH_INTERIOR_SHADE) * scale, 1.0)
        return np.clip(np.round(skin * shade), 0, 255).astype(np.uint8)

    def _add_teeth(self) -> NDArray[np.intp]:
        """Teeth, or whatever the photo shows between the lips: the mouth hole's texture split at
        the seam midway between the inner lips. The upper half stays with the skull and the lower
        half drops with the jaw, so a face photographed with its teeth showing keeps both rows of
        teeth in an open mouth, with the dark interior between them (a dark fill over the whole
        hole made the teeth vanish at the first hint of an opening). Appends the seam twice
        (upper row, then lower row) to ``model`` and ``uv``; returns the strips' triangles."""
        up, lo = np.array(fm.UPPER_INNER_LIP), np.array(fm.LOWER_INNER_LIP)
        seam = 0.5 * (self.model[up] + self.model[lo])
        seam_uv = 0.5 * (self.uv[up] + self.uv[lo])
        n0, k = len(self.model), len(up)
        self.model = np.concatenate([self.model, seam, seam])
        self.uv = np.concatenate([self.uv, seam_uv, seam_uv])
        self._seam_rows = (n0 + np.arange(k), n0 + k + np.arange(k))
        tris = []
        for lip, row in zip((up, lo), self._seam_rows, strict=True):
            for i in range(k - 1):
                tris.append((lip[i], lip[i + 1], row[i + 1]))
                tris.append((lip[i], row[i + 1], row[i]))
        return np.array(tris, dtype=np.intp)

    def _prepare_irises(self) -> None:
        """Each eye as an eyeball to turn: an iris-free sclera reaching past the lids (the
        photo's opening with the iris and the rim around it filled in sclera colour, and plain
        sclera colour beyond the opening) and the iris disk with a soft edge (the photo's
        iris where the lids leave it visible, the covered part in its mean colour)."""
        h, w = self.photo.shape[:2]
        self._eyeballs = []
        for eye in self.eyes:
            mask = np.zeros((h, w), np.uint8)
            cv2.fillPoly(mask, [np.round(self.uv[eye.contour]).astype(np.int32)], (255,))
            c = self.uv[eye.iris]
            r = float(np.mean(np.linalg.norm(self.uv[eye.iris + 1 : eye.iris + 5] - c, axis=1)))
            # The eyeball's region: the opening grown by a third of the eye width (more than a
            # lid ever uncovers here), and its bounding box.
            grow = max(int(np.ceil(eye.width_px / 3.0)), 2)
            ball = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
            x0, y0, bw, bh = cv2.boundingRect(ball)
            x1, y1 = x0 + bw, y0 + bh
            photo = self.photo[y0:y1, x0:x1].astype(np.float32)
            inside = mask[y0:y1, x0:x1] > 0
            cx, cy = float(c[0] - x0), float(c[1] - y0)
            yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
            dist = np.hypot(xx - cx, yy - cy) / max(r, 0.5)  # in iris radii
            # The iris: visible where the opening is, one pixel in from the lids (lash shadow).
            clear = cv2.erode(mask[y0:y1, x0:x1], np.ones((3, 3), np.uint8)) > 0
            visible = clear & (dist <= 1.0)
            mean_iris = photo[visible].mean(axis=0) if visible.any() else np.array([60.0, 60, 60])
            iris_src = photo.copy()
            iris_src[~visible] = mean_iris
            # Soft edge: full inside 0.9 radii, none past 1.1.
            alpha = np.clip((1.1 - dist) / 0.2, 0.0, 1.0).astype(np.float32)
            # Sclera colour: the brightest quarter of the opening's pixels away from the iris.
            white = photo[inside & (dist > 1.4)].astype(np.float64)
            if len(white) >= 4:
                lum = white.sum(axis=1)
                sclera_bgr = np.median(white[lum >= np.percentile(lum, 75)], axis=0)
            else:
                sclera_bgr = np.array([200.0, 205, 215])
            # The sclera: the photo's opening with the iris and its rim (to 1.3 radii) inpainted
            # from the sclera around it, plain sclera colour outside the opening.
            src8 = self.photo[y0:y1, x0:x1].copy()
            src8[~inside] = np.round(sclera_bgr).astype(np.uint8)
            hole = (inside & (dist <= 1.3)).astype(np.uint8) * 255
            sclera = np.asarray(cv2.inpaint(src8, hole, 3, cv2.INPAINT_TELEA), np.float32)
            self._eyeballs.append(
                ((x0, y0, x1, y1), ball[y0:y1, x0:x1] > 0, (cx, cy), iris_src, alpha, sclera)
            )

    def _iris_texture(self, iris: tuple[float, float]) -> NDArray[np.uint8]:
        """The texture with both eyeballs turned for ``iris`` = (dx, dy) eye widths (dx > 0:
        person's left, dy > 0: up): each iris disk moves by (dx, dy) (the eyeball's radius times
        the sine of the gaze angle, :func:`gaze_angles`) and foreshortens to an ellipse (cosine
        of the gaze yaw across, of the pitch up and down), over the sclera. Only the eyeball
        atlas changes; the lids cover what they cover (:meth:`deformed_model`)."""
        tex = self.texture.copy()
        yaw, pitch = np.radians(gaze_angles(iris))
        sx, sy = float(np.cos(yaw)), float(np.cos(pitch))
        for eye, ((x0, y0, x1, y1), ball, (cx, cy), src, disk, sclera) in zip(
            self.eyes, self._eyeballs, strict=True
        ):
            dx, dy = iris[0] * eye.width_px, -iris[1] * eye.width_px
            warp = np.array(
                [[sx, 0.0, (1.0 - sx) * cx + dx], [0.0, sy, (1.0 - sy) * cy + dy]], np.float32
            )
            size = (x1 - x0, y1 - y0)
            moved = cv2.warpAffine(src, warp, size, flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(disk, warp, size, flags=cv2.INTER_LINEAR)[..., None]
            out = sclera * (1.0 - alpha) + moved * alpha
            ax = self._atlas_x
            roi = tex[y0:y1, ax + x0 : ax + x1]
            roi[ball] = np.clip(out[ball], 0, 255).astype(np.uint8)
        return tex

    def _gaze_lid_shift(self, iris: tuple[float, float]) -> list[tuple[F64, F64]]:
        """Per eye (``self.eyes`` order), the upper and lower lid points' downward shift (cm)
        for a vertical gaze ``iris[1]`` (eye widths, up > 0): the lids follow the iris
        (UPPER_LID_FOLLOW, LOWER_LID_FOLLOW), fully in the middle and not at the corners."""
        out = []
        for eye in self.eyes:
            lift = iris[1] * eye.width_px * self._cm_per_px  # cm up
            shifts = []
            for pts, follow in ((eye.upper, UPPER_LID_FOLLOW), (eye.lower, LOWER_LID_FOLLOW)):
                x = self.model[pts, 0]
                corners = self.model[eye.contour, 0]
                u = (x - corners.min()) / max(float(np.ptp(corners)), 1e-9)
                shifts.append(-follow * lift * np.sin(np.pi * np.clip(u, 0.0, 1.0)))
            out.append((shifts[0], shifts[1]))
        return out

    def _prepare_mouth(self) -> None:
        m = self.model
        self._mouth_c = 0.5 * (m[MOUTH_CORNER_L] + m[MOUTH_CORNER_R])
        self._mouth_hw = 0.5 * float(np.linalg.norm(m[MOUTH_CORNER_L] - m[MOUTH_CORNER_R]))
        # The lip seam's height across the mouth: mid-way between the inner lip contours.
        contour = m[self.mouth]
        order = np.argsort(contour[:, 0])
        xs, ys = contour[order, 0], contour[order, 1]
        # Averaging upper and lower inner lips: bin by x and take the mean y.
        bins = np.linspace(xs[0], xs[-1], 8)
        centres, heights = [], []
        for lo, hi in zip(bins[:-1], bins[1:], strict=True):
            sel = (xs >= lo) & (xs <= hi)
            if sel.any():
                centres.append(xs[sel].mean())
                heights.append(ys[sel].mean())
        seam = np.interp(m[:, 0], centres, heights)
        below = m[:, 1] - seam  # cm below the seam
        u = np.abs(m[:, 0] - self._mouth_c[0]) / self._mouth_hw
        g = np.clip(1.0 - (u - 0.5) / 2.0, 0.0, 1.0)
        w = _smoothstep(below / 0.25) * g
        # The lower inner lip drops with the jaw even where it lies on the seam (closed mouth),
        # fully in the middle and not at all at the inner corners.
        lip = np.array(fm.LOWER_INNER_LIP)
        half = 0.5 * float(np.linalg.norm(m[lip[0], :2] - m[lip[-1], :2]))
        u_in = np.abs(m[lip, 0] - 0.5 * (m[lip[0], 0] + m[lip[-1], 0])) / half
        w[lip] = np.maximum(w[lip], np.sqrt(np.clip(1.0 - u_in**2, 0.0, 1.0)))
        w[[MOUTH_CORNER_L, MOUTH_CORNER_R]] = 0.0
        # The teeth: the upper row stays, the lower row drops with the lower lip it lies above.
        w[self._seam_rows[0]] = 0.0
        w[self._seam_rows[1]] = w[lip]
        self._jaw_weight = w
        # The smile's displacement at smile = 1 (cm, every row of the model): each corner's
        # neighbourhood (Gaussian of SMILE_REACH mouth half-widths around it) moves up and away
        # from the mouth's middle, the corner itself by SMILE_LIFT_CM and SMILE_WIDEN_CM.
        field = np.zeros_like(m)
        for corner in (MOUTH_CORNER_L, MOUTH_CORNER_R):
            side = 1.0 if m[corner, 0] > self._mouth_c[0] else -1.0
            d2 = ((m[:, :2] - m[corner, :2]) ** 2).sum(axis=1)
            g = np.exp(-d2 / (2.0 * (SMILE_REACH * self._mouth_hw) ** 2))
            field[:, 0] += g * side * SMILE_WIDEN_CM
            field[:, 1] -= g * SMILE_LIFT_CM
        self._smile_field = field
        # Each brow's displacement at 1 (cm; y is down): up by 1 around the brow, fading with
        # distance and to 0 at that eye's upper lid (the eye's own points never move).
        eye_pts = np.concatenate([np.concatenate([e.upper, e.lower, e.contour]) for e in self.eyes])
        fields = []
        for pts in (fm.BROW_OUTLINE_L, fm.BROW_OUTLINE_R):
            b = m[list(pts)]
            eye = min(self.eyes, key=lambda e: abs(float(m[e.upper, 0].mean() - b[:, 0].mean())))
            lid_y, brow_y = float(m[eye.upper, 1].mean()), float(b[:, 1].mean())
            d2 = ((m[:, None, :2] - b[None, :, :2]) ** 2).sum(axis=2).min(axis=1)
            g = np.exp(-d2 / (2.0 * BROW_REACH_CM**2))
            g *= np.clip((lid_y - m[:, 1]) / max(lid_y - brow_y, 1e-6), 0.0, 1.0) ** 2
            g[eye_pts] = 0.0
            fields.append(g)
        self._brow_fields = (fields[0], fields[1])

    # -- rendering -----------------------------------------------------------------------------

    def deformed_model(
        self,
        eye_close: tuple[float, float] = (0.0, 0.0),
        mouth_open: float = 0.0,
        iris: tuple[float, float] = (0.0, 0.0),
        smile: float = 0.0,
        brows: tuple[float, float] = (0.0, 0.0),
    ) -> F64:
        """The model in cm (478 landmarks, the head rings, then the teeth's seam) with the lids
        and jaw moved, before the head rotation; ``iris`` (render's) moves the lids with a
        vertical gaze; ``smile`` (-1..1) raises the mouth corners and draws them apart (> 0) or
        lowers them (< 0, a frown): :data:`SMILE_LIFT_CM`, :data:`SMILE_WIDEN_CM`; ``brows``
        (person's left, right; -1..1) raises (> 0) or lowers (< 0) each brow:
        :data:`BROW_LIFT_CM`, :data:`BROW_LOWER_CM`."""
        m = self.model.copy()
        for g, b in zip(self._brow_fields, brows, strict=True):
            if b != 0.0:
                b = max(min(float(b), 1.0), -1.0)
                m[:, 1] -= g * b * (BROW_LIFT_CM if b > 0.0 else BROW_LOWER_CM)
        if smile != 0.0:
            m += self._smile_field * max(min(float(smile), 1.0), -1.0)
            if smile < 0.0:  # a frown lowers the corners and does not widen the mouth
                m[:, 0] = self.model[:, 0]
        if iris[1] != 0.0:
            others = np.setdiff1d(
                np.arange(468),
                np.concatenate([np.concatenate([e.upper, e.lower, e.contour]) for e in self.eyes]),
            )
            p = self.model[others]
            for eye, shifts in zip(self.eyes, self._gaze_lid_shift(iris), strict=True):
                for pts, d, side in ((eye.upper, shifts[0], -1.0), (eye.lower, shifts[1], 1.0)):
                    m[pts, 1] += d
                    # The lid skin follows, fading away from the lid (above the upper lid,
                    # below the lower one).
                    xs = self.model[pts, 0]
                    order = np.argsort(xs)
                    width = float(np.ptp(xs))
                    lid_y = np.interp(p[:, 0], xs[order], self.model[pts[order], 1])
                    away = side * (p[:, 1] - lid_y)
                    near = (p[:, 0] > xs.min() - 0.1 * width) & (p[:, 0] < xs.max() + 0.1 * width)
                    fade = np.exp(-((away / (0.3 * width)) ** 2)) * (away > 0) * near
                    m[others, 1] += fade * np.interp(p[:, 0], xs[order], d[order]) * 0.8
        for eye, close in zip(self.eyes, (eye_close[1], eye_close[0]), strict=True):
            # eyes[0] is the person's right eye; eye_close is (left, right).
            if close <= 0.0:
                continue
            close = min(float(close), 1.0)
            up, lo = m[eye.upper], m[eye.lower]
            meet = lo + 0.25 * (up - lo)  # the lids meet below the eye's middle
            d_up = close * (meet - up)
            m[eye.upper] = up + d_up
            m[eye.lower] = lo + close * (meet - lo)
            # The lid skin above follows, fading with height over the lid.
            xs = up[:, 0]
            order = np.argsort(xs)
            width = float(np.ptp(xs))
            cand = np.setdiff1d(np.arange(468), np.concatenate([eye.upper, eye.lower, eye.contour]))
            p = self.model[cand]
            lid_y = np.interp(p[:, 0], xs[order], up[order, 1])
            above = lid_y - p[:, 1]
            inside = (p[:, 0] > xs.min() - 0.1 * width) & (p[:, 0] < xs.max() + 0.1 * width)
            fade = np.exp(-((above / (0.3 * width)) ** 2)) * (above > 0) * inside
            dy = np.interp(p[:, 0], xs[order], d_up[order, 1])
            m[cand, 1] += fade * dy * 0.8
        if mouth_open > 0.0:
            drop = 1.6 * min(float(mouth_open), 1.0)  # cm at the chin
            m[:, 1] += self._jaw_weight * drop
            m[:, 2] += self._jaw_weight * drop * 0.3
        return m

    def project(
        self,
        yaw: float = 0.0,
        pitch: float = 0.0,
        roll: float = 0.0,
        *,
        eye_close: tuple[float, float] = (0.0, 0.0),
        mouth_open: float = 0.0,
        iris: tuple[float, float] = (0.0, 0.0),
        size: tuple[int, int] = (640, 480),
        smile: float = 0.0,
        brows: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[F64, F64]:
        """The mesh's 478 points in the render: (pixels (478, 2), camera-frame cm (478, 3))."""
        px, cam = self._project_all(
            yaw, pitch, roll, eye_close, mouth_open, iris, size, smile, brows
        )
        return px[:478], cam[:478]

    def _project_all(
        self,
        yaw: float,
        pitch: float,
        roll: float,
        eye_close: tuple[float, float],
        mouth_open: float,
        iris: tuple[float, float],
        size: tuple[int, int],
        smile: float = 0.0,
        brows: tuple[float, float] = (0.0, 0.0),
    ) -> tuple[F64, F64]:
        m = self.deformed_model(eye_close, mouth_open, iris, smile, brows)
        cam = self._camera(m, true_rotation(yaw, pitch, roll))
        return self._pixels(cam, size), cam

    def _camera(self, model_cm: F64, rot: F64) -> F64:
        """Model points (cm) in the camera frame (cm) with the head turned by ``rot``."""
        return (model_cm - self.pivot) @ rot.T + self.pivot + np.array([0.0, 0.0, self.distance_cm])

    def _focal_px(self, width: int) -> float:
        """The pinhole camera's focal length in pixels for an image ``width`` pixels wide."""
        return float(0.5 * width / np.tan(np.radians(self.hfov_deg) / 2.0))

    def _pixels(self, cam: F64, size: tuple[int, int]) -> F64:
        """Camera-frame points (cm) in the image of ``size`` (pixels, sub-pixel)."""
        w, h = size
        return self._focal_px(w) * cam[:, :2] / cam[:, 2:3] + np.array([w / 2.0, h / 2.0])

    def render(
        self,
        yaw: float = 0.0,
        pitch: float = 0.0,
        roll: float = 0.0,
        *,
        eye_close: tuple[float, float] = (0.0, 0.0),
        mouth_open: float = 0.0,
        iris: tuple[float, float] = (0.0, 0.0),
        size: tuple[int, int] = (640, 480),
        noise: float = 0.0,
        seed: int | None = None,
        glasses: bool = False,
        smile: float = 0.0,
        brows: tuple[float, float] = (0.0, 0.0),
        fringe: bool = False,
    ) -> NDArray[np.uint8]:
        """A BGR uint8 image of ``size`` = (width, height) showing the face turned by yaw, pitch,
        roll (degrees; module docstring), with ``eye_close`` = (person's left, right) closure
        0..1, ``mouth_open`` 0..1 (jaw drop, 1.6 cm at 1), ``iris`` = (dx, dy) iris shift in eye
        widths (dx > 0 toward the person's left, dy > 0 up; :func:`gaze_angles` gives the gaze),
        ``glasses`` on the face (:meth:`glasses_model`), a ``fringe`` over the forehead
        (:meth:`fringe_model`), ``smile`` and ``brows``
        (:meth:`deformed_model`), plus Gaussian pixel noise of std ``noise`` (grey levels,
        seeded by ``seed``)."""
        px, cam = self._project_all(
            yaw, pitch, roll, eye_close, mouth_open, iris, size, smile, brows
        )
        tex = self._rest_texture if iris == (0.0, 0.0) else self._iris_texture(iris)
        w, h = size

        # Triangles: eye and mouth fans first (they sit in holes, behind the skin), then the
        # skin, far to near. Each carries destination and texture coordinates. The eye fans
        # sample the eyeball atlas; a lid moved by the gaze moves its window on the eyeball.
        dst_list, src_list = [], []
        eye_uv = self.uv.copy()
        eye_uv[:, 0] += self._atlas_x
        if iris[1] != 0.0:
            for eye, (d_up, d_lo) in zip(self.eyes, self._gaze_lid_shift(iris), strict=True):
                eye_uv[eye.upper, 1] += d_up / self._cm_per_px
                eye_uv[eye.lower, 1] += d_lo / self._cm_per_px
        for eye in self.eyes:
            d, s = self._fan(px[eye.contour], eye_uv[eye.contour])
            dst_list.append(d)
            src_list.append(s)
        mouth_uv = self.uv[self.mouth]
        if mouth_open > 0.0:
            mouth_uv = np.broadcast_to(self._dark_uv, mouth_uv.shape)
        d, s = self._fan(px[self.mouth], mouth_uv)
        dst_list.append(d)
        src_list.append(s)
        dst_list.append(px[self._teeth_tris])
        src_list.append(self.uv[self._teeth_tris])
        n_fan = sum(len(d) for d in dst_list)
        tri = self.face_tris
        depth = cam[tri, 2].mean(axis=1)
        order = np.argsort(-depth)
        dst_list.append(px[tri[order]])
        src_list.append(self.uv[tri[order]])
        dst = np.concatenate(dst_list)
        src = np.concatenate(src_list)

        # Cull back faces (clockwise on screen) and degenerate ones; fans are culled only when
        # degenerate (a closed eye).
        e1, e2 = dst[:, 1] - dst[:, 0], dst[:, 2] - dst[:, 0]
        area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        keep = np.abs(area) > 1e-3
        keep[n_fan:] &= area[n_fan:] > 0
        idx = np.nonzero(keep)[0]

        # Rasterize triangle ids (painter's order) with sub-pixel precision.
        ids = np.full((h, w), -1, np.int32)
        fixed = np.round(dst * 16.0).astype(np.int32)
        for i in idx:
            cv2.fillConvexPoly(ids, fixed[i], (int(i),), cv2.LINE_8, 4)

        # Affine map destination pixel -> texture pixel, per triangle.
        dh = np.concatenate([dst, np.ones((len(dst), 3, 1))], axis=2)  # (T, 3, 3) rows [x y 1]
        dh[~keep] = np.eye(3)
        aff = np.linalg.solve(dh, src)  # (T, 3, 2): [x y 1] @ aff = [u v]
        ys, xs = np.nonzero(ids >= 0)
        out = np.empty((h, w, 3), np.uint8)
        out[:] = BACKGROUND_BGR
        if len(xs):
            a = aff[ids[ys, xs]]
            xf, yf = xs.astype(np.float64), ys.astype(np.float64)
            mx = (a[:, 0, 0] * xf + a[:, 1, 0] * yf + a[:, 2, 0]).astype(np.float32)
            my = (a[:, 0, 1] * xf + a[:, 1, 1] * yf + a[:, 2, 1]).astype(np.float32)
            # remap wants maps under 32767 columns: fold the pixel list into rows of 1024.
            n = len(xs)
            rows = -(-n // 1024)
            mx2 = np.zeros(rows * 1024, np.float32)
            my2 = np.zeros(rows * 1024, np.float32)
            mx2[:n], my2[:n] = mx, my
            vals = cv2.remap(
                tex, mx2.reshape(rows, 1024), my2.reshape(rows, 1024), cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )  # fmt: skip
            out[ys, xs] = vals.reshape(-1, 3)[:n]
        # Lashes: a closed lid shows a dark line where the lids meet.
        for eye, close in zip(self.eyes, (eye_close[1], eye_close[0]), strict=True):
            if close > 0.5 and keep[n_fan:].any():
                corners = (
                    [EYE_OUTER_R, EYE_INNER_R] if eye.iris == IRIS_R else [EYE_OUTER_L, EYE_INNER_L]
                )
                line = np.concatenate([px[corners[:1]], px[eye.upper], px[corners[1:]]])
                line = line[np.argsort(line[:, 0])]
                lash = out.copy()
                thick = max(1, int(round(0.06 * np.ptp(line[:, 0]))))
                cv2.polylines(lash, [np.round(line).astype(np.int32)], False, (25, 22, 24), thick,
                              cv2.LINE_AA)  # fmt: skip
                a = (close - 0.5) * 2.0
                out = np.asarray(cv2.addWeighted(lash, a, out, 1.0 - a, 0.0), np.uint8)
        if fringe:  # under the glasses: a fringe hangs behind a frame's front
            out = self._draw_fringe(out, true_rotation(yaw, pitch, roll), size)
        if glasses:
            out = self._draw_glasses(out, true_rotation(yaw, pitch, roll), size)
        if noise > 0.0:
            rng = np.random.default_rng(seed)
            noisy = out.astype(np.float32) + rng.normal(0.0, noise, out.shape).astype(np.float32)
            out = np.clip(noisy, 0, 255).astype(np.uint8)
        return out

    def glasses_model(self) -> tuple[list[F64], F64, list[tuple[F64, int]]]:
        """A pair of glasses fitted to this face, in model cm (x right in the photo, y down, z
        away from the camera): the two lens rims (closed loops, the person's right eye first),
        the bridge, and the temples with the side of the head each lies on (-1: the photo's
        left, the person's right; +1: the other). Made once per renderer."""
        if self._glasses is None:
            self._glasses = self._make_glasses()
        return self._glasses

    def _make_glasses(self) -> tuple[list[F64], F64, list[tuple[F64, int]]]:
        m = self.model
        front = float(m[168, 2]) - GLASSES_FRONT_CM  # 168: the nose bridge between the eyes
        t = np.linspace(0.0, 2.0 * np.pi, 48, endpoint=False)
        c, s = np.cos(t), np.sin(t)
        ux = np.sign(c) * np.abs(c) ** (2.0 / 3.0)  # a rounded rectangle (superellipse, p = 3)
        uy = np.sign(s) * np.abs(s) ** (2.0 / 3.0)
        rims, hinges, inner = [], [], []
        for eye, (o, i) in zip(
            self.eyes, ((EYE_OUTER_R, EYE_INNER_R), (EYE_OUTER_L, EYE_INNER_L)), strict=True
        ):
            width = float(np.linalg.norm(m[o] - m[i]))
            out_dir = 1.0 if m[o, 0] > m[i, 0] else -1.0  # toward this eye's temple, in x
            centre = m[eye.contour].mean(axis=0)
            cx = centre[0] + out_dir * 0.08 * width
            cy = centre[1] + 0.05 * width
            a, b = 0.75 * width, 0.55 * width
            x = cx + a * ux
            # The lens front wraps back toward the temple (a frame's face form).
            wrap = 0.35 * np.clip(out_dir * (x - cx) / a, 0.0, 1.0) ** 2
            rims.append(np.stack([x, cy + b * uy, front + wrap], axis=1))
            top = cy - 0.45 * b
            hinges.append(np.array([cx + out_dir * a, top, front + 0.35]))
            inner.append(np.array([cx - out_dir * a, top, front]))
        bridge = np.array([inner[0], [m[168, 0], inner[0][1] - 0.1, front - 0.1], inner[1]])
        temples = []
        for hinge, ear in zip(hinges, (234, 454), strict=True):
            side = -1 if m[ear, 0] < 0.0 else 1
            end = np.array([m[ear, 0], hinge[1] + 0.3, m[ear, 2] + 1.5])
            temples.append((np.array([hinge, end]), side))
        return rims, bridge, temples

    def _draw_glasses(
        self, img: NDArray[np.uint8], rot: F64, size: tuple[int, int]
    ) -> NDArray[np.uint8]:
        """Draw :meth:`glasses_model` over a rendered face turned by ``rot``: the lenses' glare,
        the rims and bridge, and each temple while its side of the head faces the camera."""
        rims, bridge, temples = self.glasses_model()
        f = self._focal_px(size[0])

        def cam(p: F64) -> F64:
            return self._camera(p, rot)

        def pix(p: F64) -> NDArray[np.int32]:  # 4 fractional bits, as drawn with shift 4
            return np.round(16.0 * self._pixels(cam(p), size)).astype(np.int32)

        depth = float(cam(np.concatenate(rims))[:, 2].mean())
        thick = max(1, int(round(f * GLASSES_RIM_CM / depth)))
        lines = [pix(r) for r in rims]
        glare = img.copy()
        cv2.fillPoly(glare, lines, (255, 255, 255), cv2.LINE_AA, 4)
        out = np.asarray(
            cv2.addWeighted(glare, GLASSES_GLARE, img, 1.0 - GLASSES_GLARE, 0.0), np.uint8
        )
        cv2.polylines(out, lines, True, GLASSES_BGR, thick, cv2.LINE_AA, 4)
        cv2.polylines(out, [pix(bridge)], False, GLASSES_BGR, thick, cv2.LINE_AA, 4)
        for temple, side in temples:
            q = cam(temple)
            # This side of the head faces the camera when its outward normal points back at it.
            normal = rot @ np.array([float(side), 0.0, 0.0])
            if float(normal @ q.mean(axis=0)) < 0.0:
                cv2.polylines(out, [pix(temple)], False, GLASSES_BGR, thick, cv2.LINE_AA, 4)
        return out

    def fringe_model(self) -> list[tuple[F64, tuple[int, int, int]]]:
        """A fringe for this face (the comment at :data:`FRINGE_BGR`): its locks as polygons in
        model cm (x right in the photo, y down, z away from the camera; each lock's left edge
        down, its tip, its right edge up) with their BGR colours, in order across the forehead.
        Made once per renderer, the same for every render."""
        if self._fringe is None:
            self._fringe = self._make_fringe()
        return self._fringe

    def _make_fringe(self) -> list[tuple[F64, tuple[int, int, int]]]:
        m = self.model[:468]
        # The hem: halfway between each brow's upper and lower edge, joined straight across
        # the gap between the brows and held level beyond their outer ends.
        xs, ys = [], []
        for outline in (fm.BROW_OUTLINE_R, fm.BROW_OUTLINE_L):
            upper, lower = m[list(outline[:5])], m[list(outline[5:])]
            lower = lower[np.argsort(lower[:, 0])]
            ys.extend(0.5 * (upper[:, 1] + np.interp(upper[:, 0], lower[:, 0], lower[:, 1])))
            xs.extend(upper[:, 0])
        order = np.argsort(xs)
        hem_x, hem_y = np.asarray(xs)[order], np.asarray(ys)[order]
        x0, x1 = float(hem_x[0]) - 1.0, float(hem_x[-1]) + 1.0
        crown = float(m[:, 1].min())  # the top of the face mesh
        top = crown - 2.0  # the locks start up in the hair
        # The skin's depth under any (x, y) of the forehead: the nearest mesh points', weighted;
        # above the mesh the skull curves back (a sphere of about 9 cm radius).
        tree = cKDTree(m[:, :2])

        def lying_on_skin(x: F64, y: F64) -> F64:
            d, i = tree.query(np.stack([x, y], axis=1), k=4)
            wgt = 1.0 / np.maximum(d, 1e-3)
            z = (m[i, 2] * wgt).sum(axis=1) / wgt.sum(axis=1)
            z += np.maximum(crown - y, 0.0) ** 2 / (2.0 * 9.0)
            return np.stack([x, y, z - FRINGE_OFF_CM], axis=1)

        rng = np.random.default_rng(len(m) + int(1000 * abs(x1 - x0)))
        width = (x1 - x0) / FRINGE_LOCKS
        rows = np.linspace(0.0, 1.0, 7)
        locks = []
        for k in range(FRINGE_LOCKS):
            a, b = x0 + k * width, x0 + (k + 1.15) * width  # neighbours overlap a little
            tip = float(np.interp(0.5 * (a + b), hem_x, hem_y))
            tip -= FRINGE_RAGGED_CM * float(rng.uniform(0.0, 1.0))
            ends = [float(np.interp(a, hem_x, hem_y)), float(np.interp(b, hem_x, hem_y))]
            ends = [min(e, tip) for e in ends]  # the lock narrows to its tip
            left = lying_on_skin(np.full(7, a), top + rows * (ends[0] - top))
            right = lying_on_skin(np.full(7, b), top + rows[::-1] * (ends[1] - top))
            point = lying_on_skin(np.array([0.5 * (a + b)]), np.array([tip + FRINGE_TIP_CM]))
            shade = float(rng.uniform(0.75, 1.35))
            bgr = tuple(int(min(255.0, c * shade)) for c in FRINGE_BGR)
            locks.append((np.concatenate([left, point, right]), (bgr[0], bgr[1], bgr[2])))
        return locks

    def _draw_fringe(
        self, img: NDArray[np.uint8], rot: F64, size: tuple[int, int]
    ) -> NDArray[np.uint8]:
        """Draw :meth:`fringe_model` over a rendered face turned by ``rot``, far locks first; a
        lock turned away from the camera (past the forehead's edge) is not drawn."""
        drawn = []
        for poly, bgr in self.fringe_model():
            cam = self._camera(poly, rot)
            px = self._pixels(cam, size)
            e1, e2 = px[1:] - px[0], np.roll(px[1:], -1, axis=0) - px[0]
            area = float((e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]).sum())
            if area > 0.0:  # its outline turns the other way on screen: seen from behind
                continue
            drawn.append((float(cam[:, 2].mean()), np.round(16.0 * px).astype(np.int32), bgr))
        out = img.copy()
        for _, pts, bgr in sorted(drawn, key=lambda d: -d[0]):
            cv2.fillPoly(out, [pts], bgr, cv2.LINE_AA, 4)
        return out

    @staticmethod
    def _fan(dst: F64, src: F64) -> tuple[F64, F64]:
        """A polygon as a fan of triangles around its mean point, (n, 3, 2) each."""
        n = len(dst)
        j = np.arange(n)
        k = (j + 1) % n
        dc = np.broadcast_to(dst.mean(axis=0), (n, 2))
        sc = np.broadcast_to(src.mean(axis=0), (n, 2))
        return (
            np.stack([dc, dst[j], dst[k]], axis=1),
            np.stack([sc, src[j], src[k]], axis=1),
        )


def still_landmarks(img: NDArray[np.uint8], what: str) -> F64:
    """FaceMesh landmarks of a still photo, pixels (z scaled like x), read-only; ``what`` names
    the photo in the error when no face is found."""
    from vtuber.landmarks.facemesh import FaceMeshBackend

    with FaceMeshBackend(static_images=True) as fm:
        lm = fm.process(img, 0.0)
    if not lm.face.found:
        raise VtuberError(f"no face found in {what}")
    pts = lm.face_pixels()
    pts.setflags(write=False)
    return pts


@lru_cache(maxsize=4)
def _photo_landmarks(name: str) -> F64:
    """FaceMesh landmarks of a sample photo."""
    return still_landmarks(load_photo(name), f"the sample photo {name!r}")
