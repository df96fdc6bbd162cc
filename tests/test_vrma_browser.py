"""VRMA export played by @pixiv/three-vrm-animation in a real headless Chromium (Debian's, via
tests/browser/driver.mjs; one browser for the module): a recording with a head that turns, nods
and tilts over time is exported with ``vtuber export --format vrma``; the page
(tests/browser/vrma.html) loads a VRM avatar and the .vrma with GLTFLoader + the @pixiv plugins,
builds the clip with ``createVRMAnimationClip``, samples it with an ``AnimationMixer``
(``setTime`` + ``vrm.update``) and reads the head's normalized local rotation. Converted to
Unity's basis (docs/websocket.md: VRM 1.0 reverses X, VRM 0.x reverses Z) it must equal the
recorded Head rotation within 1° at keyframes, and the slerp of the neighbouring keys between
them. Avatars: vtuber's avatars/default.vrm (VRM 1.0) and the shared VRM 0.x / 1.0 files.
The expression tracks (blink, mouth A/I/U/E/O, emotions) must drive the avatar's expression
weights (recorded value at keys, linear between) and through them its morph targets."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from tests.browser_driver import Browser, require_browser
from vtuber import quat
from vtuber.recording import RecordingWriter, read_recording
from vtuber.rig import AvatarFrame, Bone

ROOT = Path(__file__).resolve().parents[1]
VRM_DIR = ROOT.parent / "shared" / "data" / "vrm"
FPS = 30.0
N_FRAMES = 16
T_START = 100.0  # source time of the first frame; the VRMA starts at 0
# Sample times (s from the first frame): keys, halfway between keys, and off-centre fractions.
KEY_SAMPLES = (0, 5, 11, 15)
BETWEEN_SAMPLES = ((2, 0.5), (7, 0.25), (12, 0.8))


def unity_head(i: int) -> tuple[float, float, float, float]:
    """A head that turns (±40°), nods (±25°) and tilts (±18°) at different rates: every axis
    matters, so a wrong sign or axis in the basis conversion shows."""
    s = i / (N_FRAMES - 1)
    yaw = math.radians(40.0 * math.sin(2 * math.pi * s))
    pitch = math.radians(25.0 * math.sin(2 * math.pi * 1.5 * s + 0.4))
    roll = math.radians(18.0 * math.cos(2 * math.pi * 0.7 * s))
    q = quat.multiply(
        quat.from_axis_angle((0, 1, 0), yaw),
        quat.multiply(
            quat.from_axis_angle((1, 0, 0), pitch), quat.from_axis_angle((0, 0, 1), roll)
        ),
    )
    return tuple(float(v) for v in q)  # type: ignore[return-value]


MOUTH = ("aa", "ih", "ou", "ee", "oh")
EMOTIONS = ("happy", "angry", "sad", "relaxed", "surprised")
CALM = 8  # frames before this one have every emotion at 0 (no mouth/blink overrides)


def expressions(i: int) -> dict[str, float]:
    """Every weight follows its own curve: mouth shapes and blink all along, the emotions only
    from frame CALM on (they override the mouth and blink on VRM avatars), plus an ARKit key."""
    s = i / (N_FRAMES - 1)
    e = {
        "aa": 0.5 * s,
        "ih": 0.8 * (1.0 - s),
        "ou": 0.5 + 0.4 * math.sin(2 * math.pi * s),
        "ee": s * s,
        "oh": 0.9 * abs(math.sin(3.0 * s)),
        "blink": 1.0 - s,
        "blinkLeft": 0.0 if i < CALM else 0.1 * (i - CALM + 1),
        "jawOpen": 0.25,
    }
    for k, (name, c) in enumerate(zip(EMOTIONS, (1.0, 0.8, 0.6, 0.4, 0.9), strict=True)):
        e[name] = 0.0 if i < CALM else min(1.0, c * (i - CALM + 1 + k) / 10)
    return e


def make_recording(path: Path) -> None:
    with RecordingWriter(path, source="test", fps=FPS, mode="full") as w:
        for i in range(N_FRAMES):
            s = i / (N_FRAMES - 1)
            neck = quat.from_axis_angle((1, 0, 0), math.radians(10 * s))  # head is LOCAL to this
            root = quat.from_axis_angle((0, 1, 0), math.radians(20 * s))  # and to the root/hips
            w.write_frame(
                AvatarFrame(
                    t=T_START + i / FPS,
                    index=i,
                    bones={Bone.Head: unity_head(i), Bone.Neck: tuple(float(v) for v in neck)},  # type: ignore[dict-item]
                    root_rotation=tuple(float(v) for v in root),  # type: ignore[arg-type]
                    blendshapes=expressions(i),
                )
            )


def to_unity(q: list[float], meta_version: str) -> np.ndarray:
    """three-vrm normalized local rotation -> Unity basis (docs/websocket.md, inverted)."""
    x, y, z, w = q
    if meta_version == "0":
        return np.array([-x, -y, z, w])  # VRM 0.x: Z reversed
    return np.array([x, -y, -z, w])  # VRM 1.0: X reversed


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    d = abs(float(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b))))
    return float(np.degrees(2 * np.arccos(min(1.0, d))))


class _Handler(SimpleHTTPRequestHandler):
    """Serves the repository root, plus /files/<name> from the test's folder."""

    files: Path

    def translate_path(self, path: str) -> str:
        p = path.split("?", 1)[0]
        if p.startswith("/files/"):
            return str(self.files / Path(p).name)
        return super().translate_path(path)

    def log_message(self, *args: object) -> None:
        pass


_Handler.extensions_map = {
    **SimpleHTTPRequestHandler.extensions_map,
    ".js": "text/javascript",
    ".vrm": "model/gltf-binary",
    ".vrma": "model/gltf-binary",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[AvatarFrame]]:
    d = tmp_path_factory.mktemp("vrma")
    rec = d / "head.vtrec"
    make_recording(rec)
    out = d / "head.vrma"
    r = subprocess.run(
        [sys.executable, "-m", "vtuber", "export", str(rec), "--format", "vrma", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:4] == b"glTF"
    for f in (ROOT / "avatars" / "default.vrm", *sorted(VRM_DIR.glob("*.vrm"))):
        shutil.copy(f, d / f.name)
    return out, read_recording(rec).frames


@pytest.fixture(scope="module")
def page(exported: tuple[Path, list[AvatarFrame]]) -> Iterator[tuple[Browser, str]]:
    require_browser(("playwright-core", "three", "@pixiv/three-vrm", "@pixiv/three-vrm-animation"))
    handler = type("H", (_Handler,), {"files": exported[0].parent})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    b = Browser()
    try:
        b("goto", url=f"{base}/tests/browser/vrma.html")
        b("wait", js="return window.vrmaReady === true;", timeout=30000)
        yield b, base
    finally:
        b.close()
        server.shutdown()
        server.server_close()


AVATARS = [
    pytest.param("default.vrm", "1", id="default-vrm1"),
    pytest.param("debug_robot_vrm1.vrm", "1", id="shared-robot-vrm1"),
    pytest.param("sphere_vrm0.vrm", "0", id="shared-sphere-vrm0"),
    pytest.param("triangle_vrm0.vrm", "0", id="shared-triangle-vrm0"),
]


@pytest.mark.parametrize(("avatar", "meta"), AVATARS)
def test_vrma_clip_gives_the_recorded_head_rotation(
    page: tuple[Browser, str], exported: tuple[Path, list[AvatarFrame]], avatar: str, meta: str
) -> None:
    browser, base = page
    vrma, frames = exported
    if not (vrma.parent / avatar).is_file():
        pytest.skip(f"shared avatar not present: {VRM_DIR / avatar}")
    t = [f.t - frames[0].t for f in frames]
    times = [t[i] for i in KEY_SAMPLES] + [t[i] + a * (t[i + 1] - t[i]) for i, a in BETWEEN_SAMPLES]
    res = browser(
        "eval",
        js=f"return await window.vrmaSample('/files/{avatar}', '/files/{vrma.name}', "
        f"['head', 'neck', 'hips'], {json.dumps(times)});",
    )
    assert browser("drain")["errors"] == []  # type: ignore[index]
    assert res["metaVersion"] == meta  # type: ignore[index]
    assert res["duration"] == pytest.approx(t[-1], abs=1e-4)  # type: ignore[index]
    got = [to_unity(q, meta) for q in res["samples"]["head"]]  # type: ignore[index]

    rec = [np.array(f.bone(Bone.Head)) for f in frames]
    want = [rec[i] for i in KEY_SAMPLES]
    for i, a in BETWEEN_SAMPLES:
        pair = Rotation.from_quat(np.stack([rec[i], rec[i + 1]]))
        want.append(Slerp([0.0, 1.0], pair)(a).as_quat())
    errors = [angle_deg(g, w) for g, w in zip(got, want, strict=True)]
    print(f"{avatar} (VRM {meta}): head error max {max(errors):.2e}° over {len(errors)} samples")
    assert max(errors) < 1.0, errors
    # The samples are far from each other and from the rest pose, so the 1° check has teeth.
    assert max(angle_deg(g, np.array([0.0, 0.0, 0.0, 1.0])) for g in got) > 30.0
    # A sample between keys is not just the nearer key.
    k = len(KEY_SAMPLES)
    assert angle_deg(got[k], rec[BETWEEN_SAMPLES[0][0]]) > 3.0
    # The VRM 0.x and 1.0 conversions differ on these samples (nods and tilts, not only yaw).
    raw = res["samples"]["head"]  # type: ignore[index]
    assert max(angle_deg(to_unity(q, "0"), to_unity(q, "1")) for q in raw) > 20.0
    # Neck at the keys; hips = the avatar root's rotation times the Hips bone.
    for b, want_b in (
        ("neck", [np.array(frames[i].bone(Bone.Neck)) for i in KEY_SAMPLES]),
        ("hips", [quat.multiply(frames[i].root_rotation, frames[i].bone(Bone.Hips))
                  for i in KEY_SAMPLES]),
    ):  # fmt: skip
        got_b = [to_unity(q, meta) for q in res["samples"][b][: len(KEY_SAMPLES)]]  # type: ignore[index]
        assert max(angle_deg(g, w) for g, w in zip(got_b, want_b, strict=True)) < 1.0, b


EXPR_AVATARS = [
    pytest.param("default.vrm", id="default-vrm1"),
    pytest.param("expressions_vrm1.vrm", id="shared-expressions-vrm1"),
]


@pytest.mark.parametrize("avatar", EXPR_AVATARS)
def test_vrma_expression_tracks_move_the_avatars_expressions(
    page: tuple[Browser, str], exported: tuple[Path, list[AvatarFrame]], avatar: str
) -> None:
    """The VRMA's expression tracks (blink, mouth A/I/U/E/O, emotions) load in
    three-vrm-animation and drive the avatar's expression weights, and through them its morph
    targets: at keyframes the recorded weight, between keys the linear blend."""
    browser, base = page
    vrma, frames = exported
    if not (vrma.parent / avatar).is_file():
        pytest.skip(f"shared avatar not present: {VRM_DIR / avatar}")
    names = [*MOUTH, "blink", "blinkLeft", *EMOTIONS]
    t = [f.t - frames[0].t for f in frames]
    samples = [(i, 0.0) for i in KEY_SAMPLES] + list(BETWEEN_SAMPLES)
    times = [t[i] + a * (t[i + 1] - t[i]) if a else t[i] for i, a in samples]
    res = browser(
        "eval",
        js=f"return await window.vrmaExpressions('/files/{avatar}', '/files/{vrma.name}', "
        f"{json.dumps(names)}, {json.dumps(times)});",
    )
    assert browser("drain")["errors"] == []  # type: ignore[index]
    values, morphs = res["values"], res["morphs"]  # type: ignore[index]

    def want(name: str, i: int, a: float) -> float:
        w0 = frames[i].blendshapes[name]
        return w0 if not a else w0 + a * (frames[i + 1].blendshapes[name] - w0)

    present = [n for n in names if values[n][0] is not None]
    if avatar == "default.vrm":  # vtuber's avatar has every VRM 1.0 preset
        assert present == names
        assert res["tracks"] == len(names)  # type: ignore[index]
    else:  # the shared avatar has only happy and blink: the other tracks are dropped
        assert present == ["blink", "happy"]
    for n in present:
        got = values[n]
        exp = [want(n, i, a) for i, a in samples]
        assert got == pytest.approx(exp, abs=1e-5), n
        assert max(exp) - min(exp) > 0.2, n  # the weights really move
    # The weights move the meshes: a morph target's influence is the sum of weight x bind weight
    # over the expressions bound to it (blink and blinkLeft share one). Mouth and blink are
    # overridden by emotions on this avatar, so targets they drive are checked only while every
    # emotion is 0; targets only emotions drive, always.
    n_checked = 0
    for k, (i, a) in enumerate(samples):
        calm = i + a < CALM - 1
        expect: dict[str, float] = {}
        got_m: dict[str, float] = {}
        owners: dict[str, set[str]] = {}
        for n in present:
            for key, infl, bw in morphs[n][k]:
                expect[key] = expect.get(key, 0.0) + want(n, i, a) * bw
                got_m[key] = infl
                owners.setdefault(key, set()).add(n)
        for key, value in expect.items():
            if calm or owners[key] <= set(EMOTIONS):
                assert got_m[key] == pytest.approx(value, abs=1e-5), (owners[key], k)
                n_checked += 1
    print(f"{avatar}: {len(present)} expression tracks, {n_checked} morph influences checked")
    if avatar == "default.vrm":
        assert n_checked >= 40
        # and the influences differ between samples: the face really changes over the clip
        first = {key: infl for n in present for key, infl, _ in morphs[n][0]}
        last = {key: infl for n in present for key, infl, _ in morphs[n][len(KEY_SAMPLES) - 1]}
        assert max(abs(first[key] - last[key]) for key in first) > 0.5
