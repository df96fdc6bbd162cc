"""The house tooling as tests, so `make test` (and CI) keep the code lint-, format- and type-clean:
ruff (lint + format check) over the project's Python, mypy over the package, vulture (dead code;
pyproject.toml [tool.vulture], scripts/vulture_whitelist.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["vtuber", "tests", "scripts", "benchmarks", "avatars"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff not installed")
def test_ruff_lint_and_format():
    r = _run("ruff", "check", *PATHS)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run("ruff", "format", "--check", *PATHS)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy not installed")
def test_mypy_package():
    r = _run("mypy", "vtuber")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(importlib.util.find_spec("vulture") is None, reason="vulture not installed")
def test_no_dead_code(tmp_path: Path) -> None:
    r = _run("vulture")  # paths, confidence and ignored names from pyproject.toml
    assert r.returncode == 0, r.stdout + r.stderr
    # The check can fail: a function nothing calls, planted beside the project, is reported.
    planted = tmp_path / "planted.py"
    planted.write_text("def never_called():\n    return 1\n")
    r = _run("vulture", *PATHS, str(planted))
    assert r.returncode != 0 and "never_called" in r.stdout, r.stdout + r.stderr


def _private_uses(path: Path) -> list[str]:
    """``from vtuber.x import _name`` and ``m._name`` on an imported vtuber module in one file."""
    import ast

    tree = ast.parse(path.read_text(), str(path))
    modules: set[str] = set()
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "vtuber":
            for a in n.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    out.append(f"{path.name}:{n.lineno} from {n.module} import {a.name}")
                dotted = f"{n.module}.{a.name}".replace(".", "/")
                if (ROOT / f"{dotted}.py").exists() or (ROOT / dotted).is_dir():
                    modules.add(a.asname or a.name)
        elif isinstance(n, ast.Import):
            modules.update(a.asname or a.name for a in n.names if a.name.startswith("vtuber"))
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Attribute)
            and n.attr.startswith("_")
            and not n.attr.startswith("__")
            and ast.unparse(n.value) in modules
        ):
            out.append(f"{path.name}:{n.lineno} {ast.unparse(n)}")
    return out


def test_no_module_uses_another_modules_private_names(tmp_path: Path) -> None:
    found = [u for d in PATHS for p in sorted((ROOT / d).rglob("*.py")) for u in _private_uses(p)]
    assert found == []
    # The scan can fail: both forms are reported.
    bad = tmp_path / "bad.py"
    bad.write_text("from vtuber.quat import _unit_or_nan\nfrom vtuber import quat\nquat._CONJ\n")
    assert len(_private_uses(bad)) == 2


def test_architecture_tree_names_every_module_and_package() -> None:
    """docs/architecture.md's Layout tree shows the package as it is: every top-level module and
    every subpackage of vtuber/ (tracked by git when this is a checkout), and every module of the
    subpackages it lists file by file, is named in it."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    tree = doc.split("## Layout", 1)[1].split("```")[1]
    r = subprocess.run(["git", "ls-files", "vtuber"], cwd=ROOT, capture_output=True, text=True)
    files = r.stdout.split() if r.returncode == 0 and r.stdout else None
    if files is None:  # not a checkout: what is on disk
        files = [str(p.relative_to(ROOT)) for p in (ROOT / "vtuber").rglob("*.py")]
    names = set()
    listed = ("landmarks", "solvers", "smoothing", "sinks", "export")  # module by module
    for f in files:
        parts = Path(f).parts
        if len(parts) == 2 and parts[1].endswith(".py") and parts[1] != "__init__.py":
            names.add(parts[1])
        elif len(parts) > 2:
            names.add(parts[1] + "/")
            if parts[1] in listed and parts[-1].endswith(".py") and parts[-1] != "__init__.py":
                names.add(parts[-1])
    missing = sorted(n for n in names if n not in tree)
    assert missing == [], f"docs/architecture.md Layout does not name {missing}"
    assert "quat.py" in names and "solvers/" in names  # the check sees the package
