"""The Unity package (unity_bridge/) installs in each documented way: its .meta files are complete
(without them Unity ignores every asset of a package added by git URL or tarball), ``npm pack``
makes the tarball Unity's *Add package from tarball* takes, and the docs give working forms (no
placeholder)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from scripts import unity_meta

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "unity_bridge"


def test_every_asset_has_its_meta_file() -> None:
    missing, orphans = unity_meta.problems(PACKAGE)
    hint = "run `python scripts/unity_meta.py` to write them"
    assert missing == [], f"no .meta for {[str(p) for p in missing]}: {hint}"
    assert orphans == [], f"orphan .meta files {[str(p) for p in orphans]}: {hint}"
    guids = []
    for asset in unity_meta.assets(PACKAGE):
        text = unity_meta.meta_of(asset).read_text(encoding="utf-8")
        m = re.search(r"^guid: ([0-9a-f]{32})$", text, re.MULTILINE)
        assert m and text.startswith("fileFormatVersion: 2\n"), asset
        guids.append(m.group(1))
        assert ("folderAsset: yes" in text) == asset.is_dir(), asset
        if asset.suffix == ".cs":
            assert "MonoImporter:" in text
        if asset.suffix == ".asmdef":
            assert "AssemblyDefinitionImporter:" in text
    assert len(set(guids)) == len(guids) > 20
    # nothing in Samples~ (Unity does not import it; samples get .meta files when copied)
    assert not list((PACKAGE / "Samples~").rglob("*.meta"))


def test_meta_writer_is_deterministic_and_tidy(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(PACKAGE, pkg)
    (pkg / "Runtime" / "VmcReceiver.cs.meta").unlink()
    (pkg / "Runtime" / "Gone.cs.meta").write_text("fileFormatVersion: 2\n")
    assert unity_meta.main(["--check", "--package", str(pkg)]) == 1
    assert unity_meta.write(pkg) == (1, 1)
    for a in unity_meta.assets(pkg):  # same bytes as the committed ones
        committed = unity_meta.meta_of(PACKAGE / a.relative_to(pkg))
        assert unity_meta.meta_of(a).read_text() == committed.read_text(), a
    assert unity_meta.main(["--check", "--package", str(pkg)]) == 0


def test_npm_pack_makes_the_tarball_unity_installs(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (scripts/setup.sh installs it)")
    res = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(tmp_path), "--cache",
         str(tmp_path / "npm-cache"), "--offline"],
        cwd=PACKAGE, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    name = json.loads(res.stdout)[0]["filename"]
    meta = json.loads((PACKAGE / "package.json").read_text())
    assert name == f"{meta['name']}-{meta['version']}.tgz"
    with tarfile.open(tmp_path / name) as t:
        names = set(t.getnames())
    assert "package/package.json" in names  # the layout Unity's tarball install expects
    for asset in unity_meta.assets(PACKAGE):
        rel = asset.relative_to(PACKAGE).as_posix()
        if asset.is_file():
            assert f"package/{rel}" in names, rel
        assert f"package/{rel}.meta" in names, rel
    assert "package/Samples~/RecordingPlayerControls/RecordingPlayerControls.cs" in names


def test_docs_give_working_install_forms() -> None:
    for doc in ("README.md", "docs/unity.md", "unity_bridge/README.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert "<owner>" not in text, doc
        assert "?path=unity_bridge" in text, doc
        assert "npm pack" in text, doc
        assert "unity_bridge/package.json" in text or "package.json" in text, doc
    unity = (ROOT / "docs" / "unity.md").read_text(encoding="utf-8")
    assert '"com.vtuber.bridge": "file:' in unity  # the manifest.json forms
