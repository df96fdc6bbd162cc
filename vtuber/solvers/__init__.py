"""Solvers: pure functions (plus small explicit state classes) from landmark arrays to rig values.

One module per body part. Solvers import numpy/scipy/cv2, :mod:`vtuber.landmarks` record types and
:mod:`vtuber.rig` — never mediapipe, a renderer or a sink.
"""
