"""How far full mode's sent head and chest move when the performer-only run's pixels change
imperceptibly: the floor under the full-mode lock-on comparison (docs/performers.md, Accuracy).

Usage: python benchmarks/performers_noise_floor.py [--smoothing]

Person A (the shared thumbs-up clip, ../shared/data/media/person_thumbsup_720p.mp4) alone in the
left 320 px of a black 640x360 canvas, out of view for frames 40-64: the performer-only run of
tests/test_performers.py's walk-in scene, 90 frames, ``--mode full`` with lock-on, no smoothing
(``--smoothing``: medium). The same frames are run again changed by

* ``+1 far``: one grey level added to the black canvas at x >= 600 px (nowhere near A), and
* ``noise``: -1, 0 or +1 grey level on every pixel (seeded: numpy default_rng(frame index)),

and each run's head (as sent: Neck x Head, relative to the chest; as shown: the chain from the
hips composed) and UpperChest are compared with the clean run's, frame by frame. (On the first
frame lock-on has no region yet and Pose sees the whole image: a change anywhere reaches it
then, and MediaPipe's Pose tracking carries the difference on.)
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from _common import CLIP

W, H, PANE, FPS = 640, 360, 320, 25.0


def run(images: list[np.ndarray], smoothing: bool) -> list[dict[str, np.ndarray]]:
    """Per frame: the sent head, the shown head and the chest (empty dict: no head)."""
    from vtuber import quat
    from vtuber.config import TrackConfig
    from vtuber.landmarks.body import FullBodyBackend
    from vtuber.performers import PerformerBackend, PerformerTracker
    from vtuber.rig import Bone
    from vtuber.smoothing import SmoothingConfig, make_smoother
    from vtuber.solvers.body import forward_kinematics
    from vtuber.tracker import Tracker

    backend = PerformerBackend(FullBodyBackend(), PerformerTracker(1))
    tracker = Tracker(TrackConfig(mode="full"))
    smoother = make_smoother(SmoothingConfig()) if smoothing else None
    out: list[dict[str, np.ndarray]] = []
    try:
        for i, img in enumerate(images):
            frame = tracker.solve(backend.process(img, i / FPS), index=i)
            if smoother is not None:
                frame = smoother.update(frame)
            if Bone.Head not in frame.bones:
                out.append({})
                continue
            fk = forward_kinematics(frame.bones)
            sent = quat.multiply(
                np.asarray(frame.bones[Bone.Neck]), np.asarray(frame.bones[Bone.Head])
            )
            out.append({"sent": sent, "shown": fk[Bone.Head], "chest": fk[Bone.UpperChest]})
    finally:
        backend.close()
    return out


def compare(a: list[dict[str, np.ndarray]], b: list[dict[str, np.ndarray]]) -> dict[str, str]:
    from vtuber import quat

    res = {}
    for key in ("sent", "shown", "chest"):
        dev = [
            math.degrees(float(quat.angle_between(x[key], y[key])))
            for x, y in zip(a, b, strict=True)
            if x and y
        ]
        res[key] = (
            f"max {max(dev):5.2f}  p95 {np.percentile(dev, 95):5.2f}  median {np.median(dev):5.2f}"
        )
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoothing", action="store_true", help="medium smoothing (default: none)")
    args = ap.parse_args()
    if not CLIP.is_file():
        sys.exit(f"performers_noise_floor: the shared clip is missing: {CLIP}")
    from vtuber.synth.scenes import Scene, gap, video_pane

    a = video_pane(CLIP, PANE, H, frames=90)
    scene = Scene(a, a, gap(lambda i: 0, 40, 65), lambda i: None, W, H, 90)
    clean = list(scene.images("a"))

    def far(i: int, img: np.ndarray) -> np.ndarray:
        out = img.copy()
        out[:, 600:] += 1
        return out

    def noise(i: int, img: np.ndarray) -> np.ndarray:
        n = np.random.default_rng(i).integers(-1, 2, img.shape)
        return np.clip(img.astype(np.int16) + n, 0, 255).astype(np.uint8)

    base = run(clean, args.smoothing)
    print(
        f"A alone, full mode, lock-on, {'medium smoothing' if args.smoothing else 'no smoothing'};"
        " degrees from the clean run, every frame with a head:"
    )
    for name, change in (("+1 far (x >= 600 px)", far), ("noise (-1/0/+1 everywhere)", noise)):
        res = compare(base, run([change(i, img) for i, img in enumerate(clean)], args.smoothing))
        print(f"  {name}:")
        for key, label in (
            ("sent", "head as sent"),
            ("shown", "head as shown"),
            ("chest", "chest"),
        ):
            print(f"    {label:14s} {res[key]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
