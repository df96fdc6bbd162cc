"""Two-person test scenes composed from real footage and a rendered head (docs/performers.md).

Person "A" is a pane cut from a real video (the shared thumbs-up clip); person "B" a corpus
identity's photo rendered as a 3D head (:mod:`vtuber.synth.corpus`) turning with a known yaw and
pitch. Each person lives in a pane half the canvas wide; a script places each pane per frame (left
edge in canvas pixels, or None: out of view). Panes are pasted opaque, B first, so A passes in
front of B. The same script with one person removed gives that person's single-person run at the
very same pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from vtuber.errors import SourceError

U8 = NDArray[np.uint8]
Position = Callable[[int], int | None]  # frame index -> pane left edge (canvas px) or None


def read_video(path: str | Path, size: tuple[int, int], max_frames: int | None = None) -> list[U8]:
    """A video's frames resized to ``size`` = (width, height), BGR."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SourceError(f"cannot open video {path}")
    frames: list[U8] = []
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, img = cap.read()
            if not ok:
                break
            frames.append(np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8))
    finally:
        cap.release()
    if not frames:
        raise SourceError(f"no frames in {path}")
    return frames


def video_pane(
    path: str | Path, width: int, height: int, centre_x: float = 0.47, frames: int | None = None
) -> list[U8]:
    """Panes ``width`` x ``height`` cut from a video scaled to ``height`` rows, centred on the
    fraction ``centre_x`` of its width (the thumbs-up clip's face is at ~0.47)."""
    cap = cv2.VideoCapture(str(path))
    vw, vh = cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
    cap.release()
    if not vw or not vh:
        raise SourceError(f"cannot open video {path}")
    sw = round(vw * height / vh)
    full = read_video(path, (sw, height), frames)
    x0 = int(np.clip(round(centre_x * sw - width / 2), 0, sw - width))
    return [np.ascontiguousarray(f[:, x0 : x0 + width]) for f in full]


def head_motion(i: int, fps: float = 25.0) -> tuple[float, float]:
    """The rendered head's (yaw, pitch) in degrees at frame ``i``: slow, smooth turns."""
    t = i / fps
    return 25.0 * math.sin(2 * math.pi * t / 3.2), 8.0 * math.sin(2 * math.pi * t / 2.3)


def render_pane(
    name: str, width: int, height: int, frames: int, distance_cm: float = 55.0
) -> list[U8]:
    """``frames`` panes of a corpus identity's head turning (:func:`head_motion`)."""
    from vtuber.synth.corpus import renderer

    r = renderer(name, distance_cm=distance_cm)
    out = []
    for i in range(frames):
        yaw, pitch = head_motion(i)
        out.append(np.asarray(r.render(yaw, pitch, size=(width, height)), np.uint8))
    return out


@dataclass
class Scene:
    """Two panes and where each is, per frame, on a ``width`` x ``height`` canvas."""

    a: list[U8]
    b: list[U8]
    pos_a: Position
    pos_b: Position
    width: int
    height: int
    frames: int

    def frame(self, i: int, who: str = "ab") -> U8:
        """Canvas ``i`` with the persons in ``who`` ("ab", "a" or "b"). A person left out is
        blacked out, not removed: their pane is painted black (the canvas colour), so whoever
        they pass in front of is hidden by the same edges as in the two-person scene."""
        img = np.zeros((self.height, self.width, 3), np.uint8)
        for key, panes, pos in (("b", self.b, self.pos_b), ("a", self.a, self.pos_a)):
            x = pos(i)
            if x is None:
                continue
            pane = panes[i % len(panes)]
            pw = pane.shape[1]
            x0, x1 = max(x, 0), min(x + pw, self.width)
            if x1 > x0:
                img[:, x0:x1] = pane[:, x0 - x : x1 - x] if key in who else 0
        return img

    def images(self, who: str = "ab") -> Iterator[U8]:
        for i in range(self.frames):
            yield self.frame(i, who)

    def write_video(self, path: str | Path, who: str = "ab", frames: int | None = None) -> Path:
        """The scene as a Motion-JPEG AVI at 25 fps (for ``vtuber track --source``)."""
        n = self.frames if frames is None else min(frames, self.frames)
        out = cv2.VideoWriter(
            str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (self.width, self.height)
        )
        if not out.isOpened():
            raise SourceError(f"cannot write video {path}")
        try:
            for i in range(n):
                out.write(self.frame(i, who))
        finally:
            out.release()
        return Path(path)


def ramp(i: int, start: int, end: int, x0: float, x1: float) -> int:
    """x0 before ``start``, x1 after ``end``, linear in between (a walk)."""
    if i <= start:
        return round(x0)
    if i >= end:
        return round(x1)
    return round(x0 + (x1 - x0) * (i - start) / (end - start))


def gap(pos: Position, start: int, end: int) -> Position:
    """``pos`` with the person out of view for frames start..end-1."""
    return lambda i: None if start <= i < end else pos(i)
