"""Python side of tests/browser/driver.mjs, shared by the browser tests: a headless Chromium
(Debian's, driven by playwright-core; nothing is downloaded) over pipes, and the skip checks for
what it needs (node, the npm packages, Chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "browser" / "driver.mjs"
CHROMIUM = os.environ.get("VTUBER_CHROMIUM", "/usr/bin/chromium")


def require_browser(npm_packages: tuple[str, ...] = ("playwright-core",)) -> None:
    """Skip the calling test (with the reason) unless node, ``npm_packages`` and Chromium exist."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed (scripts/setup.sh installs it)")
    for pkg in npm_packages:
        if not (ROOT / "node_modules" / pkg).is_dir():
            pytest.skip(f"npm package {pkg} missing: run `npm install` (scripts/setup.sh does)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt package chromium)")


class Browser:
    """tests/browser/driver.mjs over pipes: one JSON request and one JSON reply per line.
    ``browser(cmd, **args)`` returns the reply's result, or raises AssertionError on an error."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(DRIVER)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self._id = 0
        first = self.proc.stdout.readline()  # type: ignore[union-attr]
        if not first:
            raise RuntimeError("the browser driver did not start")
        self.version = json.loads(first)["result"]

    def __call__(self, cmd: str, **kw: object) -> object:
        self._id += 1
        kw.update(id=self._id, cmd=cmd)
        self.proc.stdin.write(json.dumps(kw) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        reply = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        if not reply["ok"]:
            raise AssertionError(f"browser {cmd}: {reply['error']}")
        return reply["result"]

    def next_frames(self, frames: int = 2) -> None:
        """Wait until the viewer has rendered ``frames`` more frames (so that vrm.update() has
        run after what was just applied)."""
        self("eval", js="const v = window.vtuberViewer, n = v.state.rendered; "
             f"await new Promise(r => {{ const f = () => v.state.rendered >= n + {frames} "
             "? r() : requestAnimationFrame(f); f(); }); return null;")  # fmt: skip

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
