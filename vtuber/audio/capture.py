"""Microphones through PortAudio (the sounddevice binding), and the seam tests use instead.

:func:`open_input` returns an input stream with sounddevice's callback interface: the
``callback(indata, frames, time, status)`` gets ``indata`` as a (frames, 1) float32 array of
16 kHz mono samples, 10 ms at a time. The seam: :class:`FileInputStream` has the same interface
(``start``/``stop``/``close``, context manager, the same callback) but reads its samples from an
array or an audio file and delivers them on a thread at the real rate, as a microphone would. It
is used when ``--audio`` names a file, and by the tests and benchmarks (there is no microphone on
CI machines); a real PortAudio stream is opened and closed in the tests wherever PortAudio lists an
input device.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from vtuber.errors import SourceError

RATE = 16000
BLOCK = 160  # 10 ms

Callback = Callable[[NDArray[np.float32], int, Any, Any], None]


class InputStream(Protocol):
    """What vtuber needs from an input stream (sounddevice.InputStream has it)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AudioInput:
    """One input device as PortAudio lists it."""

    index: int
    name: str
    host_api: str
    channels: int
    default_rate: float
    is_default: bool


def _sounddevice():  # type: ignore[no-untyped-def]
    try:
        import sounddevice
    except OSError as e:  # the PortAudio library itself is missing
        raise SourceError(
            f"PortAudio is not installed ({e}); Debian: apt-get install libportaudio2"
        ) from e
    return sounddevice


def list_inputs() -> list[AudioInput]:
    """The audio inputs PortAudio can open (empty when there are none)."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except sd.PortAudioError as e:
        raise SourceError(f"cannot list audio devices: {e}") from e
    out = []
    for i, d in enumerate(devices):
        if int(d["max_input_channels"]) <= 0:
            continue
        api = apis[int(d["hostapi"])]["name"] if apis else ""
        out.append(
            AudioInput(
                i, str(d["name"]), str(api), int(d["max_input_channels"]),
                float(d["default_samplerate"]), i == default_in,
            )
        )  # fmt: skip
    return out


def resolve_input(spec: str) -> int:
    """A device index from ``--audio``: an index, or (part of) a name, case-insensitive."""
    inputs = list_inputs()
    if not inputs:
        raise SourceError("no audio input found (is a microphone connected?)")
    if spec in ("", "default"):
        for d in inputs:
            if d.is_default:
                return d.index
        return inputs[0].index
    if spec.isdigit():
        i = int(spec)
        if any(d.index == i for d in inputs):
            return i
        raise SourceError(f"no audio input with index {i} (see `vtuber microphones`)")
    matches = [d for d in inputs if spec.lower() in d.name.lower()]
    if not matches:
        raise SourceError(f"no audio input named like {spec!r} (see `vtuber microphones`)")
    exact = [d for d in matches if d.name.lower() == spec.lower()]
    return (exact or matches)[0].index


def open_input(spec: str, callback: Callback, *, realtime: bool = True) -> InputStream:
    """The input stream ``--audio`` asks for, not yet started: an existing audio file plays
    through :class:`FileInputStream` (in real time unless ``realtime=False``); anything else
    names a microphone."""
    p = Path(spec).expanduser()
    if p.is_file():
        return FileInputStream.from_file(p, callback=callback, realtime=realtime)
    sd = _sounddevice()
    index = resolve_input(spec)
    try:
        return sd.InputStream(  # type: ignore[no-any-return]
            device=index, channels=1, samplerate=RATE, blocksize=BLOCK, dtype="float32",
            latency="low", callback=callback,
        )  # fmt: skip
    except (sd.PortAudioError, ValueError) as e:
        raise SourceError(f"cannot open audio input {spec!r}: {e}") from e


class FileInputStream:
    """A stand-in microphone: delivers ``samples`` (16 kHz mono) to ``callback`` in ``blocksize``
    blocks on its own thread, paced by the wall clock (``realtime=False``: as fast as the callback
    takes them). After the last block it stops; ``wait()`` blocks until then."""

    def __init__(
        self,
        samples: NDArray[np.floating],
        rate: int = RATE,
        *,
        blocksize: int = BLOCK,
        callback: Callback,
        realtime: bool = True,
    ) -> None:
        if rate != RATE:
            raise SourceError(f"FileInputStream needs {RATE} Hz samples, not {rate}")
        self.samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.blocksize = blocksize
        self.callback = callback
        self.realtime = realtime
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = False

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> FileInputStream:
        from vtuber.audio.decode import load_audio

        return cls(load_audio(path, RATE).samples, RATE, **kwargs)

    def _run(self) -> None:
        start = time.perf_counter()
        n = self.blocksize
        for k in range(len(self.samples) // n):
            if self._stop.is_set():
                break
            if self.realtime:
                due = start + (k + 1) * n / RATE  # a block is ready once its last sample is in
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            block = self.samples[k * n : (k + 1) * n].reshape(-1, 1)
            self.callback(block, n, None, None)
        self.active = False
        self._done.set()

    def start(self) -> None:
        if self._thread is None:
            self.active = True
            self._thread = threading.Thread(target=self._run, name="audio-file", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.active = False

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> FileInputStream:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
