"""Capture devices on this machine: cameras, with the sizes and frame rates each offers.

On Linux, cameras are the V4L2 nodes under ``/sys/class/video4linux`` (``videoN/name`` is the
camera's name; N is OpenCV's camera index) that can capture video, asked through the V4L2 ioctls
``VIDIOC_QUERYCAP``, ``VIDIOC_ENUM_FMT``, ``VIDIOC_ENUM_FRAMESIZES`` and
``VIDIOC_ENUM_FRAMEINTERVALS`` on ``/dev/videoN`` (``fcntl.ioctl``; no v4l2-ctl needed). Metadata
nodes (a webcam's second node) are left out. Elsewhere, OpenCV is asked for cameras 0-9 and
reports only the size and rate each opens with.

Seam (tests, and machines without a camera): ``VTUBER_V4L2_ROOT=DIR`` reads sysfs from
``DIR/sys/class/video4linux`` and devices from ``DIR/dev/videoN``. A device node that is a regular
file holds a JSON device table (:class:`TableDevice`) that answers the same ioctls, with the same
binary structures, as a driver would, so everything but the kernel call itself is exercised.

Audio inputs (for lip sync) are listed the same way by :mod:`vtuber.audio.capture`
(``vtuber microphones`` beside ``vtuber cameras``): a ``list_...`` function returning dataclasses.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vtuber.errors import SourceError

ROOT_ENV = "VTUBER_V4L2_ROOT"


# --------------------------------------------------------------------------- V4L2 ABI (videodev2.h)
def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord("V") << 8) | nr


_READ, _READWRITE = 2, 3
# struct v4l2_capability: driver[16] card[32] bus_info[32] version capabilities device_caps res[3]
CAPABILITY = struct.Struct("<16s32s32sIII12x")
# struct v4l2_fmtdesc: index type flags description[32] pixelformat mbus_code reserved[3]
FMTDESC = struct.Struct("<III32sII12x")
# struct v4l2_frmsizeenum: index pixel_format type, union{discrete w,h | stepwise 6 x u32}, res[2]
FRMSIZE = struct.Struct("<III6I8x")
# struct v4l2_frmivalenum: index pixel_format width height type, union{fract | 3 fracts}, res[2]
FRMIVAL = struct.Struct("<IIIII6I8x")
VIDIOC_QUERYCAP = _ioc(_READ, 0, CAPABILITY.size)  # 0x80685600
VIDIOC_ENUM_FMT = _ioc(_READWRITE, 2, FMTDESC.size)  # 0xc0405602
VIDIOC_ENUM_FRAMESIZES = _ioc(_READWRITE, 74, FRMSIZE.size)  # 0xc02c564a
VIDIOC_ENUM_FRAMEINTERVALS = _ioc(_READWRITE, 75, FRMIVAL.size)  # 0xc034564b
BUF_TYPE_VIDEO_CAPTURE = 1
CAP_VIDEO_CAPTURE = 0x00000001
CAP_DEVICE_CAPS = 0x80000000
SIZE_DISCRETE, SIZE_CONTINUOUS, SIZE_STEPWISE = 1, 2, 3  # same values for frame intervals
_MAX_ENUM = 256  # a broken driver must not loop us forever


def fourcc_text(code: int) -> str:
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip()


def fourcc_code(text: str) -> int:
    b = text.encode("ascii").ljust(4)[:4]
    return b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Mode:
    """A size a camera offers in one pixel format, with its frame rates (highest first; empty
    when the driver does not say)."""

    width: int
    height: int
    fps: tuple[float, ...]
    pixel_format: str

    def text(self) -> str:
        rates = ", ".join(f"{r:g}" for r in self.fps)
        return f"{self.width}x{self.height}" + (f" @ {rates} fps" if rates else "")


@dataclass(frozen=True)
class Camera:
    """A camera: ``index`` is what ``--source`` and OpenCV take; ``note`` says why the modes
    are unknown, when they are."""

    index: int
    name: str
    path: str = ""
    modes: tuple[Mode, ...] = ()
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "path": self.path,
            "modes": [
                {"width": m.width, "height": m.height, "fps": list(m.fps), "format": m.pixel_format}
                for m in self.modes
            ],
            **({"note": self.note} if self.note else {}),
        }


# --------------------------------------------------------------------------- device access
class Device(Protocol):
    def ioctl(self, request: int, buf: bytearray) -> None:
        """Run one V4L2 ioctl on ``buf`` in place; OSError (EINVAL: past the last entry)."""

    def close(self) -> None: ...


class KernelDevice:
    """A real /dev/videoN, opened without starting a capture."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)

    def ioctl(self, request: int, buf: bytearray) -> None:
        import fcntl

        fcntl.ioctl(self.fd, request, buf, True)

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class TableDevice:
    """A device answered from a JSON table (the :data:`ROOT_ENV` seam)::

        {"driver": "uvcvideo", "card": "HD Webcam C920", "capture": true,
         "formats": [{"fourcc": "MJPG", "description": "Motion-JPEG",
                      "sizes": [{"width": 1280, "height": 720, "fps": [60, 30]}]}]}

    A size may instead be ``{"stepwise": [min_w, max_w, step_w, min_h, max_h, step_h],
    "fps_range": [min_fps, max_fps]}``. Requests are decoded and answers encoded with the V4L2
    structures, exactly as the kernel fills them."""

    table: dict[str, Any]
    requests: list[int] = field(default_factory=list)

    def _format(self, fourcc: int) -> dict[str, Any]:
        for f in self.table.get("formats", []):
            if fourcc_code(f["fourcc"]) == fourcc:
                return dict(f)
        raise OSError(errno.EINVAL, "unknown pixel format")

    def ioctl(self, request: int, buf: bytearray) -> None:
        self.requests.append(request)
        t = self.table
        if request == VIDIOC_QUERYCAP:
            caps = CAP_VIDEO_CAPTURE if t.get("capture", True) else 0
            CAPABILITY.pack_into(
                buf, 0, t.get("driver", "table").encode(), t.get("card", "").encode(),
                t.get("bus_info", "").encode(), 0x60000, caps | CAP_DEVICE_CAPS, caps,
            )  # fmt: skip
        elif request == VIDIOC_ENUM_FMT:
            index, type_, *_ = FMTDESC.unpack_from(buf)
            formats = t.get("formats", [])
            if type_ != BUF_TYPE_VIDEO_CAPTURE or index >= len(formats):
                raise OSError(errno.EINVAL, "no such format")
            f = formats[index]
            desc = f.get("description", f["fourcc"]).encode()
            FMTDESC.pack_into(buf, 0, index, type_, 0, desc, fourcc_code(f["fourcc"]), 0)
        elif request == VIDIOC_ENUM_FRAMESIZES:
            index, fourcc, *_ = FRMSIZE.unpack_from(buf)
            sizes = self._format(fourcc).get("sizes", [])
            if index >= len(sizes) or ("stepwise" in sizes[0] and index > 0):
                raise OSError(errno.EINVAL, "no such size")
            s = sizes[index]
            if "stepwise" in s:
                FRMSIZE.pack_into(buf, 0, index, fourcc, SIZE_STEPWISE, *s["stepwise"])
            else:
                FRMSIZE.pack_into(buf, 0, index, fourcc, SIZE_DISCRETE, s["width"], s["height"],
                                  0, 0, 0, 0)  # fmt: skip
        elif request == VIDIOC_ENUM_FRAMEINTERVALS:
            index, fourcc, w, h, *_ = FRMIVAL.unpack_from(buf)
            for s in self._format(fourcc).get("sizes", []):
                if "fps_range" in s and index == 0:
                    lo, hi = s["fps_range"]  # intervals: 1/hi (min) .. 1/lo (max)
                    FRMIVAL.pack_into(buf, 0, 0, fourcc, w, h, SIZE_CONTINUOUS,
                                      1, int(hi), 1, int(lo), 1, 1)  # fmt: skip
                    return
                if s.get("width") == w and s.get("height") == h:
                    rates = s.get("fps", [])
                    if index >= len(rates):
                        break
                    num, den = (1001, int(round(rates[index] * 1001)))
                    if float(rates[index]).is_integer():
                        num, den = 1, int(rates[index])
                    FRMIVAL.pack_into(buf, 0, index, fourcc, w, h, SIZE_DISCRETE, num, den,
                                      0, 0, 0, 0)  # fmt: skip
                    return
            raise OSError(errno.EINVAL, "no such interval")
        else:
            raise OSError(errno.ENOTTY, "unsupported ioctl")

    def close(self) -> None:
        pass


def open_device(path: str) -> Device:
    """The device at ``path``: a JSON table when it is a regular file (the seam), else the
    kernel's."""
    if stat.S_ISREG(os.stat(path).st_mode):
        try:
            return TableDevice(json.loads(Path(path).read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError) as e:
            raise OSError(errno.EINVAL, f"not a device table: {e}") from e
    return KernelDevice(path)


# --------------------------------------------------------------------------- enumeration
def _rates(dev: Device, fourcc: int, w: int, h: int) -> tuple[float, ...]:
    out: list[float] = []
    for i in range(_MAX_ENUM):
        buf = bytearray(FRMIVAL.size)
        FRMIVAL.pack_into(buf, 0, i, fourcc, w, h, 0, 0, 0, 0, 0, 0, 0)
        try:
            dev.ioctl(VIDIOC_ENUM_FRAMEINTERVALS, buf)
        except OSError:
            break
        _, _, _, _, type_, n0, d0, n1, d1, _, _ = FRMIVAL.unpack_from(buf)
        if type_ == SIZE_DISCRETE:
            if n0 and d0:
                out.append(round(d0 / n0, 2))
            continue
        # continuous / stepwise: the fastest and slowest rates
        out.extend(round(d / n, 2) for n, d in ((n0, d0), (n1, d1)) if n and d)
        break
    return tuple(sorted(set(out), reverse=True))


def query_modes(dev: Device) -> tuple[bool, list[Mode]]:
    """(can capture video, the modes it offers) of one V4L2 device."""
    cap = bytearray(CAPABILITY.size)
    dev.ioctl(VIDIOC_QUERYCAP, cap)
    _, _, _, _, caps, device_caps = CAPABILITY.unpack_from(cap)
    effective = device_caps if caps & CAP_DEVICE_CAPS else caps
    if not effective & CAP_VIDEO_CAPTURE:
        return False, []
    modes: list[Mode] = []
    for i in range(_MAX_ENUM):
        fd = bytearray(FMTDESC.size)
        FMTDESC.pack_into(fd, 0, i, BUF_TYPE_VIDEO_CAPTURE, 0, b"", 0, 0)
        try:
            dev.ioctl(VIDIOC_ENUM_FMT, fd)
        except OSError:
            break
        fourcc = FMTDESC.unpack_from(fd)[4]
        fmt = fourcc_text(fourcc)
        for j in range(_MAX_ENUM):
            fs = bytearray(FRMSIZE.size)
            FRMSIZE.pack_into(fs, 0, j, fourcc, 0, 0, 0, 0, 0, 0, 0)
            try:
                dev.ioctl(VIDIOC_ENUM_FRAMESIZES, fs)
            except OSError:
                break
            _, _, type_, a, b, c, d, e, _f = FRMSIZE.unpack_from(fs)
            if type_ == SIZE_DISCRETE:
                modes.append(Mode(a, b, _rates(dev, fourcc, a, b), fmt))
                continue
            # stepwise/continuous (min_w, max_w, step_w, min_h, max_h, step_h): the two ends
            for w, h in ((a, d), (b, e)):
                modes.append(Mode(w, h, _rates(dev, fourcc, w, h), fmt))
            break
    return True, modes


def v4l2_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or "/")


def list_v4l2_cameras(root: Path | None = None) -> list[Camera]:
    """Cameras from sysfs + V4L2 ioctls under ``root`` (default ``/``, or :data:`ROOT_ENV`)."""
    root = v4l2_root() if root is None else root
    sysfs = root / "sys" / "class" / "video4linux"
    if not sysfs.is_dir():
        return []
    nodes = []
    for d in sysfs.iterdir():
        if d.name.startswith("video") and d.name[5:].isdigit():
            nodes.append((int(d.name[5:]), d))
    out: list[Camera] = []
    for n, d in sorted(nodes):
        try:
            name = (d / "name").read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            name = ""
        path = root / "dev" / f"video{n}"
        note = ""
        modes: list[Mode] = []
        try:
            dev = open_device(str(path))
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EPERM):
                note = f"no permission to open {path} (add yourself to the 'video' group)"
            elif e.errno == errno.EBUSY:
                note = "busy (another program is using it)"
            else:
                continue  # gone, or not a device
        else:
            try:
                capture, modes = query_modes(dev)
            except OSError as e:
                capture, note = True, f"cannot ask it for its modes ({e.strerror or e})"
            finally:
                dev.close()
            if not capture:
                continue  # a metadata or output node, not a camera
        out.append(Camera(n, name or f"camera {n}", str(path), tuple(modes), note))
    return out


def list_opencv_cameras(max_index: int = 10) -> list[Camera]:
    """Cameras OpenCV can open (indices 0..max_index-1), with the size and rate they open at:
    what there is to know on Windows and macOS."""
    import cv2

    out: list[Camera] = []
    level = cv2.getLogLevel()
    cv2.setLogLevel(0)
    try:
        for i in range(max_index):
            cap = cv2.VideoCapture(i)
            try:
                if not cap.isOpened():
                    continue
                w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
                h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
                fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
                modes = (Mode(w, h, (fps,) if fps > 0 else (), ""),) if w and h else ()
                out.append(Camera(i, f"camera {i}", "", modes, "modes: what it opens with"))
            finally:
                cap.release()
    finally:
        cv2.setLogLevel(level)
    return out


def list_cameras() -> list[Camera]:
    """The cameras on this machine (V4L2 on Linux or under the seam, else OpenCV)."""
    if sys.platform.startswith("linux") or os.environ.get(ROOT_ENV):
        return list_v4l2_cameras()
    return list_opencv_cameras()


def where_looked() -> str:
    if sys.platform.startswith("linux") or os.environ.get(ROOT_ENV):
        return str(v4l2_root() / "sys" / "class" / "video4linux")
    return "OpenCV camera indices 0-9"


def find_camera(spec: str, cameras: Sequence[Camera]) -> Camera | None:
    """The camera whose name is ``spec`` or contains it (case-insensitive; an exact name wins).
    None when none matches; SourceError listing them when several do."""
    key = spec.strip().casefold()
    if not key:
        return None
    exact = [c for c in cameras if c.name.casefold() == key]
    if len(exact) == 1:
        return exact[0]
    hits = exact or [c for c in cameras if key in c.name.casefold()]
    if len(hits) > 1:
        listed = ", ".join(f"{c.index} {c.name!r}" for c in hits)
        raise SourceError(
            f"camera name {spec!r} matches {len(hits)} cameras: {listed}; "
            "give the index or more of the name"
        )
    return hits[0] if hits else None
