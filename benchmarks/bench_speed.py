"""Whole-process speed of vtuber next to the bare model loop and the peers, in one run.

Usage: .venv/bin/python benchmarks/bench_speed.py [--only face,landmarker,full] [--repeats 3]
       [--no-lean] [--json] [--clip FILE] [--openseeface DIR [--openseeface-python PYTHON]]

What it runs (the same code as ``vtuber bench``, vtuber/commands/bench.py; method and figures in
docs/performance.md). Every side is a separate process timed from start to exit, start-up
included, on the same video file; the sides take turns, ``--repeats`` times, medians reported:

- face: the clip resized to 640x480 and looped 10 times (1,950 frames). Bare loop: decode +
  FaceMesh (python -m vtuber.landmarks.bare facemesh); ours: ``vtuber track --fast --vmc``
  to a loopback receiver. With ``--openseeface DIR`` (a checkout of OpenSeeFace with its
  models/, and a Python with its requirements) its model 0 is timed too, on the same video; it
  is not on PyPI and its files are not on this project's machine (docs/performance.md), where the
  bare FaceMesh ratio stands in.
- landmarker (perfect sync): the same 640x480 video; bare Face Landmarker task vs
  ``vtuber track --face-model landmarker``.
- full: the 720p clip as it is (195 frames) and looped 4 times (780 frames); MediaPipe
  Holistic (model_complexity=1, refined face) vs ``vtuber track --mode full``.

Every case also times the *lean* bare loop (``--lean``: the same graphs and options driven the
way vtuber's backends drive them, the models' own cost with the least Python around them; not
with ``--no-lean``), so the overhead is shown against MediaPipe's own API and against that floor.

Also printed: each process's CPU time (user + system, all threads), a figure the other
processes on a shared machine disturb less than wall time, and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _common import CLIP

from vtuber.commands.bench import prepare_video, whole_process

CASES = {
    # name: (mode, face model, size, loops)
    "face": ("face", "facemesh", (640, 480), 10),
    "landmarker": ("face", "landmarker", (640, 480), 10),
    "full": ("full", "facemesh", None, 1),
    "full_x4": ("full", "facemesh", None, 4),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--only", default=",".join(CASES), help="comma-separated cases")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-lean", action="store_true", help="skip the lean bare loop")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--openseeface", default=None, help="face case: an OpenSeeFace checkout")
    ap.add_argument("--openseeface-python", default=None, help="the Python to run it with")
    args = ap.parse_args()
    if not args.clip.is_file():
        sys.exit(f"bench_speed: clip not found: {args.clip} (the shared data set)")
    cases = [c.strip() for c in args.only.split(",") if c.strip()]
    bad = [c for c in cases if c not in CASES]
    if bad:
        sys.exit(f"bench_speed: unknown case(s) {bad}; choose from {sorted(CASES)}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="vtuber-bench-speed-") as tmp:
        for name in cases:
            mode, face_model, size, loops = CASES[name]
            video = prepare_video(str(args.clip), size, loops, Path(tmp))
            load0 = os.getloadavg()[0]
            osf = None
            if args.openseeface and name == "face":
                osf = (args.openseeface, args.openseeface_python)
            res = whole_process(
                video, mode, face_model, args.repeats, lean_bare=not args.no_lean, openseeface=osf
            )
            res["video"] = f"{args.clip.name} {size or 'source size'} x{loops}"
            res["load_avg_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
            results[name] = res
            if not args.json:
                print(summary(name, res), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def summary(name: str, r: dict) -> str:
    ref = "Holistic" if r["mode"] == "full" else f"bare {r['bare_model']}"
    lines = [
        f"[{name}] {r['video']}: {r['frames']} frames, {r['repeats']} runs each, "
        f"load {r['load_avg_1min'][0]}..{r['load_avg_1min'][1]} on {os.cpu_count()} CPUs",
        f"  {ref:<18} {r['median_s']['bare']:7.2f} s  {r['fps']['bare']:6.1f} fps  "
        f"CPU {r['cpu_s']['bare']:6.2f} s",
    ]
    if "lean" in r["median_s"]:
        lines.append(
            f"  {'lean ' + ref:<18} {r['median_s']['lean']:7.2f} s  {r['fps']['lean']:6.1f} fps  "
            f"CPU {r['cpu_s']['lean']:6.2f} s"
        )
    lines.append(
        f"  {'vtuber track':<18} {r['median_s']['ours']:7.2f} s  {r['fps']['ours']:6.1f} fps  "
        f"CPU {r['cpu_s']['ours']:6.2f} s  (steady state {r['ours_steady_fps']} fps)"
    )
    lines.append(f"  models: {r['model_config']}")
    if r["mode"] == "full":
        lines.append(
            f"  speed-up vs Holistic: {r['speedup_vs_holistic']:.2f}x wall, "
            f"{r['cpu_s']['bare'] / r['cpu_s']['ours']:.2f}x CPU"
        )
        if "lean" in r["median_s"]:
            lines.append(
                f"  speed-up vs lean Holistic: {r['speedup_vs_lean_holistic']:.2f}x wall, "
                f"{r['cpu_s']['lean'] / r['cpu_s']['ours']:.2f}x CPU"
            )
    else:
        lines.append(
            f"  vtuber vs bare loop: {r['overhead_vs_bare_pct']:+.1f} % wall, "
            f"{100 * (r['cpu_s']['ours'] / r['cpu_s']['bare'] - 1):+.1f} % CPU"
        )
        if "lean" in r["median_s"]:
            lines.append(
                f"  vtuber vs lean loop: {r['overhead_vs_lean_bare_pct']:+.1f} % wall, "
                f"{100 * (r['cpu_s']['ours'] / r['cpu_s']['lean'] - 1):+.1f} % CPU"
            )
        if "speedup_vs_openseeface" in r:
            lines.append(
                f"  OpenSeeFace model 0 {r['median_s']['openseeface']:7.2f} s  "
                f"{r['fps']['openseeface']:6.1f} fps  CPU {r['cpu_s']['openseeface']:6.2f} s; "
                f"speed-up {r['speedup_vs_openseeface']:.2f}x wall"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
