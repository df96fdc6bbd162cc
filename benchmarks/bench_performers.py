"""Performers (docs/performers.md): what lock-on costs when the performer is alone, and how fast
two performers run, at 640x480.

Usage: python benchmarks/bench_performers.py [--frames N] [--json]

Frames are composed and decoded up front (not timed): person A is the shared thumbs-up clip
(../shared/data/media/person_thumbsup_720p.mp4) in a 320x480 pane, person B a rendered head
(grace_hopper, a TRAINING identity of vtuber.synth.corpus) in the other pane. Timed per frame:
landmarks (+ performer selection) + solving + smoothing for every performer, on this thread, as
``vtuber track --fast`` does it without sinks.

* ``alone, no lock-on``: A alone, FaceMesh looking for one face (``--no-lock-on``).
* ``alone, lock-on``: A alone, ``--performers 1`` (the default). After 2 s with no one else in
  view it runs the same one-face graph; the figure is over the frames after that switch.
* ``alone, two-face graph``: A alone, FaceMesh looking for two faces on every frame (what
  lock-on would cost without the one-face fast path).
* ``two performers``: A and B, ``--performers 2`` (two trackers and smoothers; FaceMesh looking
  for three faces until both have been in view for 2 s with no one else, then for two: the
  figure ``(after the switch)`` is over the frames after that switch).
* ``two performers, full``: A beside A mirrored and 2.4 s later (two bodies with hands),
  ``--mode full --performers 2`` (vtuber.landmarks.multibody: one pose and two hand trackers per
  performer on its region, concurrently with the faces), ``--full-frames`` frames (the clip
  looped): FaceMesh looks for three faces until both performers have been in view for 2 s
  with no one else seen in the last 10 s (here: from 2 s on), then for two: ``(after the
  switch)`` is over the frames after that.
* ``alone, full, no lock-on`` / ``alone, full, lock-on``: A alone, ``--mode full`` (face, pose
  and hands on three threads), ``--full-frames`` frames (the clip looped): what lock-on costs in
  full mode when nobody else is in view (pose and hands on the performer's region; FaceMesh looks
  for one more face until the performer has been in view for 2 s with no one else seen in the
  last 10 s, here from 2 s on, then for one: the figure ``(after the switch)`` is over the
  frames after that).

The summary at the end gives the two-performer frame rates against the targets (face >= 60 fps,
full >= 15 fps at 640x480), wall and by CPU, with the load average: on a shared machine only the
CPU figure says what the work costs.

Runners take turns on chunks of 10 frames so that load from other processes falls on all alike.
Wall time counts the moments other processes hold the cores; the process CPU time per frame
(all threads: MediaPipe's included) is the steadier figure on a shared machine, and 1000 / CPU ms
is the frame rate the work allows on an idle core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from _common import CLIP

W, H, PANE = 640, 480, 320
FPS = 25.0


class Runner:
    def __init__(
        self, name: str, count: int, lock_on: bool, faces: int = 1, full: bool = False
    ) -> None:
        from vtuber.config import TrackConfig
        from vtuber.landmarks.body import FullBodyBackend
        from vtuber.landmarks.facemesh import FaceMeshBackend
        from vtuber.landmarks.multibody import MultiBodyBackend
        from vtuber.performers import PerformerBackend, PerformerTracker
        from vtuber.smoothing import SmoothingConfig, make_smoother
        from vtuber.tracker import Tracker

        self.name = name
        if full and count == 1:
            inner: object = FullBodyBackend(face=FaceMeshBackend(max_faces=faces))
        elif full:
            inner = MultiBodyBackend(count)
        else:
            inner = FaceMeshBackend(max_faces=faces)
        tracker = PerformerTracker(count)
        self.backend = PerformerBackend(inner, tracker) if lock_on else inner  # type: ignore[arg-type]
        self.lock_on = lock_on
        cfg = TrackConfig(mode="full" if full else "face")
        self.trackers = [Tracker(cfg) for _ in range(count)]
        self.smoothers = [make_smoother(SmoothingConfig()) for _ in range(count)]
        self.times: list[float] = []
        self.cpu: list[float] = []
        self.narrow: list[bool] = []
        self.i = 0

    def step(self, img: np.ndarray) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        lm = self.backend.process(img, self.i / FPS)
        perf = lm.performers if self.lock_on else [lm]
        for lmk, tr, sm in zip(perf, self.trackers, self.smoothers, strict=True):
            av = tr.solve(lmk)
            if sm is not None:
                sm.update(av)
        self.times.append(time.perf_counter() - t0)
        self.cpu.append(time.process_time() - c0)
        self.narrow.append(not getattr(self.backend, "wide", False))
        self.i += 1

    def figures(self, steady_only: bool = False) -> dict[str, float]:
        ts, cs = np.array(self.times), np.array(self.cpu)
        if steady_only:
            first = self.narrow.index(True) + 5 if True in self.narrow else len(ts)
            ts, cs = ts[first:], cs[first:]
        ms = 1000.0 * float(np.mean(ts)) if len(ts) else float("nan")
        cpu = 1000.0 * float(np.mean(cs)) if len(cs) else float("nan")
        return {
            "frames": len(ts),
            "ms_per_frame": ms,
            "fps": 1000.0 / ms if ms else 0.0,
            "cpu_ms_per_frame": cpu,
            "fps_by_cpu": 1000.0 / cpu if cpu else 0.0,
        }

    def close(self) -> None:
        self.backend.close()


def selection_cost(images: list[np.ndarray]) -> dict[str, float]:
    """The lock-on bookkeeping alone (identity matching + the appearance histogram) per frame,
    on landmarks computed beforehand: what lock-on adds to a frame besides MediaPipe."""
    from vtuber.landmarks.facemesh import FaceMeshBackend
    from vtuber.performers import PerformerTracker

    with FaceMeshBackend() as fm:
        lms = [fm.process(img, i / FPS) for i, img in enumerate(images)]
    tracker = PerformerTracker(1)
    t0 = time.perf_counter()
    for i, (lm, img) in enumerate(zip(lms, images, strict=True)):
        tracker.update([lm] if lm.face.found else [], i / FPS, img)
    ms = 1000.0 * (time.perf_counter() - t0) / len(images)
    return {"ms_per_frame": ms}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=195)
    ap.add_argument(
        "--full-frames",
        type=int,
        default=375,
        help="frames of the full-mode runs (the clip looped)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not CLIP.is_file():
        sys.exit(f"bench_performers: the shared clip is missing: {CLIP}")
    from vtuber.synth.scenes import Scene, render_pane, video_pane

    a = video_pane(CLIP, PANE, H, frames=args.frames)
    b = render_pane("grace_hopper", PANE, H, len(a), distance_cm=30.0)
    scene = Scene(a, b, lambda i: 0, lambda i: PANE, W, H, len(a))
    alone = list(scene.images("a"))
    both = list(scene.images("ab"))
    # Full mode needs two bodies: A beside A mirrored and 2.4 s later (another thumbs-up).
    mirrored = [np.ascontiguousarray(f[:, ::-1]) for f in a[60:] + a[:60]]
    bodies = list(Scene(a, mirrored, lambda i: 0, lambda i: PANE, W, H, len(a)).images("ab"))

    alone_long = [alone[i % len(alone)] for i in range(args.full_frames)]
    bodies_long = [bodies[i % len(bodies)] for i in range(args.full_frames)]
    runners = [
        (Runner("alone, no lock-on", 1, False), alone),
        (Runner("alone, lock-on", 1, True), alone),
        (Runner("alone, two-face graph", 1, False, faces=2), alone),
        (Runner("two performers", 2, True), both),
        (Runner("two performers, full", 2, True, full=True), bodies_long),
        (Runner("alone, full, no lock-on", 1, False, full=True), alone_long),
        (Runner("alone, full, lock-on", 1, True, full=True), alone_long),
    ]
    n = len(alone)
    load0 = os.getloadavg()[0]
    for start in range(0, max(len(imgs) for _, imgs in runners), 10):
        for r, imgs in runners:
            for img in imgs[start : start + 10]:
                r.step(img)
    out: dict[str, dict[str, float]] = {"load average (1 min), start / end": {
        "start": load0, "end": os.getloadavg()[0]}}  # fmt: skip
    for r, _ in runners:
        out[r.name] = r.figures(steady_only=r.name == "alone, lock-on")
        if r.name in ("two performers", "two performers, full", "alone, full, lock-on"):
            out[f"{r.name} (after the switch)"] = r.figures(steady_only=True)
        r.close()
    out["selection only (PerformerTracker.update, A alone)"] = selection_cost(alone)
    base = out["alone, no lock-on"]["ms_per_frame"]
    out["lock-on extra ms (alone, after the switch)"] = {
        "ms": out["alone, lock-on"]["ms_per_frame"] - base
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"640x480, {n} frames (A: shared clip; B: rendered grace_hopper / A mirrored);"
            " per frame:"
        )
        for name, f in out.items():
            if "fps" in f:
                print(
                    f"  {name:24s} wall {f['ms_per_frame']:6.2f} ms ({f['fps']:6.1f} fps)  "
                    f"CPU {f['cpu_ms_per_frame']:6.2f} ms ({f['fps_by_cpu']:6.1f} fps)  "
                    f"({f['frames']} frames)"
                )
        la = out["load average (1 min), start / end"]
        print(f"  load average (1 min): {la['start']:.1f} at the start, {la['end']:.1f} at the end")
        sel = out["selection only (PerformerTracker.update, A alone)"]["ms_per_frame"]
        print(f"  lock-on bookkeeping alone (identity + appearance): {sel:.3f} ms per frame")
        print(f"  lock-on extra when alone: {out['alone, lock-on']['ms_per_frame'] - base:+.2f} ms")
        full0 = out["alone, full, no lock-on"]
        full1 = out["alone, full, lock-on (after the switch)"]
        print(
            "  full mode, lock-on extra when alone (after the switch): "
            f"wall {full1['ms_per_frame'] - full0['ms_per_frame']:+.2f} ms, "
            f"CPU {full1['cpu_ms_per_frame'] - full0['cpu_ms_per_frame']:+.2f} ms"
        )
        face, face_q, full, full_q = (
            out["two performers"], out["two performers (after the switch)"],
            out["two performers, full"], out["two performers, full (after the switch)"],
        )  # fmt: skip
        print(
            f"two performers at {W}x{H} (targets: face >= 60 fps, full >= 15 fps), load average "
            f"{la['start']:.1f} -> {la['end']:.1f} on {os.cpu_count()} cores:"
        )
        for label, f, q in (("face", face, face_q), ("full", full, full_q)):
            print(
                f"  {label}: wall {f['fps']:.1f} fps ({q['fps']:.1f} after the two-face switch); "
                f"by CPU {f['fps_by_cpu']:.1f} fps ({q['fps_by_cpu']:.1f}), "
                f"{f['cpu_ms_per_frame']:.1f} ms CPU a frame ({q['cpu_ms_per_frame']:.1f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
