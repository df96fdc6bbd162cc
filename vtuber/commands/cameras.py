"""``vtuber cameras``: list the cameras on this machine with the sizes and frame rates each offers
(for ``track --source`` and ``--camera-size`` / ``--camera-fps``)."""

from __future__ import annotations

import argparse
import json

from vtuber.devices import Camera, Mode, list_cameras, where_looked


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "cameras",
        help="list cameras, with the sizes and frame rates each offers",
        description="List the cameras on this machine: index, name and the modes (size @ frame "
        "rates, per pixel format) each offers. Pass the index or a part of the name to "
        "`vtuber track --source`, and a mode to --camera-size / --camera-fps.",
    )
    p.add_argument("--json", action="store_true", help="print the list as JSON (for scripts)")
    return p


def mode_lines(modes: tuple[Mode, ...]) -> list[str]:
    """One line per pixel format: its sizes, largest first, with their rates."""
    by_format: dict[str, list[Mode]] = {}
    for m in modes:
        by_format.setdefault(m.pixel_format, []).append(m)
    lines = []
    for fmt, ms in by_format.items():
        ms = sorted(ms, key=lambda m: (m.width * m.height, m.width), reverse=True)
        lines.append(f"{fmt or 'mode'}: " + "; ".join(m.text() for m in ms))
    return lines


def camera_text(c: Camera) -> str:
    head = f"{c.index:3d}  {c.name}" + (f"  ({c.path})" if c.path else "")
    body = [f"       {line}" for line in mode_lines(c.modes)]
    if c.note:
        body.append(f"       {c.note}")
    elif not c.modes:
        body.append("       (the driver lists no modes)")
    return "\n".join([head, *body])


def run(args: argparse.Namespace) -> int:
    cameras = list_cameras()
    if args.json:
        print(json.dumps([c.to_json() for c in cameras], indent=1))
        return 0
    if not cameras:
        print(f"no cameras found (looked in {where_looked()}); connect one, or use --source FILE")
        return 0
    for c in cameras:
        print(camera_text(c))
    return 0
