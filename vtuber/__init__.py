"""vtuber: drive a VRM avatar from a webcam with MediaPipe.

Pipeline stages (one module or package each): sources -> landmarks -> solvers -> smoothing ->
rig.AvatarFrame -> sinks. See docs/architecture.md.
"""

__version__ = "0.1.0"
