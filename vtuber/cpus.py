"""Which CPUs a thread may run on (Linux; elsewhere these do nothing).

A batch run (``vtuber track --fast``) keeps both cores of a small machine busy with MediaPipe's
graph threads and ours (decoding, the pipeline, the sinks). Free to run anywhere, the scheduler
kept putting our work where a graph's threads were about to run: face mode ran 27-30 % slower
than the bare model loop, as fast once the graph's threads had one half of the CPUs and ours
the other (docs/performance.md, "Threads on their own cores"). Threads inherit the CPUs of the
thread that starts them, so a graph built while its creator is pinned keeps its threads there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def cpu_split() -> tuple[set[int], set[int]] | None:
    """Two disjoint halves of the CPUs this process may use (the first for a model's graph
    threads, the second for ours); None where threads cannot be pinned or there is one CPU."""
    get = getattr(os, "sched_getaffinity", None)
    if get is None:
        return None
    cpus = sorted(get(0))
    if len(cpus) < 2:
        return None
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def pin_thread(cpus: set[int] | None) -> None:
    """Keep the calling thread (and the threads it starts from now on) on ``cpus``; None: leave
    it where it is."""
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)  # on Linux, pid 0 is the calling thread
        except OSError:  # a set the system refuses: stay unpinned
            pass


@contextmanager
def pinned(cpus: set[int] | None) -> Iterator[None]:
    """The calling thread on ``cpus`` for the block (what it starts there stays there), then
    back on the CPUs it had."""
    if not cpus or not hasattr(os, "sched_getaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    pin_thread(cpus)
    try:
        yield
    finally:
        pin_thread(before)
