"""Recorder sink: appends every frame to a ``.vtrec`` recording (docs/recording.md).

A write error (full disk, I/O error) never stops the tracker: the recording stops with one error
line, :attr:`RecorderSink.status_mark` shows it on the status line, the other sinks (VMC, viewer)
keep streaming, and the file keeps every frame written before the error (docs/reliability.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

from vtuber.errors import OutputError
from vtuber.recording import RecordingWriter
from vtuber.rig import AvatarFrame
from vtuber.sinks.base import SinkBase

log = logging.getLogger(__name__)


class RecorderSink(SinkBase):
    """Writes frames as they are sent; crash-safe (each frame is one write, fsync twice a second).

    Args:
        path: the recording file. Written under a temporary name and renamed into place once the
            first frame is on disk; a run that ends before its first frame leaves no file.
        landmarks: also store each frame's raw landmarks (``frame.landmarks``) for re-solving.
        source, fps, mode, mirror: header information.
        overwrite: replace an existing ``path`` (else :meth:`open` refuses with ConfigError).
        inputs: the run's input files; recording onto one is refused.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        landmarks: bool = False,
        source: str = "",
        fps: float = 30.0,
        mode: str = "face",
        mirror: bool = True,
        overwrite: bool = False,
        inputs: tuple[str | Path | None, ...] = (),
    ) -> None:
        self.writer = RecordingWriter(
            path,
            source=source,
            fps=fps,
            mode=mode,
            mirror=mirror,
            landmarks=landmarks,
            overwrite=overwrite,
            keep_empty=False,
            inputs=inputs,
        )
        self.error: OutputError | None = None
        self.status_mark = ""

    @property
    def frames(self) -> int:
        return self.writer.frames

    @property
    def path(self) -> Path:
        return self.writer.path

    def open(self) -> None:
        self.writer.open()

    def send(self, frame: AvatarFrame) -> None:
        if self.error is not None:
            return
        try:
            first = not self.writer.committed
            self.writer.write_frame(frame)
            if first and self.writer.conflict is not None:
                log.warning("%s; recording goes on there", self.writer.conflict)
        except OutputError as e:
            self.error = e
            self.status_mark = "REC STOPPED"
            n = self.writer.frames
            where = self.writer.where
            kept = (
                f"{where} keeps the {n} frame{'' if n == 1 else 's'} written before it"
                if n
                else "nothing was recorded"
            )
            log.error("recording stopped: %s; %s; tracking goes on", e, kept)

    def close(self) -> None:
        self.writer.close()
