"""Frame sources: camera (threaded, newest frame wins), video file, image folder, built-in demo.

Every source is an iterator of :class:`Frame` and a context manager; ``Frame.t`` is the source's
own clock (video position, capture time since start), ``Frame.t_capture`` the
``time.perf_counter()`` at which the image became available (the latency basis).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
from numpy.typing import NDArray

from vtuber.errors import ConfigError, SourceError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass(slots=True)
class Frame:
    """One image from a source. ``image`` is BGR uint8 (OpenCV's order)."""

    image: NDArray[Any]  # uint8, (height, width, 3)
    t: float
    t_capture: float
    index: int


class Source:
    """Base class: iterate frames; ``close`` releases the device/file."""

    name = "source"
    fps: float = 30.0
    frame_count: int | None = None  # known length (files, folders), else None
    static_images = False  # frames are unrelated stills (landmark tracking off)

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CameraSource(Source):
    """A webcam. A capture thread overwrites a one-slot buffer, so the tracker always gets the
    newest image and latency never builds up; the camera is reopened if it drops out.

    ``capture`` is the camera seam (docs/performance.md): a callable ``capture(index)`` returning
    an object with OpenCV ``VideoCapture``'s ``isOpened / read / set / get / release``; default
    ``cv2.VideoCapture``. Tests and benchmarks pass a fake camera there (no camera exists on
    their machines); everything after ``read()`` is the code a real camera runs through.
    """

    def __init__(
        self,
        index: int = 0,
        width: int = 640,
        height: int = 480,
        fps: float = 30,
        capture: Callable[[int], Any] | None = None,
        label: str = "",
    ) -> None:
        self.name = f"camera {index}" + (f" ({label})" if label else "")
        self.index = index
        self._capture = capture
        self._size = (width, height, fps)
        self._cap = self._open()
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or fps)
        # What the camera really gives (drivers round a request to the nearest mode they have).
        self.actual = (
            int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH) or width),
            int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or height),
            self.fps,
        )
        self._slot: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
        self._thread.start()

    def _open(self) -> cv2.VideoCapture:
        # OpenCV logs each backend it tries; a missing camera gets our one error line instead.
        level = cv2.getLogLevel()
        cv2.setLogLevel(0)  # 0 = silent
        try:
            cap = (self._capture or cv2.VideoCapture)(self.index)
        finally:
            cv2.setLogLevel(level)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open camera {self.index} (is it connected and free?)")
        w, h, fps = self._size
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, w)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, h)
        cap.set(cv2.CAP_PROP_FPS, fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap

    def describe(self) -> str:
        """One line: the mode the camera opened in, and the one asked for when it differs."""
        w, h, fps = self.actual
        text = f"{self.name}: {w}x{h} @ {fps:g} fps"
        aw, ah, afps = self._size
        if (w, h) != (aw, ah) or abs(fps - afps) > 0.5:
            text += f" (asked for {aw}x{ah} @ {afps:g} fps)"
        return text

    def _run(self) -> None:
        n = 0
        failures = 0
        while not self._stop.is_set():
            ok, img = self._cap.read()
            now = time.perf_counter()
            if not ok or img is None:
                failures += 1
                if failures >= 30:  # ~1 s of failed reads: try to reopen
                    log.warning("camera %d stopped delivering frames; reopening", self.index)
                    self._cap.release()
                    time.sleep(1.0)
                    try:
                        self._cap = self._open()
                        failures = 0
                    except SourceError:
                        continue
                else:
                    time.sleep(0.01)
                continue
            failures = 0
            with self._cond:
                self._slot = Frame(img, now - self._t0, now, n)
                self._cond.notify()
            n += 1

    def __iter__(self) -> Iterator[Frame]:
        while not self._stop.is_set():
            with self._cond:
                while self._slot is None and not self._stop.is_set():
                    self._cond.wait(0.5)
                frame, self._slot = self._slot, None
            if frame is not None:
                yield frame

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._cap.release()


class VideoSource(Source):
    """A video file, decoded on its own thread (decode overlaps with inference).

    ``realtime=True`` paces frames at the video's own rate, as a camera would deliver them (late
    frames are dropped, newest wins); ``realtime=False`` (``--fast``) yields every frame as fast as
    it is consumed.
    """

    def __init__(self, path: str | Path, realtime: bool = True, loop: bool = False) -> None:
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_file():
            raise SourceError(f"video file not found: {self.path}")
        cap = cv2.VideoCapture(str(self.path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None:
            cap.release()
            raise SourceError(f"cannot decode video file {self.path} (corrupt or not a video)")
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._cap = cap
        self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) or 30.0
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = n if n > 0 and not loop else None  # looping: no end
        self.realtime = realtime
        self.loop = loop
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._decode, name="decode", daemon=True)
        self._started = False
        self.frames_read: int | None = None  # set when decoding reached the file's end

    def shortfall(self) -> tuple[int, int] | None:
        """``(frames read, frames expected)`` when the file ended before the frame count its
        container declares (a truncated or damaged video), else None. A difference of up to 1%
        (at least one frame) is tolerated: some containers only estimate their count."""
        read, expected = self.frames_read, self.frame_count
        if read is None or not expected or self.loop:
            return None
        return (read, expected) if expected - read > max(1, expected // 100) else None

    def _decode(self) -> None:
        n = 0  # frames decoded, all passes (Frame.index)
        k = 0  # frames decoded in this pass
        offset = 0.0  # time shift of this pass
        last = 0.0  # position of the last frame of this pass
        while not self._stop.is_set():
            ok, img = self._cap.read()
            if not ok or img is None:
                if self.loop and k > 0:
                    # Next pass: shifted by the pass's duration plus one frame interval, so
                    # frame times (and /VMC/Ext/T) keep increasing, as replay --loop does.
                    offset += last + 1.0 / self.fps
                    k = 0
                    self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    continue
                self.frames_read = n
                break
            pos = self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            last = pos if pos > 0 or k == 0 else k / self.fps
            frame = Frame(img, offset + last, 0.0, n)
            n += 1
            k += 1
            while not self._stop.is_set():
                try:
                    self._queue.put(frame, timeout=0.1)
                    break
                except queue.Full:
                    continue
        self._queue.put(None)

    def __iter__(self) -> Iterator[Frame]:
        if not self._started:
            self._started = True
            self._thread.start()
        start = time.perf_counter()
        t_first: float | None = None
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            if self.realtime:
                if t_first is None:
                    t_first = frame.t
                due = start + (frame.t - t_first)
                now = time.perf_counter()
                if now < due:
                    time.sleep(due - now)
                elif now - due > 1.5 / self.fps and not self._queue.empty():
                    continue  # behind schedule: drop this frame, as a camera would
            frame.t_capture = time.perf_counter()
            yield frame

    def close(self) -> None:
        self._stop.set()
        if self._started:
            while self._thread.is_alive():
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
                self._thread.join(timeout=0.05)
        self._cap.release()


class ImageFolderSource(Source):
    """Images in a folder, sorted by name, at a nominal ``fps`` (t = index / fps). With ``loop``
    the folder repeats forever; index and t keep counting up across passes."""

    static_images = True

    def __init__(
        self, path: str | Path, fps: float = 30.0, realtime: bool = False, loop: bool = False
    ) -> None:
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_dir():
            raise SourceError(f"image folder not found: {self.path}")
        self.files = sorted(
            p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        if not self.files:
            raise SourceError(
                f"no images in folder {self.path} (looked for {sorted(IMAGE_SUFFIXES)})"
            )
        self.fps = fps
        self.frame_count = None if loop else len(self.files)
        self.realtime = realtime
        self.loop = loop

    def __iter__(self) -> Iterator[Frame]:
        start = time.perf_counter()
        i = 0
        while True:
            for p in self.files:
                img = cv2.imread(str(p), cv2.IMREAD_COLOR)
                if img is None:
                    raise SourceError(f"cannot read image {p} (corrupt or not an image)")
                if self.realtime:
                    due = start + i / self.fps
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                yield Frame(img, i / self.fps, time.perf_counter(), i)
                i += 1
            if not self.loop:
                return


def parse_camera_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720); ConfigError otherwise."""
    w, sep, h = text.lower().replace("×", "x").partition("x")
    if not sep or not w.strip().isdigit() or not h.strip().isdigit():
        raise ConfigError(f"--camera-size must look like 1280x720, not {text!r}")
    size = (int(w), int(h))
    if not (16 <= size[0] <= 8192 and 16 <= size[1] <= 8192):
        raise ConfigError(f"--camera-size {text} is not a plausible camera size")
    return size


def open_source(
    spec: str,
    *,
    fast: bool = False,
    loop: bool = False,
    camera_size: tuple[int, int] | None = None,
    camera_fps: float | None = None,
    capture: Callable[[int], Any] | None = None,
) -> Source:
    """Open a source from a CLI spec: a camera index ('0'), a video file, an image folder, or a
    camera's name (or part of it, case-insensitive; see :func:`vtuber.devices.find_camera`).
    ``camera_size`` / ``camera_fps`` ask a camera for a mode (default 640x480 @ 30);
    ``capture`` is :class:`CameraSource`'s camera seam."""
    if camera_fps is not None and not 1 <= camera_fps <= 480:
        raise ConfigError(f"--camera-fps must be between 1 and 480, not {camera_fps:g}")
    w, h = camera_size or (640, 480)
    fps = camera_fps or 30.0
    if spec.isdigit():
        if loop:
            raise SourceError("--loop repeats a video file or image folder, not a camera")
        return CameraSource(int(spec), w, h, fps, capture=capture)
    p = Path(spec).expanduser()
    if p.is_dir():
        return ImageFolderSource(p, realtime=not fast, loop=loop)
    if p.exists():
        return VideoSource(p, realtime=not fast, loop=loop)
    from vtuber.devices import find_camera, list_cameras

    cameras = list_cameras()
    cam = find_camera(spec, cameras)
    if cam is not None:
        if loop:
            raise SourceError("--loop repeats a video file or image folder, not a camera")
        return CameraSource(cam.index, w, h, fps, capture=capture, label=cam.name)
    known = "; cameras: " + ", ".join(f"{c.index} {c.name!r}" for c in cameras) if cameras else ""
    raise SourceError(
        f"source not found: {spec!r} (give a camera index or name, a video file or a folder{known})"
    )
