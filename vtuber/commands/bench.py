"""``vtuber bench``: vtuber's whole process next to the bare model loop and the peers, same frames.

Two parts (docs/performance.md):

1. **Whole process.** On one input video (optionally resized and looped into a temporary file, so
   every side decodes the same bytes): the bare model loop (``python -m vtuber.landmarks.bare``:
   decode + MediaPipe only), vtuber's real CLI path (``vtuber track --source V --fast --vmc
   127.0.0.1:PORT`` as a subprocess, sending real datagrams to a loopback receiver here) and the
   peer (MediaPipe Holistic for ``--mode full``), each timed as a whole process, start-up
   included. The runs take turns (bare, ours, peer; ``--repeats`` times) so a load spike from
   another process falls on every side alike; medians and ratios are printed.
2. **Stages** (``--stages``). The pipeline in this process: per-stage ms, our own CPU time per
   frame, capture -> sent latency, next to the landmark backend alone on the same frames.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from vtuber.commands import track
from vtuber.errors import ConfigError, SourceError

_SUMMARY = re.compile(r"vtuber: (\d+) frames in ([\d.]+) s")

# The model configuration each comparison runs (the reference's and vtuber's), so the ratio is
# read as what it is (docs/performance.md).
MODEL_CONFIG = {
    "facemesh": "both: FaceMesh refine_landmarks=True (iris), max_num_faces=1, tracking "
    "(static_image_mode=False), detection/tracking thresholds 0.5, full frame; vtuber's lock-on "
    "(on by default) looks for 2 faces during its first 2 s",
    "landmarker": "both: Face Landmarker task, VIDEO mode, num_faces=1, blendshapes and "
    "transformation matrix on, thresholds 0.5",
    "holistic": "Holistic model_complexity=1, refine_face_landmarks=True, at the video's size; "
    "vtuber: FaceMesh (iris) + Pose model_complexity=1 + one Hands (model_complexity=1) per "
    "hand, on the frame scaled to 640 px wide; lock-on looks for 2 faces during its first 2 s",
}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench",
        help="time vtuber's whole process against the bare MediaPipe loop and its peers",
        description="Run the bare model loop (decode + MediaPipe), `vtuber track --fast --vmc` "
        "and the peer (Holistic for --mode full) as processes on the same video and print the "
        "ratios; --stages adds per-stage timing and latency of the pipeline.",
    )
    track.add_track_args(p)
    p.add_argument(
        "--size", default=None, metavar="WxH", help="resize the video first (e.g. 640x480)"
    )
    p.add_argument("--loops", type=int, default=1, help="play the video this many times (1)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each side (median; 3)")
    p.add_argument(
        "--stages", action="store_true", help="also time each pipeline stage in this process"
    )
    p.add_argument(
        "--frames", type=int, default=600, help="--stages: frames to measure (default 600)"
    )
    p.add_argument(
        "--lean-bare",
        action="store_true",
        help="also time the bare loop driving the graphs as vtuber does (the models' own cost "
        "with the least Python around them; python -m vtuber.landmarks.bare --lean)",
    )
    p.add_argument(
        "--openseeface",
        default=None,
        metavar="DIR",
        help="face mode: also time OpenSeeFace's model 0 as a peer, from a checkout of its "
        "repository with its models/ (facetracker.py; not installed by vtuber)",
    )
    p.add_argument(
        "--openseeface-python",
        default=None,
        metavar="PYTHON",
        help="the Python with OpenSeeFace's requirements (onnxruntime...; default: this one)",
    )
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(fast=True)
    return p


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m or int(m.group(1)) < 16 or int(m.group(2)) < 16:
        raise ConfigError(f"--size {text!r}: give WIDTHxHEIGHT, e.g. 640x480")
    return int(m.group(1)), int(m.group(2))


def prepare_video(src: str, size: tuple[int, int] | None, loops: int, tmp: Path) -> Path:
    """``src`` itself, or a temporary copy resized to ``size`` and played ``loops`` times."""
    import cv2

    if size is None and loops <= 1:
        return Path(src)
    cap = cv2.VideoCapture(src)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(img if size is None else cv2.resize(img, size, interpolation=cv2.INTER_AREA))
    cap.release()
    if not frames:
        raise SourceError(f"cannot decode video file {src} (corrupt or not a video)")
    h, w = frames[0].shape[:2]
    out = tmp / f"bench_{w}x{h}_x{loops}.mp4"
    wr = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for _ in range(max(1, loops)):
        for img in frames:
            wr.write(img)
    wr.release()
    return out


class _Receiver:
    """A loopback UDP receiver that counts the datagrams it gets (drained on a thread)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recv(65536)
                self.count += 1
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self.sock.close()


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, str]:
    """Wall seconds, CPU seconds (user + system, all threads), stdout and stderr of ``cmd``."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise SourceError(f"bench: {' '.join(cmd[2:5])} failed (exit {p.returncode}): {tail[0]}")
    return wall, cpu, p.stdout, p.stderr


def side_env(pycache: Path) -> dict[str, str]:
    """The environment every side runs in: this one, with Python's bytecode cache on (in
    ``pycache``) even where the calling shell turned it off (PYTHONDONTWRITEBYTECODE), as a
    user's Python runs: otherwise every start-up compiles each of vtuber's modules again
    (~0.06 s of CPU for ``vtuber track``, docs/performance.md)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def openseeface_command(folder: str, python: str | None, video: Path, port: int) -> list[str]:
    """The command that runs OpenSeeFace's tracker with its fastest model (``--model 0``) on
    ``video`` as fast as it decodes, sending its packets to ``port`` on loopback, quiet; it
    ends at the video's end. ``folder``: a checkout of OpenSeeFace (facetracker.py and
    models/). One clear error if it is not one."""
    root = Path(folder)
    script = root / "facetracker.py"
    if not script.is_file():
        raise ConfigError(
            f"--openseeface {folder}: no facetracker.py there (give the folder of "
            "an OpenSeeFace checkout)"
        )
    models = root / "models"
    if not models.is_dir():
        raise ConfigError(
            f"--openseeface {folder}: no models/ folder there (OpenSeeFace's .onnx model files)"
        )
    py = python or sys.executable
    return [py, str(script), "-c", str(video), "--model", "0", "-s", "1", "-i", "127.0.0.1",
            "-p", str(port), "--model-dir", str(models), "--max-threads", "1"]  # fmt: skip


def whole_process(
    video: Path,
    mode: str,
    face_model: str,
    repeats: int,
    extra: list[str] | None = None,
    lean_bare: bool = False,
    openseeface: tuple[str, str | None] | None = None,
) -> dict[str, Any]:
    """Median wall seconds (start-up included) of the bare loop (and, with ``lean_bare``, the
    bare loop driving the graphs as vtuber does), ``vtuber track`` and the peer, taking turns,
    and the derived fps and ratios. Each side first runs once on one frame, untimed (bytecode
    and file caches warm for every side alike). ``openseeface``: (folder, python) of an
    OpenSeeFace checkout to time as a face-mode peer too (:func:`openseeface_command`)."""
    with tempfile.TemporaryDirectory(prefix="vtuber-bench-pyc-") as pyc:
        return _whole_process(
            video, mode, face_model, repeats, extra, lean_bare, side_env(Path(pyc)), openseeface
        )


def _whole_process(
    video: Path,
    mode: str,
    face_model: str,
    repeats: int,
    extra: list[str] | None,
    lean_bare: bool,
    env: dict[str, str],
    openseeface: tuple[str, str | None] | None = None,
) -> dict[str, Any]:
    py = sys.executable
    bare_model = "holistic" if mode == "full" else face_model
    bare = [py, "-m", "vtuber.landmarks.bare", bare_model, str(video)]
    rx = _Receiver()
    ours = [py, "-m", "vtuber", "track", "--source", str(video), "--fast", "--mode", mode]
    ours += ["--face-model", face_model, "--vmc", f"127.0.0.1:{rx.port}", *(extra or [])]
    refs = {"bare": bare, **({"lean": [*bare, "--lean"]} if lean_bare else {})}
    osf_rx: _Receiver | None = None  # OpenSeeFace's packets (face mode, when given)
    peers: dict[str, list[str]] = {}
    if openseeface is not None and mode == "face":
        osf_rx = _Receiver()
        peers["openseeface"] = openseeface_command(*openseeface, video, osf_rx.port)
    walls: dict[str, list[float]] = {k: [] for k in (*refs, *peers, "ours")}
    cpus: dict[str, list[float]] = {k: [] for k in (*refs, *peers, "ours")}
    osf_packets: list[int] = []
    steady: list[float] = []
    frames = found = 0
    datagrams: list[int] = []
    try:
        for cmd in refs.values():  # warm-up, untimed
            _timed([*cmd, "--frames", "1"], env)
        _timed([*ours, "--max-frames", "1"], env)
        for _ in range(max(1, repeats)):
            for name, cmd in refs.items():
                w, c, out, _ = _timed(cmd, env)
                walls[name].append(w)
                cpus[name].append(c)
                rec = json.loads(out.strip().splitlines()[-1])
                frames, found = int(rec["frames"]), int(rec["found"])
            if osf_rx is not None:  # the whole video (it has no one-frame warm-up option)
                got = osf_rx.count
                w, c, _, _ = _timed(peers["openseeface"], None)
                walls["openseeface"].append(w)
                cpus["openseeface"].append(c)
                time.sleep(0.3)
                osf_packets.append(osf_rx.count - got)
            before = rx.count
            w, c, _, err = _timed(ours, env)
            walls["ours"].append(w)
            cpus["ours"].append(c)
            time.sleep(0.3)  # the last datagrams in flight
            datagrams.append(rx.count - before)
            m = _SUMMARY.search(err)
            if m:
                steady.append(int(m.group(1)) / float(m.group(2)))
    finally:
        rx.close()
        if osf_rx is not None:
            osf_rx.close()
    med = {k: statistics.median(v) for k, v in walls.items()}
    res: dict[str, Any] = {
        "video": str(video),
        "mode": mode,
        "face_model": face_model,
        "bare_model": bare_model,
        "model_config": MODEL_CONFIG[bare_model],
        "frames": frames,
        "bare_found": found,
        "repeats": repeats,
        "wall_s": {k: [round(x, 3) for x in v] for k, v in walls.items()},
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "fps": {k: round(frames / v, 1) for k, v in med.items()},
        "cpu_s": {k: round(statistics.median(v), 3) for k, v in cpus.items()},
        "ours_steady_fps": round(statistics.median(steady), 1) if steady else None,
        "vmc_datagrams_received": datagrams,
    }
    if mode == "full":
        res["speedup_vs_holistic"] = round(med["bare"] / med["ours"], 3)
        if "lean" in med:
            res["speedup_vs_lean_holistic"] = round(med["lean"] / med["ours"], 3)
    else:
        res["overhead_vs_bare_pct"] = round(100.0 * (med["ours"] / med["bare"] - 1.0), 1)
        if "lean" in med:
            res["overhead_vs_lean_bare_pct"] = round(100.0 * (med["ours"] / med["lean"] - 1.0), 1)
    if "openseeface" in med:
        res["speedup_vs_openseeface"] = round(med["openseeface"] / med["ours"], 3)
        res["openseeface_packets_received"] = osf_packets
        res["openseeface"] = f"model 0, {peers['openseeface'][1]}, one thread"
    else:
        res["openseeface"] = (
            "not measured (give --openseeface DIR, a checkout of OpenSeeFace with its models)"
            if mode == "face"
            else None
        )
    return res


def _bare_inference_ms(args: argparse.Namespace, n: int) -> float:
    """Mean ms per frame of the landmark backend alone, on the first n frames (pre-decoded)."""
    from vtuber.sources import open_source

    src = open_source(args.source, fast=True)
    with src:
        frames = []
        for f in src:
            frames.append(f)
            if len(frames) >= n:
                break
    backend = track.make_backend(args, src)
    try:
        backend.process(frames[0].image, frames[0].t)  # warm-up (model start-up)
        t0 = time.perf_counter()
        for f in frames[1:]:
            backend.process(f.image, f.t)
        dt = time.perf_counter() - t0
    finally:
        backend.close()
    return 1000.0 * dt / max(1, len(frames) - 1)


def stages(args: argparse.Namespace) -> dict[str, Any]:
    """Per-stage timing of the pipeline in this process (the same code as ``vtuber track``)."""
    import numpy as np

    from vtuber.commands.smoothing_args import smoothing_config
    from vtuber.pipeline import Pipeline
    from vtuber.sinks.vmc import VMCSink
    from vtuber.smoothing import make_smoother
    from vtuber.sources import open_source

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sink = VMCSink([rx.getsockname()[:2]])
    track.single_threaded_opencv()  # as `vtuber track` runs
    # Loop short clips so that the figures are steady-state ones (start-up amortised).
    src = open_source(args.source, fast=True, loop=True)
    backend = track.make_backend(args, src)
    tracker = track.make_tracker(args)
    smoother = make_smoother(smoothing_config(args))
    try:
        with src, sink:
            pipe = Pipeline(src, backend, tracker, [sink], mirror=args.mirror, smoother=smoother)
            stats = pipe.run(max_frames=args.frames)
    finally:
        backend.close()
        rx.close()
    bare = _bare_inference_ms(args, min(stats.frames, args.frames))
    ms = stats.stage_ms()
    ours = ms["solve"] + ms["smooth"] + ms["send"]
    return {
        "frames": stats.frames,
        "faces": stats.faces,
        "fps": round(stats.fps, 1),
        "stage_ms": {k: round(v, 3) for k, v in ms.items()},
        "ours_ms": round(ours, 3),
        "ours_cpu_ms": round(1000.0 * float(np.mean(stats.ours_cpu)), 3) if stats.ours_cpu else 0,
        "bare_landmarks_ms": round(bare, 3),
        "latency_ms_p50": round(stats.latency_ms(50), 2),
        "latency_ms_p95": round(stats.latency_ms(95), 2),
        "vmc_datagrams": sink.datagrams,
    }


def report(res: dict[str, Any], out: Any = sys.stdout) -> None:
    """The human-readable lines of one whole-process result (and its stages, if any)."""
    w = res["whole"]
    peer = "Holistic" if w["mode"] == "full" else f"bare {w['bare_model']} loop"
    out.write(
        f"{w['video']}: {w['frames']} frames, mode {w['mode']}, face model {w['face_model']}, "
        f"{w['repeats']} runs each (median, whole process incl. start-up)\n"
    )
    out.write(f"  {peer:<22}{w['median_s']['bare']:8.2f} s {w['fps']['bare']:7.1f} fps\n")
    if "lean" in w["median_s"]:
        out.write(
            f"  {'(lean) ' + peer:<22}{w['median_s']['lean']:8.2f} s {w['fps']['lean']:7.1f} fps\n"
        )
    out.write(
        f"  {'vtuber track':<22}{w['median_s']['ours']:8.2f} s {w['fps']['ours']:7.1f} fps"
        f"   (steady state after start-up: {w['ours_steady_fps']} fps)\n"
        f"  CPU time (all threads): {w['cpu_s']['bare']:.2f} s vs {w['cpu_s']['ours']:.2f} s"
        + (f" (lean: {w['cpu_s']['lean']:.2f} s)" if "lean" in w["cpu_s"] else "")
        + "\n"
    )
    out.write(f"  models: {w['model_config']}\n")
    if "speedup_vs_holistic" in w:
        out.write(f"  speed-up vs Holistic  {w['speedup_vs_holistic']:.2f}x\n")
    else:
        out.write(f"  overhead vs bare loop {w['overhead_vs_bare_pct']:+.1f} %\n")
    if "overhead_vs_lean_bare_pct" in w:
        out.write(f"  overhead vs lean loop {w['overhead_vs_lean_bare_pct']:+.1f} %\n")
    if "speedup_vs_lean_holistic" in w:
        out.write(f"  speed-up vs lean Holistic {w['speedup_vs_lean_holistic']:.2f}x\n")
    if "speedup_vs_openseeface" in w:
        out.write(
            f"  {'OpenSeeFace model 0':<22}{w['median_s']['openseeface']:8.2f} s "
            f"{w['fps']['openseeface']:7.1f} fps   ({w['openseeface']})\n"
            f"  speed-up vs OpenSeeFace model 0  {w['speedup_vs_openseeface']:.2f}x\n"
        )
    elif w.get("openseeface"):
        out.write(f"  OpenSeeFace: {w['openseeface']}\n")
    s = res.get("stages")
    if s:
        for k, v in s["stage_ms"].items():
            out.write(f"  {k:<10}{v:8.3f} ms/frame\n")
        out.write(f"  ours      {s['ours_ms']:8.3f} ms/frame (solve + smooth + send, wall)\n")
        out.write(f"  ours CPU  {s['ours_cpu_ms']:8.3f} ms/frame (this thread's CPU time)\n")
        out.write(f"  model     {s['bare_landmarks_ms']:8.3f} ms/frame (backend alone)\n")
        out.write(
            f"  latency   p50 {s['latency_ms_p50']:.1f} ms, p95 {s['latency_ms_p95']:.1f} ms "
            "(frame decoded -> sent)\n"
        )


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        raise ConfigError("bench needs --source FILE (a video file)")
    if not Path(args.source).is_file():
        raise SourceError(f"bench: video file not found: {args.source}")
    size = _parse_size(args.size)
    args.fast = True
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vtuber-bench-") as tmp:
        video = prepare_video(args.source, size, args.loops, Path(tmp))
        osf = (args.openseeface, args.openseeface_python) if args.openseeface else None
        if osf is not None and args.mode != "face":
            raise ConfigError("--openseeface: OpenSeeFace tracks faces only: use --mode face")
        if osf is not None:
            openseeface_command(osf[0], osf[1], video, 0)  # a wrong folder: one line, now
        res["whole"] = whole_process(
            video,
            args.mode,
            args.face_model,
            args.repeats,
            lean_bare=args.lean_bare,
            openseeface=osf,
        )
        if args.stages:  # on the same (resized, looped) video
            res["stages"] = stages(argparse.Namespace(**{**vars(args), "source": str(video)}))
        res["whole"]["video"] = f"{args.source} ({args.size or 'source size'}, x{args.loops})"
    if args.json:
        print(json.dumps(res))
    else:
        report(res)
    return 0
