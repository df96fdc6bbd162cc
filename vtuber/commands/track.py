"""``vtuber track``: camera / video / image folder -> tracking -> VMC (and other sinks)."""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack

from vtuber.commands.common import add_face_model_arg, add_sink_args, build_sinks
from vtuber.commands.gesture_args import add_gesture_args, build_gestures
from vtuber.commands.lipsync_args import add_lipsync_args, build_lipsync
from vtuber.commands.performer_args import (
    add_performer_args,
    check_performer_args,
    performer_backend,
    performer_streams,
)
from vtuber.commands.smoothing_args import add_smoothing_args, smoothing_config
from vtuber.config import EXPRESSIONS, MODES, FaceConfig, TrackConfig
from vtuber.cpus import cpu_split, pin_thread
from vtuber.errors import ConfigError, SourceError
from vtuber.lookahead import LookAhead
from vtuber.pipeline import Pipeline, StatusLine, display_available
from vtuber.smoothing import make_smoother
from vtuber.sources import CameraSource, Source, open_source, parse_camera_size

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "track",
        help="track a camera, video or image folder and drive the avatar",
        description="Track a face (and body) and send the avatar's motion to VMC receivers "
        "(VSeeFace, Unity/EVMC4U, VNyan, Warudo ...). With no camera and no --source, plays "
        "a built-in demo.",
    )
    add_track_args(p)
    add_sink_args(p)
    return p


def add_track_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        default=None,
        help="camera index or name (or part of it: see `vtuber cameras`), video file or image "
        "folder (default: camera 0, else the built-in demo)",
    )
    p.add_argument(
        "--camera-size",
        metavar="WxH",
        default=None,
        help="ask the camera for this size, e.g. 1280x720 (default 640x480; what it really "
        "gives is printed on start)",
    )
    p.add_argument(
        "--camera-fps", type=float, default=None, help="ask the camera for this frame rate"
    )
    p.add_argument(
        "--fast", action="store_true", help="process files as fast as possible (not real time)"
    )
    p.add_argument(
        "--loop",
        action="store_true",
        help="repeat a video file or image folder forever (frame times and /VMC/Ext/T keep "
        "increasing; for setting up OBS or a demo without a camera)",
    )
    p.add_argument(
        "--mirror",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="avatar moves like your mirror image (default); --no-mirror: anatomically",
    )
    p.add_argument("--mode", choices=MODES, default="face", help="face only, or full upper body")
    p.add_argument(
        "--legs",
        action="store_true",
        help="with --mode full: also drive the legs when hips, knees and ankles are in view "
        "(off by default: seated streamers; limits in docs/body.md)",
    )
    p.add_argument("--fov", type=float, default=60.0, help="camera horizontal field of view, deg")
    add_face_model_arg(
        p,
        "facemesh: bundled FaceMesh + geometric face solvers (default); landmarker: "
        "MediaPipe Face Landmarker with the 52 ARKit blendshapes for perfect-sync avatars "
        "(needs face_landmarker.task: vtuber models fetch)",
    )
    add_smoothing_args(p)
    add_lipsync_args(p)
    add_gesture_args(p)
    add_performer_args(p)
    g = p.add_argument_group("face expressions")
    g.add_argument("--profile", default=None, help="face profile from `vtuber calibrate`")
    g.add_argument(
        "--expressions",
        default=",".join(EXPRESSIONS),
        help=f"emotions to send, comma-separated from {','.join(EXPRESSIONS)}, or 'none'",
    )
    g.add_argument(
        "--gaze-range",
        default="30,20",
        metavar="YAW,PITCH",
        help="largest eye rotation in degrees (look shapes reach 1 there; default 30,20)",
    )
    g.add_argument(
        "--no-winks",
        action="store_true",
        help="both of the avatar's eyes always blink together (an eye closing alone shows "
        "nothing: for one-eyed blinks you did not make, e.g. behind glasses)",
    )
    p.add_argument(
        "--preview", action="store_true", help="show a window with the landmarks (c: calibrate)"
    )
    p.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="with --fast: exit 0 even when the video ends before its declared frame count",
    )
    p.add_argument("--quiet", action="store_true", help="no status line")


def open_track_source(args: argparse.Namespace) -> Source:
    """The source the options ask for; with no --source and no camera, the built-in demo."""
    size_text = getattr(args, "camera_size", None)
    size = parse_camera_size(size_text) if size_text else None
    fps = getattr(args, "camera_fps", None)
    if args.source is not None:
        loop = getattr(args, "loop", False)
        return open_source(args.source, fast=args.fast, loop=loop, camera_size=size, camera_fps=fps)
    if getattr(args, "loop", False):
        raise ConfigError("--loop repeats a video file or image folder: give one with --source")
    try:
        return open_source("0", fast=args.fast, camera_size=size, camera_fps=fps)
    except SourceError:
        from vtuber.synth.demo import DemoSource

        print(
            "vtuber: no camera found; playing the built-in demo (a rendered face turning its "
            "head). Use --source to pick a camera, video or image folder.",
            file=sys.stderr,
        )
        return DemoSource(realtime=not args.fast)


def make_backend(  # type: ignore[no-untyped-def]
    args: argparse.Namespace, source: Source, pose_cpus: set[int] | None = None
):
    """The landmark backend the options ask for (``pose_cpus``: full mode's Pose graph's CPUs,
    vtuber.cpus)."""
    face = None
    if getattr(args, "face_model", "facemesh") == "landmarker":
        from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

        face = FaceLandmarkerBackend(static_images=source.static_images)
    if getattr(args, "mode", "face") == "full" and getattr(args, "performers", 1) > 1:
        from vtuber.landmarks.multibody import MultiBodyBackend  # pose + hands per performer

        return MultiBodyBackend(args.performers, static_images=source.static_images)
    if getattr(args, "mode", "face") == "full":  # face + pose + hands, concurrently
        from vtuber.landmarks.body import FullBodyBackend

        return FullBodyBackend(static_images=source.static_images, face=face, pose_cpus=pose_cpus)
    if face is not None:
        return face
    from vtuber.landmarks.facemesh import FaceMeshBackend

    return FaceMeshBackend(static_images=source.static_images)


def make_tracker(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from vtuber.solvers.calibration import FaceProfile
    from vtuber.tracker import Tracker

    profile = FaceProfile.load(args.profile) if getattr(args, "profile", None) else None
    legs = bool(getattr(args, "legs", False))
    if legs and args.mode != "full":
        raise ConfigError("--legs needs --mode full (legs come from the body model)")
    cfg = TrackConfig(
        mode=args.mode, hfov_deg=args.fov, face=face_config(args),
        legs=legs,
    )  # fmt: skip
    return Tracker(cfg, profile)


def face_config(args: argparse.Namespace) -> FaceConfig:
    """FaceConfig from --expressions, --gaze-range and --no-winks (ConfigError on a bad
    value)."""
    spec = getattr(args, "expressions", ",".join(EXPRESSIONS)).strip()
    names = () if spec in ("", "none") else tuple(x.strip() for x in spec.split(","))
    try:
        yaw, pitch = (float(x) for x in getattr(args, "gaze_range", "30,20").split(","))
    except ValueError as e:
        raise ConfigError("--gaze-range must be two numbers, YAW,PITCH in degrees") from e
    return FaceConfig(
        expressions=names,
        gaze_yaw_range_deg=yaw,
        gaze_pitch_range_deg=pitch,
        winks=not getattr(args, "no_winks", False),
    )


def calibration_key(tracker):  # type: ignore[no-untyped-def]
    """Preview key handler: 'c' records the neutral face for 3 s (90 frames) and uses it."""

    def on_key(key: int) -> None:
        if key == ord("c") and hasattr(tracker, "face"):
            tracker.face.start_calibration(90)
            tracker.arkit.recalibrate(live=True)  # the perfect-sync rest is learned anew too
            print("vtuber: calibrating: look at the screen, relax your face", file=sys.stderr)

    return on_key


def single_threaded_opencv() -> None:
    """Turn off OpenCV's own thread pool for this process. The frames' conversions (BGR -> RGB,
    resizing) are small and already run beside the model on threads of their own; the pool's
    workers spin waiting for the next call, which on a 2-core machine cost ~0.5 ms of CPU per
    640x480 conversion instead of ~0.1 (docs/performance.md "Where the time goes")."""
    import cv2

    cv2.setNumThreads(1)


def run(args: argparse.Namespace) -> int:
    single_threaded_opencv()
    smoother = make_smoother(smoothing_config(args))  # a bad config fails before the camera opens
    gestures = build_gestures(args)  # --gestures: recognition + bindings, or None
    check_performer_args(args)
    with ExitStack() as stack:
        # A batch run (--fast): the model's graph threads (face mode; in full mode Pose's, the
        # slowest of three) on half the CPUs, ours (decoding, the other graphs, the pipeline,
        # the sinks) on the other half. Not live, where every thread is best free to take an
        # idle core (latency), nor with two performers in full mode (two Poses, alternating)
        # (docs/performance.md, "Threads on their own cores").
        full = args.mode == "full"
        split = cpu_split() if args.fast and not (full and args.performers > 1) else None
        if split:
            stack.callback(pin_thread, split[0] | split[1])  # this thread's CPUs back, at the end
        pin_thread(split[1] if split else None)
        mouth = build_lipsync(args)  # audio lip sync, or None (camera); fails before the camera
        if mouth is not None:
            stack.callback(mouth.close)
        source = stack.enter_context(open_track_source(args))
        if isinstance(source, CameraSource) and not args.quiet:
            print(f"vtuber: {source.describe()}", file=sys.stderr)  # the mode it really gives
        model_cpus = split[0] if split and not full else None
        pin_thread(model_cpus)  # the graph's threads, made now, inherit it
        pose_cpus = split[0] if split and full else None
        backend = performer_backend(args, make_backend(args, source, pose_cpus))  # lock-on
        stack.callback(backend.close)
        pin_thread(split[1] if split else None)  # this thread: the pipeline
        # The model runs one frame ahead on its own thread while this one solves and sends.
        ahead = LookAhead(source, backend, cpus=model_cpus)
        stack.callback(ahead.close)
        tracker = make_tracker(args)
        sinks = build_sinks(args)
        streams = performer_streams(
            args, make_tracker, lambda: make_smoother(smoothing_config(args)), build_sinks, sinks
        )
        for s in sinks + [s for st in streams for s in st.sinks]:
            s.open()
            stack.callback(s.close)
        on_frame = None
        if args.preview:
            if display_available():
                from vtuber.preview import Preview

                performers = getattr(backend, "tracker", None)  # lock-on: click to choose
                on_click = performers.choose if performers is not None else None
                preview = stack.enter_context(
                    Preview(on_key=calibration_key(tracker), on_click=on_click)
                )
                on_frame = preview.show
            else:
                log.warning("--preview: no display found; running without a window")
        hint = ""
        if isinstance(source, CameraSource):  # what a user can do about a small face
            hint = "sit closer" + (" or --camera-size 1280x720" if source.actual[0] < 1280 else "")
        status = None if args.quiet else StatusLine(model_ms=ahead.model_ms, small_face_hint=hint)
        if status is not None and args.fast and source.frame_count:
            from vtuber.progress import ProgressLine

            total = min(source.frame_count, args.max_frames or source.frame_count)
            status = ProgressLine(total)  # type: ignore[assignment]
        pipe = Pipeline(
            ahead, ahead, tracker, sinks, mirror=args.mirror, status=status, on_frame=on_frame,
            smoother=smoother, mouth=mouth, streams=streams, gestures=gestures,
        )  # fmt: skip
        if mouth is not None:
            mouth.start()
        stats = pipe.run(max_frames=args.max_frames)
        if not args.quiet:
            print(
                f"vtuber: {stats.frames} frames in {stats.elapsed:.1f} s ({stats.fps:.1f} fps), "
                f"face found in {stats.faces}"
                + (f" (stopped by {stats.interrupted})" if stats.interrupted else ""),
                file=sys.stderr,
            )
        short = getattr(source, "shortfall", lambda: None)()
    # A recording stopped by a write error (reported when it happened) makes the exit status 1.
    rec_failed = any(getattr(s, "status_mark", "") for s in sinks)
    return max(partial_exit(args, short, stats.interrupted), int(rec_failed))


def partial_exit(args: argparse.Namespace, short: tuple[int, int] | None, interrupted: str) -> int:
    """Report a source that ended early; a --fast batch run that is short (source ended early
    or stopped by a signal) exits 1 unless --allow-partial."""
    batch = bool(args.fast) and not getattr(args, "allow_partial", False)
    if short is not None:
        read, expected = short
        print(
            f"vtuber: {'error' if batch else 'warning'}: the source ended early: {read} of "
            f"{expected} frames could be read (truncated or damaged video?)"
            + ("; --allow-partial accepts a partial run" if batch else ""),
            file=sys.stderr,
        )
    return 1 if batch and (short is not None or interrupted) else 0
