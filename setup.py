"""Build hooks (everything else is in pyproject.toml): wheels and sdists carry ``vtuber/assets/``,
the viewer's JavaScript with its licences and the default avatar, vendored from the checkout's
``node_modules`` at build time by ``scripts/vendor_viewer.py`` (never committed; docs/viewer.md).

- ``build_py`` (wheel from a checkout): vendor into the build folder; a wheel built from an sdist
  (no node_modules there) ships the sdist's ``vtuber/assets/`` instead.
- ``sdist``: vendor into the release tree, so ``python -m build`` (sdist, then the wheel from it)
  works.
- editable installs (``pip install -e``, the development set-up) vendor nothing: the viewer then
  uses the checkout's node_modules directly.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
ASSETS = ("vtuber", "assets")


def _vendor_viewer() -> ModuleType:
    path = HERE / "scripts" / "vendor_viewer.py"
    spec = importlib.util.spec_from_file_location("vendor_viewer", path)
    assert spec is not None and spec.loader is not None, path
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _vendor(out: Path) -> None:
    vv = _vendor_viewer()
    try:
        vv.vendor(HERE, out)
    except vv.VendorError as e:
        raise SystemExit(f"vtuber build: {e}") from None


def _from_checkout() -> bool:
    """A checkout with `npm install` done (else: an unpacked sdist, which has vtuber/assets/)."""
    return (HERE / "node_modules" / "three" / "package.json").is_file()


def _require_assets(folder: Path) -> None:
    if not (folder / "bundle.json").is_file():
        raise SystemExit(
            "vtuber build: the viewer's JavaScript is neither in node_modules (run `npm install` "
            "first) nor in vtuber/assets/ (an sdist made by `python -m build`)"
        )


class BuildPy(build_py):
    def run(self) -> None:
        super().run()  # an sdist's vtuber/assets/ is package data: copied here
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib).joinpath(*ASSETS)
        if _from_checkout():
            _vendor(target)
        _require_assets(target)


class Sdist(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)  # an sdist's own vtuber/assets/ included
        target = Path(base_dir).joinpath(*ASSETS)
        if _from_checkout():
            _vendor(target)
        _require_assets(target)


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
