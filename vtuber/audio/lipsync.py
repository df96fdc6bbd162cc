"""The mouth the pipeline sends: from the camera, from the audio, or both (hybrid).

A :class:`LipSync` is the pipeline's ``mouth`` stage (``apply(frame, t) -> frame``, after smoothing
and the mirror; mouth shapes are symmetric). The audio comes from either

- :class:`TrackAudio`: a file's sound track analysed once up front; the mouth at frame time ``t``
  is the hop that represents ``t`` (the later sound is in the file, so the analyser's declared
  delay, ``analysis.DELAY``, costs nothing here; the same in real time and in ``--fast`` runs, so
  the mouth stays in sync with the file's frames);
- :class:`LiveAudio`: an input stream (a microphone, or :class:`FileInputStream`); the newest
  analysed hop, whatever ``t`` is: it represents the sound ``analysis.DELAY`` (20 ms) ago.

Modes:
- ``camera``: the frame is left as the tracker made it.
- ``audio``: aa/ih/ou/ee/oh and jawOpen come from the audio only (the camera's are replaced).
- ``hybrid``: while the user speaks (voiced in the last ``hold`` seconds) the audio's vowels drive
  the mouth and the camera's openness scales them (x0.7 closed .. x1.3 wide, clipped to 1); in
  silence the camera's mouth is sent untouched. The switch is a cross-fade over ``fade`` seconds
  between the two complete mouth sets: the vowel weights never add up to more than one, so the
  camera's and the audio's shapes are never stacked (no double mouth).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from vtuber.audio.adapt import AdaptiveAnalyzer
from vtuber.audio.analysis import (
    CLOSED,
    DELAY_HOPS,
    HOP,
    RATE,
    VOWEL_KEYS,
    Analyzer,
    AnalyzerConfig,
    MouthShape,
    VowelModel,
    analyze,
    level_text,
)
from vtuber.audio.capture import Callback, InputStream, open_input
from vtuber.audio.decode import AudioTrack, load_audio
from vtuber.errors import ConfigError
from vtuber.rig import AvatarFrame

# The status line shows VOICE when the user spoke within this long (seconds).
STATUS_VOICE_S = 0.5

LIPSYNC_MODES = ("camera", "audio", "hybrid")


class TrackAudio:
    """A whole sound track, analysed once; ``at(t)`` = the mouth at media time ``t`` (the hop
    that represents ``t``: the analyser's delay is taken back, the track's end padded with
    silence so its last instants have a mouth)."""

    def __init__(
        self,
        track: AudioTrack,
        model: VowelModel | None = None,
        cfg: AnalyzerConfig | None = None,
        *,
        adapt: bool = False,
    ) -> None:
        if track.rate != RATE:
            raise ConfigError(f"sound track must be {RATE} Hz, not {track.rate}")
        self.track = track
        samples = np.concatenate([track.samples, np.zeros(DELAY_HOPS * HOP, track.samples.dtype)])
        if adapt:  # the talker's vocal-tract warp learned online (vtuber/audio/adapt.py)
            self.shapes = AdaptiveAnalyzer(model, cfg).push(samples)
        else:
            self.shapes = analyze(samples, model, cfg)

    @classmethod
    def from_file(
        cls, path: str | Path, model: VowelModel | None = None, *, adapt: bool = False
    ) -> TrackAudio:
        return cls(load_audio(path, RATE), model, adapt=adapt)

    def at(self, t: float) -> MouthShape:
        # hop i represents (i + 1) * HOP / RATE - DELAY on the track's clock
        i = int(np.floor((t - self.track.start) * RATE / HOP + 1e-6)) - 1 + DELAY_HOPS
        if i < 0 or i >= len(self.shapes):
            return CLOSED
        return self.shapes[i]

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


class LiveAudio:
    """An input stream analysed as it arrives (PortAudio callback thread); ``at`` returns the
    newest mouth."""

    def __init__(
        self,
        spec: str,
        model: VowelModel | None = None,
        cfg: AnalyzerConfig | None = None,
        *,
        adapt: bool = False,
    ) -> None:
        # adapt: the talker's vocal-tract warp learned online (vtuber/audio/adapt.py); a new
        # LiveAudio (a new session) starts afresh at warp 1
        self.analyzer: Analyzer | AdaptiveAnalyzer = (
            AdaptiveAnalyzer(model, cfg) if adapt else Analyzer(model, cfg)
        )
        self._lock = threading.Lock()
        self._latest = CLOSED
        self.stream: InputStream = open_input(spec, self.callback)

    @property
    def callback(self) -> Callback:
        def on_block(indata, frames, time_info, status):  # type: ignore[no-untyped-def]
            shapes = self.analyzer.push(indata[:, 0])
            if shapes:
                with self._lock:
                    self._latest = shapes[-1]

        return on_block

    def at(self, t: float) -> MouthShape:
        with self._lock:
            return self._latest

    def start(self) -> None:
        self.stream.start()

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


class LipSync:
    """The pipeline's mouth stage: ``apply(frame, t)`` with ``t`` the frame's source time."""

    def __init__(
        self, mode: str, audio: TrackAudio | LiveAudio, *, hold: float = 0.3, fade: float = 0.1
    ) -> None:
        if mode not in LIPSYNC_MODES:
            raise ConfigError(f"--lipsync must be one of {LIPSYNC_MODES}, not {mode!r}")
        self.mode = mode
        self.audio = audio
        self.hold = hold
        self.fade = fade
        self._last_voice = -1e9
        self._w = 0.0  # audio's share of the mouth (hybrid)
        self._t_prev: float | None = None
        self.last = CLOSED
        self._voice_at = -1e9  # time of the last voiced hop, and of the last frame
        self._now = 0.0

    def apply(self, frame: AvatarFrame, t: float) -> AvatarFrame:
        if self.mode == "camera":
            return frame
        shape = self.audio.at(t)
        self.last = shape
        self._now = t
        if shape.voiced:
            self._voice_at = t
        bs = dict(frame.blendshapes)
        if self.mode == "audio":
            bs.update(shape.vowels)
            bs["jawOpen"] = shape.open
            return replace(frame, blendshapes=bs)
        # hybrid
        dt = 0.0 if self._t_prev is None else min(max(t - self._t_prev, 0.0), 0.5)
        self._t_prev = t
        if shape.voiced:
            self._last_voice = t
        speaking = t - self._last_voice <= self.hold
        step = dt / self.fade if self.fade > 0 else 1.0
        self._w = min(self._w + step, 1.0) if speaking else max(self._w - step, 0.0)
        w = self._w
        if w <= 0.0:
            return frame
        cam_open = float(bs.get("jawOpen", 0.0)) if frame.tracking.face else 0.5
        scale = min(0.7 + 0.6 * cam_open, 1.3)
        a_open = min(shape.open * scale, 1.0)
        k = a_open / shape.open if shape.open > 0 else 0.0
        for key in VOWEL_KEYS:
            bs[key] = w * shape.vowels[key] * k + (1.0 - w) * float(bs.get(key, 0.0))
        bs["jawOpen"] = w * a_open + (1.0 - w) * float(bs.get("jawOpen", 0.0))
        return replace(frame, blendshapes=bs)

    def status(self) -> str:
        """The audio level now, and VOICE if the user spoke in the last half second (the status
        line is redrawn every half second: one sampled 10 ms hop would miss most syllables)."""
        if self.mode == "camera":
            return ""
        spoke = self._now - self._voice_at <= STATUS_VOICE_S
        return level_text(replace(self.last, voiced=self.last.voiced or spoke))

    def start(self) -> None:
        self.audio.start()

    def close(self) -> None:
        self.audio.close()
