"""``import mediapipe`` without the parts vtuber never uses, for a faster start-up.

``import mediapipe`` runs ``mediapipe.python.solutions.drawing_utils`` (which imports
matplotlib.pyplot: ~0.35 s here), the whole Tasks API (~0.1 s), Objectron (the attrs package)
and the model downloader (urllib, http, ssl, email: ~0.05-0.1 s together), whatever the program
needs.
vtuber draws its preview with OpenCV and uses the Tasks API only for ``--face-model
landmarker``, so those modules are imported lazily (:class:`importlib.util.LazyLoader`): they
exist in ``sys.modules`` and run in full on their first attribute access, so a program that does
use them (``mp.solutions.drawing_utils.draw_landmarks``, ``from mediapipe.tasks.python import
vision``) gets the real modules. Measured in docs/performance.md; tested in
tests/test_speed_mechanisms.py.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

DEFERRED = (
    "mediapipe.python.solutions.drawing_utils",
    "mediapipe.python.solutions.drawing_styles",
    "mediapipe.tasks.python",
    # Objectron (never used: imports the attrs package) and the model downloader (used only
    # for the Pose/Holistic model_complexity 0 and 2 models, which vtuber never runs: imports
    # urllib, http, ssl and email).
    "mediapipe.python.solutions.objectron",
    "mediapipe.python.solutions.download_utils",
)

_lock = threading.Lock()


class _DeferredFinder(importlib.abc.MetaPathFinder):
    """Finds the :data:`DEFERRED` modules with the other finders and wraps their loaders."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in DEFERRED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def import_mediapipe() -> ModuleType:
    """The ``mediapipe`` package, imported with :data:`DEFERRED` loaded lazily (if this is the
    process's first import of mediapipe; otherwise the module as it is)."""
    with _lock:
        if "mediapipe" not in sys.modules:
            finder = _DeferredFinder()
            sys.meta_path.insert(0, finder)
            try:
                import mediapipe  # noqa: F401
            finally:
                sys.meta_path.remove(finder)
        return sys.modules["mediapipe"]


mp = import_mediapipe()
