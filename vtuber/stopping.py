"""Clean stops on SIGINT (Ctrl-C) and SIGTERM (docs/reliability.md).

Every command's main loop (the tracking pipeline, replay, record-vmc) runs inside
:class:`StopSignals`: the first SIGINT or SIGTERM only sets a flag that the loop checks between
frames, so the frame being written is finished, recordings get their END chunk, sinks close and
the usual summary is printed. A second signal raises KeyboardInterrupt at once (a stuck loop can
still be stopped). Outside those loops, :func:`term_as_interrupt` makes SIGTERM behave like
Ctrl-C (KeyboardInterrupt, so ``with`` blocks close their files) instead of killing the process.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def term_as_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt, like Ctrl-C (main thread only; no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


class StopSignals:
    """While active, SIGINT/SIGTERM set :attr:`signum` instead of interrupting; a second one
    raises KeyboardInterrupt. Usable as a context manager or with :meth:`install` /
    :meth:`restore`. Off the main thread (where Python cannot install handlers) it is inert."""

    def __init__(self) -> None:
        self.signum = 0
        self._old: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signum != 0

    @property
    def name(self) -> str:
        return _NAMES.get(signal.Signals(self.signum), str(self.signum)) if self.signum else ""

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.signum:
            raise KeyboardInterrupt
        self.signum = signum

    def install(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread() and not self._old:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handler)
        return self

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def __enter__(self) -> StopSignals:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.restore()
