"""record-vmc throughput: can the recorder keep up with a fast VMC performer?

    .venv/bin/python benchmarks/bench_record_vmc.py [--seconds 3] [--rates 10000,20000,0]

A recorder process (vtuber.commands.record_vmc: ``open_socket`` + ``record``, as the CLI runs
them) listens on 127.0.0.1; this process sends real VMC datagrams (vtuber's own encoding of a
full-body frame: ~1.3 KB bundles, plus single ``/VMC/Ext/T`` messages) at each target rate
(0 = as fast as possible) for ``--seconds``. Prints, per receive buffer (the kernel's default
vs record-vmc's 8 MiB request) and rate: datagrams sent, recorded, dropped by the kernel
(SO_RXQ_OVFL / /proc/net/udp), and the recorder's CPU time per datagram. The target (issue 14)
is no drops at 10,000 datagrams/s with the default settings.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vtuber.rig import AvatarFrame, Bone, Tracking
from vtuber.vmc import encode_frame

RECORDER = r"""
import json, sys, time
from vtuber.commands.record_vmc import open_socket, receive_buffer, record
from vtuber.recording import RecordingWriter
rcvbuf, seconds, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
sock = open_socket("127.0.0.1", 0, rcvbuf=rcvbuf)
print(sock.getsockname()[1], receive_buffer(sock), flush=True)
c0 = time.process_time()
with RecordingWriter(out, kind="vmc", overwrite=True) as w:
    res = record(sock, w, duration=seconds)
print(json.dumps({"recorded": res.datagrams, "drops": res.drops,
                  "cpu": time.process_time() - c0}), flush=True)
"""


def datagrams() -> list[bytes]:
    frame = AvatarFrame(t=0.0, index=0, tracking=Tracking(face=True, body=True))
    frame.bones = {b: (0.0, 0.0, 0.0, 1.0) for b in Bone}
    frame.blendshapes = {"aa": 0.5, "blinkLeft": 0.25, "happy": 0.1}
    return encode_frame(frame)


def run(rcvbuf: int, rate: float, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-c", RECORDER, str(rcvbuf), str(seconds + 1.5),
             str(Path(tmp) / "b.vtrec")],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        port_s, granted = proc.stdout.readline().split()
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dgs = datagrams()
        addr = ("127.0.0.1", int(port_s))
        sent = 0
        t0 = time.perf_counter()
        while (now := time.perf_counter()) - t0 < seconds:
            if rate > 0 and sent > (now - t0) * rate:
                time.sleep(0.0005)
                continue
            tx.sendto(dgs[sent % len(dgs)], addr)
            sent += 1
        elapsed = time.perf_counter() - t0
        tx.close()
        res = json.loads(proc.stdout.readline())
        proc.wait()
    return {
        "rcvbuf_kib": int(granted) / 1024,
        "rate": sent / elapsed,
        "sent": sent,
        **res,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rates", default="10000,20000,0", help="datagrams/s; 0 = as fast as possible")
    args = ap.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print(f"{'buffer':>10} {'target/s':>9} {'sent/s':>9} {'sent':>8} {'recorded':>9} "
          f"{'dropped':>8} {'cpu us/dgram':>13}")  # fmt: skip
    for rcvbuf in (212992, 8 << 20):  # Linux's usual default (rmem_default) and record-vmc's
        for rate in rates:
            r = run(rcvbuf, rate, args.seconds)
            cpu_us = 1e6 * r["cpu"] / max(1, r["recorded"])
            print(
                f"{r['rcvbuf_kib']:>7.0f}KiB {rate or float('nan'):>9.0f} {r['rate']:>9.0f} "
                f"{r['sent']:>8} {r['recorded']:>9} {r['drops']:>8} {cpu_us:>13.1f}"
            )


if __name__ == "__main__":
    main()
