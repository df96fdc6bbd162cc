"""Write the Unity ``.meta`` files of the ``unity_bridge/`` package (and check them).

Unity ignores every asset without a ``.meta`` file in a package it treats as immutable — one added
by git URL or from a tarball ("has no meta file, but it's in an immutable folder. The asset will be
ignored"); only a package added from disk gets them generated. So the package carries its own:
one per file and folder, except inside folders whose name ends in ``~`` (``Samples~``: Unity does
not import those; a sample gets its .meta files when it is copied into ``Assets/``) and hidden ones.

GUIDs are derived from the package name and the file's path (md5, 32 hex digits), so running this
again changes nothing, and a renamed file gets a new GUID like a new asset would.

Usage: ``python scripts/unity_meta.py`` writes the missing ones (and removes those whose asset is
gone); ``--check`` only reports them (exit 1), which ``tests/test_unity_package.py`` runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "unity_bridge"

_COMMON = "  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
_IMPORTERS = {
    ".cs": "MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n"
    "  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n"
    "  userData: \n  assetBundleName: \n  assetBundleVariant: \n",
    ".asmdef": "AssemblyDefinitionImporter:\n" + _COMMON,
    ".json": "TextScriptImporter:\n" + _COMMON,
    ".md": "TextScriptImporter:\n" + _COMMON,
    ".txt": "TextScriptImporter:\n" + _COMMON,
}


def assets(package: Path) -> list[Path]:
    """Files and folders of the package that Unity imports (and so need a .meta), sorted."""
    out = []
    for p in sorted(package.rglob("*")):
        rel = p.relative_to(package).parts
        if any(part.endswith("~") or part.startswith(".") for part in rel):
            continue
        if p.suffix == ".meta":
            continue
        out.append(p)
    return out


def guid_for(package: Path, asset: Path) -> str:
    name = json.loads((package / "package.json").read_text(encoding="utf-8"))["name"]
    rel = asset.relative_to(package).as_posix()
    return hashlib.md5(f"{name}/{rel}".encode()).hexdigest()  # noqa: S324 (an id, not security)


def meta_text(package: Path, asset: Path) -> str:
    head = f"fileFormatVersion: 2\nguid: {guid_for(package, asset)}\n"
    if asset.is_dir():
        return head + "folderAsset: yes\nDefaultImporter:\n" + _COMMON
    return head + _IMPORTERS.get(asset.suffix.lower(), "DefaultImporter:\n" + _COMMON)


def meta_of(asset: Path) -> Path:
    return asset.with_name(asset.name + ".meta")


def problems(package: Path) -> tuple[list[Path], list[Path]]:
    """(assets without a .meta, .meta files without their asset)."""
    missing = [a for a in assets(package) if not meta_of(a).is_file()]
    orphans = [
        m
        for m in sorted(package.rglob("*.meta"))
        if not m.with_name(m.name[: -len(".meta")]).exists()
    ]
    return missing, orphans


def write(package: Path) -> tuple[int, int]:
    """Write the missing .meta files, remove the orphans; (written, removed)."""
    missing, orphans = problems(package)
    for a in missing:
        meta_of(a).write_text(meta_text(package, a), encoding="utf-8")
    for m in orphans:
        m.unlink()
    return len(missing), len(orphans)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write or check unity_bridge's .meta files.")
    ap.add_argument("--check", action="store_true", help="only report; exit 1 if any is off")
    ap.add_argument("--package", type=Path, default=PACKAGE)
    args = ap.parse_args(argv)
    if args.check:
        missing, orphans = problems(args.package)
        for a in missing:
            print(f"no .meta: {a.relative_to(args.package)}")
        for m in orphans:
            print(f"orphan .meta: {m.relative_to(args.package)}")
        return 1 if missing or orphans else 0
    written, removed = write(args.package)
    print(f"{written} .meta files written, {removed} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
