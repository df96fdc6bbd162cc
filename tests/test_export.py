"""Exports: BVH read back by an independent parser (PyPI ``bvh``), VRMA loaded by
@pixiv/three-vrm-animation in node, JSON Lines; head rotations match the recording."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from vtuber.recording import read_recording
from vtuber.rig import TPOSE_OFFSETS, Bone

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures"
GOLDEN = FIX / "golden_v1.vtrec"


def export(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vtuber", "export", str(src), "-o", str(out), *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    d = abs(float(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b))))
    return float(np.degrees(2 * np.arccos(min(1.0, d))))


def rh(q: tuple[float, ...]) -> np.ndarray:
    """Unity (left-handed) quaternion -> right-handed, x negated (VRM 1.0 / glTF convention)."""
    return np.array([q[0], -q[1], -q[2], q[3]])


def test_bvh_parses_with_an_independent_reader_and_matches_the_head(tmp_path: Path) -> None:
    bvh = pytest.importorskip("bvh", reason="PyPI 'bvh' (test extra) is not installed")
    out = tmp_path / "g.bvh"
    r = export(GOLDEN, out)
    assert r.returncode == 0, r.stderr
    mocap = bvh.Bvh(out.read_text())
    rec = read_recording(GOLDEN)
    assert mocap.nframes == len(rec.frames) == 8
    assert mocap.frame_time == pytest.approx(1 / 30, abs=1e-5)
    names = mocap.get_joints_names()
    assert len(names) == 55 and names[0] == "Hips" and set(names) == {b.name for b in Bone}
    assert mocap.joint_parent("Head").name == "Neck"
    # Offsets in cm, right-handed: the avatar's left is +X (Unity's left is -X).
    assert mocap.joint_offset("LeftUpperArm") == pytest.approx((9.0, 0.0, 0.0))
    assert mocap.joint_offset("Head") == pytest.approx((0.0, 8.0, 0.0))
    assert mocap.joint_offset("Hips") == pytest.approx((0.0, 95.0, 0.0))
    assert mocap.joint_channels("Hips")[:3] == ["Xposition", "Yposition", "Zposition"]
    for i, f in enumerate(rec.frames):
        z, x, y = mocap.frame_joint_channels(i, "Head", ["Zrotation", "Xrotation", "Yrotation"])
        got = Rotation.from_euler("ZXY", [z, x, y], degrees=True).as_quat()
        assert angle_deg(got, rh(f.bone(Bone.Head))) < 0.01
    # Root motion of the full-body frame 4: hips position = root + root_rot * hips offset (cm).
    f = rec.frames[4]
    pos = mocap.frame_joint_channels(4, "Hips", ["Xposition", "Yposition", "Zposition"])
    r_root = Rotation.from_quat(f.root_rotation)
    want = np.array(f.root_position) + r_root.apply(f.positions[Bone.Hips])
    assert np.allclose(pos, want * [-100, 100, 100], atol=1e-3)


def test_bvh_yaw_sign_is_right_handed(tmp_path: Path) -> None:
    """A head turned 30° toward the avatar's right (Unity: +30° about +Y, left-handed) is a
    -30° Yrotation in the right-handed BVH (+Y rotation turns +Z toward +X = the avatar's left)."""
    from vtuber.export.bvh import bone_order, motion_rows
    from vtuber.rig import AvatarFrame

    h = np.radians(30) / 2
    f = AvatarFrame(t=0.0, bones={Bone.Head: (0.0, float(np.sin(h)), 0.0, float(np.cos(h)))})
    row = motion_rows([f])[0]
    k = 3 + 3 * (bone_order().index(Bone.Head) - 1) + 3
    z, x, y = row[k : k + 3]
    assert (z, x) == pytest.approx((0.0, 0.0), abs=1e-6) and y == pytest.approx(-30.0, abs=1e-4)


NODE = shutil.which("node")
VRMA_JS = ROOT / "tests" / "js" / "vrma_check.mjs"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_vrma_loads_with_three_vrm_animation_and_matches_the_head(tmp_path: Path) -> None:
    if not (ROOT / "node_modules" / "@pixiv" / "three-vrm-animation").is_dir():
        pytest.skip("npm packages not installed (node_modules/@pixiv/three-vrm-animation)")
    out = tmp_path / "g.vrma"
    r = export(GOLDEN, out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"glTF"
    rec = read_recording(GOLDEN)
    t0 = rec.frames[0].t
    times = [f.t - t0 for f in rec.frames]
    mid = (times[1] + times[2]) / 2  # between two keys: three's slerp
    res = subprocess.run(
        [NODE, str(VRMA_JS), str(out), "head", ",".join(str(t) for t in [*times, mid])],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert len(got["bones"]) == 55 and "leftThumbMetacarpal" in got["bones"]
    assert got["translations"] == ["hips"]
    assert set(got["presets"]) == {"blinkLeft", "aa", "happy"}
    assert set(got["custom"]) == {"jawOpen", "customTongue"}
    assert got["duration"] == pytest.approx(times[-1], abs=1e-5)
    for f, q in zip(rec.frames, got["track"], strict=False):
        assert angle_deg(np.array(q), rh(f.bone(Bone.Head))) < 1.0
    a = Rotation.from_quat(rh(rec.frames[1].bone(Bone.Head)))
    b = Rotation.from_quat(rh(rec.frames[2].bone(Bone.Head)))
    from scipy.spatial.transform import Slerp

    want_mid = Slerp([0, 1], Rotation.concatenate([a, b]))(0.5).as_quat()
    assert angle_deg(np.array(got["track"][-1]), want_mid) < 1.0


def test_jsonl_one_frame_per_line(tmp_path: Path) -> None:
    out = tmp_path / "g.jsonl"
    r = export(GOLDEN, out)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    rec = read_recording(GOLDEN)
    assert len(lines) == len(rec.frames)
    for line, f in zip(lines, rec.frames, strict=True):
        d = json.loads(line)
        assert d["time"] == f.t and d["index"] == f.index
        assert len(d["bones"]) == 55
        assert d["bones"]["Head"] == list(f.bone(Bone.Head))
        assert d["blendshapes"] == f.blendshapes
    assert json.loads(lines[0])["t"] == 0.0


def test_truncated_file_exports_its_valid_part(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    r = export(FIX / "golden_v1_truncated.vtrec", out)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "truncated FRAM chunk at byte 10532 (after frame 7)" in r.stderr
    assert len(out.read_text().splitlines()) == 7


def test_vmc_recording_exports_decoded_frames(tmp_path: Path) -> None:
    out = tmp_path / "v.jsonl"
    r = export(FIX / "golden_vmc_v1.vtrec", out)
    assert r.returncode == 0, r.stderr
    (line,) = out.read_text().splitlines()  # one /VMC/Ext/T -> one frame
    d = json.loads(line)
    assert d["bones"]["Head"] == pytest.approx([0.1, 0.0, 0.0, 0.995])
    assert d["blendshapes"] == {"aa": 0.5}  # VRM 0.x "A" -> VRM 1.0 key
    assert d["positions"]["Head"] == pytest.approx(list(TPOSE_OFFSETS[Bone.Head]))


def test_start_end_and_bad_format(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    r = export(GOLDEN, out, "--start", "0.1", "--end", "0.2")
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["index"] for x in out.read_text().splitlines()] == [103, 104, 105, 106]
    r = export(GOLDEN, tmp_path / "x.fbx")
    assert r.returncode == 2 and "use --format" in r.stderr and "Traceback" not in r.stderr


def _dropped_take(path: Path, seed: int = 7) -> list:
    """3 s at 30 fps of a head turning (yaw = 50° sin(πt)) with 30 % of the frames dropped
    (seeded; the first and last kept), as a loaded machine records it."""
    from vtuber import quat
    from vtuber.recording import RecordingWriter
    from vtuber.rig import AvatarFrame

    rng = np.random.default_rng(seed)
    keep = rng.random(91) >= 0.3
    keep[0] = keep[-1] = True
    frames = []
    with RecordingWriter(path, fps=30.0) as w:
        for i in np.flatnonzero(keep):
            t = i / 30
            yaw = np.radians(50.0 * np.sin(np.pi * t))
            q = tuple(float(v) for v in quat.from_axis_angle((0, 1, 0), yaw))
            f = AvatarFrame(t=20.0 + t, index=int(i), bones={Bone.Head: q},  # type: ignore[dict-item]
                            blendshapes={"aa": float(t / 3)})  # fmt: skip
            w.write_frame(f)
            frames.append(f)
    assert 55 < len(frames) < 75
    return frames


def test_bvh_of_a_take_with_dropped_frames_keeps_duration_and_real_time(tmp_path: Path) -> None:
    bvh = pytest.importorskip("bvh", reason="PyPI 'bvh' (test extra) is not installed")
    src = tmp_path / "dropped.vtrec"
    frames = _dropped_take(src)
    duration = frames[-1].t - frames[0].t  # 3.0 s
    for extra, fps in (((), 30.0), (("--fps", "60"), 60.0), (("--fps", "24"), 24.0)):
        out = tmp_path / f"d{int(fps)}.bvh"
        r = export(src, out, *extra)
        assert r.returncode == 0, r.stderr
        mocap = bvh.Bvh(out.read_text())
        assert mocap.frame_time == pytest.approx(1 / fps, abs=1e-6)
        # Right duration within one frame (frames span (n - 1) frame times).
        assert abs((mocap.nframes - 1) * mocap.frame_time - duration) <= mocap.frame_time
        assert f"exported {mocap.nframes} frames" in r.stderr and "resampled" in r.stderr
        # Real time: frame k shows the head at k frame times after the start.
        errs = []
        for k in range(mocap.nframes):
            z, x, y = mocap.frame_joint_channels(k, "Head", ["Zrotation", "Xrotation", "Yrotation"])
            want = 50.0 * np.sin(np.pi * k * mocap.frame_time)
            errs.append(abs(-y - want) + abs(z) + abs(x))  # right-handed: yaw sign flips
        # Linear interpolation across a gap h of a curve with |y''| <= 50π² °/s² errs by at most
        # h²/8 · 50π² (≈1° for the longest gap here); playing the recorded frames back to back
        # instead would be off by tens of degrees.
        gap = max(np.diff([f.t for f in frames]))
        assert max(errs) < gap**2 / 8 * 50 * np.pi**2 + 0.01, (max(errs), gap)


def test_resample_interpolates_and_keeps_ends() -> None:
    from vtuber.export import median_rate, resample
    from vtuber.rig import AvatarFrame

    a = AvatarFrame(t=1.0, bones={Bone.Head: (0.0, 0.0, 0.0, 1.0)}, blendshapes={"aa": 0.0})
    h = np.radians(40) / 2
    b = AvatarFrame(t=1.1, bones={Bone.Head: (0.0, float(np.sin(h)), 0.0, float(np.cos(h)))},
                    blendshapes={"aa": 1.0, "oh": 0.5})  # fmt: skip
    assert median_rate([a, b]) == pytest.approx(10.0)
    out = resample([a, b], 40.0)
    assert [f.t for f in out] == pytest.approx([1.0, 1.025, 1.05, 1.075, 1.1])
    mid = out[2]
    yaw = 2 * np.degrees(np.arctan2(mid.bone(Bone.Head)[1], mid.bone(Bone.Head)[3]))
    assert yaw == pytest.approx(20.0, abs=1e-6)
    assert mid.blendshapes == pytest.approx({"aa": 0.5, "oh": 0.25})
    assert out[-1].bone(Bone.Head) == pytest.approx(b.bone(Bone.Head))


def test_fps_is_for_bvh_only(tmp_path: Path) -> None:
    r = export(GOLDEN, tmp_path / "g.vrma", "--fps", "30")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "vtuber: error: --fps applies to BVH only (VRMA and JSONL keep the recorded times)"
    )
    r = export(GOLDEN, tmp_path / "g.bvh", "--fps", "0")
    assert r.returncode == 2 and "--fps must be between 0 and 1000" in r.stderr
