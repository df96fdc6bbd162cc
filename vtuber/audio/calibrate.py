"""Learn the user's voice: ``vtuber calibrate --audio [DEVICE|FILE] --out voice.json``.

The user says the five vowels in order, two seconds each (a as in "father", i as in "see", u as in
"blue", e as in "bed", o as in "go"). Vowels differ between talkers mostly by the length of the
vocal tract: a child's formants sit 20-50 % higher than a man's. The profile is the vowel
network for profiles (fitted on warped voices, ``CANONICAL_PATH``) with the talker's
vocal-tract warp: of the candidate warps of the mel bands (0.75-1.48, docs/lipsync.md), the one
under which that network gives the five known vowels the highest mean log probability. Isolated
vowels differ from running speech, but a frequency scale does not, so this is learned from
isolated vowels and used on running speech.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.audio.analysis import (
    CANONICAL_PATH,
    HOP,
    RATE,
    VOWEL_NAMES,
    Analyzer,
    VowelModel,
    load_model,
)
from vtuber.errors import ConfigError, SourceError

SLOT_SECONDS = 2.0
PROMPTS = ('"ah" (father)', '"ee" (see)', '"oo" (blue)', '"eh" (pet)', '"aw" (saw)')
MIN_FRAMES = 15  # voiced frames per vowel (0.15 s)
PROFILE_VERSION = 2  # 1: vowel means for a linear discriminant (no longer read)
SLOT_SKIP = 0.3  # seconds at the start of each slot not used (the talker is still starting)
# Candidate warps: 1.05 ** k for k = -6 .. 8 (0.75 .. 1.48), 5 % steps, 1 (no warp) among them.
WARPS = tuple(round(1.05**k, 4) for k in range(-6, 9))


def vowel_log_likelihood(
    samples: NDArray[np.floating], model: VowelModel
) -> tuple[float, list[int]]:
    """Mean log probability the model gives each 2 s slot's vowel on that slot's voiced hops,
    and the voiced hop count per vowel."""
    analyzer = Analyzer(model, keep_features=True)
    analyzer.push(np.asarray(samples, dtype=np.float64).ravel())
    assert analyzer.features is not None
    if not analyzer.features:
        raise SourceError("no audio recorded")
    feats = np.stack([f for f, _ in analyzer.features])
    voiced = np.array([v for _, v in analyzer.features])
    t = (np.arange(len(feats)) + 1) * HOP / RATE
    logp = np.log(model.probabilities(feats) + 1e-12)
    total, n, counts = 0.0, 0, []
    for k in range(5):
        sel = voiced & (t >= k * SLOT_SECONDS + SLOT_SKIP) & (t < (k + 1) * SLOT_SECONDS)
        counts.append(int(sel.sum()))
        total += float(logp[sel, k].sum())
        n += counts[-1]
    return total / max(n, 1), counts


def learn_vowels(
    samples: NDArray[np.floating], model: VowelModel | None = None
) -> tuple[VowelModel, list[int]]:
    """The profile network (default: ``CANONICAL_PATH``) with this talker's vocal-tract warp,
    from 10 s of A I U E O (2 s each). Returns the model and the voiced hop count per vowel;
    SourceError when a vowel was not heard."""
    base = model or load_model(CANONICAL_PATH)
    scored = {w: vowel_log_likelihood(samples, replace(base, warp=w)) for w in WARPS}
    counts = scored[1.0][1]
    for k, c in enumerate(counts):
        if c < MIN_FRAMES:
            raise SourceError(
                f"heard too little voice for {VOWEL_NAMES[k]} {PROMPTS[k]} "
                f"({c * 10} ms); speak up and hold each vowel for the whole 2 s"
            )
    best = max(WARPS, key=lambda w: scored[w][0])
    return replace(base, warp=best), counts


def save_voice_profile(model: VowelModel, path: str | Path) -> None:
    d = {"format": "vtuber-voice-profile", "version": PROFILE_VERSION, **model.to_json()}
    Path(path).write_text(json.dumps(d, indent=1) + "\n")


def load_voice_profile(path: str | Path) -> VowelModel:
    p = Path(path)
    try:
        d = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read voice profile {p}: {e}") from e
    if not isinstance(d, dict) or d.get("format") != "vtuber-voice-profile":
        raise ConfigError(f"{p} is not a voice profile (make one with `vtuber calibrate --audio`)")
    if d.get("version") != PROFILE_VERSION:
        raise ConfigError(
            f"{p} is a voice profile of version {d.get('version')}, this vtuber reads version "
            f"{PROFILE_VERSION}: make it again with `vtuber calibrate --audio`"
        )
    return VowelModel.from_json(d)


def record(spec: str, seconds: float, announce) -> NDArray[np.float32]:  # type: ignore[no-untyped-def]
    """``seconds`` of 16 kHz audio from a microphone (or an audio file, through the same stream
    interface), calling ``announce(k)`` at the start of each 2 s slot."""
    from vtuber.audio.capture import open_input

    need = int(seconds * RATE)
    blocks: list[NDArray[np.float32]] = []
    got = [0]
    done = threading.Event()
    lock = threading.Lock()

    def on_block(indata, frames, time_info, status):  # type: ignore[no-untyped-def]
        with lock:
            if got[0] >= need:
                done.set()
                return
            blocks.append(np.array(indata[:, 0], dtype=np.float32))
            before = got[0]
            got[0] += frames
            slot_before, slot_now = (
                int(before / RATE / SLOT_SECONDS),
                int(got[0] / RATE / SLOT_SECONDS),
            )
            if slot_now != slot_before and slot_now < 5:
                announce(slot_now)
            if got[0] >= need:
                done.set()

    stream = open_input(spec, on_block, realtime=False)  # a file needs no waiting
    announce(0)
    stream.start()
    try:
        if not done.wait(seconds + 5.0):
            raise SourceError(
                f"audio input {spec!r} delivered {got[0] / RATE:.1f} s of {seconds} s"
            )
    finally:
        stream.stop()
        stream.close()
    return np.concatenate(blocks)[:need]
