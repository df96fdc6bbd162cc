"""The fixed exponential lerp of the Kalidokit demo, a baseline for the benchmarks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vtuber.quat import slerp_rows
from vtuber.rig import AvatarFrame, Bone
from vtuber.smoothing.filters import F


class LerpSmoother:
    """The fixed exponential lerp of the Kalidokit demo (``out += alpha * (in - out)``, slerp
    for rotations), for comparison in benchmarks. Missing signals are dropped at once."""

    def __init__(self, alpha: float = 0.3) -> None:
        self.alpha = alpha
        self.bones: dict[Bone, F] = {}
        self.blend: dict[str, float] = {}

    def update(self, frame: AvatarFrame) -> AvatarFrame:
        a = self.alpha
        bones = {}
        for b, q in frame.bones.items():
            qn = np.asarray(q, np.float64)[None]
            prev = self.bones.get(b)
            out = qn if prev is None else slerp_rows(prev, qn, np.array([a]))
            self.bones[b] = out
            bones[b] = tuple(float(c) for c in out[0])
        self.bones = {b: q for b, q in self.bones.items() if b in frame.bones}
        blend = {}
        for k, w in frame.blendshapes.items():
            prev_w = self.blend.get(k)
            blend[k] = w if prev_w is None else prev_w + a * (w - prev_w)
        self.blend = blend
        return replace(frame, bones=bones, blendshapes=blend)  # type: ignore[arg-type]
