"""Audio from files (WAV, FLAC, MP3, and the sound track of MP4/MKV/WebM videos) through PyAV,
FFmpeg's Python binding, resampled to mono 16 kHz float32."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.errors import SourceError

RATE = 16000


@dataclass
class AudioTrack:
    """Mono samples at ``rate``; ``start`` = the media time (s) of the first sample, relative to
    the video stream's start when the file has one (so that frame time t is sample
    ``(t - start) * rate``)."""

    samples: NDArray[np.float32]
    rate: int
    start: float = 0.0

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def has_audio(path: str | Path) -> bool:
    """Whether the file has a decodable sound track (False for unreadable files)."""
    import av

    try:
        with av.open(str(path)) as c:
            return bool(c.streams.audio)
    except (av.error.FFmpegError, OSError):
        return False


def load_audio(path: str | Path, rate: int = RATE) -> AudioTrack:
    """Decode the first sound track of ``path`` at ``rate`` Hz (0: the file's own rate);
    SourceError if missing, unreadable or empty."""
    import av

    p = Path(path)
    if not p.is_file():
        raise SourceError(f"audio file not found: {p}")
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, OSError) as e:
        raise SourceError(f"cannot open {p} as audio or video ({e})") from e
    with container:
        if not container.streams.audio:
            raise SourceError(f"{p} has no sound track")
        stream = container.streams.audio[0]
        start = 0.0
        if stream.start_time is not None and stream.time_base is not None:
            start = float(stream.start_time * stream.time_base)
        if container.streams.video:
            v = container.streams.video[0]
            if v.start_time is not None and v.time_base is not None:
                start -= float(v.start_time * v.time_base)
        rate = rate or int(stream.rate)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[NDArray[np.float32]] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(np.asarray(out.to_ndarray(), np.float32).reshape(-1))
            for out in resampler.resample(None):
                chunks.append(np.asarray(out.to_ndarray(), np.float32).reshape(-1))
        except av.error.FFmpegError as e:
            if not chunks:
                raise SourceError(f"cannot decode the sound track of {p} ({e})") from e
            # A damaged tail: keep what decoded (the frames before it still play).
    if not chunks:
        raise SourceError(f"{p}: the sound track is empty")
    return AudioTrack(np.concatenate(chunks).astype(np.float32), rate, start)
