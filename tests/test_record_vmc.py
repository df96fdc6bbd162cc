"""record-vmc: a stream from an independent OSC sender (liblo's oscsend), unknown addresses
included, is recorded and replayed with identical bytes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_replay import Receiver
from vtuber.recording import read_recording

OSCSEND = shutil.which("oscsend")
pytestmark = pytest.mark.skipif(OSCSEND is None, reason="liblo-tools' oscsend is not installed")

# Messages a VMC performer might send, plus addresses vtuber does not know.
MESSAGES = [
    ["/VMC/Ext/OK", "i", "1"],
    ["/VMC/Ext/Root/Pos", "sfffffff", "root", "0", "0", "0", "0", "0", "0", "1"],
    ["/VMC/Ext/Bone/Pos", "sfffffff", "Head", "0", "0.08", "0", "0.1", "0.2", "0", "0.97"],
    ["/VMC/Ext/Blend/Val", "sf", "A", "0.625"],
    ["/VMC/Ext/Blend/Apply", ""],
    ["/VMC/Ext/Hmd/Pos", "sfffffff", "hmd", "1", "2", "3", "0", "0", "0", "1"],
    ["/SomeVendor/Custom/Thing", "sid", "hello", "42", "3.25"],
    ["/VMC/Ext/T", "f", "12.5"],
]


def oscsend(port: int, msg: list[str]) -> None:
    assert OSCSEND is not None
    args = [OSCSEND, "127.0.0.1", str(port), msg[0]] + ([msg[1], *msg[2:]] if msg[1] else [])
    subprocess.run(args, check=True, timeout=10)


def test_record_vmc_keeps_every_datagram_and_replays_identical_bytes(tmp_path: Path) -> None:
    # What oscsend sends, seen by a plain socket (oscsend is deterministic for the same args).
    ref = Receiver()
    for m in MESSAGES:
        oscsend(ref.port, m)
    expected = ref.stop(0.2)
    assert len(expected) == len(MESSAGES)
    assert any(b"/SomeVendor/Custom/Thing" in d for d in expected)

    # Record them with `vtuber record-vmc` (a free port picked by binding and releasing it).
    probe = Receiver()
    port = probe.port
    probe.stop(0)
    out = tmp_path / "perf.vtrec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vtuber", "record-vmc", "--listen", f"127.0.0.1:{port}",
         "--out", str(out), "--duration", "4"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    assert "recording VMC" in proc.stderr.readline()  # printed once the socket is bound
    sent_at = []
    for m in MESSAGES:
        sent_at.append(time.perf_counter())
        oscsend(port, m)
        time.sleep(0.05)
    assert proc.wait(timeout=20) == 0
    rec = read_recording(out)
    assert rec.error is None and rec.kind == "vmc"
    assert [d for _, d in rec.datagrams] == expected
    # Arrival times keep the sending rhythm (within the time oscsend takes to start).
    gaps = [b[0] - a[0] for a, b in zip(rec.datagrams, rec.datagrams[1:], strict=False)]
    assert all(g > 0.03 for g in gaps), gaps

    # Replay: identical bytes, in order.
    rx = Receiver()
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "replay", str(out), "--vmc", f"127.0.0.1:{rx.port}",
         "--quiet"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert rx.stop(0.2) == expected


def test_golden_vmc_fixture_replays_byte_for_byte() -> None:
    import json

    from vtuber.replay import ReplayOptions, replay
    from vtuber.sinks.vmc import VMCSink

    fix = Path(__file__).resolve().parent / "fixtures"
    want = [
        bytes.fromhex(d["hex"])
        for d in json.loads((fix / "golden_vmc_v1.json").read_text())["datagrams"]
    ]
    rec = read_recording(fix / "golden_vmc_v1.vtrec")
    rx = Receiver()
    with VMCSink([("127.0.0.1", rx.port)]) as sink:
        replay(rec, [sink], ReplayOptions(speed=4.0))
    assert rx.stop(0.1) == want
