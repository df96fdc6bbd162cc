"""The mechanisms behind vtuber's speed (docs/performance.md), tested for what they do, never for
how long they take: the start-up imports only what a command uses, the chi-square gates without
scipy equal scipy's, the bare model loop and ``vtuber bench`` run, a live source always hands the
newest frame to the tracker (no queue) and its latency does not grow."""

from __future__ import annotations

import io
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from vtuber.chi2 import chi2_isf, chi2_sf, gaussian_equivalent_threshold

HEAVY = ("scipy", "matplotlib", "websockets", "pythonosc", "skimage", "PIL")


def _modules_after(code: str) -> set[str]:
    """Top-level packages imported by a fresh interpreter after running ``code``."""
    probe = (
        code
        + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_chi2_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for dof in (1, 2, 3, 4, 5, 6, 9, 12, 55):
        for x in (0.01, 0.7, 3.0, 11.0, 40.0, 120.0):
            want = float(stats.chi2.sf(x, dof))
            assert chi2_sf(x, dof) == pytest.approx(want, rel=1e-11, abs=1e-300)
        for sigma in (0.5, 1.0, 2.5, 3.0, 4.0, 6.0):
            want = float(stats.chi2.isf(2.0 * stats.norm.sf(sigma), dof))
            assert gaussian_equivalent_threshold(sigma, dof) == pytest.approx(want, rel=1e-10)
    assert gaussian_equivalent_threshold(0.0, 3) == math.inf
    assert gaussian_equivalent_threshold(3.0, 1) == pytest.approx(9.0, rel=1e-12)  # 1 dof: sigma^2
    with pytest.raises(ValueError):
        chi2_isf(0.0, 2)
    with pytest.raises(ValueError):
        chi2_sf(1.0, 0)


def test_help_imports_no_heavy_package() -> None:
    mods = _modules_after("from vtuber.cli import build_parser\nbuild_parser().format_help()")
    assert not mods & {*HEAVY, "mediapipe"}, sorted(mods & {*HEAVY, "mediapipe"})


def image_folder(tmp_path: Path, image: np.ndarray, count: int) -> Path:
    """A folder of ``count`` copies of ``image`` (a --source of still frames)."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(count):
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


def test_track_imports_only_what_it_uses(tmp_path: Path, grace_bgr: np.ndarray) -> None:
    folder = image_folder(tmp_path, grace_bgr, 3)
    code = (
        "from vtuber.cli import main\n"
        f"assert main(['track', '--source', {str(folder)!r}, '--fast', '--quiet', "
        "'--vmc', '127.0.0.1:9']) == 0"
    )
    mods = _modules_after(code)
    assert "mediapipe" in mods  # it did track
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))
    assert "attr" not in mods  # mediapipe's Objectron stays unloaded (vtuber/landmarks/mp_import)


def test_a_fast_run_puts_the_model_and_the_pipeline_on_cpus_of_their_own(
    tmp_path: Path, grace_bgr: np.ndarray
) -> None:
    """A --fast run in face mode on a machine with 2+ CPUs: MediaPipe's graph threads and the
    look-ahead worker on one half of the CPUs, the pipeline's thread on the other; in full mode
    Pose's graph threads apart from the rest
    (docs/performance.md, "Threads on their own cores"); the calling thread's CPUs are given back
    when the command returns."""
    import os

    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs Linux thread affinity and at least 2 CPUs")
    folder = image_folder(tmp_path, grace_bgr, 4)
    probe = (
        "import json, os, threading\n"
        "import vtuber.tracker as tr\n"
        "seen = {}\n"
        "solve = tr.Tracker.solve\n"
        "def spy(self, *a, **k):\n"
        "    if not seen:\n"
        "        names = {t.native_id: t.name for t in threading.enumerate()}\n"
        "        for tid in os.listdir('/proc/self/task'):\n"
        "            comm = open(f'/proc/self/task/{tid}/comm').read().strip()\n"
        "            seen[names.get(int(tid), comm)] = sorted(os.sched_getaffinity(int(tid)))\n"
        "        seen['pipeline'] = sorted(os.sched_getaffinity(0))\n"
        "    return solve(self, *a, **k)\n"
        "tr.Tracker.solve = spy\n"
        "before = sorted(os.sched_getaffinity(0))\n"
        "from vtuber.cli import main\n"
        f"assert main(['track', '--source', {str(folder)!r}, '--quiet', '--vmc', '127.0.0.1:9'] "
        "+ json.loads(os.environ['ARGS'])) == 0\n"
        "print(json.dumps([before, sorted(os.sched_getaffinity(0)), seen]))\n"
    )

    def run(*extra: str) -> tuple[list[int], list[int], dict[str, list[int]]]:
        env = {**os.environ, "ARGS": json.dumps(list(extra))}
        out = subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env=env,
        ).stdout
        before, after, seen = json.loads(out.strip().splitlines()[-1])
        return before, after, seen

    before, after, seen = run()  # live (the folder played at 30 fps): every thread free
    assert after == before and all(cpus == before for cpus in seen.values()), seen
    before, after, seen = run("--fast")
    model = {name: cpus for name, cpus in seen.items() if name.startswith("mediapipe")}
    assert model and "landmarks" in seen  # the graph's threads and the look-ahead worker
    ours = set(seen["pipeline"])
    for name, cpus in [*model.items(), ("landmarks", seen["landmarks"])]:
        assert cpus and not set(cpus) & ours, (name, cpus, ours)
        assert set(cpus) | ours == set(before), (name, cpus, ours)
    assert after == before
    # Full mode: Pose's graph threads on the first half, everything else (the face and hand
    # graphs, the look-ahead worker, the pipeline) on the second.
    before, after, seen = run("--fast", "--mode", "full")
    ours = set(seen["pipeline"])
    halves = {name: set(cpus) for name, cpus in seen.items() if name.startswith("mediapipe")}
    pose = [name for name, cpus in halves.items() if cpus and not cpus & ours]
    assert pose and len(pose) < len(halves), halves  # Pose's threads apart, the others with us
    assert set(seen["landmarks"]) == ours and after == before


def test_a_command_imports_only_its_own_module(grace_bgr: np.ndarray, tmp_path: Path) -> None:
    """`vtuber track` builds the parser of track alone (not of replay, export, models ...);
    `vtuber --help` and a misspelt command still see every command."""
    cv2.imwrite(str(tmp_path / "000.png"), grace_bgr)
    probe = (
        "import sys, json\n"
        "from vtuber.cli import main\n"
        f"code = main(['track', '--source', {str(tmp_path)!r}, '--fast', '--quiet', '--no-vmc'])\n"
        "mods = sorted(m for m in sys.modules if m.startswith('vtuber.commands.'))\n"
        "print(json.dumps([code, mods]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    code, mods = json.loads(out.strip().splitlines()[-1])
    assert code == 0
    others = {"replay", "record_vmc", "export", "models", "bench", "calibrate", "cameras"}
    assert not {m.split(".")[2] for m in mods} & others, mods
    from vtuber.cli import build_parser

    assert "record-vmc" in build_parser().format_help()  # the full parser lists every command
    p = subprocess.run(
        [sys.executable, "-m", "vtuber", "trak"], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 2 and "record-vmc" in p.stderr  # the choices shown are all of them


def test_lean_mediapipe_import_still_gives_the_real_modules() -> None:
    code = (
        "from vtuber.landmarks.mp_import import mp\n"
        "import sys\n"
        "assert 'matplotlib' not in sys.modules\n"
        "spec = mp.solutions.drawing_utils.DrawingSpec(color=(1, 2, 3))\n"
        "assert spec.color == (1, 2, 3)\n"
        "assert mp.tasks.vision.FaceLandmarker is not None\n"
        "assert 'attr' not in sys.modules and 'ssl' not in sys.modules\n"
        "assert callable(mp.solutions.objectron.Objectron)\n"
        "from mediapipe.python.solutions import download_utils\n"
        "assert callable(download_utils.download_oss_model)\n"
    )
    mods = _modules_after(code)
    assert "matplotlib" in mods  # loaded on first use, as a real program would need it
    assert {"attr", "ssl"} <= mods


class FakeCamera:
    """A camera faster than the tracker, through CameraSource's documented ``capture`` seam:
    a real face photo every ``period`` seconds, counting the frames it has delivered."""

    def __init__(self, image: np.ndarray, period: float = 0.0005) -> None:
        self.image = image
        self.period = period
        self.count = 0
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return not self.released

    def read(self) -> tuple[bool, np.ndarray]:
        time.sleep(self.period)
        self.count += 1
        return True, self.image

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 1.0 / self.period if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.released = True


@pytest.fixture(scope="module")
def facemesh():  # type: ignore[no-untyped-def]
    from vtuber.landmarks.facemesh import FaceMeshBackend

    backend = FaceMeshBackend()
    yield backend
    backend.close()


@pytest.fixture
def vmc_sink():  # type: ignore[no-untyped-def]
    from vtuber.sinks.vmc import VMCSink

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sink = VMCSink([("127.0.0.1", rx.getsockname()[1])])
    sink.open()
    yield sink, rx
    sink.close()
    rx.close()


def test_fast_camera_newest_frame_is_processed_and_no_queue_builds(
    grace_bgr: np.ndarray,
    facemesh,
    vmc_sink,  # type: ignore[no-untyped-def]
) -> None:
    from vtuber.lookahead import LookAhead
    from vtuber.pipeline import Pipeline
    from vtuber.sources import CameraSource
    from vtuber.tracker import Tracker

    sink, rx = vmc_sink
    cam = FakeCamera(grace_bgr)
    ages: list[int] = []  # camera frames newer than the one the model takes (0: the newest)
    behind: list[int] = []  # camera frames captured between a frame's capture and its send

    with CameraSource(0, capture=lambda index: cam) as src:

        def taken():  # type: ignore[no-untyped-def]
            for f in src:
                ages.append(cam.count - 1 - f.index)
                yield f

        ahead = LookAhead(taken(), facemesh)

        def on_frame(av, lm, frame):  # type: ignore[no-untyped-def]
            behind.append(cam.count - 1 - frame.index)

        try:
            stats = Pipeline(ahead, ahead, Tracker(), [sink], on_frame=on_frame).run(max_frames=90)
        finally:
            ahead.close()
    assert stats.frames == 90 and stats.faces == 90
    assert rx.recv(65536)  # real datagrams went out
    # Newest wins: at most one frame was read (and not yet stored) after the one taken.
    assert max(ages) <= 1, ages
    # The camera delivered far more frames than were processed: the rest were dropped, not
    # queued, so the frame sent is never many camera frames old and that does not grow.
    assert cam.count > 2 * stats.frames
    # (Medians: a load spike from another process may delay one frame; a queue delays all.)
    early, late = behind[:30], behind[-30:]
    assert np.median(late) <= 3 * max(1.0, float(np.median(early))) + 10, (early, late)
    assert cam.released  # closing the source released the camera


def test_lookahead_keeps_order_and_bad_frames_cost_one_frame(
    grace_bgr: np.ndarray,
    facemesh,
    vmc_sink,  # type: ignore[no-untyped-def]
) -> None:
    from vtuber.lookahead import LookAhead
    from vtuber.pipeline import Pipeline
    from vtuber.sources import Frame
    from vtuber.tracker import Tracker

    sink, _ = vmc_sink
    frames = [Frame(grace_bgr, i / 30.0, 0.0, i) for i in range(12)]
    frames[5] = Frame(np.zeros((0, 0, 3), np.uint8), 5 / 30.0, 0.0, 5)  # OpenCV rejects it
    seen: list[int] = []
    spans: list[tuple[float, float, float]] = []  # model start, model end, frame handled
    ahead = LookAhead(frames, facemesh)

    def on_frame(av, lm, f):  # type: ignore[no-untyped-def]
        seen.append(f.index)
        spans.append((*ahead.times, time.perf_counter()))

    pipe = Pipeline(ahead, ahead, Tracker(), [sink], on_frame=on_frame)
    stats = pipe.run()
    ahead.close()
    assert seen == [i for i in range(12) if i != 5]  # every good frame, in order
    assert stats.frames == 11 and pipe.errors == 1
    assert len(ahead.model_s) == 12 and ahead.model_ms(50) > 0
    # LookAhead.times: the model's own start and end for the frame being handled, in order
    assert all(t0 < t1 < done for t0, t1, done in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_lookahead_stops_with_the_pipeline(grace_bgr: np.ndarray, facemesh) -> None:  # type: ignore[no-untyped-def]
    from vtuber.lookahead import LookAhead
    from vtuber.pipeline import Pipeline
    from vtuber.sources import Frame
    from vtuber.tracker import Tracker

    def endless():  # type: ignore[no-untyped-def]
        i = 0
        while True:
            yield Frame(grace_bgr, i / 30.0, 0.0, i)
            i += 1

    ahead = LookAhead(endless(), facemesh)
    stats = Pipeline(ahead, ahead, Tracker(), []).run(max_frames=5)
    ahead.close()
    assert stats.frames == 5
    assert not ahead.running
    with pytest.raises(RuntimeError):
        ahead.process(grace_bgr.copy(), 0.0)  # not the frame it yielded: the model is the worker's


def test_full_mode_reading_ahead_gives_the_same_landmarks(clip_path: Path) -> None:
    """A video read as fast as it goes (--fast) lets full mode start Pose on the next frame
    while the current one is handed over (FullBodyBackend.prefetch): the same images in the same
    order as frame by frame, so the same landmarks; a live source is never read ahead. In a
    batch run the next frame's images are made for the models on Pose's CPUs (the half with
    room), before Pose starts on them."""
    from vtuber.cpus import cpu_split
    from vtuber.landmarks import Landmarks
    from vtuber.landmarks.body import FullBodyBackend
    from vtuber.lookahead import LookAhead
    from vtuber.sources import VideoSource

    cap = cv2.VideoCapture(str(clip_path))
    images = [cap.read()[1] for _ in range(40)]
    cap.release()
    with FullBodyBackend() as plain:
        want = [plain.process(img, i / 25.0) for i, img in enumerate(images)]
    split = cpu_split()
    pose_cpus = split[0] if split else None
    with (
        FullBodyBackend(pose_cpus=pose_cpus) as body,
        VideoSource(clip_path, realtime=False) as src,
    ):
        told: list[int] = []
        prefetch = body.prefetch
        body.prefetch = lambda bgr: (told.append(1), prefetch(bgr))  # type: ignore[method-assign]
        where: list[set[int]] = []  # the CPUs each frame's images were made on
        prepare = body._prepare
        body._prepare = lambda bgr, focus: (  # type: ignore[method-assign]
            where.append(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            prepare(bgr, focus),
        )[1]
        ahead = LookAhead(src, body)
        got = []
        for frame in ahead:
            got.append(ahead.process(frame.image, frame.t))
            if len(got) == len(images):
                break
        ahead.close()
    assert len(told) >= len(images) - 1  # every next frame was announced
    if pose_cpus:  # all but the first frame's images made on Pose's CPUs
        assert sum(w == pose_cpus for w in where) >= len(images) - 1, where
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        for part in ("face", "pose", "left_hand", "right_hand"):
            pa, pb = getattr(a, part), getattr(b, part)
            assert pa.found == pb.found, (i, part)
            if pa.found:
                np.testing.assert_array_equal(pa.points, pb.points, err_msg=f"{i} {part}")

    class Recorder:  # a backend that reads ahead, on a source played in real time
        def __init__(self) -> None:
            self.told = 0

        def prefetch(self, bgr: np.ndarray) -> None:
            self.told += 1

        def process(self, bgr: np.ndarray, t: float) -> Landmarks:
            return Landmarks(t=t)

        def close(self) -> None:
            pass

    rec = Recorder()
    with VideoSource(clip_path, realtime=True) as live:
        ahead = LookAhead(live, rec)
        for k, _ in enumerate(ahead):
            if k == 3:
                break
        ahead.close()
    assert rec.told == 0


def test_full_mode_starts_pose_two_frames_ahead_with_the_region_known_then(
    tmp_path: Path, grace_bgr: np.ndarray
) -> None:
    """Read ahead, full mode keeps Pose's half busy: Pose may run two frames ahead of the face
    and hands, so each frame's images (and the lock-on region masking them) are made as soon
    as the frame is announced, with the region set after the frame two before it (one frame
    older than frame by frame; docs/performance.md). Frames are still processed in order, the
    first with no region, and a frame that was not announced drops the poses started."""
    from vtuber.landmarks.body import FullBodyBackend
    from vtuber.lookahead import LookAhead
    from vtuber.sources import VideoSource

    path = tmp_path / "grace.avi"
    h, w = grace_bgr.shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (w, h))
    for i in range(8):
        out.write(np.roll(grace_bgr, 3 * i, axis=1))
    out.release()

    seen: list[tuple[float, float, float, float] | None] = []  # focus per image made

    class Focused:  # what lock-on does: a region set after each frame (here: its index)
        def __init__(self, body: FullBodyBackend) -> None:
            self.body, self.n = body, 0
            self.prefetch_depth = body.prefetch_depth
            self.prefetch = body.prefetch

        def process(self, bgr: np.ndarray, t: float) -> object:
            lm = self.body.process(bgr, t)
            self.body.focus((0.0, 0.0, 1.0, 0.5 + 0.01 * self.n))
            self.n += 1
            return lm

        def close(self) -> None:
            pass

    with FullBodyBackend() as body, VideoSource(path, realtime=False) as src:
        assert body.prefetch_depth == 2
        prepare = body._prepare
        body._prepare = lambda bgr, focus: (  # type: ignore[method-assign]
            seen.append(focus),
            prepare(bgr, focus),
        )[1]
        ahead = LookAhead(src, Focused(body))
        got = [round(ahead.process(f.image, f.t).t * 25.0) for f in ahead]
        ahead.close()
        assert got == list(range(8))  # every frame, in order
        bottoms = [None if f is None else round((f[3] - 0.5) / 0.01) for f in seen]
        # Frame 0 alone; frames 1 and 2 announced after frame 0; frame k after frame k - 2.
        assert bottoms == [None, 0, 0, 1, 2, 3, 4, 5], bottoms

        # A frame that was not announced: the poses started are dropped, the frame is done.
        body.prefetch(grace_bgr)
        body.prefetch(np.roll(grace_bgr, 5, axis=0))
        assert len(body._pending) == 2
        lm = body.process(np.ascontiguousarray(grace_bgr[:, ::-1]), 9.0)
        assert lm.t == 9.0 and not body._pending


def test_status_line_shows_latency_p95_and_model_time() -> None:
    from vtuber.pipeline import Stats, StatusLine
    from vtuber.rig import AvatarFrame

    out = io.StringIO()
    stats = Stats(frames=100)
    for i in range(100):
        stats.latencies.append(0.005 + 0.0001 * i)  # 5.0 .. 14.9 ms: p95 = 14.4 ms
    StatusLine(out, model_ms=lambda pct: 4.2).update(stats, AvatarFrame(t=0.0))
    line = out.getvalue()
    assert "latency p95  14.4 ms" in line and "model  4.2 ms" in line, line


def test_stats_lists_stay_bounded() -> None:
    from vtuber.pipeline import Recent

    r = Recent()
    for i in range(5 * Recent.keep):
        r.append(float(i))
    assert Recent.keep <= len(r) <= 2 * Recent.keep
    assert r[-1] == 5 * Recent.keep - 1  # the newest are kept


def test_bench_runs_whole_processes_on_the_same_video(
    tmp_path: Path, grace_bgr: np.ndarray
) -> None:
    video = tmp_path / "face.mp4"
    wr = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (640, 480))
    for i in range(20):
        wr.write(cv2.resize(np.roll(grace_bgr, i, axis=1), (640, 480)))
    wr.release()
    # OpenSeeFace (not on PyPI, its model files not here) is timed from a checkout of it given
    # with --openseeface. Its seam: a stand-in checkout whose facetracker.py takes the options
    # OpenSeeFace's does, decodes the video and sends one packet a frame, as OpenSeeFace does.
    osf = tmp_path / "OpenSeeFace"
    (osf / "models").mkdir(parents=True)
    (osf / "facetracker.py").write_text(
        "import argparse, socket, cv2\n"
        "p = argparse.ArgumentParser()\n"
        "for a in ('-c --capture', '--model', '-s --silent', '-i --ip', '-p --port',\n"
        "          '--model-dir', '-m --max-threads'):\n"
        "    p.add_argument(*a.split())\n"
        "a = p.parse_args()\n"
        "assert a.model == '0' and a.silent == '1'\n"
        "cap, s = cv2.VideoCapture(a.capture), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "while cap.read()[0]:\n"
        "    s.sendto(b'face', (a.ip, int(a.port)))\n"
    )
    p = subprocess.run(
        [sys.executable, "-m", "vtuber", "bench", "--source", str(video), "--repeats", "1",
         "--lean-bare", "--openseeface", str(osf), "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])["whole"]
    assert res["frames"] == 20 and res["bare_found"] == 20
    assert res["vmc_datagrams_received"][0] >= 20  # ours really sent every frame over UDP
    assert res["fps"]["bare"] > 0 and res["fps"]["ours"] > 0 and res["fps"]["lean"] > 0
    assert "overhead_vs_bare_pct" in res and "overhead_vs_lean_bare_pct" in res
    assert res["openseeface_packets_received"] == [20]  # the peer ran on the same 20 frames
    ratio = res["median_s"]["openseeface"] / res["median_s"]["ours"]  # each rounded to 1 ms
    assert res["speedup_vs_openseeface"] == pytest.approx(ratio, rel=0.01)

    # Not a checkout of OpenSeeFace: one line, before anything runs.
    p = subprocess.run(
        [sys.executable, "-m", "vtuber", "bench", "--source", str(video), "--openseeface",
         str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert p.returncode == 2, p.stderr[-2000:]
    assert p.stderr.strip().count("\n") == 0 and "facetracker.py" in p.stderr


def test_bench_rejects_a_bad_size(tmp_path: Path) -> None:
    video = tmp_path / "x.mp4"
    video.write_bytes(b"not a video")
    p = subprocess.run(
        [sys.executable, "-m", "vtuber", "bench", "--source", str(video), "--size", "big"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "--size" in p.stderr


def test_websocket_frames_carry_the_trackers_own_latency() -> None:
    from vtuber.rig import AvatarFrame
    from vtuber.sinks.websocket import encode_frame

    av = AvatarFrame(t=0.0)
    av.t_capture = time.perf_counter() - 0.25
    m = json.loads(encode_frame(av))
    assert 250.0 <= m["sent_ms"] < 250.0 + 60_000.0  # capture -> encoded for sending
    assert "sent_ms" not in json.loads(encode_frame(AvatarFrame(t=0.0)))  # no capture time


def test_viewer_overlay_shows_the_trackers_latency_p95() -> None:
    from tests.browser_driver import Browser, require_browser
    from vtuber.rig import AvatarFrame
    from vtuber.sinks.websocket import WebSocketSink

    require_browser()
    sink = WebSocketSink("127.0.0.1", 0)
    sink.open()
    browser = Browser()
    try:
        browser("goto", url=sink.url)
        browser(
            "wait",
            js="const v = window.vtuberViewer; return !!(v && v.state.vrm && v.state.rendered > 2 "
            "&& v.state.connection === 'connected');",
            timeout=60000,
        )
        for i in range(20):  # captured 7 ms before it is sent; the last one 1 s before
            av = AvatarFrame(t=i / 30.0, index=i)
            av.t_capture = time.perf_counter() - (1.0 if i == 19 else 0.007)
            sink.send(av)  # the sink keeps only the newest frame: wait until this one arrived
            browser(
                "wait", js=f"return window.vtuberViewer.state.framesReceived >= {i + 1};",
                timeout=10000,
            )  # fmt: skip
        # The overlay's text is redrawn on the viewer's own tick, after the state takes the
        # last frame: wait until it shows the state's p95 (text and value read together).
        shown, p95 = browser(
            "wait",
            js="const s = window.vtuberViewer.state; "
            "const t = document.getElementById('latency').textContent; "
            "return s.framesReceived >= 20 && s.sentP95Ms !== null "
            "&& t.includes(`tracker p95 ${s.sentP95Ms.toFixed(0)} ms`) && [t, s.sentP95Ms];",
            timeout=10000,
        )
    finally:
        browser.close()
        sink.close()
    # 20 values: 19 of 7 ms (+ the send) and one of 1 s: the p95 is the 19th smallest, not the
    # outlier.
    assert 7.0 <= p95 < 500.0, (p95, shown)
    assert f"tracker p95 {round(p95)} ms" in shown or p95 % 1.0 == 0.5, (p95, shown)


def test_lost_hand_search_backs_off_until_the_arm_moves() -> None:
    from vtuber.landmarks import PoseLandmarks
    from vtuber.landmarks.body import FullBodyBackend

    pose = PoseLandmarks(found=True)
    pose.points[:, 3] = 1.0  # all visible
    pose.points[[11, 12], :2] = [(0.55, 0.4), (0.45, 0.4)]  # shoulders
    pose.points[13, :2] = (0.55, 0.7)  # left elbow
    pose.points[[15, 17, 19, 21], :2] = (0.55, 0.92)  # left wrist and hand, at the bottom edge
    rgb = np.zeros((360, 640, 3), np.uint8)  # no hand anywhere: every search fails
    with FullBodyBackend(threads=False) as be:
        hand = be.hands["left"]
        searched_on = []
        for i in range(45):
            n = hand.searches
            assert not hand.process(rgb, pose).found
            if hand.searches > n:
                searched_on.append(i)
        # retry_every = 3, then twice and four times as long while the wrist stays put
        assert list(np.diff(searched_on)) == [6, 12, 12, 12], searched_on
        pose.points[[15, 17, 19, 21], :2] = (0.6, 0.55)  # the arm is raised: search again soon
        n = hand.searches
        for _ in range(3):
            hand.process(rgb, pose)
        assert hand.searches == n + 1


def _clip_rgb(clip_path: Path, n: int, step: int = 4) -> list[np.ndarray]:
    """n RGB frames of the shared clip, every step-th one (the hand is raised from ~frame 40)."""
    cap = cv2.VideoCapture(str(clip_path))
    out = []
    i = 0
    while len(out) < n:
        ok, bgr = cap.read()
        assert ok, "the clip ended early"
        if i % step == 0:
            out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        i += 1
    cap.release()
    return out


def test_graph_runner_gives_the_same_landmarks_as_process(clip_path: Path) -> None:
    """The lean path (vtuber.landmarks.graph) reads the same floats as mediapipe's own
    process() + landmark_array, frame by frame through tracking, for face, pose and hands;
    the fallback path (lean=False) too."""
    from vtuber.landmarks.graph import GraphRunner
    from vtuber.landmarks.mp_import import mp
    from vtuber.landmarks.proto import landmark_array

    sol = mp.solutions
    frames = _clip_rgb(clip_path, 10, step=8)
    makers = {
        "face": lambda: sol.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True),
        "pose": lambda: sol.pose.Pose(model_complexity=1),
        "hands": lambda: sol.hands.Hands(model_complexity=1, max_num_hands=2),
    }
    hands_seen = 0
    for name, make in makers.items():
        stock, lean, slow = make(), GraphRunner(make()), GraphRunner(make(), lean=False)
        assert lean.lean and not slow.lean
        try:
            for rgb in frames:
                ref = stock.process(rgb)
                a, b = lean.run(rgb), slow.run(rgb)
                if name == "face":
                    want = [landmark_array(m) for m in ref.multi_face_landmarks or []]
                    got = [a.landmark_lists("multi_face_landmarks")]
                    got.append(b.landmark_lists("multi_face_landmarks"))
                elif name == "pose":
                    want = [landmark_array(ref.pose_landmarks, 4)]
                    want.append(landmark_array(ref.pose_world_landmarks))
                    got = [
                        [r.landmarks("pose_landmarks", 4), r.landmarks("pose_world_landmarks")]
                        for r in (a, b)
                    ]
                else:
                    want = [landmark_array(m) for m in ref.multi_hand_landmarks or []]
                    got = [a.landmark_lists("multi_hand_landmarks")]
                    got.append(b.landmark_lists("multi_hand_landmarks"))
                    labels = [h.classification[0].label for h in ref.multi_handedness or []]
                    for r in (a, b):
                        assert [
                            h.classification[0].label for h in r.messages("multi_handedness")
                        ] == labels
                    hands_seen += len(want)
                assert want or name == "hands"  # a face and a pose on every frame
                assert all(w.shape[0] in (21, 33, 478) for w in want), name
                for g in got:
                    assert len(g) == len(want)
                    for x, y in zip(g, want, strict=True):
                        assert x is not None and np.array_equal(x, y), name
        finally:
            for s in (stock, lean.solution, slow.solution):
                s.close()
    assert hands_seen >= 5  # the raised hand was found on several frames


def test_graph_runner_reports_nothing_found_and_bad_input() -> None:
    from vtuber.landmarks.graph import GraphRunner
    from vtuber.landmarks.mp_import import mp

    runner = GraphRunner(mp.solutions.face_mesh.FaceMesh(max_num_faces=1))
    try:
        res = runner.run(np.zeros((120, 160, 3), np.uint8))  # no face
        assert not res.has("multi_face_landmarks")
        assert res.landmark_lists("multi_face_landmarks") == []
        with pytest.raises(ValueError, match="three channel"):
            runner.run(np.zeros((120, 160, 4), np.uint8))
    finally:
        runner.solution.close()


def test_landmarks_from_bytes_refuses_irregular_records() -> None:
    from mediapipe.framework.formats import landmark_pb2

    from vtuber.landmarks.proto import landmarks_from_bytes

    lst = landmark_pb2.NormalizedLandmarkList()
    for i in range(6):
        p = lst.landmark.add()
        p.x, p.y = 0.1 * i, 0.2
        if i % 2:
            p.z = 1.0  # records of two sizes
    assert landmarks_from_bytes(lst.SerializeToString()) is None
    for p in lst.landmark:
        p.z = 0.5
    pts = landmarks_from_bytes(lst.SerializeToString())
    assert pts is not None and pts.shape == (6, 3) and np.allclose(pts[:, 2], 0.5)
    assert landmarks_from_bytes(lst.SerializeToString(), fields=4) is None  # no visibility
    assert landmarks_from_bytes(b"").shape == (0, 3)  # type: ignore[union-attr]


def test_face_landmarker_lean_path_equals_the_tasks_api(clip_path: Path, model_path: Path) -> None:
    """Perfect sync's lean VIDEO path (output packets read directly) gives the same landmarks,
    blendshapes and matrix as the Tasks API's detect_for_video, frame by frame."""
    from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

    path = model_path
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in _clip_rgb(clip_path, 12, step=3)]
    frames.insert(6, np.zeros_like(frames[0]))  # a frame with no face in the middle
    lean, api = FaceLandmarkerBackend(path), FaceLandmarkerBackend(path)
    api.lean = False
    assert lean.lean
    try:
        for i, bgr in enumerate(frames):
            a, b = lean.process(bgr, i / 25.0), api.process(bgr, i / 25.0)
            assert (a.width, a.height, a.t) == (b.width, b.height, b.t)
            assert a.face.found == b.face.found == (i != 6)
            if not a.face.found:
                continue
            assert a.face.has_blendshapes and b.face.has_blendshapes
            assert np.array_equal(a.face.points, b.face.points)
            assert np.array_equal(a.face.blendshapes, b.face.blendshapes)
            assert a.face.matrix.dtype == b.face.matrix.dtype
            assert np.array_equal(a.face.matrix, b.face.matrix)
        assert lean.lean  # it never had to fall back
    finally:
        lean.close()
        api.close()


def _python_osc_datagrams(frame, limit: int = 1500) -> list[bytes]:  # type: ignore[no-untyped-def]
    """The datagrams of one frame built with python-osc's builders from the frame's own accessors
    (``AvatarFrame.bone`` / ``.position``), packed greedily: the reference the fast encoder of
    vtuber/vmc.py must equal byte for byte (docs/vmc.md gives the order)."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    from vtuber.rig import BONE_ORDER, VRM1_TO_VRM0

    def msg(address: str, *args: tuple[object, str]):  # type: ignore[no-untyped-def]
        b = OscMessageBuilder(address)
        for value, tag in args:
            b.add_arg(value, tag)
        return b.build()

    rp, rq = frame.root_position, frame.root_rotation
    msgs = [msg("/VMC/Ext/Root/Pos", ("root", "s"), *[(float(v), "f") for v in (*rp, *rq)])]
    for b in BONE_ORDER:
        vals = (*frame.position(b), *frame.bone(b))
        msgs.append(msg("/VMC/Ext/Bone/Pos", (b.name, "s"), *[(float(v), "f") for v in vals]))
    for key, value in frame.blendshapes.items():
        names = (VRM1_TO_VRM0[key], key) if key in VRM1_TO_VRM0 else (key,)
        msgs += [msg("/VMC/Ext/Blend/Val", (n, "s"), (float(value), "f")) for n in names]
    msgs.append(msg("/VMC/Ext/Blend/Apply"))
    for ev in frame.events:
        if ev.kind == "key":
            args = ((int(ev.active), "i"), (ev.name, "s"), (ev.keycode, "i"))
            msgs.append(msg("/VMC/Ext/Key", *args))
    tracking = int(frame.tracking.face or frame.tracking.body)
    msgs.append(msg("/VMC/Ext/OK", (1, "i"), (3, "i"), (0, "i"), (tracking, "i")))
    msgs.append(msg("/VMC/Ext/T", (float(frame.t), "f")))
    out, cur, size = [], [], 16
    for m in msgs + [None]:
        if m is None or (cur and size + 4 + m.size > limit):
            bb = OscBundleBuilder(IMMEDIATELY)
            for c in cur:
                bb.add_content(c)
            out.append(bb.build().dgram)
            cur, size = [], 16
        if m is not None:
            cur.append(m)
            size += 4 + m.size
    return out


def test_vmc_datagrams_sent_equal_python_osc_on_the_clip(clip_path: Path) -> None:
    """What ``vtuber track`` sends for real frames of the shared clip (Pipeline: Tracker,
    smoothing, mirror, VMC over loopback UDP) equals, datagram for datagram, python-osc's
    encoding of the same frames built the plain way: the fast VMC path changes no byte."""
    from vtuber.pipeline import Pipeline
    from vtuber.rig import AvatarFrame, Bone, FrameEvent, Tracking, mirror_frame
    from vtuber.sinks.vmc import VMCSink
    from vtuber.smoothing import SmoothingConfig, make_smoother
    from vtuber.sources import Frame
    from vtuber.tracker import Tracker
    from vtuber.vmc import encode_frame

    cap = cv2.VideoCapture(str(clip_path))
    frames = []
    while len(frames) < 30:
        ok, bgr = cap.read()
        assert ok, "the clip ended early"
        img = cv2.resize(bgr, (640, 480), interpolation=cv2.INTER_AREA)
        frames.append(Frame(img, len(frames) / 25.0, 0.0, len(frames)))
    cap.release()
    from vtuber.landmarks.facemesh import FaceMeshBackend

    facemesh = FaceMeshBackend()  # a fresh one: the frames' landmarks do not depend on others'
    try:
        lms = {id(f.image): facemesh.process(f.image, f.t) for f in frames}
    finally:
        facemesh.close()
    assert sum(lm.face.found for lm in lms.values()) >= 25

    class Cached:  # the landmark backend's seam: this frame's landmarks, computed above
        def process(self, bgr: np.ndarray, t: float):  # type: ignore[no-untyped-def]
            return lms[id(bgr)]

        def close(self) -> None:
            pass

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    rx.settimeout(2.0)
    sink = VMCSink([("127.0.0.1", rx.getsockname()[1])])
    sink.open()
    try:
        smooth = make_smoother(SmoothingConfig(preset="medium"))
        Pipeline(frames, Cached(), Tracker(), [sink], smoother=smooth).run()
        got = [rx.recv(65536) for _ in range(sink.datagrams)]
    finally:
        sink.close()
        rx.close()
    tracker, smooth = Tracker(), make_smoother(SmoothingConfig(preset="medium"))
    want = []
    for f in frames:
        av = mirror_frame(smooth.update(tracker.solve(lms[id(f.image)], f.t_capture, f.index)))
        want += _python_osc_datagrams(av)
    assert len(got) == len(want) >= 4 * len(frames)  # 5 datagrams a frame with a face
    assert got == want
    # The paths real frames do not take here: a bone given a position only, full-body bones,
    # an empty bones dict, a key event, nothing tracked.
    odd = [
        AvatarFrame(
            t=3.25,
            tracking=Tracking(body=True),
            bones={Bone.Hips: (0.1, 0.2, 0.3, 0.9), Bone.LeftLowerArm: (0.0, 0.6, 0.0, 0.8)},
            positions={Bone.Hips: (0.01, 0.9, -0.2), Bone.RightHand: (0.2, 0.0, 0.0)},
            root_position=(0.5, 0.0, 1.0),
            root_rotation=(0.0, 0.7071, 0.0, 0.7071),
            blendshapes={"aa": 0.25, "jawOpen": 0.5, "custom": 1.0},
            events=(FrameEvent("key", "thumbs_up", True, 65), FrameEvent("viewer", "x", True)),
        ),
        AvatarFrame(t=0.0),
    ]
    for av in odd:
        assert encode_frame(av) == _python_osc_datagrams(av)


def test_bench_sides_run_with_the_bytecode_cache_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell that turned Python's bytecode cache off (PYTHONDONTWRITEBYTECODE) would make
    every timed start-up compile vtuber's modules again: the bench's sides run with it on, in a
    folder of their own."""
    from vtuber.commands.bench import side_env

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    code = "import sys, vtuber.vmc; print(sys.dont_write_bytecode, sys.pycache_prefix)"
    env = side_env(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", str(tmp_path)]
    assert list(tmp_path.rglob("vmc*.pyc"))  # written there, not beside the sources
