"""``vtuber microphones``: list the audio inputs PortAudio can open (for ``track --audio``)."""

from __future__ import annotations

import argparse

from vtuber.audio.capture import list_inputs


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser(
        "microphones",
        help="list audio inputs for `track --audio` (lip sync)",
        description="List the audio inputs (microphones) PortAudio sees: index, name, host API, "
        "channels and default sample rate; * marks the system default. Pass the index or a part "
        "of the name to `vtuber track --audio`.",
    )


def run(args: argparse.Namespace) -> int:
    inputs = list_inputs()
    if not inputs:
        print("no audio inputs found (connect a microphone; on Linux check ALSA/PulseAudio)")
        return 0
    for d in inputs:
        mark = "*" if d.is_default else " "
        print(
            f"{mark}{d.index:3d}  {d.name}  ({d.host_api}, {d.channels} ch, "
            f"{d.default_rate:.0f} Hz)"
        )
    return 0
