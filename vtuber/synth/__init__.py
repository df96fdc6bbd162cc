"""Synthetic input with known ground truth: rendered faces (:mod:`vtuber.synth.face`) and the
built-in demo source (:mod:`vtuber.synth.demo`)."""
