"""VMC encoding: byte-exact against python-osc's builders, datagram size, order, and decoding of
real loopback datagrams by independent decoders (python-osc's parser, liblo's oscdump)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from vtuber import quat
from vtuber.rig import ARKIT_NAMES, VRM1_PRESETS, AvatarFrame, Bone, Tracking
from vtuber.sinks.vmc import VMCSink, parse_target
from vtuber.vmc import MAX_DATAGRAM, encode_frame, frame_messages


def sample_frame(full_blend: bool = True) -> AvatarFrame:
    rng = np.random.default_rng(7)
    bones = {b: tuple(quat.normalize(rng.normal(size=4))) for b in (Bone.Head, Bone.Neck)}
    keys = list(VRM1_PRESETS) + (list(ARKIT_NAMES) if full_blend else [])
    blend = {k: float(v) for k, v in zip(keys, rng.uniform(0, 1, len(keys)), strict=True)}
    return AvatarFrame(t=12.5, tracking=Tracking(face=True), bones=bones, blendshapes=blend)


def build(address: str, *args: tuple[object, str]) -> bytes:
    b = OscMessageBuilder(address)
    for value, tag in args:
        b.add_arg(value, tag)
    return b.build().dgram


def test_messages_are_byte_identical_to_python_osc():
    f = sample_frame()
    msgs = frame_messages(f)
    head = f.bone(Bone.Head)
    pos = f.position(Bone.Head)
    ref = build("/VMC/Ext/Bone/Pos", ("Head", "s"), *[(v, "f") for v in pos + head])
    assert ref in msgs
    ref_blend = build("/VMC/Ext/Blend/Val", ("Blink_L", "s"), (f.blendshapes["blinkLeft"], "f"))
    assert ref_blend in msgs
    assert msgs[-3] == build("/VMC/Ext/Blend/Apply")
    assert msgs[-2] == build("/VMC/Ext/OK", (1, "i"), (3, "i"), (0, "i"), (1, "i"))
    assert msgs[-1] == build("/VMC/Ext/T", (12.5, "f"))


def decode_all(datagrams: list[bytes]) -> list[OscMessage]:
    out = []
    for d in datagrams:
        assert OscBundle.dgram_is_bundle(d)
        for m in OscBundle(d):
            assert isinstance(m, OscMessage)
            out.append(m)
    return out


def test_frame_fits_in_mtu_bundles_in_documented_order():
    f = sample_frame()
    dgrams = encode_frame(f)
    assert all(len(d) <= MAX_DATAGRAM for d in dgrams)
    assert len(dgrams) >= 3  # 55 bones + ~88 blendshape messages do not fit one MTU
    msgs = decode_all(dgrams)
    addrs = [m.address for m in msgs]
    assert addrs[0] == "/VMC/Ext/Root/Pos"
    bone_names = [m.params[0] for m in msgs if m.address == "/VMC/Ext/Bone/Pos"]
    assert sorted(bone_names) == sorted(b.name for b in Bone)
    last_val = max(i for i, a in enumerate(addrs) if a == "/VMC/Ext/Blend/Val")
    assert addrs[last_val + 1 :] == ["/VMC/Ext/Blend/Apply", "/VMC/Ext/OK", "/VMC/Ext/T"]
    names = {m.params[0] for m in msgs if m.address == "/VMC/Ext/Blend/Val"}
    # VRM 1.0 presets go out under both names, ARKit names as they are.
    assert {"Blink_L", "blinkLeft", "A", "aa", "Joy", "happy", "jawOpen"} <= names
    assert set(ARKIT_NAMES) <= names


def test_bone_positions_are_not_zero():
    msgs = decode_all(encode_frame(AvatarFrame(t=0.0)))
    for m in msgs:
        if m.address == "/VMC/Ext/Bone/Pos" and m.params[0] != "Hips":
            assert np.linalg.norm(m.params[1:4]) > 0.005, m.params[0]


def test_parse_target():
    assert parse_target("127.0.0.1:39540") == ("127.0.0.1", 39540)
    assert parse_target("localhost") == ("localhost", 39539)
    assert parse_target(":9000") == ("127.0.0.1", 9000)
    with pytest.raises(Exception, match="port"):
        parse_target("host:abc")


def recv_socket() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2.0)
    return s


def test_sink_fans_out_over_real_udp():
    a, b = recv_socket(), recv_socket()
    f = sample_frame(full_blend=False)
    with VMCSink([a.getsockname(), b.getsockname()]) as sink:
        sink.send(f)
    expected = encode_frame(f)
    for s in (a, b):
        got = [s.recvfrom(65536)[0] for _ in expected]
        assert got == expected
        s.close()


@pytest.mark.skipif(shutil.which("oscdump") is None, reason="liblo-tools (oscdump) not installed")
def test_oscdump_decodes_the_exact_messages():
    probe = recv_socket()
    port = probe.getsockname()[1]
    probe.close()
    proc = subprocess.Popen(
        ["oscdump", "-L", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        time.sleep(0.5)
        f = sample_frame()
        with VMCSink([("127.0.0.1", port)]) as sink:
            sink.send(f)
        time.sleep(0.5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    lines = [ln.split(" ", 1)[1] for ln in out.splitlines() if ln.strip()]
    expected = decode_all(encode_frame(f))
    assert len(lines) == len(expected)
    for line, m in zip(lines, expected, strict=True):
        parts = line.split()
        assert parts[0] == m.address
        tags = "".join(
            "s" if isinstance(p, str) else "i" if isinstance(p, int) else "f" for p in m.params
        )
        assert (parts[1] if len(parts) > 1 else "") == tags
        for tok, p in zip(parts[2:], m.params, strict=True):
            if isinstance(p, str):
                assert tok == f'"{p}"'
            elif isinstance(p, int):
                assert int(tok) == p
            else:
                assert float(tok) == pytest.approx(p, abs=1e-6)
