"""Replay timing benchmark: replay a 60 s, 30 fps recording over VMC to a UDP receiver on loopback
and compare the receiver's inter-frame intervals with the recorded ones.

    .venv/bin/python benchmarks/bench_replay.py [--seconds 60] [--jitter-ms 5]

Prints interval error percentiles (ms), the recording's size, and the replay's CPU time. The
target (issue 7) is p99 <= 2 ms.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vtuber.recording import RecordingWriter, read_recording
from vtuber.replay import replay
from vtuber.rig import BLENDSHAPE_KEYS, AvatarFrame, Bone, Tracking
from vtuber.sinks.vmc import VMCSink

RECEIVER = r"""
import socket, sys, time
import numpy as np
T_MSG = b"/VMC/Ext/T\x00\x00,f\x00\x00"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
s.settimeout(2.0)
arr = []
try:
    while True:
        d = s.recv(65535)
        if T_MSG in d:
            arr.append(time.perf_counter())
except TimeoutError:
    pass
np.save(sys.argv[1], np.array(arr))
"""


def make_recording(path: Path, seconds: float, jitter_ms: float, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    t = 0.0
    times = []
    with RecordingWriter(path, source="bench") as w:
        for i in range(int(seconds * 30)):
            a = 0.4 * np.sin(t)
            w.write_frame(
                AvatarFrame(
                    t=t,
                    index=i,
                    tracking=Tracking(face=True),
                    bones={
                        Bone.Neck: (0.0, float(np.sin(a / 4)), 0.0, float(np.cos(a / 4))),
                        Bone.Head: (0.0, float(np.sin(a / 2)), 0.0, float(np.cos(a / 2))),
                    },
                    blendshapes={
                        k: float(v) for k, v in zip(BLENDSHAPE_KEYS, rng.random(70), strict=True)
                    },
                )
            )
            times.append(t)
            t += 1 / 30 + rng.uniform(-jitter_ms, jitter_ms) / 1000
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--jitter-ms", type=float, default=5.0, help="recorded interval jitter")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.vtrec"
        times = make_recording(path, args.seconds, args.jitter_ms)
        size = path.stat().st_size
        rec = read_recording(path)
        # The receiver runs in its own process (like Unity would), so it does not compete with
        # the replayer for the GIL.
        out = Path(d) / "arrivals.npy"
        proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(out)], stdout=subprocess.PIPE)
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        cpu0 = time.process_time()
        with VMCSink([("127.0.0.1", port)]) as sink:
            n = replay(rec, [sink])
        cpu = time.process_time() - cpu0
        proc.wait(timeout=30)
        arrivals = list(np.load(out))
    want = np.diff(times)
    got = np.diff(arrivals)
    err = 1000 * np.abs(got - want) if len(got) == len(want) else None
    print(f"recording: {len(times)} frames, {args.seconds:.0f} s, {size / 1e6:.3f} MB "
          f"({size / 1e6 * 60 / args.seconds:.3f} MB/min)")  # fmt: skip
    print(f"replayed {n} frames, received {len(arrivals)}; replay CPU {cpu:.2f} s "
          f"({100 * cpu / args.seconds:.1f}% of one core)")  # fmt: skip
    if err is None:
        print("FAIL: frames lost")
        return
    p50, p99, mx = np.percentile(err, 50), np.percentile(err, 99), err.max()
    drift = 1000 * ((arrivals[-1] - arrivals[0]) - (times[-1] - times[0]))
    print(
        f"interval error ms: p50 {p50:.3f}  p99 {p99:.3f}  max {mx:.3f}; end drift {drift:.2f} ms"
    )
    print("PASS" if p99 <= 2.0 else "FAIL", "(target p99 <= 2 ms)")


if __name__ == "__main__":
    main()
