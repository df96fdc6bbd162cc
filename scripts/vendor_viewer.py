"""Vendor what the web viewer needs at run time into one folder, for the wheel (build time only).

An installed vtuber has no ``npm install`` to serve the viewer's JavaScript from, and no checkout
to find ``avatars/default.vrm`` in. This script (run by the build hooks in ``setup.py``; standard
library only, so it works inside an isolated build) copies, from a checkout where ``npm install``
has run:

- exactly the JavaScript modules the page loads: the static-import closure of the page's module
  scripts (``vtuber/viewer/index.html``) and of every exact entry of its import map, resolved the
  way the browser resolves them (import map, then relative URLs). The files keep their URL paths
  (``node_modules/three/build/three.module.js`` ...), so the page is the same in a checkout and in
  a wheel;
- each vendored package's ``package.json`` and licence files, and the licence files of the npm
  packages bundled inside it (its ``dependencies``, recursively: three-vrm's module bundles
  @pixiv/three-vrm-core, -springbone, -materials-mtoon, ...);
- ``avatars/default.vrm`` as ``default.vrm``;
- ``bundle.json``: what was vendored (package versions and licences, every file's size and
  sha256).

``vtuber/web.py`` looks in the packaged folder (``vtuber/assets/``) first and in the checkout's
``node_modules`` otherwise. Usage (to inspect a bundle): ``python scripts/vendor_viewer.py OUT``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import posixpath
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_FORMAT = 1
MANIFEST_NAME = "bundle.json"
NODE_PREFIX = "/node_modules/"
LICENCE_NAMES = re.compile(r"^(licen[cs]e|copying|notice)(\.[a-z]+)?$", re.IGNORECASE)

# Static imports and re-exports that start a line: `import x from '...'`, `import {a,\n b} from
# "..."`, `export * from '...'`, `import '...'`. Anchoring at the line start leaves out the
# examples inside doc comments (` * import { X } from 'three/addons/...'`). Dynamic import() is
# not followed (the page and its libraries use none).
_IMPORT_RE = re.compile(
    r"""^[ \t]*(?:import|export)\b[^'";]*?\bfrom[ \t]*(['"])([^'"\n]+)\1"""
    r"""|^[ \t]*import[ \t]*(['"])([^'"\n]+)\3""",
    re.MULTILINE,
)
_IMPORTMAP_RE = re.compile(
    r"""<script\s+type=["']importmap["']\s*>(.*?)</script>""", re.DOTALL | re.IGNORECASE
)
_MODULE_SCRIPT_RE = re.compile(
    r"""<script\s+type=["']module["']\s+src=["']([^"']+)["']""", re.IGNORECASE
)


class VendorError(Exception):
    """The page cannot be vendored (a module missing, an import that cannot be resolved)."""


def read_page(index_html: Path) -> tuple[dict[str, str], list[str]]:
    """The import map's ``imports`` and the module scripts' URLs of the viewer page."""
    html = index_html.read_text(encoding="utf-8")
    m = _IMPORTMAP_RE.search(html)
    imports = json.loads(m.group(1))["imports"] if m else {}
    return dict(imports), _MODULE_SCRIPT_RE.findall(html)


def static_imports(source: str) -> list[str]:
    """The specifiers of the static imports / re-exports in a module's text."""
    return [a or b for _, a, _, b in _IMPORT_RE.findall(source)]


def resolve(specifier: str, referrer: str, imports: dict[str, str]) -> str:
    """A module specifier as a URL path on the viewer's server (import map, then relative)."""
    if specifier in imports:
        return imports[specifier]
    prefixes = [k for k in imports if k.endswith("/") and specifier.startswith(k)]
    if prefixes:
        key = max(prefixes, key=len)
        return imports[key] + specifier[len(key) :]
    if specifier.startswith("/"):
        return posixpath.normpath(specifier)
    if specifier.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(referrer), specifier))
    raise VendorError(
        f"{referrer} imports {specifier!r}, which neither the import map nor a relative URL "
        "resolves (the viewer loads nothing from the Internet)"
    )


def url_to_file(url: str, viewer_dir: Path, node_modules: Path) -> Path:
    """The file the viewer's server answers ``url`` with (same layout as vtuber/web.py)."""
    if url.startswith(NODE_PREFIX):
        return node_modules / url[len(NODE_PREFIX) :]
    return viewer_dir / url.lstrip("/")


def module_closure(viewer_dir: Path, node_modules: Path) -> list[str]:
    """URL paths of every module the page can load, sorted: the static-import closure of its
    module scripts and of the import map's exact entries."""
    imports, scripts = read_page(viewer_dir / "index.html")
    todo = list(scripts) + [v for k, v in imports.items() if not k.endswith("/")]
    seen: set[str] = set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        path = url_to_file(url, viewer_dir, node_modules)
        if not path.is_file():
            raise VendorError(f"the viewer needs {url}, but {path} does not exist (npm install?)")
        seen.add(url)
        text = path.read_text(encoding="utf-8")
        todo.extend(resolve(s, url, imports) for s in static_imports(text))
    return sorted(seen)


def package_of(url: str) -> str:
    """``/node_modules/@pixiv/three-vrm/lib/x.js`` -> ``@pixiv/three-vrm``."""
    parts = url[len(NODE_PREFIX) :].split("/")
    return "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]


def licence_files(pkg_dir: Path) -> list[Path]:
    return sorted(p for p in pkg_dir.iterdir() if p.is_file() and LICENCE_NAMES.match(p.name))


def bundled_packages(name: str, node_modules: Path) -> list[str]:
    """``name``'s npm ``dependencies``, recursively (the code a prebuilt module carries inside)."""
    out: list[str] = []
    todo = [name]
    while todo:
        meta = json.loads((node_modules / todo.pop() / "package.json").read_text(encoding="utf-8"))
        for dep in meta.get("dependencies", {}):
            if dep not in out and (node_modules / dep / "package.json").is_file():
                out.append(dep)
                todo.append(dep)
    return sorted(out)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy(src: Path, out: Path, rel: str, files: dict[str, dict[str, object]]) -> None:
    dest = out / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    files[rel] = {"size": src.stat().st_size, "sha256": _sha256(src)}


def vendor(root: Path, out: Path) -> dict[str, object]:
    """Fill ``out`` (emptied first) from the checkout ``root``; returns the manifest written to
    ``out/bundle.json``."""
    viewer_dir = root / "vtuber" / "viewer"
    node_modules = root / "node_modules"
    avatar = root / "avatars" / "default.vrm"
    if not (node_modules / "three" / "package.json").is_file():
        raise VendorError(f"{node_modules} has no three/: run `npm install` in {root} first")
    if not avatar.is_file():
        raise VendorError(f"{avatar} is missing (python avatars/make_default_avatar.py)")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files: dict[str, dict[str, object]] = {}
    packages: dict[str, dict[str, object]] = {}
    modules = [u for u in module_closure(viewer_dir, node_modules) if u.startswith(NODE_PREFIX)]
    served = sorted({package_of(u) for u in modules})
    for url in modules:
        _copy(url_to_file(url, viewer_dir, node_modules), out, url.lstrip("/"), files)
    for name in served:
        extra = [d for d in bundled_packages(name, node_modules) if d not in served]
        for pkg in [name, *extra]:
            if pkg in packages:
                continue
            pkg_dir = node_modules / pkg
            meta = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
            lic = licence_files(pkg_dir)
            if not lic:
                raise VendorError(f"npm package {pkg} has no licence file to ship with it")
            for p in [pkg_dir / "package.json", *lic]:
                _copy(p, out, f"node_modules/{pkg}/{p.name}", files)
            packages[pkg] = {
                "version": meta.get("version"),
                "license": meta.get("license"),
                "served": pkg in served,
                "licence_files": [f"node_modules/{pkg}/{p.name}" for p in lic],
            }
    _copy(avatar, out, "default.vrm", files)
    manifest: dict[str, object] = {
        "format": BUNDLE_FORMAT,
        "generated_by": "scripts/vendor_viewer.py",
        "packages": packages,
        "modules": modules,
        "files": files,
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("out", type=Path, help="folder to fill (emptied first)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    args = ap.parse_args(argv)
    try:
        m = vendor(args.root, args.out)
    except VendorError as e:
        print(f"vendor_viewer: {e}", file=sys.stderr)
        return 2
    files = m["files"]
    assert isinstance(files, dict)
    total = sum(int(f["size"]) for f in files.values())
    print(f"{len(files)} files, {total / 1e6:.2f} MB -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
