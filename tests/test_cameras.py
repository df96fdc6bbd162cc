"""`vtuber cameras`, camera names in --source and --camera-size/--camera-fps.

This machine has no camera (and no v4l2loopback: no kernel modules), so the V4L2 side runs against
the documented seam (vtuber/devices.py): a fake root with a sysfs tree and device nodes that are
JSON device tables answering the same ioctls with the same binary structures. The ioctl numbers
and structure sizes are checked against the values in Linux's videodev2.h."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vtuber import devices
from vtuber.devices import Camera, TableDevice, find_camera, list_v4l2_cameras
from vtuber.errors import ConfigError, SourceError

C920 = {
    "driver": "uvcvideo",
    "card": "HD Pro Webcam C920",
    "formats": [
        {"fourcc": "YUYV", "description": "YUYV 4:2:2",
         "sizes": [{"width": 640, "height": 480, "fps": [30, 29.97, 15]},
                   {"width": 1920, "height": 1080, "fps": [5]}]},
        {"fourcc": "MJPG", "description": "Motion-JPEG",
         "sizes": [{"width": 1280, "height": 720, "fps": [30, 60]},
                   {"width": 1920, "height": 1080, "fps": [30, 24]}]},
    ],
}  # fmt: skip
C920_META = {"driver": "uvcvideo", "card": "HD Pro Webcam C920", "capture": False}
OBS = {
    "driver": "v4l2 loopback",
    "card": "OBS Virtual Camera",
    "formats": [{"fourcc": "YU12", "sizes": [{"width": 1280, "height": 720, "fps": [30]}]}],
}
BUILTIN = {  # a driver that reports ranges instead of lists
    "driver": "some",
    "card": "Integrated Webcam",
    "formats": [
        {"fourcc": "NV12",
         "sizes": [{"stepwise": [320, 1280, 16, 240, 960, 16], "fps_range": [5, 60]}]},
    ],
}  # fmt: skip


def make_root(root: Path, nodes: dict[int, tuple[str, dict[str, Any] | None]]) -> Path:
    """A fake /: sys/class/video4linux/videoN/name and dev/videoN (a JSON table; None = the node
    is listed in sysfs but its device file is gone)."""
    for n, (name, table) in nodes.items():
        d = root / "sys" / "class" / "video4linux" / f"video{n}"
        d.mkdir(parents=True)
        (d / "name").write_text(name + "\n")
        (d / "index").write_text("0\n")
        if table is not None:
            (root / "dev").mkdir(exist_ok=True)
            (root / "dev" / f"video{n}").write_text(json.dumps(table))
    return root


@pytest.fixture()
def fake_root(tmp_path: Path) -> Path:
    return make_root(
        tmp_path / "root",
        {
            0: ("HD Pro Webcam C920", C920),
            1: ("HD Pro Webcam C920", C920_META),  # the webcam's metadata node
            2: ("OBS Virtual Camera", OBS),
            4: ("Integrated Webcam", BUILTIN),
            5: ("Unplugged Cam", None),
        },
    )


def run_cli(*args: str, root: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if root is not None:
        env[devices.ROOT_ENV] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "vtuber", *args], capture_output=True, text=True, timeout=120,
        env=env,
    )  # fmt: skip


def test_ioctl_numbers_and_structures_match_videodev2() -> None:
    assert devices.CAPABILITY.size == 104 and devices.FMTDESC.size == 64
    assert devices.FRMSIZE.size == 44 and devices.FRMIVAL.size == 52
    assert devices.VIDIOC_QUERYCAP == 0x80685600
    assert devices.VIDIOC_ENUM_FMT == 0xC0405602
    assert devices.VIDIOC_ENUM_FRAMESIZES == 0xC02C564A
    assert devices.VIDIOC_ENUM_FRAMEINTERVALS == 0xC034564B
    assert devices.fourcc_code("MJPG") == 0x47504A4D
    assert devices.fourcc_text(0x56595559) == "YUYV"


def test_lists_capture_nodes_with_their_modes(fake_root: Path) -> None:
    cams = list_v4l2_cameras(fake_root)
    assert [(c.index, c.name) for c in cams] == [
        (0, "HD Pro Webcam C920"),
        (2, "OBS Virtual Camera"),
        (4, "Integrated Webcam"),
    ]  # the metadata node (1) and the unplugged one (5) are not cameras
    modes = {(m.pixel_format, m.width, m.height): m.fps for m in cams[0].modes}
    assert modes == {
        ("YUYV", 640, 480): (30.0, 29.97, 15.0),
        ("YUYV", 1920, 1080): (5.0,),
        ("MJPG", 1280, 720): (60.0, 30.0),  # highest first
        ("MJPG", 1920, 1080): (30.0, 24.0),
    }
    assert cams[0].path == str(fake_root / "dev" / "video0")
    # A stepwise/continuous driver: the two ends of its size range and of its rate range.
    assert [(m.width, m.height, m.fps) for m in cams[2].modes] == [
        (320, 240, (60.0, 5.0)),
        (1280, 960, (60.0, 5.0)),
    ]


def test_the_table_device_is_asked_like_a_driver() -> None:
    dev = TableDevice(OBS)
    capture, modes = devices.query_modes(dev)
    assert capture and [(m.width, m.height, m.fps, m.pixel_format) for m in modes] == [
        (1280, 720, (30.0,), "YU12")
    ]
    assert dev.requests == [
        devices.VIDIOC_QUERYCAP,
        devices.VIDIOC_ENUM_FMT,  # format 0
        devices.VIDIOC_ENUM_FRAMESIZES,  # size 0
        devices.VIDIOC_ENUM_FRAMEINTERVALS,  # rate 0
        devices.VIDIOC_ENUM_FRAMEINTERVALS,  # rate 1: EINVAL, the end
        devices.VIDIOC_ENUM_FRAMESIZES,  # size 1: EINVAL
        devices.VIDIOC_ENUM_FMT,  # format 1: EINVAL
    ]


def test_find_camera_by_name_or_part_of_it() -> None:
    cams = [
        Camera(0, "HD Pro Webcam C920"),
        Camera(2, "OBS Virtual Camera"),
        Camera(4, "Integrated Webcam"),
        Camera(6, "Webcam"),
    ]
    assert find_camera("obs", cams) == cams[1]
    assert find_camera("c920", cams) == cams[0]
    assert find_camera("WEBCAM", cams) == cams[3]  # an exact name wins over parts
    assert find_camera("elgato", cams) is None
    with pytest.raises(SourceError) as e:
        find_camera("cam", cams)
    msg = str(e.value)
    assert "matches 4 cameras" in msg and "2 'OBS Virtual Camera'" in msg
    assert "give the index or more of the name" in msg


def test_cameras_command_lists_them(fake_root: Path) -> None:
    r = run_cli("cameras", root=fake_root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"  0  HD Pro Webcam C920  ({fake_root / 'dev' / 'video0'})",
        "       YUYV: 1920x1080 @ 5 fps; 640x480 @ 30, 29.97, 15 fps",
        "       MJPG: 1920x1080 @ 30, 24 fps; 1280x720 @ 60, 30 fps",
        f"  2  OBS Virtual Camera  ({fake_root / 'dev' / 'video2'})",
        "       YU12: 1280x720 @ 30 fps",
        f"  4  Integrated Webcam  ({fake_root / 'dev' / 'video4'})",
        "       NV12: 1280x960 @ 60, 5 fps; 320x240 @ 60, 5 fps",
    ]
    j = json.loads(run_cli("cameras", "--json", root=fake_root).stdout)
    assert [c["index"] for c in j] == [0, 2, 4]
    assert {"width": 1280, "height": 720, "fps": [60.0, 30.0], "format": "MJPG"} in j[0]["modes"]


def test_no_cameras_is_one_clear_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sys" / "class" / "video4linux").mkdir(parents=True)
    for root in (empty, tmp_path / "nothing"):  # empty sysfs class, or none at all
        r = run_cli("cameras", root=root)
        assert r.returncode == 0 and r.stderr == ""
        assert r.stdout.splitlines() == [
            f"no cameras found (looked in {root / 'sys' / 'class' / 'video4linux'}); "
            "connect one, or use --source FILE"
        ]


def test_source_by_name_opens_that_camera_index(fake_root: Path) -> None:
    # The name resolves to /dev/video2 = OpenCV camera 2, which OpenCV cannot open here.
    r = run_cli("track", "--source", "obs virtual", "--no-vmc", "--quiet", root=fake_root)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == "vtuber: error: cannot open camera 2 (is it connected and free?)"
    r = run_cli("track", "--source", "webcam", "--no-vmc", "--quiet", root=fake_root)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (
        "vtuber: error: camera name 'webcam' matches 2 cameras: 0 'HD Pro Webcam C920', "
        "4 'Integrated Webcam'; give the index or more of the name"
    )
    r = run_cli("track", "--source", "elgato", "--no-vmc", "--quiet", root=fake_root)
    assert r.returncode == 2 and r.stderr.strip().startswith(
        "vtuber: error: source not found: 'elgato' (give a camera index or name, a video file "
        "or a folder; cameras: 0 'HD Pro Webcam C920', 2 'OBS Virtual Camera'"
    )


class SnappingCamera:
    """The camera seam of CameraSource: an OpenCV-like capture whose driver snaps a requested
    mode to the nearest one it has, as real drivers do."""

    MODES = ((640, 480, 30.0), (1280, 720, 30.0), (1920, 1080, 15.0))

    def __init__(self, index: int) -> None:
        self.mode = self.MODES[0]
        self.want = [640.0, 480.0, 30.0]

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def set(self, prop: int, value: float) -> bool:
        import cv2

        keys = {cv2.CAP_PROP_FRAME_WIDTH: 0, cv2.CAP_PROP_FRAME_HEIGHT: 1, cv2.CAP_PROP_FPS: 2}
        if prop in keys:
            self.want[keys[prop]] = value
            w, h, f = self.want
            self.mode = min(
                self.MODES, key=lambda m: (abs(m[0] - w) + abs(m[1] - h), abs(m[2] - f))
            )
        return True

    def get(self, prop: int) -> float:
        import cv2

        keys = {cv2.CAP_PROP_FRAME_WIDTH: 0, cv2.CAP_PROP_FRAME_HEIGHT: 1, cv2.CAP_PROP_FPS: 2}
        return float(self.mode[keys[prop]]) if prop in keys else 0.0

    def read(self) -> tuple[bool, np.ndarray]:
        import time

        time.sleep(0.01)
        w, h, _ = self.mode
        return True, np.zeros((h, w, 3), np.uint8)

    def release(self) -> None:
        pass


def test_camera_mode_is_asked_for_and_what_it_gives_is_reported() -> None:
    from vtuber.sources import open_source, parse_camera_size

    size = parse_camera_size("1280x720")
    with open_source("0", camera_size=size, camera_fps=60, capture=SnappingCamera) as cam:
        assert cam.describe() == "camera 0: 1280x720 @ 30 fps (asked for 1280x720 @ 60 fps)"  # type: ignore[attr-defined]
        frame = next(iter(cam))
        assert frame.image.shape == (720, 1280, 3)
    with open_source("0", camera_size=(1920, 1080), camera_fps=15, capture=SnappingCamera) as cam:
        assert cam.describe() == "camera 0: 1920x1080 @ 15 fps"  # type: ignore[attr-defined]


def test_bad_camera_mode_options_are_one_error_line() -> None:
    with pytest.raises(ConfigError, match="must look like 1280x720"):
        from vtuber.sources import parse_camera_size

        parse_camera_size("1280*720")
    r = run_cli("track", "--camera-size", "big", "--no-vmc", "--quiet")
    assert r.returncode == 2
    assert r.stderr.strip() == "vtuber: error: --camera-size must look like 1280x720, not 'big'"
    r = run_cli("track", "--source", "0", "--camera-fps", "0.5", "--no-vmc", "--quiet")
    assert r.returncode == 2
    assert r.stderr.strip() == "vtuber: error: --camera-fps must be between 1 and 480, not 0.5"
