"""vtuber's own avatar (avatars/default.vrm): the committed file is what the generator writes, it is
valid VRM 1.0 glTF with the full humanoid and every preset expression moving something, and
three-vrm (in Node) loads it as VRM 1.0."""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vtuber.rig import Bone

ROOT = Path(__file__).resolve().parents[1]
AVATAR = ROOT / "avatars" / "default.vrm"
SCRIPT = ROOT / "avatars" / "make_default_avatar.py"
PRESETS = (
    "happy", "angry", "sad", "relaxed", "surprised", "aa", "ih", "ou", "ee", "oh", "blink",
    "blinkLeft", "blinkRight", "lookUp", "lookDown", "lookLeft", "lookRight", "neutral",
)  # fmt: skip
MOVING = PRESETS[:13]  # the look* presets are driven by lookAt (bone type); neutral is empty
VRM1_REQUIRED = {
    "hips", "spine", "head", "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg",
    "rightLowerLeg", "rightFoot", "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm",
    "rightLowerArm", "rightHand",
}  # fmt: skip


def vrm1_name(b: Bone) -> str:
    """Unity name -> VRM 1.0 name (the thumb is Metacarpal/Proximal/Distal in VRM 1.0)."""
    n = b.name
    for ph_u, ph_v in (("Proximal", "Metacarpal"), ("Intermediate", "Proximal")):
        if n.endswith("Thumb" + ph_u):
            n = n[: -len(ph_u)] + ph_v
    return n[0].lower() + n[1:]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_default_avatar", SCRIPT)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = mod  # type: ignore[union-attr]  # dataclasses need it
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def parse_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, total = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF" and version == 2 and total == len(data)
    jlen, jtype = struct.unpack_from("<I4s", data, 12)
    assert jtype == b"JSON"
    gltf = json.loads(data[20 : 20 + jlen])
    blen, btype = struct.unpack_from("<I4s", data, 20 + jlen)
    assert btype == b"BIN\x00"
    return gltf, data[28 + jlen : 28 + jlen + blen]


def read_accessor(g: dict, binary: bytes, i: int) -> np.ndarray:
    a = g["accessors"][i]
    dt = {5126: "<f4", 5125: "<u4", 5123: "<u2", 5121: "u1"}[a["componentType"]]
    n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[a["type"]]
    if "bufferView" in a:
        v = g["bufferViews"][a["bufferView"]]
        out = np.frombuffer(binary, dt, a["count"] * n, v["byteOffset"]).reshape(a["count"], n)
        out = out.astype(np.float64)
    else:
        out = np.zeros((a["count"], n))
    if "sparse" in a:
        sp = a["sparse"]
        iv, vv = (
            g["bufferViews"][sp["indices"]["bufferView"]],
            g["bufferViews"][sp["values"]["bufferView"]],
        )
        idx_dt = {5125: "<u4", 5123: "<u2", 5121: "u1"}[sp["indices"]["componentType"]]
        idx = np.frombuffer(binary, idx_dt, sp["count"], iv["byteOffset"])
        out[idx] = np.frombuffer(binary, dt, sp["count"] * n, vv["byteOffset"]).reshape(-1, n)
    return out


@pytest.fixture(scope="module")
def glb() -> tuple[dict, bytes]:
    if not AVATAR.is_file():
        pytest.fail("avatars/default.vrm is missing: run python avatars/make_default_avatar.py")
    return parse_glb(AVATAR.read_bytes())


def test_committed_file_is_what_the_generator_writes() -> None:
    data = _generator().build()
    assert data == _generator().build()  # deterministic
    assert data == AVATAR.read_bytes(), "regenerate: python avatars/make_default_avatar.py"
    assert len(data) < 1024 * 1024


def test_vrm1_meta_and_full_humanoid(glb: tuple[dict, bytes]) -> None:
    g, _ = glb
    vrm = g["extensions"]["VRMC_vrm"]
    assert vrm["specVersion"] == "1.0"
    assert "VRMC_vrm" in g["extensionsUsed"]
    assert vrm["meta"]["authors"] and vrm["meta"]["licenseUrl"].startswith("https://vrm.dev/")
    bones = vrm["humanoid"]["humanBones"]
    assert VRM1_REQUIRED <= set(bones)
    assert set(bones) == {vrm1_name(b) for b in Bone}  # all 55: fingers, eyes, jaw, toes
    nodes = [bones[k]["node"] for k in bones]
    assert len(set(nodes)) == len(nodes)
    for k in bones:  # T-pose with identity rest rotations (normalized)
        assert "rotation" not in g["nodes"][bones[k]["node"]]

    # the avatar faces +Z with its left hand toward +X (VRM 1.0)
    def world_x(name: str) -> float:
        parents = {c: i for i, n in enumerate(g["nodes"]) for c in n.get("children", [])}
        i, x = bones[name]["node"], 0.0
        while i is not None:
            x += g["nodes"][i].get("translation", [0, 0, 0])[0]
            i = parents.get(i)
        return x

    assert world_x("leftHand") > 0.3 and world_x("rightHand") < -0.3
    assert vrm["lookAt"]["type"] == "bone"


def test_skinned_meshes_are_consistent(glb: tuple[dict, bytes]) -> None:
    g, binary = glb
    skin = g["skins"][0]
    n_joints = len(skin["joints"])
    ibm = read_accessor(g, binary, skin["inverseBindMatrices"])
    assert ibm.shape == (n_joints, 16)
    for node in g["nodes"]:
        if "mesh" not in node:
            continue
        assert node["skin"] == 0
        for prim in g["meshes"][node["mesh"]]["primitives"]:
            at = prim["attributes"]
            j = read_accessor(g, binary, at["JOINTS_0"])
            w = read_accessor(g, binary, at["WEIGHTS_0"]) / 255.0
            pos = read_accessor(g, binary, at["POSITION"])
            idx = read_accessor(g, binary, prim["indices"])
            assert j.max() < n_joints
            assert np.allclose(w.sum(axis=1), 1.0)
            assert idx.max() < len(pos)
            assert np.all(np.isfinite(pos))


def test_every_expression_moves_something(glb: tuple[dict, bytes]) -> None:
    g, binary = glb
    preset = g["extensions"]["VRMC_vrm"]["expressions"]["preset"]
    assert set(PRESETS) <= set(preset)
    for name in MOVING:
        binds = preset[name]["morphTargetBinds"]
        assert binds, name
        moved = 0.0
        for b in binds:
            mesh = g["meshes"][g["nodes"][b["node"]]["mesh"]]
            for prim in mesh["primitives"]:
                d = read_accessor(g, binary, prim["targets"][b["index"]]["POSITION"])
                moved = max(moved, float(np.linalg.norm(d, axis=1).max()))
        assert moved > 0.004, f"{name} moves at most {moved * 1000:.1f} mm"
    # blinkLeft closes the avatar's LEFT eye: it only moves vertices on the +X side
    face = g["meshes"][g["nodes"][preset["blinkLeft"]["morphTargetBinds"][0]["node"]]["mesh"]]
    for prim in face["primitives"]:
        k = preset["blinkLeft"]["morphTargetBinds"][0]["index"]
        d = read_accessor(g, binary, prim["targets"][k]["POSITION"])
        pos = read_accessor(g, binary, prim["attributes"]["POSITION"])
        moving = np.linalg.norm(d, axis=1) > 1e-6
        assert np.all(pos[moving, 0] > 0)


def test_three_vrm_loads_it_as_vrm1() -> None:
    if (
        shutil.which("node") is None
        or not (ROOT / "node_modules" / "@pixiv" / "three-vrm").is_dir()
    ):
        pytest.skip("node or the npm packages are missing (scripts/setup.sh installs them)")
    out = subprocess.run(
        ["node", "tests/browser/load_vrm.mjs", str(AVATAR)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert "error" not in info, info.get("error")
    assert info["metaVersion"] == "1"
    assert set(PRESETS) <= set(info["expressions"])
    assert all(info["binds"][n] >= 1 for n in MOVING)
    assert len(info["bones"]) == 55 and VRM1_REQUIRED <= set(info["bones"])
    assert info["lookAt"] == "bone"
    assert info["springJoints"] >= 3
    assert info["skinned"] >= 2
