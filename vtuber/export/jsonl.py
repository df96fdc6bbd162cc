"""Export to JSON Lines: one frame per line, for scripts.

Each line: ``{"t": seconds from the first frame, "time": the recorded time, "index": n,
"tracking": {...}, "root": {"position": [x,y,z], "rotation": [x,y,z,w]}, "bones": {HumanBodyBones
name: [x, y, z, w]}, "blendshapes": {key: weight}}`` (plus ``"positions"`` when a frame overrides
bone positions, and ``"events"``: ``[{"kind", "name", "active", "keycode"}]`` when it carries
gesture events, docs/gestures.md). Rotations stay in Unity's basis (left-handed, y up, z
forward), local to the parent, normalized humanoid (identity = T-pose); every bone is present
(rest pose filled in), as the VMC sink sends them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import IO

from vtuber.rig import BONE_ORDER, AvatarFrame


def frame_record(f: AvatarFrame, t0: float) -> dict[str, object]:
    tr = f.tracking
    rec: dict[str, object] = {
        "t": f.t - t0,
        "time": f.t,
        "index": f.index,
        "tracking": {
            "face": tr.face,
            "body": tr.body,
            "leftHand": tr.left_hand,
            "rightHand": tr.right_hand,
        },  # fmt: skip
        "root": {"position": list(f.root_position), "rotation": list(f.root_rotation)},
        "bones": {b.name: list(f.bone(b)) for b in BONE_ORDER},
        "blendshapes": dict(f.blendshapes),
    }
    if f.positions:
        rec["positions"] = {b.name: list(p) for b, p in f.positions.items()}
    if f.events:
        rec["events"] = [
            {"kind": e.kind, "name": e.name, "active": e.active, "keycode": e.keycode}
            for e in f.events
        ]
    return rec


def write_jsonl(frames: Sequence[AvatarFrame], out: IO[str]) -> int:
    """Write one JSON object per frame; returns the number of lines."""
    t0 = frames[0].t if frames else 0.0
    for f in frames:
        out.write(json.dumps(frame_record(f, t0), separators=(",", ":")) + "\n")
    return len(frames)
