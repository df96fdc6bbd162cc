"""The bare model loop: decode a video and run MediaPipe on every frame, nothing else.

The reference ``vtuber bench`` measures vtuber's whole process against (docs/performance.md): what
the models alone cost, start-up included, with no solvers, smoothing or sending. Run it as its own
process so that its start-up (Python, cv2, mediapipe, graph creation) is timed like
``vtuber track``'s (mediapipe imported the same lean way, :mod:`vtuber.landmarks.mp_import`)::

    python -m vtuber.landmarks.bare MODEL VIDEO [--frames N] [--lean]

MODEL is ``facemesh`` (FaceMesh with iris, the default face model), ``landmarker`` (the Face
Landmarker task with blendshapes and matrix, perfect sync) or ``holistic`` (MediaPipe Holistic,
model_complexity=1 with the refined face: the peer of ``--mode full``). One JSON line is printed:
frames, frames with a face, and the seconds spent in the loop. Frames are decoded in the loop's
own thread, at the video's size, as the simplest program using these models would, through
MediaPipe's own API (``FaceMesh.process``, ``detect_for_video``, ``Holistic.process``).

``--lean`` runs the same graphs with the same options the way vtuber's backends drive them
(:class:`vtuber.landmarks.graph.GraphRunner`, the Face Landmarker's packet path), reading the
landmarks into numpy, with OpenCV's thread pool off as in ``vtuber track``: the models' own cost
with the least Python around them, the strictest reference (docs/performance.md reports the
whole process against both).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

MODELS = ("facemesh", "landmarker", "holistic")


def _lean_runner(model: str, model_path: str | None):  # type: ignore[no-untyped-def]
    from vtuber.landmarks.graph import GraphRunner
    from vtuber.landmarks.mp_import import mp

    if model == "landmarker":
        from vtuber.landmarks.face_landmarker import FaceLandmarkerBackend

        backend = FaceLandmarkerBackend(model_path)
        return lambda rgb, t: backend.process(rgb, t).face.found, False  # takes BGR itself
    if model == "facemesh":
        mesh = GraphRunner(mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True))
        return lambda rgb, t: bool(mesh.run(rgb).landmark_lists("multi_face_landmarks")), True
    hol = GraphRunner(
        mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True)
    )

    def holistic(rgb, t):  # type: ignore[no-untyped-def]
        out = hol.run(rgb)
        for name in ("pose_landmarks", "left_hand_landmarks", "right_hand_landmarks"):
            out.landmarks(name)
        return out.landmarks("face_landmarks") is not None

    return holistic, True


def _runner(model: str, model_path: str | None):  # type: ignore[no-untyped-def]
    """``(run(image, t) -> face found, whether run takes RGB)`` through MediaPipe's API."""
    from vtuber.landmarks.mp_import import mp

    if model == "facemesh":
        mesh = mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)
        return lambda rgb, t: bool(mesh.process(rgb).multi_face_landmarks), True
    if model == "holistic":
        hol = mp.solutions.holistic.Holistic(model_complexity=1, refine_face_landmarks=True)
        return lambda rgb, t: hol.process(rgb).face_landmarks is not None, True
    BaseOptions, vision = mp.tasks.BaseOptions, mp.tasks.vision
    task = vision.FaceLandmarker.create_from_options(
        vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=model_path),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
    )
    last = [-1]

    def detect(rgb, t):  # type: ignore[no-untyped-def]
        ms = max(int(t * 1000.0), last[0] + 1)
        last[0] = ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        return bool(task.detect_for_video(image, ms).face_landmarks)

    return detect, True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vtuber.landmarks.bare", description=__doc__)
    ap.add_argument("model", choices=MODELS)
    ap.add_argument("video")
    ap.add_argument("--frames", type=int, default=None, help="stop after N frames")
    ap.add_argument("--model-path", default=None, help="face_landmarker.task (landmarker only)")
    ap.add_argument("--lean", action="store_true", help="drive the graphs as vtuber's backends do")
    args = ap.parse_args(argv)
    os.environ.setdefault("GLOG_minloglevel", "2")
    import cv2

    if args.model == "landmarker" and args.model_path is None:
        from vtuber.models import resolve

        args.model_path = str(resolve("face_landmarker"))
    if args.lean:  # OpenCV's thread pool off, as `vtuber track` runs (docs/performance.md)
        cv2.setNumThreads(1)
    run, takes_rgb = (_lean_runner if args.lean else _runner)(args.model, args.model_path)
    cap = cv2.VideoCapture(args.video)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    n = found = 0
    t0 = time.perf_counter()
    while args.frames is None or n < args.frames:
        ok, bgr = cap.read()
        if not ok:
            break
        found += run(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if takes_rgb else bgr, n / fps)
        n += 1
    loop_s = time.perf_counter() - t0
    cap.release()
    rec = {"model": args.model, "lean": args.lean, "frames": n, "found": found, "loop_s": loop_s}
    print(json.dumps(rec))
    sys.stdout.flush()
    return 0 if n else 1


if __name__ == "__main__":
    raise SystemExit(main())
