"""vtuber's own CPU per frame: ``vtuber track --fast --vmc`` minus the model, on cached landmarks.

The landmarks of the shared clip (resized to 640x480 like bench_speed's face case) are computed
once with the backend ``vtuber track`` builds (FaceMesh or the Face Landmarker, lock-on as on by
default; full mode: the 720p clip through face + pose + hands) and cached in ``--cache``. Then
the same parts the CLI builds from the same options (``Tracker``, the smoother, the mirror, the
VMC sink sending real datagrams to a loopback receiver in a process of its own) run through
:class:`vtuber.pipeline.Pipeline` on those landmarks, ``--rounds`` times, each round with fresh
parts; the least CPU time per frame of this thread over the rounds is reported (other
processes on the machine disturb the least of N least). Each part is also timed alone the same way
(solve, smooth, mirror, VMC encode; send: the datagrams to a loopback port nobody listens on).

``--digest`` prints the SHA-256 of every datagram the receiver got, in order: the same digest
before and after a change means the change sent the same bytes. To compare with an older
commit: ``git archive REV vtuber | tar -x -C /tmp/old`` and run this script with
``PYTHONPATH=/tmp/old`` (docs/performance.md).

    .venv/bin/python benchmarks/bench_ours.py [--mode face|full] [--face-model landmarker]
        [--rounds 7] [--loops 2] [--json] [--digest]
"""

from __future__ import annotations

import argparse
import json
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import cv2
from _common import CLIP

from vtuber.cli import build_parser
from vtuber.commands import track
from vtuber.commands.common import build_sinks
from vtuber.commands.performer_args import performer_backend
from vtuber.commands.smoothing_args import smoothing_config
from vtuber.landmarks import Landmarks
from vtuber.pipeline import Pipeline
from vtuber.rig import mirror_frame
from vtuber.smoothing import make_smoother
from vtuber.sources import Frame
from vtuber.vmc import encode_frame

CACHE_VERSION = 1  # bump when Landmarks change shape (old pickles then no longer load)


_RECEIVER = r"""
import hashlib, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
print(s.getsockname()[1], flush=True)
h, n = hashlib.sha256(), 0
while True:
    d = s.recv(65536)
    if d == b"END":
        print(n, h.hexdigest(), flush=True)
        h, n = hashlib.sha256(), 0
    elif d == b"QUIT":
        break
    else:
        h.update(len(d).to_bytes(4, "big") + d)
        n += 1
"""


class Receiver:
    """A loopback UDP receiver in its own process (so that it takes no GIL from the pipeline's
    thread here) that counts and hashes every datagram it gets, round by round."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _RECEIVER], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def end_round(self) -> tuple[int, str]:
        """(datagrams, SHA-256 of them in order) since the last call."""
        time.sleep(0.2)  # the last datagrams in flight (loopback: none are lost)
        self.sock.sendto(b"END", ("127.0.0.1", self.port))
        assert self.proc.stdout is not None
        n, digest = self.proc.stdout.readline().split()
        return int(n), digest

    def close(self) -> None:
        self.sock.sendto(b"QUIT", ("127.0.0.1", self.port))
        self.proc.wait(timeout=5.0)
        self.sock.close()


def cli_args(mode: str, face_model: str, port: int) -> argparse.Namespace:
    """The options ``vtuber track --fast --vmc`` runs with (bench_speed's command line)."""
    argv = ["track", "--source", str(CLIP), "--fast", "--quiet", "--mode", mode]
    argv += ["--face-model", face_model, "--vmc", f"127.0.0.1:{port}"]
    return build_parser("track").parse_args(argv)


def landmarks(args: argparse.Namespace, cache: Path, loops: int) -> list[tuple[Frame, Landmarks]]:
    """The clip's frames (images dropped) and their landmarks from the CLI's backend, cached."""
    size = (640, 480) if args.mode == "face" else None
    key = f"ours_v{CACHE_VERSION}_{args.mode}_{args.face_model}_{size}_x{loops}.pkl"
    path = cache / key
    if path.is_file():
        with path.open("rb") as fh:
            out: list[tuple[Frame, Landmarks]] = pickle.load(fh)
            return out
    from vtuber.sources import VideoSource

    src = VideoSource(str(CLIP), realtime=False)
    backend = performer_backend(args, track.make_backend(args, src))
    out = []
    try:
        with src:
            images = [f for f in src]
        fps = src.fps
        for k in range(loops):
            for f in images:
                img = f.image
                if size is not None:
                    img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
                i = k * len(images) + f.index
                t = i / fps
                lm = backend.process(img, t)
                out.append((Frame(img[:1, :1].copy(), t, 0.0, i), lm))
    finally:
        backend.close()
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(out, fh)
    return out


class Replay:
    """The landmark backend's seam: the cached landmarks of the frame handed in."""

    def __init__(self, pairs: list[tuple[Frame, Landmarks]]) -> None:
        self.by_image = {id(f.image): lm for f, lm in pairs}

    def process(self, bgr: Any, t: float) -> Landmarks:
        return self.by_image[id(bgr)]

    def close(self) -> None:
        pass


def one_round(
    args: argparse.Namespace, pairs: list[tuple[Frame, Landmarks]], rx: Receiver
) -> tuple[float, int, str]:
    """CPU seconds of this thread in build + send over all frames (Pipeline.stats.ours_cpu),
    and the datagrams the receiver got: their number and SHA-256."""
    tracker = track.make_tracker(args)
    smoother = make_smoother(smoothing_config(args))
    sinks = build_sinks(args)
    for s in sinks:
        s.open()
    try:
        pipe = Pipeline(
            [f for f, _ in pairs], Replay(pairs), tracker, sinks, mirror=args.mirror,
            smoother=smoother,
        )  # fmt: skip
        stats = pipe.run()
    finally:
        for s in sinks:
            s.close()
    return (sum(stats.ours_cpu), *rx.end_round())


def parts(args: argparse.Namespace, pairs: list[tuple[Frame, Landmarks]]) -> dict[str, float]:
    """CPU seconds of this thread of each part alone over all frames (fresh parts)."""
    tracker = track.make_tracker(args)
    smoother = make_smoother(smoothing_config(args))
    out: dict[str, float] = {}
    c0 = time.thread_time()
    solved = [tracker.solve(lm, f.t_capture, f.index) for f, lm in pairs]
    c1 = time.thread_time()
    smoothed = [smoother.update(a) for a in solved] if smoother is not None else solved
    c2 = time.thread_time()
    mirrored = [mirror_frame(a) for a in smoothed]
    c3 = time.thread_time()
    encoded = [encode_frame(a) for a in mirrored]
    c4 = time.thread_time()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    addr = ("127.0.0.1", 9)  # discard port: nothing listens; sendto still does the work
    c5 = time.thread_time()
    for dgs in encoded:
        for d in dgs:
            try:
                sock.sendto(d, addr)
            except OSError:
                pass
    c6 = time.thread_time()
    sock.close()
    out["solve"], out["smooth"], out["mirror"] = c1 - c0, c2 - c1, c3 - c2
    out["encode"], out["send"] = c4 - c3, c6 - c5
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("face", "full"), default="face")
    ap.add_argument("--face-model", choices=("facemesh", "landmarker"), default="facemesh")
    ap.add_argument("--rounds", type=int, default=7, help="rounds; the least is reported (7)")
    ap.add_argument("--loops", type=int, default=2, help="play the clip this many times (2)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/vtuber-ours-cache"))
    ap.add_argument("--digest", action="store_true", help="print the datagrams' SHA-256")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not CLIP.is_file():
        print(f"bench_ours: the shared clip is not here ({CLIP})", file=sys.stderr)
        return 2
    rx = Receiver()
    try:
        args = cli_args(a.mode, a.face_model, rx.port)
        pairs = landmarks(args, a.cache, a.loops)
        n = len(pairs)
        whole: list[float] = []
        split: dict[str, list[float]] = {}
        digest = ""
        count = 0
        for _ in range(max(1, a.rounds)):
            cpu, got, h = one_round(args, pairs, rx)
            whole.append(cpu)
            if digest and h != digest:
                print("bench_ours: two rounds sent different bytes", file=sys.stderr)
            digest, count = h, got
            for k, v in parts(args, pairs).items():
                split.setdefault(k, []).append(v)
    finally:
        rx.close()
    res: dict[str, Any] = {
        "mode": a.mode,
        "face_model": a.face_model,
        "frames": n,
        "faces": sum(int(lm.face.found) for _, lm in pairs),
        "rounds": a.rounds,
        "ours_cpu_ms": round(1000.0 * min(whole) / n, 4),
        "ours_cpu_ms_median": round(1000.0 * sorted(whole)[len(whole) // 2] / n, 4),
        "parts_cpu_ms": {k: round(1000.0 * min(v) / n, 4) for k, v in split.items()},
        "datagrams": count,
    }
    if a.digest:
        res["sha256"] = digest
    if a.json:
        print(json.dumps(res))
        return 0
    print(
        f"{n} frames ({res['faces']} with a face), mode {a.mode}, {a.face_model}, "
        f"least of {a.rounds} rounds, CPU of the pipeline's thread per frame:"
    )
    print(
        f"  whole (build + send)  {res['ours_cpu_ms']:.4f} ms (median {res['ours_cpu_ms_median']})"
    )
    for k, v in res["parts_cpu_ms"].items():
        print(f"  {k:<20}  {v:.4f} ms")
    print(f"  datagrams per round   {count}")
    if a.digest:
        print(f"  sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
