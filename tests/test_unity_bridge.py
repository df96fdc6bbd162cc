"""The Unity bridge (unity_bridge/): its Unity-free C# core is compiled with mcs and its tests run
under mono (tests/csharp/CoreTests.cs, against the golden fixtures both languages share); the
Unity-facing scripts are compiled against tests/csharp/stubs (UnityEngine/UniVRM stubs, not Unity).
Skips with a visible reason when mcs/mono are absent (scripts/setup.sh installs mono-mcs and
mono-devel)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "unity_bridge"
CS = ROOT / "tests" / "csharp"
FIXTURES = ROOT / "tests" / "fixtures"

MCS = shutil.which("mcs")
MONO = shutil.which("mono")
needs_mono = pytest.mark.skipif(
    MCS is None or MONO is None, reason="mcs/mono not installed (apt: mono-mcs mono-devel)"
)


def mcs(
    out: Path, sources: list[Path], refs: list[Path] | None = None, library: bool = True
) -> None:
    args = [str(MCS), "-nologo", "-warnaserror+", f"-out:{out}"]
    if library:
        args.append("-target:library")
    args += [f"-r:{r}" for r in refs or []] + ["-r:System.Net"] + [str(s) for s in sources]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"mcs failed for {out.name}:\n{r.stdout}\n{r.stderr}"


def cs_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.cs"))
    assert files, f"no C# files in {folder}"
    return files


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if MCS is None or MONO is None:
        pytest.skip("mcs/mono not installed (apt: mono-mcs mono-devel)")
    out = tmp_path_factory.mktemp("unity_bridge_build")
    mcs(out / "Vtuber.Bridge.Core.dll", cs_files(PKG / "Runtime" / "Core"))
    mcs(
        out / "CoreTests.exe",
        [CS / "CoreTests.cs"],
        [out / "Vtuber.Bridge.Core.dll"],
        library=False,
    )
    return out


def vmc_fixture_module() -> types.ModuleType:
    """tests/fixtures/make_vmc_fixtures.py, imported by path (tests/ is not a package)."""
    import importlib.util

    path = FIXTURES / "make_vmc_fixtures.py"
    spec = importlib.util.spec_from_file_location("make_vmc_fixtures", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_core_tests(build: Path, fixtures: Path) -> dict[str, str]:
    r = subprocess.run(
        [str(MONO), str(build / "CoreTests.exe"), str(fixtures)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=build,
    )
    results = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(PASS|FAIL|SKIP) (\w+)(: .*)?$", line)
        if m:
            results[m.group(2)] = m.group(1) + (m.group(3) or "")
    assert "SUMMARY" in r.stdout, r.stdout + r.stderr
    return results


@needs_mono
def test_core_tests_pass_under_mono(build: Path) -> None:
    results = run_core_tests(build, FIXTURES)
    failed = {k: v for k, v in results.items() if v.startswith("FAIL")}
    assert not failed, failed
    assert len(results) >= 24, results
    # the golden fixtures of both languages were really used (not skipped)
    must_run = [
        "GoldenVmc_python_rest",
        "GoldenVmc_python_face",
        "GoldenVmc_python_full",
        "TestRestPoseMatchesPython",
        "TestFuzzTruncatedAndCorruptDatagrams",
        "TestUdpReceiverSurvivesGarbageAndDeliversNewestPose",
        "TestGoldenRecordingMatchesJson",
        "TestTruncatedGoldenRecordingKeepsFramesBeforeTheBreak",
        "TestGoldenVmcRecordingDatagramsDecode",
        "TestFuzzRecordings",
        "TestPlaybackSeekLoopSpeedAndInterpolation",
    ]
    if (FIXTURES / "vmc" / "oscsend_messages.dgrams").exists():
        must_run.append("GoldenVmc_oscsend")
    if (FIXTURES / "vmc" / "npmosc_bundle.dgrams").exists():
        must_run.append("GoldenVmc_npm_osc")
    for name in must_run:
        assert results.get(name) == "PASS", (name, results.get(name))


@needs_mono
def test_current_python_encoder_decodes_in_csharp(build: Path, tmp_path: Path) -> None:
    """Fresh datagrams from today's vtuber.vmc (not the committed copies) decode in C# to the
    values derived from the same AvatarFrames."""
    vmc_fixture_module().generate(tmp_path / "vmc", independent=False)
    results = run_core_tests(build, tmp_path)
    for name in ("GoldenVmc_python_rest", "GoldenVmc_python_face", "GoldenVmc_python_full"):
        assert results.get(name) == "PASS", (name, results.get(name))


def _decode_with_python_osc(datagrams: list[bytes]) -> dict:
    """Independent Python-side decoding of the fixture datagrams (python-osc)."""
    from pythonosc.osc_packet import OscPacket

    bones, blend, staged, other = {}, {}, {}, set()
    state: dict = {"other": other}
    for d in datagrams:
        for timed in OscPacket(d).messages:
            m = timed.message
            a = list(m.params)
            if m.address == "/VMC/Ext/Bone/Pos":
                bones[a[0]] = [float(x) for x in a[1:8]]
            elif m.address == "/VMC/Ext/Root/Pos":
                state["root"] = [float(x) for x in a[1:8]]
            elif m.address == "/VMC/Ext/Blend/Val":
                staged[a[0]] = float(a[1])
            elif m.address == "/VMC/Ext/Blend/Apply":
                blend.update(staged)
                staged.clear()
            elif m.address == "/VMC/Ext/T":
                state["time"] = float(a[0])
            elif m.address == "/VMC/Ext/OK":
                state["loaded"] = int(a[0])
            else:
                other.add(m.address)
    state.update(bones=bones, blendshapes=blend)
    return state


def _read_dgrams(path: Path) -> list[bytes]:
    data, out, p = path.read_bytes(), [], 0
    while p < len(data):
        n = int.from_bytes(data[p : p + 4], "big")
        out.append(data[p + 4 : p + 4 + n])
        p += 4 + n
    return out


def test_golden_vmc_fixtures_decode_in_python_too() -> None:
    doc = json.loads((FIXTURES / "vmc" / "vmc_fixtures.json").read_text())
    assert {c["name"] for c in doc["cases"]} >= {"python_rest", "python_face", "python_full"}
    for case in doc["cases"]:
        first, count = case["datagrams"]
        dgrams = _read_dgrams(FIXTURES / "vmc" / case["file"])[first : first + count]
        got, exp = _decode_with_python_osc(dgrams), case["expected"]
        assert got["time"] == exp["time"], case["name"]
        assert got["loaded"] == exp["loaded"], case["name"]
        assert got["bones"] == exp["bones"], case["name"]
        assert got["blendshapes"] == exp["blendshapes"], case["name"]
        if exp["root"] is not None:
            assert got["root"] == exp["root"], case["name"]
        assert set(exp["other"]) <= got["other"], case["name"]
    assert any(len(c["expected"]["bones"]) == 55 for c in doc["cases"])


@pytest.mark.skipif(shutil.which("oscsend") is None, reason="liblo's oscsend not installed")
def test_committed_oscsend_fixture_is_what_oscsend_sends() -> None:
    assert vmc_fixture_module().capture_oscsend() == _read_dgrams(
        FIXTURES / "vmc" / "oscsend_messages.dgrams"
    )


@pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "osc").is_dir(),
    reason="node or node_modules/osc absent (npm install)",
)
def test_committed_npm_osc_fixture_is_what_npm_osc_writes() -> None:
    assert vmc_fixture_module().capture_npm_osc() == _read_dgrams(
        FIXTURES / "vmc" / "npmosc_bundle.dgrams"
    )


# --------------------------------------------------------------------- Unity-facing scripts
STUB_ASSEMBLIES = {
    "UnityEngine": [],
    "UnityEditor": ["UnityEngine"],
    "VRM": ["UnityEngine"],
    "VRM10": ["UnityEngine"],
}
# asmdef folder -> (assembly, references): mirrors the .asmdef files (checked below)
UNITY_ASSEMBLIES = [
    ("Runtime", "Vtuber.Bridge", ["UnityEngine", "Vtuber.Bridge.Core"]),
    (
        "Runtime/UniVRM0",
        "Vtuber.Bridge.UniVRM0",
        ["UnityEngine", "Vtuber.Bridge.Core", "Vtuber.Bridge", "VRM"],
    ),
    (
        "Runtime/Vrm10",
        "Vtuber.Bridge.Vrm10",
        ["UnityEngine", "Vtuber.Bridge.Core", "Vtuber.Bridge", "VRM10"],
    ),
    (
        "Editor",
        "Vtuber.Bridge.Editor",
        ["UnityEngine", "UnityEditor", "Vtuber.Bridge.Core", "Vtuber.Bridge"],
    ),
    (
        "Samples~/RecordingPlayerControls",
        "Vtuber.Bridge.Samples",
        ["UnityEngine", "Vtuber.Bridge.Core", "Vtuber.Bridge"],
    ),
]


@needs_mono
def test_unity_facing_scripts_compile_against_stubs(build: Path) -> None:
    for name, refs in STUB_ASSEMBLIES.items():
        mcs(
            build / f"{name}.dll", [CS / "stubs" / f"{name}.cs"], [build / f"{r}.dll" for r in refs]
        )
    for folder, assembly, refs in UNITY_ASSEMBLIES:
        mcs(build / f"{assembly}.dll", cs_files(PKG / folder), [build / f"{r}.dll" for r in refs])
        assert (build / f"{assembly}.dll").stat().st_size > 0


def test_stubs_are_marked_and_declare_only_what_the_scripts_use() -> None:
    sources = "\n".join(
        p.read_text() for p in PKG.rglob("*.cs") if "Core" not in p.relative_to(PKG).parts
    )
    for stub in sorted((CS / "stubs").glob("*.cs")):
        text = stub.read_text()
        assert text.startswith("// UnityEngine/UniVRM STUBS — not Unity."), stub.name
        members = re.findall(
            r"public (?:static |override |virtual |readonly |sealed |abstract )*"
            r"(?:class|struct|enum|[\w.<>\[\], ]+?) (\w+)\s*[({;<=:]",
            text,
        )
        unused = {
            m
            for m in members
            if not m.endswith("Attribute") and not re.search(rf"\b{m}\b", sources)
        }
        # base classes and types that only appear in the signatures of used members
        unused -= {"Object", "ScriptableObject", "Behaviour", "Component", "Vrm10Runtime"}
        unused -= {"Vrm10RuntimeControlRig", "Vrm10RuntimeExpression", "BlendShapeAvatar"}
        unused -= {"BlendShapeClip", "Editor"}
        unused -= {"Equals", "GetHashCode"}  # ExpressionKey is a Dictionary key
        assert not unused, f"{stub.name} declares API the scripts do not touch: {sorted(unused)}"


def test_package_manifest_and_asmdefs() -> None:
    pkg = json.loads((PKG / "package.json").read_text())
    assert re.fullmatch(r"com\.[a-z0-9-]+\.[a-z0-9.-]+", pkg["name"]), pkg["name"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pkg["version"])
    assert pkg["unity"] == "2021.3" and pkg["displayName"] and pkg["description"]
    for s in pkg.get("samples", []):
        assert (PKG / s["path"]).is_dir(), s
    asmdefs = {p: json.loads(p.read_text()) for p in PKG.rglob("*.asmdef")}
    by_name = {a["name"]: (p, a) for p, a in asmdefs.items()}
    assert len(by_name) == len(asmdefs) == 6
    external = {"VRM", "VRM10"}
    for p, a in asmdefs.items():
        for ref in a["references"]:
            assert ref in by_name or ref in external, (p, ref)
        for vd in a.get("versionDefines", []):
            assert vd["define"] in a["defineConstraints"], (p, vd)
    core = by_name["Vtuber.Bridge.Core"][1]
    assert core["noEngineReferences"] is True and core["references"] == []
    assert by_name["Vtuber.Bridge.Editor"][1]["includePlatforms"] == ["Editor"]
    assert by_name["Vtuber.Bridge.UniVRM0"][1]["versionDefines"][0]["name"] == "com.vrmc.univrm"
    assert by_name["Vtuber.Bridge.Vrm10"][1]["versionDefines"][0]["name"] == "com.vrmc.vrm"
    # the compile test above mirrors the asmdef graph
    for folder, assembly, refs in UNITY_ASSEMBLIES:
        path, a = by_name[assembly]
        assert path.parent == PKG / folder
        assert set(a["references"]) == set(refs) - {"UnityEngine", "UnityEditor"}, assembly
    for src in (PKG / "Runtime" / "Core").glob("*.cs"):
        assert not re.search(r"^\s*using Unity", src.read_text(), re.M), src.name


@needs_mono
def test_vtuber_vmc_sink_drives_the_csharp_receiver_over_udp(build: Path) -> None:
    """End to end on loopback: vtuber's VMCSink sends a frame, the C# VmcUdpReceiver thread
    decodes it and hands the pose over; bones and blendshapes arrive as float32 of the frame."""
    import numpy as np

    from vtuber.rig import AvatarFrame, Bone, Tracking
    from vtuber.sinks.vmc import VMCSink

    frame = AvatarFrame(
        t=3.5,
        tracking=Tracking(face=True),
        bones={Bone.Head: (0.0, 0.25881904, 0.0, 0.9659258), Bone.Neck: (0.1, 0.0, 0.0, 0.9949874)},
        blendshapes={"blinkLeft": 0.75, "aa": 0.5, "jawOpen": 0.25},
    )
    proc = subprocess.Popen(
        [str(MONO), str(build / "CoreTests.exe"), "--listen", "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        assert first[0] == "PORT", first
        with VMCSink([("127.0.0.1", int(first[1]))]) as sink:
            while proc.poll() is None:
                sink.send(frame)  # UDP: repeat until the receiver has a complete pose
                try:
                    proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
        out = proc.stdout.read().splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    # C# prints the shortest text that round-trips a float32: compare as float32
    bones = {
        ln.split()[1]: [float(np.float32(x)) for x in ln.split()[2:]]
        for ln in out
        if ln.startswith("BONE")
    }
    blend = {ln.split()[1]: float(ln.split()[2]) for ln in out if ln.startswith("BLEND")}
    assert len(bones) == 55
    for b in Bone:
        assert bones[b.name] == [float(np.float32(x)) for x in frame.bone(b)], b.name
    assert blend == {"Blink_L": 0.75, "blinkLeft": 0.75, "A": 0.5, "aa": 0.5, "jawOpen": 0.25}
    stats = next(ln for ln in out if ln.startswith("STATS"))
    assert "rejected=0" in stats and "errors=0" in stats, stats
