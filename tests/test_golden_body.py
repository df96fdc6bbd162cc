"""Golden test (issue 16): restructuring the rotation maths changes no behaviour.

The fixtures are written by tests/fixtures/make_golden_body.py (see its docstring). A commit that
changes behaviour on purpose regenerates them and says so; a restructuring commit must pass as is:

- the body: the pipeline (full mode, no smoothing, mirror on) fed the stored MediaPipe landmarks of
  the first 60 frames of the real clip sends the same ``/VMC/Ext/Bone/Pos`` bytes (sha256 per
  frame) for every bone but Neck, Head and the eyes (the face solvers change under other work),
  and the same float64 rotations to 1e-12;
- the landmarks themselves: real MediaPipe on the clip still gives the stored ones (to 1e-4: the
  model's float32 output may differ in its last bits on another CPU), so the stored input stays
  the clip's;
- exports: the stored recording of synthetic frames exports to the stored BVH, VRMA and JSONL
  byte for byte (the VRMA's asset.generator names the vtuber version: a version bump regenerates).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.make_golden_body import (
    CLIP,
    SKIPPED,
    bone_messages_sha,
    clip_landmarks,
    exports,
    frame_record,
    sent_frames,
    synthetic_frames,
)
from vtuber.rig import Bone

FIX = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def stored() -> dict[str, np.ndarray]:
    return dict(np.load(FIX / "golden_body_landmarks.npz"))


@pytest.fixture(scope="module")
def golden() -> dict[str, object]:
    return json.loads((FIX / "golden_body.json").read_text())


def test_clip_bones_are_sent_as_recorded(
    stored: dict[str, np.ndarray], golden: dict[str, object]
) -> None:
    frames = sent_frames(stored)
    expected = golden["frames"]
    assert isinstance(expected, list) and len(frames) == len(expected) == 60
    # The fixture covers what it should: the torso every frame, the thumbs-up hand in many.
    assert all(e["tracking"][0] for e in expected)
    assert sum(e["tracking"][1] or e["tracking"][2] for e in expected) >= 20
    worst = 0.0
    for i, (f, e) in enumerate(zip(frames, expected, strict=True)):
        got = frame_record(f)
        assert got["tracking"] == e["tracking"], f"frame {i}"
        assert set(got["bones"]) == set(e["bones"])  # type: ignore[arg-type]
        for name, q in e["bones"].items():
            diff = float(np.max(np.abs(np.subtract(got["bones"][name], q))))  # type: ignore[index]
            worst = max(worst, diff)
            assert diff <= 1e-12, f"frame {i} {name}: {got['bones'][name]} != {q}"  # type: ignore[index]
        assert got["vmc_sha256"] == e["vmc_sha256"], f"frame {i}: VMC bone bytes differ"


def test_golden_hash_sees_a_changed_bone_and_ignores_the_face_bones(
    stored: dict[str, np.ndarray],
) -> None:
    """The check above can fail: a last-bit change to a body bone changes the hash, while the
    Neck/Head/eye rotations (left out on purpose) do not."""
    f = sent_frames({k: v[:1] for k, v in stored.items()})[0]
    base = bone_messages_sha(f)
    x, y, z, w = f.bone(Bone.RightUpperArm)
    f.bones[Bone.RightUpperArm] = (x, y, z, float(np.float32(w) + np.float32(1e-6)))
    assert bone_messages_sha(f) != base
    f.bones[Bone.RightUpperArm] = (x, y, z, w)
    for name in SKIPPED:
        f.bones[Bone[name]] = (0.1, 0.2, 0.3, 0.927)
    assert bone_messages_sha(f) == base


@pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip not found: {CLIP}")
def test_stored_landmarks_are_the_clips(stored: dict[str, np.ndarray]) -> None:
    live = clip_landmarks()
    for k in ("pose_found", "hand_found", "size"):
        np.testing.assert_array_equal(live[k], stored[k], err_msg=k)
    np.testing.assert_allclose(live["t"], stored["t"], atol=1e-9)
    pose = stored["pose_found"]
    for k in ("pose_points", "pose_world"):
        np.testing.assert_allclose(live[k][pose], stored[k][pose], atol=1e-4, err_msg=k)
    hands = stored["hand_found"]
    np.testing.assert_allclose(live["hand_world"][hands], stored["hand_world"][hands], atol=1e-4)


def test_recording_exports_are_byte_identical(tmp_path: Path) -> None:
    # The stored recording is the synthetic frames' (its header's created time is fixed).
    from vtuber.recording import read_recording

    rec = read_recording(FIX / "golden_export.vtrec")
    assert rec.error is None
    want = synthetic_frames()
    assert [f.t for f in rec.frames] == pytest.approx([f.t for f in want], abs=1e-6)
    for name, data in exports(FIX / "golden_export.vtrec").items():
        assert data == (FIX / f"golden_export.{name}").read_bytes(), f"{name} export differs"
    # BVH is resampled to 30 fps across the dropped frame: one more row than recorded frames.
    bvh = io.StringIO((FIX / "golden_export.bvh").read_text())
    n_rows = next(int(line.split()[1]) for line in bvh if line.startswith("Frames:"))
    assert n_rows == len(want) + 1
