"""Keep MediaPipe/TFLite start-up chatter (written by native code straight to file descriptor 2)
off the user's terminal, where vtuber's own status line lives."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_native_stderr(enabled: bool = True) -> Iterator[None]:
    """Redirect fd 2 to /dev/null for the duration (graph creation and the first inference,
    where MediaPipe prints its INFO/WARNING lines). Python-level writes are flushed first.
    Set VTUBER_NATIVE_LOGS=1 to see them."""
    if not enabled or os.environ.get("VTUBER_NATIVE_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        _flush_c_stdio()  # native code may buffer its writes: flush them into /dev/null
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C runtime symbols (non-POSIX): nothing to flush
        pass
