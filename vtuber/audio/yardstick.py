"""The lip-sync yardstick: espeak-ng speech with espeak-ng's own phone timings, optionally mixed
with pink noise and a music-like signal by sox, scored frame by frame (docs/lipsync.md).

Used by benchmarks/bench_lipsync.py (figures, and ``--fit`` for the vowel model) and the tests.
Files are cached in a folder the caller chooses (tests: pytest's tmp; never committed).

A fitting script calls :func:`begin_fitting` first: from then on a held-out voice (one whose
espeak-ng variant is a held-out one) or a held-out sentence raises :class:`HeldOutError`, so the
vowel model can not be fitted on speech it is judged on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.audio.analysis import (
    RATE,
    VOWEL_KEYS,
    VOWEL_NAMES,
    WIN,
    MouthShape,
    hop_ends,
)
from vtuber.audio.decode import load_audio
from vtuber.errors import SourceError, VtuberError
from vtuber.synth.speech import (
    HELD_OUT_SENTENCES,
    HELD_OUT_VARIANTS,
    Phone,
    Utterance,
    Voice,
    concatenate,
    relabel,
    speak_voice,
)

OPEN_EPS = 0.05  # a sent openness above this counts as an open mouth
LEAD_SILENCE = 1.0  # seconds of room sound before the first sentence

_fitting = False


class HeldOutError(VtuberError):
    """Held-out speech asked for while fitting."""


def begin_fitting() -> None:
    """Mark this process as fitting: held-out voices and sentences are refused from now on."""
    global _fitting
    _fitting = True


def _check(voice: Voice, sentences: Sequence[str] = ()) -> None:
    if not _fitting:
        return
    if voice.name.split("+")[-1] in HELD_OUT_VARIANTS:
        raise HeldOutError(f"{voice.label} is a held-out voice: fitting may not read it")
    for s in sentences:
        if s in HELD_OUT_SENTENCES:
            raise HeldOutError(f"{s!r} is a held-out sentence: fitting may not read it")


@dataclass
class Take:
    """One voice reading some sentences: 16 kHz samples (through the file decoder), the phone
    timings, and the truth per 10 ms hop (hop i ends at (i + 1) * HOP / RATE)."""

    voice: Voice
    samples: NDArray[np.float32]
    utterance: Utterance
    noisy: bool

    def truth(self, n: int, split_diphthongs: bool = False, delay: float = 0.0) -> NDArray[np.str_]:
        """The phone kind at the instant each of ``n`` hops represents: its end less ``delay``
        seconds (the analyser's declared audio delay, ``analysis.DELAY``)."""
        t = hop_ends(n) - delay
        return self.utterance.kind_at(t, split_diphthongs)

    def settled(self, n: int, delay: float = 0.0) -> NDArray[np.bool_]:
        """Hops whose whole 32 ms window lies inside the phone at the instant the hop represents
        (its end less ``delay``): the phone began at least a window's length before the hop's
        end and had not ended by then, so the sound analysed is that phone's alone."""
        end = hop_ends(n)
        t = end - delay
        began, ended = np.full(n, np.inf), np.full(n, -np.inf)
        ph = self.utterance.phones

        def joined(a: Phone, b: Phone) -> bool:  # the parts of a diphthong are one phone
            return a.name == b.name and abs(a.end - b.start) < 1e-9

        for k, p in enumerate(ph):
            i = j = k
            while i > 0 and joined(ph[i - 1], ph[i]):
                i -= 1
            while j + 1 < len(ph) and joined(ph[j], ph[j + 1]):
                j += 1
            inside = (t >= p.start) & (t < p.end)
            began[inside], ended[inside] = ph[i].start, ph[j].end
        return np.asarray((end - began >= WIN / RATE) & (end <= ended + 1e-9))


def sox_available() -> bool:
    return shutil.which("sox") is not None


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SourceError(f"{cmd[0]} failed: {r.stderr.strip()[:200]}")


def make_take(
    voice: Voice, sentences: Sequence[str], cache: Path, *, noise_db: float | None = None
) -> Take:
    """Speak ``sentences`` (0.6 s apart, after LEAD_SILENCE s) with ``voice``; with ``noise_db``
    (e.g. -20) mix pink noise and a music-like chord, together ``noise_db`` dB below the speech's
    active level (RMS over its voiced phones), with sox. The WAV is decoded with PyAV."""
    _check(voice, sentences)
    cache.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(f"{voice}|{'|'.join(sentences)}|{noise_db}".encode()).hexdigest()[:12]
    clean = cache / f"{key}_clean.wav"
    timings = clean.with_suffix(".phones.json")
    if clean.exists() and timings.exists():  # espeak-ng's noise differs run to run: keep both
        track = load_audio(clean, 0)
        # (stored as spoken; labelled by the current phone-to-shape table)
        phones = relabel([Phone(*p) for p in json.loads(timings.read_text())])
        utt = Utterance((track.samples * 32768.0).astype(np.int16), track.rate, phones)
    else:
        utt = concatenate([speak_voice(s, voice) for s in sentences], gap=0.6)
        lead = np.zeros(round(LEAD_SILENCE * utt.rate), np.int16)
        utt = concatenate([Utterance(lead, utt.rate, [], ""), utt], gap=0.0)
        utt.write_wav(clean)
        timings.write_text(json.dumps([[p.name, p.start, p.end, p.kind] for p in utt.phones]))
    path = clean
    if noise_db is not None:
        path = cache / f"{key}_noise{-noise_db:g}.wav"
        if not path.exists():
            _mix_noise(utt, clean, path, noise_db)
    track = load_audio(path, RATE)
    return Take(voice, track.samples, utt, noise_db is not None)


def _noises(out: Path, seconds: float, rate: int) -> tuple[Path, Path]:
    """sox: pink noise, and a music-like signal (a three-voice chord, triangle + sine + square,
    with a 3 Hz tremolo), each normalized to -10 dBFS peak."""
    dur, sr = f"{seconds:.3f}", str(rate)
    pink, music = out.with_suffix(".pink.wav"), out.with_suffix(".music.wav")
    _run(["sox", "-R", "-n", "-r", sr, "-c", "1", "-b", "16", str(pink), "synth", dur,
          "pinknoise", "gain", "-n", "-10"])  # fmt: skip
    _run(["sox", "-R", "-n", "-r", sr, "-c", "3", "-b", "16", str(music), "synth", dur,
          "triangle", "196", "sine", "247", "square", "294", "tremolo", "3", "60",
          "remix", "-", "gain", "-n", "-10"])  # fmt: skip
    return pink, music


def room_noise(seconds: float, rms_dbfs: float, cache: Path) -> NDArray[np.float32]:
    """The yardstick's noise alone (pink + music-like, equal RMS), ``rms_dbfs`` in all, 16 kHz."""
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"room_{seconds:g}s_{-rms_dbfs:g}dB.wav"
    pink, music = _noises(out, seconds, RATE)
    x = [load_audio(f, RATE).samples.astype(np.float64) for f in (pink, music)]
    n = min(len(a) for a in x)
    target = 10.0 ** ((rms_dbfs - 3.0) / 20.0)
    mix = sum(a[:n] * target / np.sqrt(np.mean(a[:n] ** 2)) for a in x)
    return np.asarray(mix, dtype=np.float32)


def _mix_noise(utt: Utterance, clean: Path, out: Path, noise_db: float) -> None:
    pink, music = _noises(out, utt.duration, utt.rate)
    x = utt.samples.astype(np.float64)
    t = np.arange(len(x)) / utt.rate
    kinds = utt.kind_at(t)
    active = np.isin(kinds, [*VOWEL_NAMES, "voiced"])
    speech_rms = float(np.sqrt(np.mean(x[active] ** 2)))
    gains = []
    for f in (pink, music):
        n = load_audio(f, utt.rate).samples.astype(np.float64) * 32768.0
        rms = float(np.sqrt(np.mean(n**2)))
        # Each noise 3 dB lower, so that the two together sit noise_db below the speech.
        gains.append(speech_rms * 10.0 ** ((noise_db - 3.0) / 20.0) / rms)
    _run(["sox", "-R", "-m", "-v", "1", str(clean), "-v", f"{gains[0]:.6f}", str(pink),
          "-v", f"{gains[1]:.6f}", str(music), "-b", "16", str(out)])  # fmt: skip


@dataclass
class Scores:
    """Frame-level results (10 ms hops) over one or more takes."""

    open_tp: int = 0
    open_fp: int = 0
    open_fn: int = 0
    vowel_frames: int = 0
    vowel_right: int = 0
    silent_frames: int = 0
    silent_open: int = 0
    settled_frames: int = 0  # vowel frames whose window lies inside the vowel (Take.settled)
    settled_right: int = 0

    def add(
        self,
        shapes: Sequence[MouthShape],
        truth: NDArray[np.str_],
        settled: NDArray[np.bool_] | None = None,
    ) -> None:
        n = min(len(shapes), len(truth))
        pred = np.array([s.open > OPEN_EPS for s in shapes[:n]])
        tr = truth[:n]
        gt = np.isin(tr, [*VOWEL_NAMES, "voiced"])
        self.open_tp += int(np.sum(pred & gt))
        self.open_fp += int(np.sum(pred & ~gt))
        self.open_fn += int(np.sum(~pred & gt))
        best = np.array([VOWEL_NAMES[int(np.argmax([s.vowels[k] for k in VOWEL_KEYS]))]
                         for s in shapes[:n]])  # fmt: skip
        vow = np.isin(tr, VOWEL_NAMES)
        self.vowel_frames += int(np.sum(vow))
        self.vowel_right += int(np.sum(vow & pred & (best == tr)))
        if settled is not None:
            st = vow & settled[:n]
            self.settled_frames += int(np.sum(st))
            self.settled_right += int(np.sum(st & pred & (best == tr)))
        sil = tr == "silence"
        self.silent_frames += int(np.sum(sil))
        self.silent_open += int(np.sum(sil & pred))

    @property
    def f1(self) -> float:
        d = 2 * self.open_tp + self.open_fp + self.open_fn
        return 2 * self.open_tp / d if d else 0.0

    @property
    def vowel_accuracy(self) -> float:
        return self.vowel_right / self.vowel_frames if self.vowel_frames else 0.0

    @property
    def settled_accuracy(self) -> float:
        return self.settled_right / self.settled_frames if self.settled_frames else 0.0

    @property
    def silent_open_rate(self) -> float:
        return self.silent_open / self.silent_frames if self.silent_frames else 0.0


CALIBRATION_WORDS = ("ah", "ee", "oo", "pet", "awe")  # A I U E O as espeak-ng says them


def calibration_take(voice: Voice, cache: Path) -> NDArray[np.float32]:
    """What ``vtuber calibrate --audio`` hears from this voice: each of the five vowel words
    repeated through its 2 s slot (10 s in all), 16 kHz through the file decoder."""
    from vtuber.audio.calibrate import SLOT_SECONDS

    _check(voice)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"calib_{hashlib.sha1(str(voice).encode()).hexdigest()[:12]}.wav"
    if not path.exists():
        slots = []
        sr = 0
        for word in CALIBRATION_WORDS:
            u = speak_voice(word, voice)
            sr = u.rate
            n_slot = round(SLOT_SECONDS * u.rate)
            gap = np.zeros(round(0.1 * u.rate), np.int16)
            reps = np.tile(np.concatenate([u.samples, gap]), n_slot // (len(u.samples) + 1) + 1)
            slots.append(reps[:n_slot])
        Utterance(np.concatenate(slots), sr, []).write_wav(path)
    return load_audio(path, RATE).samples
