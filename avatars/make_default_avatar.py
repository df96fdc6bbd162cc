#!/usr/bin/env python3
# ruff: noqa: E501  (geometry tables read best one row per line)
"""Generate vtuber's default avatar, ``avatars/default.vrm`` (VRM 1.0, glTF 2.0 binary).

A small, friendly chibi-proportioned humanoid built from ellipsoids, written with numpy and
vtuber's GLB writer (vtuber/export/glb.py, shared with the VRMA export) only (no 3D tool, nothing
downloaded). Deterministic: the same script writes the same bytes.

What it holds (docs/viewer.md, "The default avatar"):
- the full VRM humanoid: all 55 bones incl. upperChest, eyes, jaw, toes and 30 finger bones, in
  T-pose with identity rest rotations (so its raw and normalized rigs agree);
- two skinned meshes (body; face) with every part rigidly bound to its bone; irises and pupils
  follow the eye bones, so ``lookAt`` (type ``bone``) moves them;
- face morph targets behind the preset expressions: blink (= blinkLeft + blinkRight), blinkLeft,
  blinkRight, aa, ih, ou, ee, oh, happy, angry, sad, relaxed, surprised; lookUp/Down/Left/Right
  are empty expressions because lookAt turns the eye bones; neutral is empty;
- MToon materials (VRMC_materials_mtoon) and a spring-bone ponytail (VRMC_springBone) so that
  the viewer's ``vrm.update(dt)`` visibly swings it.

Coordinates: glTF / VRM 1.0: right-handed, y up, metres, the avatar faces +Z, so its LEFT side is
+X. Usage: ``python avatars/make_default_avatar.py [OUT.vrm]``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's vtuber

from vtuber.export.glb import FLOAT, UNSIGNED_BYTE, UNSIGNED_SHORT, GlbBuffer  # noqa: E402

ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963  # bufferView targets

OUT = Path(__file__).resolve().parent / "default.vrm"

# ---------------------------------------------------------------------------- skeleton (world)
# (name, parent, world position). Left side (+X) listed once; the right side is mirrored.
CENTRE = [
    ("hips", None, (0.0, 0.72, 0.0)),
    ("spine", "hips", (0.0, 0.80, 0.0)),
    ("chest", "spine", (0.0, 0.90, 0.0)),
    ("upperChest", "chest", (0.0, 0.99, 0.0)),
    ("neck", "upperChest", (0.0, 1.07, 0.0)),
    ("head", "neck", (0.0, 1.11, 0.0)),
    ("jaw", "head", (0.0, 1.17, 0.05)),
]
LEFT = [
    ("Eye", "head", (0.058, 1.235, 0.10)),
    ("Shoulder", "upperChest", (0.03, 1.04, 0.0)),
    ("UpperArm", "Shoulder", (0.11, 1.04, 0.0)),
    ("LowerArm", "UpperArm", (0.32, 1.04, 0.0)),
    ("Hand", "LowerArm", (0.52, 1.04, 0.0)),
    ("UpperLeg", "hips", (0.075, 0.68, 0.0)),
    ("LowerLeg", "UpperLeg", (0.075, 0.38, 0.0)),
    ("Foot", "LowerLeg", (0.075, 0.07, -0.01)),
    ("Toes", "Foot", (0.075, 0.02, 0.08)),
]
# finger: proximal, intermediate, distal, tip (left hand, world)
FINGERS = {
    "Thumb": [(0.54, 1.033, 0.03), (0.562, 1.03, 0.052), (0.578, 1.028, 0.067), (0.592, 1.027, 0.08)],
    "Index": [(0.585, 1.045, 0.022), (0.622, 1.045, 0.024), (0.647, 1.045, 0.025), (0.667, 1.045, 0.025)],
    "Middle": [(0.59, 1.046, 0.006), (0.629, 1.046, 0.006), (0.657, 1.046, 0.006), (0.678, 1.046, 0.006)],
    "Ring": [(0.586, 1.045, -0.01), (0.622, 1.045, -0.011), (0.647, 1.045, -0.012), (0.666, 1.045, -0.012)],
    "Little": [(0.578, 1.042, -0.025), (0.607, 1.042, -0.028), (0.627, 1.042, -0.029), (0.643, 1.042, -0.03)],
}  # fmt: skip
PHALANGES = ("Proximal", "Intermediate", "Distal")
THUMB = (
    "Metacarpal",
    "Proximal",
    "Distal",
)  # VRM 1.0 names of Unity's Thumb Proximal/Inter./Distal
# Ponytail spring chain under the head (not humanoid bones).
HAIR = [("hair1", (0.0, 1.33, -0.16)), ("hair2", (0.0, 1.24, -0.215)),
        ("hair3", (0.0, 1.13, -0.23)), ("hair4", (0.0, 1.02, -0.22))]  # fmt: skip


def skeleton() -> list[tuple[str, str | None, np.ndarray]]:
    bones: list[tuple[str, str | None, np.ndarray]] = [
        (n, p, np.array(w, float)) for n, p, w in CENTRE
    ]
    for side, sx in (("left", 1.0), ("right", -1.0)):

        def nm(s: str, side: str = side) -> str:
            return s if s in ("hips", "head", "upperChest") else side + s

        for n, p, w in LEFT:
            bones.append((nm(n), nm(p), np.array((sx * w[0], w[1], w[2]))))
        for f, pts in FINGERS.items():
            parent = nm("Hand")
            for ph, w in zip(THUMB if f == "Thumb" else PHALANGES, pts[:3], strict=True):
                bones.append((nm(f + ph), parent, np.array((sx * w[0], w[1], w[2]))))
                parent = nm(f + ph)
    parent = "head"
    for n, w in HAIR:
        bones.append((n, parent, np.array(w, float)))
        parent = n
    return bones


# ---------------------------------------------------------------------------- geometry
@dataclass
class Part:
    """One ellipsoid: unit-sphere params kept so morph targets can re-shape it."""

    name: str
    material: str
    bone: str
    center: np.ndarray
    radii: np.ndarray
    rot: np.ndarray
    unit: np.ndarray  # (n, 3) unit-sphere points
    tris: np.ndarray  # (m, 3)
    bend: float = 0.0  # dy += bend * dx^2 (curves mouths and lashes)
    pos: np.ndarray = field(init=False)
    nrm: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.pos = self.shape(self.center, self.radii, self.bend)
        n = (self.unit / self.radii) @ self.rot.T
        self.nrm = n / np.linalg.norm(n, axis=1, keepdims=True)

    def shape(self, center: np.ndarray, radii: np.ndarray, bend: float) -> np.ndarray:
        p = (self.unit * radii) @ self.rot.T + center
        p[:, 1] += bend * (p[:, 0] - center[0]) ** 2
        return p


def unit_sphere(nu: int, nv: int) -> tuple[np.ndarray, np.ndarray]:
    """A UV sphere: nu segments around y, nv rings pole to pole (poles shared)."""
    pts = [(0.0, 1.0, 0.0)]
    for i in range(1, nv):
        th = math.pi * i / nv
        for j in range(nu):
            ph = 2 * math.pi * j / nu
            pts.append((math.sin(th) * math.sin(ph), math.cos(th), math.sin(th) * math.cos(ph)))
    pts.append((0.0, -1.0, 0.0))
    tris = []
    last = len(pts) - 1
    for j in range(nu):
        tris.append((0, 1 + j, 1 + (j + 1) % nu))
    for i in range(nv - 2):
        a, b = 1 + i * nu, 1 + (i + 1) * nu
        for j in range(nu):
            j1 = (j + 1) % nu
            tris.append((a + j, b + j, b + j1))
            tris.append((a + j, b + j1, a + j1))
    base = 1 + (nv - 2) * nu
    for j in range(nu):
        tris.append((base + j, last, base + (j + 1) % nu))
    return np.array(pts, float), np.array(tris, np.int64)


def rot_to(axis: np.ndarray) -> np.ndarray:
    """Rotation taking +X to ``axis`` (for limbs, whose ellipsoid's long radius is x)."""
    a = axis / np.linalg.norm(axis)
    x = np.array([1.0, 0.0, 0.0])
    v = np.cross(x, a)
    c = float(np.dot(x, a))
    if np.linalg.norm(v) < 1e-9:
        return np.eye(3) if c > 0 else np.diag([-1.0, -1.0, 1.0])
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def rot_z(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


_SPHERES = {r: unit_sphere(*r) for r in ((32, 24), (20, 14), (14, 10), (10, 8), (8, 6))}


def ellipsoid(name, material, bone, center, radii, res=(14, 10), rot=None, bend=0.0, keep=None):  # type: ignore[no-untyped-def]
    unit, tris = _SPHERES[res]
    if keep is not None:  # drop triangles whose centroid (on the unit sphere) fails `keep`
        cen = unit[tris].mean(axis=1)
        tris = tris[keep(cen)]
    return Part(
        name, material, bone, np.array(center, float), np.array(radii, float),
        np.eye(3) if rot is None else rot, unit, tris, bend,
    )  # fmt: skip


def limb(name, material, bone, a, b, r, res=(14, 10), extra=0.2):  # type: ignore[no-untyped-def]
    a, b = np.asarray(a, float), np.asarray(b, float)
    half = np.linalg.norm(b - a) / 2
    return ellipsoid(
        name, material, bone, (a + b) / 2, (half * (1 + extra), r, r), res, rot_to(b - a)
    )


HEAD_C = np.array([0.0, 1.25, 0.0])
HEAD_R = np.array([0.16, 0.15, 0.15])


def face_z(x: float, y: float) -> float:
    """z of the head's front surface at (x, y)."""
    u = 1 - (x / HEAD_R[0]) ** 2 - ((y - HEAD_C[1]) / HEAD_R[1]) ** 2
    return float(HEAD_R[2] * math.sqrt(max(u, 0.0)))


def body_parts(bw: dict[str, np.ndarray]) -> list[Part]:
    P: list[Part] = []
    P.append(ellipsoid("head", "skin", "head", HEAD_C, HEAD_R, (32, 24)))
    P.append(ellipsoid("neck", "skin", "neck", (0, 1.085, 0), (0.035, 0.05, 0.035)))
    # hair: a cap over the head, cut open in front below the fringe line
    hc = np.array([0.0, 1.265, -0.012])
    hr = np.array([0.172, 0.165, 0.168])
    fringe = (1.312 - hc[1]) / hr[1]

    def keep_hair(c: np.ndarray) -> np.ndarray:
        return ~((c[:, 2] > 0.15) & (c[:, 1] < fringe))

    P.append(ellipsoid("hair", "hair", "head", hc, hr, (32, 24), keep=keep_hair))
    for sx in (1, -1):  # side locks and the fringe's tips
        P.append(ellipsoid("lock", "hair", "head", (sx * 0.14, 1.2, 0.06), (0.035, 0.11, 0.05),
                           rot=rot_z(sx * 6)))  # fmt: skip
        P.append(ellipsoid("ear", "skin", "head", (sx * 0.158, 1.235, 0.0), (0.02, 0.035, 0.025)))
    for x, tilt in ((-0.07, 12), (0.0, 0), (0.07, -12)):
        P.append(ellipsoid("bang", "hair", "head", (x, 1.33, face_z(x, 1.33) - 0.01),
                           (0.045, 0.035, 0.03), rot=rot_z(tilt)))  # fmt: skip
    # ponytail on the spring chain, with a tie
    P.append(ellipsoid("tie", "ribbon", "head", (0.0, 1.345, -0.15), (0.03, 0.03, 0.03), (10, 8)))
    names = [n for n, _ in HAIR]
    for i in range(3):
        a, b = bw[names[i]], bw[names[i + 1]]
        P.append(limb("tail", "hair", names[i], a, b, 0.045 - 0.01 * i, extra=0.35))
    # torso
    P.append(ellipsoid("chest", "shirt", "upperChest", (0, 0.985, 0.0), (0.105, 0.1, 0.075)))
    P.append(ellipsoid("waist", "shirt", "spine", (0, 0.86, 0.0), (0.085, 0.09, 0.065)))
    P.append(ellipsoid("collar", "navy", "upperChest", (0, 1.05, 0.005), (0.07, 0.025, 0.06)))
    P.append(ellipsoid("ribbon", "ribbon", "upperChest", (0, 1.03, 0.07), (0.03, 0.018, 0.012),
                       (10, 8)))  # fmt: skip
    P.append(ellipsoid("skirt", "navy", "hips", (0, 0.71, 0.0), (0.125, 0.09, 0.1), (20, 14)))
    for side, sx in (("left", 1), ("right", -1)):
        B = lambda n, side=side: bw[side + n]  # noqa: E731
        P.append(ellipsoid("shoulder", "shirt", side + "UpperArm", B("UpperArm"), (0.045,) * 3))
        P.append(limb("upperArm", "shirt", side + "UpperArm", B("UpperArm"), B("LowerArm"), 0.034))
        P.append(ellipsoid("elbow", "skin", side + "LowerArm", B("LowerArm"), (0.03,) * 3, (10, 8)))
        P.append(limb("lowerArm", "skin", side + "LowerArm", B("LowerArm"), B("Hand"), 0.029))
        h = B("Hand")
        P.append(ellipsoid("palm", "skin", side + "Hand", h + (sx * 0.035, 0, 0.0),
                           (0.045, 0.018, 0.04), (10, 8)))  # fmt: skip
        for f, pts in FINGERS.items():
            pw = [np.array((sx * p[0], p[1], p[2])) for p in pts]
            for k, ph in enumerate(THUMB if f == "Thumb" else PHALANGES):
                r = (
                    (0.011 if f != "Little" else 0.009)
                    * (1 - 0.1 * k)
                    * (1.15 if f == "Thumb" else 1)
                )
                P.append(limb("finger", "skin", side + f + ph, pw[k], pw[k + 1], r, (8, 6), 0.35))
        P.append(ellipsoid("hip", "tights", side + "UpperLeg", B("UpperLeg"), (0.058,) * 3))
        P.append(limb("upperLeg", "tights", side + "UpperLeg", B("UpperLeg"), B("LowerLeg"), 0.055))
        P.append(
            ellipsoid("knee", "tights", side + "LowerLeg", B("LowerLeg"), (0.048,) * 3, (10, 8))
        )
        P.append(limb("lowerLeg", "tights", side + "LowerLeg", B("LowerLeg"), B("Foot"), 0.045))
        P.append(ellipsoid("shoe", "shoe", side + "Foot", B("Foot") + (0, -0.03, 0.03),
                           (0.045, 0.04, 0.085)))  # fmt: skip
        P.append(ellipsoid("toe", "shoe", side + "Toes", B("Toes") + (0, -0.0, 0.01),
                           (0.042, 0.03, 0.04), (10, 8)))  # fmt: skip
    return P


# ---------------------------------------------------------------------------- the face + morphs
EYE_Y = 1.235
EYE_X = 0.058
LASH_Y = EYE_Y + 0.039
MORPHS = ("blinkLeft", "blinkRight", "aa", "ih", "ou", "ee", "oh",
          "happy", "angry", "sad", "relaxed", "surprised")  # fmt: skip
MOUTH_C = np.array([0.0, 1.168, face_z(0.0, 1.168) - 0.004])
# mouth shape per morph: (dy of centre, radii, bend, dz)
MOUTH_SHAPES = {
    "rest": (0.0, (0.02, 0.0035, 0.006), 12.0, 0.0),
    "aa": (-0.014, (0.026, 0.022, 0.008), 4.0, 0.0),
    "ih": (-0.002, (0.03, 0.008, 0.007), 6.0, 0.0),
    "ou": (-0.005, (0.012, 0.011, 0.01), 0.0, 0.006),
    "ee": (-0.004, (0.028, 0.012, 0.007), 8.0, 0.0),
    "oh": (-0.008, (0.018, 0.018, 0.009), 0.0, 0.003),
    "happy": (-0.006, (0.03, 0.013, 0.008), 22.0, 0.0),
    "angry": (-0.002, (0.018, 0.0045, 0.006), -22.0, 0.0),
    "sad": (-0.003, (0.017, 0.0045, 0.006), -30.0, 0.0),
    "relaxed": (0.0, (0.022, 0.004, 0.006), 20.0, 0.0),
    "surprised": (-0.01, (0.014, 0.017, 0.009), 0.0, 0.004),
}


def face_parts() -> list[Part]:
    P: list[Part] = []
    for side, sx in (("left", 1), ("right", -1)):
        ex = sx * EYE_X
        P.append(ellipsoid(side + ":white", "eyeWhite", "head", (ex, EYE_Y, 0.125),
                           (0.03, 0.04, 0.022), (14, 10)))  # fmt: skip
        P.append(ellipsoid(side + ":iris", "iris", side + "Eye", (ex, EYE_Y - 0.003, 0.1425),
                           (0.021, 0.029, 0.006), (14, 10)))  # fmt: skip
        P.append(ellipsoid(side + ":pupil", "pupil", side + "Eye", (ex, EYE_Y - 0.004, 0.1475),
                           (0.009, 0.013, 0.003), (10, 8)))  # fmt: skip
        P.append(
            ellipsoid(
                side + ":shine",
                "shine",
                side + "Eye",
                (ex - sx * 0.007, EYE_Y + 0.009, 0.1505),
                (0.005, 0.006, 0.002),
                (8, 6),
            )
        )
        P.append(ellipsoid(side + ":lash", "lash", "head", (ex, LASH_Y, 0.139),
                           (0.035, 0.005, 0.009), (14, 10), rot_z(sx * -8), bend=-9.0))  # fmt: skip
        by = 1.303
        P.append(ellipsoid(side + ":brow", "lash", "head", (sx * 0.062, by, face_z(0.062, by) - 0.001),
                           (0.026, 0.0045, 0.005), (10, 8), rot_z(sx * -6)))  # fmt: skip
        P.append(ellipsoid(side + ":blush", "blush", "head",
                           (sx * 0.098, 1.195, face_z(0.098, 1.195) - 0.012),
                           (0.0004, 0.0002, 0.0002), (10, 8)))  # fmt: skip
    P.append(ellipsoid("mouth", "mouth", "head", MOUTH_C, MOUTH_SHAPES["rest"][1], (14, 10),
                       bend=MOUTH_SHAPES["rest"][2]))  # fmt: skip
    return P


def morph_target(parts: list[Part], name: str) -> list[np.ndarray]:
    """Per-part position deltas of morph ``name``."""
    out = []
    for p in parts:
        side, _, kind = p.name.partition(":")
        d = np.zeros_like(p.pos)
        sx = 1.0 if side == "left" else -1.0
        eye = kind in ("white", "iris", "pupil", "shine")
        if p.name == "mouth" and name in MOUTH_SHAPES:
            dy, radii, bend, dz = MOUTH_SHAPES[name]
            new = p.shape(MOUTH_C + (0, dy, dz), np.array(radii), bend)
            d = new - p.pos
        elif eye or kind == "lash":
            squash, lash_dy, lash_bend, grow = _eye_change(name, side)
            if eye:
                cy = EYE_Y - 0.006
                d[:, 1] = (p.pos[:, 1] - cy) * (-squash * 0.92)
                d[:, 2] = -0.006 * squash
                if grow:
                    d += (p.pos - (p.center[0], EYE_Y, 0.125)) * grow
            else:
                dx = p.pos[:, 0] - p.center[0]
                d[:, 1] = lash_dy + lash_bend * dx**2
                if grow:
                    d[:, 1] += grow * 0.05
        elif kind == "brow":
            inner = (np.abs(p.pos[:, 0]) - abs(p.center[0])) / 0.026  # -1 inner end .. +1 outer
            lift, tilt = {"angry": (-0.004, 0.008), "sad": (0.004, -0.008), "surprised": (0.014, 0.0),
                          "happy": (0.005, 0.0), "relaxed": (-0.002, 0.0)}.get(name, (0.0, 0.0))  # fmt: skip
            d[:, 1] = lift + tilt * inner
        elif kind == "blush" and name in ("happy", "relaxed"):
            scale = np.array((0.026, 0.013, 0.004)) / p.radii * (1.0 if name == "happy" else 0.7)
            new = (p.pos - p.center) * scale + p.center + (0, 0, 0.0105)
            d = new - p.pos
        del sx
        out.append(d)
    return out


def _eye_change(name: str, side: str) -> tuple[float, float, float, float]:
    """(squash 0..1, lash dy, lash extra bend, grow) of one eye for a morph."""
    closed = LASH_Y - (EYE_Y - 0.006)
    if name == "blink" + side.capitalize():
        return 1.0, -closed, 18.0, 0.0
    return {
        "happy": (1.0, -closed + 0.002, -4.0, 0.0),
        "relaxed": (0.55, -closed * 0.55, 4.0, 0.0),
        "sad": (0.25, -closed * 0.25, 4.0, 0.0),
        "angry": (0.2, -closed * 0.2, 0.0, 0.0),
        "surprised": (0.0, 0.004, 0.0, 0.12),
    }.get(name, (0.0, 0.0, 0.0, 0.0))


# ---------------------------------------------------------------------------- glTF writing
MATERIALS = {  # name: (base colour sRGB, shade colour sRGB)
    "skin": ((1.0, 0.88, 0.80), (0.96, 0.72, 0.68)),
    "hair": ((0.33, 0.62, 0.70), (0.20, 0.40, 0.55)),
    "eyeWhite": ((1.0, 1.0, 1.0), (0.88, 0.90, 0.96)),
    "iris": ((0.30, 0.50, 0.85), (0.20, 0.32, 0.65)),
    "pupil": ((0.10, 0.10, 0.20), (0.06, 0.06, 0.14)),
    "shine": ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
    "lash": ((0.22, 0.16, 0.20), (0.15, 0.10, 0.14)),
    "mouth": ((0.72, 0.27, 0.33), (0.55, 0.18, 0.24)),
    "blush": ((1.0, 0.62, 0.66), (1.0, 0.55, 0.60)),
    "shirt": ((0.97, 0.97, 0.99), (0.78, 0.80, 0.90)),
    "navy": ((0.22, 0.28, 0.50), (0.14, 0.17, 0.35)),
    "ribbon": ((0.90, 0.30, 0.36), (0.70, 0.20, 0.28)),
    "tights": ((0.28, 0.27, 0.34), (0.18, 0.17, 0.24)),
    "shoe": ((0.45, 0.30, 0.26), (0.30, 0.20, 0.18)),
}


def _lin(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def build() -> bytes:
    bones = skeleton()
    world = {n: w for n, _, w in bones}
    w = GlbBuffer()
    g: dict = {"asset": {"version": "2.0", "generator": "vtuber make_default_avatar.py"},
               "bufferViews": w.views, "accessors": w.accessors}  # fmt: skip
    nodes: list[dict] = []
    index = {}
    for n, p, pos in bones:
        local = pos - (world[p] if p else 0)
        index[n] = len(nodes)
        nodes.append({"name": n, "translation": [round(float(v), 6) for v in local]})
    for n, p, _ in bones:
        if p:
            nodes[index[p]].setdefault("children", []).append(index[n])
    joint_names = [n for n, _, _ in bones]
    joint_of = {n: i for i, n in enumerate(joint_names)}
    ibm = np.zeros((len(bones), 16), np.float32)
    for i, n in enumerate(joint_names):
        m = np.eye(4)
        m[:3, 3] = -world[n]
        ibm[i] = m.T.reshape(-1)  # column-major
    g["skins"] = [{"joints": [index[n] for n in joint_names], "skeleton": index["hips"],
                   "inverseBindMatrices": w.accessor(ibm, "MAT4", FLOAT)}]  # fmt: skip
    mat_names = list(MATERIALS)
    g["materials"] = []
    for name in mat_names:
        base, shade = MATERIALS[name]
        g["materials"].append({
            "name": name,
            "pbrMetallicRoughness": {"baseColorFactor": [*(_lin(c) for c in base), 1.0],
                                     "metallicFactor": 0.0, "roughnessFactor": 0.9},
            "emissiveFactor": [0.0, 0.0, 0.0] if name != "shine" else [1.0, 1.0, 1.0],
            "extensions": {"VRMC_materials_mtoon": {
                "specVersion": "1.0", "transparentWithZWrite": False, "renderQueueOffsetNumber": 0,
                "shadeColorFactor": [_lin(c) for c in shade], "shadingShiftFactor": -0.05,
                "shadingToonyFactor": 0.85, "giEqualizationFactor": 0.9,
                "parametricRimColorFactor": [0.0, 0.0, 0.0], "rimLightingMixFactor": 1.0,
                "outlineWidthMode": "none", "outlineWidthFactor": 0.0,
                "outlineColorFactor": [0.0, 0.0, 0.0], "outlineLightingMixFactor": 1.0}},
        })  # fmt: skip
    g["meshes"] = []
    mesh_nodes = []
    for mesh_name, parts, morphs in (
        ("Body", body_parts(world), ()),
        ("Face", face_parts(), MORPHS),
    ):
        deltas = {m: morph_target(parts, m) for m in morphs}
        prims = []
        for mat in mat_names:
            sel = [i for i, p in enumerate(parts) if p.material == mat]
            if not sel:
                continue
            pos, nrm, idx, joints = [], [], [], []
            off = 0
            for i in sel:
                p = parts[i]
                pos.append(p.pos)
                nrm.append(p.nrm)
                idx.append(p.tris + off)
                joints.append(np.full(len(p.pos), joint_of[p.bone]))
                off += len(p.pos)
            if off >= 65536:  # 16-bit indices
                raise ValueError(f"{mesh_name}/{mat}: too many vertices ({off})")
            P = np.concatenate(pos)
            J = np.zeros((len(P), 4), np.uint8)
            J[:, 0] = np.concatenate(joints)
            W = np.zeros((len(P), 4), np.uint8)
            W[:, 0] = 255  # normalized: 1.0
            attrs = {
                "POSITION": w.accessor(P, "VEC3", FLOAT, ARRAY_BUFFER, minmax=True),
                "NORMAL": w.accessor(np.concatenate(nrm), "VEC3", FLOAT, ARRAY_BUFFER),
                "JOINTS_0": w.accessor(J, "VEC4", UNSIGNED_BYTE, ARRAY_BUFFER),
                "WEIGHTS_0": w.accessor(W, "VEC4", UNSIGNED_BYTE, ARRAY_BUFFER, normalized=True),
            }
            prim: dict = {"attributes": attrs, "material": mat_names.index(mat), "mode": 4,
                          "indices": w.accessor(np.concatenate(idx).reshape(-1), "SCALAR",
                                                UNSIGNED_SHORT, ELEMENT_ARRAY_BUFFER)}  # fmt: skip
            if morphs:
                prim["targets"] = [
                    {"POSITION": w.sparse_vec3(np.concatenate([deltas[m][i] for i in sel]))}
                    for m in morphs
                ]
            prims.append(prim)
        mesh: dict = {"name": mesh_name, "primitives": prims}
        if morphs:
            mesh["weights"] = [0.0] * len(morphs)
            mesh["extras"] = {"targetNames": list(morphs)}
        g["meshes"].append(mesh)
        mesh_nodes.append(len(nodes))
        nodes.append({"name": mesh_name, "mesh": len(g["meshes"]) - 1, "skin": 0})
    g["nodes"] = nodes
    g["scenes"] = [{"name": "Scene", "nodes": [index["hips"], *mesh_nodes]}]
    g["scene"] = 0
    face = mesh_nodes[1]

    def expr(*binds: str, **over: str) -> dict:
        e: dict = {"morphTargetBinds": [{"node": face, "index": MORPHS.index(b), "weight": 1.0}
                                        for b in binds], "isBinary": False}  # fmt: skip
        e.update({"overrideBlink": "none", "overrideLookAt": "none", "overrideMouth": "none"})
        e.update(over)
        return e

    emotion = {"overrideBlink": "block", "overrideMouth": "blend"}
    preset = {
        "happy": expr("happy", **emotion), "angry": expr("angry", overrideMouth="blend"),
        "sad": expr("sad", overrideMouth="blend"), "relaxed": expr("relaxed", **emotion),
        "surprised": expr("surprised", **emotion),
        "aa": expr("aa"), "ih": expr("ih"), "ou": expr("ou"), "ee": expr("ee"), "oh": expr("oh"),
        "blink": expr("blinkLeft", "blinkRight"), "blinkLeft": expr("blinkLeft"),
        "blinkRight": expr("blinkRight"),
        "lookUp": expr(), "lookDown": expr(), "lookLeft": expr(), "lookRight": expr(),
        "neutral": expr(),
    }  # fmt: skip
    rng = lambda out: {"inputMaxValue": 90.0, "outputScale": out}  # noqa: E731
    vrm = {
        "specVersion": "1.0",
        "meta": {
            "name": "vtuber default avatar", "version": "1.0", "authors": ["vtuber contributors"],
            "copyrightInformation": "generated by avatars/make_default_avatar.py (MIT)",
            "licenseUrl": "https://vrm.dev/licenses/1.0/", "avatarPermission": "everyone",
            "allowExcessivelyViolentUsage": False, "allowExcessivelySexualUsage": False,
            "commercialUsage": "corporation", "allowPoliticalOrReligiousUsage": False,
            "allowAntisocialOrHateUsage": False, "creditNotation": "unnecessary",
            "allowRedistribution": True, "modification": "allowModificationRedistribution",
        },
        "humanoid": {"humanBones": {n: {"node": index[n]} for n in joint_names
                                    if not n.startswith("hair")}},
        "lookAt": {"offsetFromHeadBone": [0.0, round(EYE_Y - world["head"][1], 4), 0.1],
                   "type": "bone", "rangeMapHorizontalInner": rng(12.0),
                   "rangeMapHorizontalOuter": rng(12.0), "rangeMapVerticalDown": rng(10.0),
                   "rangeMapVerticalUp": rng(10.0)},
        "firstPerson": {"meshAnnotations": [{"node": mesh_nodes[0], "type": "auto"},
                                            {"node": face, "type": "thirdPersonOnly"}]},
        "expressions": {"preset": preset},
    }  # fmt: skip
    spring = {
        "specVersion": "1.0",
        "colliders": [
            {"node": index["head"], "shape": {"sphere": {"offset": [0.0, 0.14, 0.0], "radius": 0.15}}},
            {"node": index["upperChest"], "shape": {"sphere": {"offset": [0.0, 0.0, 0.0], "radius": 0.1}}},
            {"node": index["hips"], "shape": {"sphere": {"offset": [0.0, 0.0, 0.0], "radius": 0.12}}},
        ],
        "colliderGroups": [{"name": "body", "colliders": [0, 1, 2]}],
        "springs": [{"name": "ponytail", "colliderGroups": [0], "joints": [
            {"node": index[n], "hitRadius": 0.03, "stiffness": 0.8, "gravityPower": 0.4,
             "gravityDir": [0.0, -1.0, 0.0], "dragForce": 0.35} for n, _ in HAIR]}],
    }  # fmt: skip
    g["extensionsUsed"] = ["VRMC_vrm", "VRMC_springBone", "VRMC_materials_mtoon"]
    g["extensions"] = {"VRMC_vrm": vrm, "VRMC_springBone": spring}
    return w.glb(g)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    data = build()
    out.write_bytes(data)
    print(f"wrote {out} ({len(data) / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
