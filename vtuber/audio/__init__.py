"""Audio lip sync: microphone or a file's sound track -> mouth openness and the five vowel
shapes, blended with the camera's mouth (docs/lipsync.md).

- :mod:`vtuber.audio.analysis`: the causal analysis (voicing, openness, vowels) every 10 ms.
- :mod:`vtuber.audio.decode`: file audio through PyAV.
- :mod:`vtuber.audio.capture`: microphones through PortAudio (sounddevice) and the file-fed
  stand-in with the same interface (the seam tests use).
- :mod:`vtuber.audio.lipsync`: camera / audio / hybrid mouth for the pipeline.
- :mod:`vtuber.audio.calibrate`: learn the user's vocal-tract warp from five vowels
  (``vtuber calibrate --audio``).
- :mod:`vtuber.audio.fitting`: fit the vowel network (benchmarks/fit_lipsync_vowels.py).
- :mod:`vtuber.audio.yardstick`: espeak-ng speech with known phones, scored frame by frame.
"""
