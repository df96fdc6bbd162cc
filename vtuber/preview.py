"""The --preview window: camera image, face landmarks, fps and latency (OpenCV HighGUI)."""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np

from vtuber.landmarks import Landmarks
from vtuber.rig import AvatarFrame
from vtuber.sources import Frame

WINDOW = "vtuber preview (q: quit)"


class Preview:
    """``on_key``: called with every key pressed in the window (e.g. 'c' = calibrate).
    ``on_click``: called with the normalized image point (x, y) of a left click (lock-on: the
    clicked person becomes the performer, docs/performers.md)."""

    def __init__(
        self,
        on_key: Callable[[int], None] | None = None,
        on_click: Callable[[float, float], None] | None = None,
    ) -> None:
        self.on_key = on_key
        self.on_click = on_click
        self._last = time.perf_counter()
        self._fps = 0.0
        self.image_size = (1, 1)  # the last image shown (width, height)

    def __enter__(self) -> Preview:
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
        cv2.setMouseCallback(WINDOW, self.mouse)
        return self

    def mouse(self, event: int, x: int, y: int, flags: int, param: object) -> None:
        """HighGUI's mouse callback (window pixels are image pixels: the window shows the image
        at its own size, scaled by HighGUI when resized)."""
        if event == cv2.EVENT_LBUTTONDOWN and self.on_click is not None:
            w, h = self.image_size
            self.on_click(x / w, y / h)

    def __exit__(self, *exc: object) -> None:
        cv2.destroyWindow(WINDOW)

    def show(self, av: AvatarFrame, lm: Landmarks, frame: Frame) -> bool:
        """Draw and show one frame; False when the user asked to quit."""
        img = frame.image.copy()
        h, w = img.shape[:2]
        self.image_size = (w, h)
        for p in lm.people:  # everyone found (lock-on): a grey box; click one to follow them
            if p.face.found:
                (x0, y0), (x1, y1) = (p.face.points[:, :2].min(0), p.face.points[:, :2].max(0))
                cv2.rectangle(
                    img, (int(x0 * w), int(y0 * h)), (int(x1 * w), int(y1 * h)), (160, 160, 160)
                )
        if lm.face.found:
            pts = (lm.face.points[:, :2] * np.array([w, h])).astype(np.int32)
            for x, y in pts[:468:2]:
                img[max(0, min(h - 1, y)), max(0, min(w - 1, x))] = (0, 255, 0)
            for x, y in pts[468:]:
                cv2.circle(img, (int(x), int(y)), 1, (0, 200, 255), -1)
        now = time.perf_counter()
        dt = now - self._last
        self._last = now
        if dt > 0:
            self._fps = 0.9 * self._fps + 0.1 / dt if self._fps else 1.0 / dt
        lat = 1000.0 * (now - frame.t_capture) if frame.t_capture else 0.0
        text = f"{self._fps:4.1f} fps  {lat:4.0f} ms  face {'yes' if lm.face.found else 'no'}"
        cv2.putText(img, text, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3)
        cv2.putText(img, text, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1)
        cv2.imshow(WINDOW, img)
        key = cv2.waitKey(1) & 0xFF
        if self.on_key is not None and key != 0xFF:
            self.on_key(key)
        return key not in (ord("q"), 27)
