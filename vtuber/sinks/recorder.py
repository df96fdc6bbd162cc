"""Recorder sink: appends every frame to a ``.vtrec`` recording (docs/recording.md)."""

from __future__ import annotations

from pathlib import Path

from vtuber.recording import RecordingWriter
from vtuber.rig import AvatarFrame
from vtuber.sinks.base import SinkBase


class RecorderSink(SinkBase):
    """Writes frames as they are sent; crash-safe (each frame is one write, fsync twice a second).

    Args:
        path: the recording file (created or replaced).
        landmarks: also store each frame's raw landmarks (``frame.landmarks``) for re-solving.
        source, fps, mode, mirror: header information.
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
    ) -> None:
        self.writer = RecordingWriter(
            path, source=source, fps=fps, mode=mode, mirror=mirror, landmarks=landmarks
        )

    @property
    def frames(self) -> int:
        return self.writer.frames

    def open(self) -> None:
        self.writer.open()

    def send(self, frame: AvatarFrame) -> None:
        self.writer.write_frame(frame)

    def close(self) -> None:
        self.writer.close()
