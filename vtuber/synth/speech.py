"""Known speech with known phone timings: espeak-ng's own synthesizer, through its C library.

:func:`speak` synthesizes a sentence with a voice, speed and pitch and returns the samples with
every phone's start and end, taken from espeak-ng's phoneme events (the positions at which it
placed each phone in its own output), so no aligner's guess is involved. Phones are grouped into
what the mouth does (:func:`phone_class`): one of the five vowel shapes (A I U E O), a voiced
consonant (open: the voice sounds), an unvoiced consonant or silence (closed). Diphthongs are split
into their parts. :func:`mouth_open_at` turns the timings into a jaw opening for the rendered face
(vtuber.synth.face), so a talking face and its sound track come from the same timings.

Needs the system library libespeak-ng (Debian: espeak-ng); :class:`SpeechUnavailable` otherwise.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import re
import tempfile
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.errors import VtuberError

VOWEL_SHAPES = ("A", "I", "U", "E", "O")
# Vowel shapes by espeak-ng English phoneme mnemonic. VRM's five shapes are the Japanese vowels
# a i u e o, so each English vowel goes where Japanese renders it, as loanwords do (cat キャット,
# cup カップ, about アバウト, bird バード, teacher ティーチャー, bed ベッド, hot ホット,
# book ブック):
# æ ʌ ɑ and the mid-central ə ɜ ɚ -> A; i ɪ -> I; u ʊ -> U; ɛ e -> E; ɔ ɒ o -> O. (ɜ and ɚ are
# the same mid-central vowel as ə, long or r-coloured; labelling them E while ə is A asked the
# network to split one sound two ways.) A diphthong lists its parts; each takes an equal share of
# the phone's time. Scottish English (en-gb-scotland) adds aI2 (the short PRICE diphthong), VR
# (ʌr, "word") and IR (ɪr, "bird").
_VOWELS: dict[str, tuple[str, ...]] = {
    "a": ("A",), "a#": ("A",), "aa": ("A",), "A:": ("A",), "A": ("A",), "V": ("A",),
    "@": ("A",), "@-": ("A",), "@2": ("A",), "@5": ("A",), "A@": ("A",), "A#": ("A",),
    "3": ("A",), "3:": ("A",), "VR": ("A",),
    "i": ("I",), "i:": ("I",), "I": ("I",), "I#": ("I",), "I2": ("I",), "y": ("I",),
    "IR": ("I",),
    "u:": ("U",), "U": ("U",), "u": ("U",), "U:": ("U",),
    "E": ("E",), "e": ("E",), "E2": ("E",), "E#": ("E",),
    "0": ("O",), "O:": ("O",), "O": ("O",), "o": ("O",), "O2": ("O",), "0#": ("O",),
    "aI": ("A", "I"), "aI2": ("A", "I"), "aU": ("A", "U"), "eI": ("E", "I"), "OI": ("O", "I"),
    "oU": ("O", "U"), "@U": ("O", "U"), "i@": ("I", "A"), "i@3": ("I", "A"),
    "e@": ("E", "A"), "U@": ("U", "A"), "O@": ("O",), "o@": ("O",), "aI@": ("A", "I", "A"),
    "aU@": ("A", "U", "A"), "aI3": ("A", "I", "E"), "aU3": ("A", "U", "E"),
}  # fmt: skip
# Voiced consonants: the voice sounds (nasals, liquids, glides, voiced stops and fricatives).
_VOICED = {
    "m", "n", "N", "l", "l/", "l/2", "r", "r-", "w", "j", "b", "d", "g", "v", "z", "Z", "D",
    "dZ", "n-", "m-", "@L", "L", "R", "d#", "z/2", "*",
}  # fmt: skip


class SpeechUnavailable(VtuberError):
    """libespeak-ng is not installed (Debian: apt-get install espeak-ng)."""


@dataclass(frozen=True, slots=True)
class Phone:
    """One phone: ``name`` (espeak-ng mnemonic), ``start``/``end`` in seconds, ``kind`` one of
    A I U E O (vowel shape), ``voiced``, ``unvoiced`` or ``silence``."""

    name: str
    start: float
    end: float
    kind: str


@dataclass
class Utterance:
    """Samples (int16, mono) at ``rate`` Hz and the phones that make them up."""

    samples: NDArray[np.int16]
    rate: int
    phones: list[Phone]
    text: str = ""

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def write_wav(self, path: str | Path) -> Path:
        p = Path(path)
        with wave.open(str(p), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.samples.astype("<i2").tobytes())
        return p

    def kind_at(self, t: NDArray[np.float64], split_diphthongs: bool = False) -> NDArray[np.str_]:
        """The phone kind at each time (``silence`` outside every phone). A diphthong is its
        nucleus' shape throughout (aI, aU: A; eI: E; oU, OI: O ...), or with
        ``split_diphthongs`` each part's shape in its share of the time."""
        out = np.full(t.shape, "silence", dtype="<U8")
        for ph in self.phones:
            kind = ph.kind
            if not split_diphthongs and kind in VOWEL_SHAPES:
                kind = phone_kinds(ph.name)[0]
            out[(t >= ph.start) & (t < ph.end)] = kind
        return out


def phone_kinds(name: str) -> tuple[str, ...]:
    """What the mouth does for an espeak-ng phone: vowel shapes (one per part of a diphthong),
    or ``voiced`` / ``unvoiced`` / ``silence``."""
    core = name.strip().lstrip("',%=").rstrip(";")
    if core in _VOWELS:
        return _VOWELS[core]
    if not core or core.startswith("_"):
        return ("silence",)
    if core in _VOICED:
        return ("voiced",)
    return ("unvoiced",)


# --- the espeak-ng C library -------------------------------------------------------------------

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS
_INIT_PHONEME_EVENTS = 0x0001
_EV_PHONEME, _EV_END, _EV_MSG_TERMINATED = 7, 5, 6
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_rate = 0


def _library() -> tuple[ctypes.CDLL, int]:
    global _lib, _rate
    if _lib is None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            raise SpeechUnavailable(
                "libespeak-ng not found (Debian: apt-get install espeak-ng)"
            ) from e
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, None, _INIT_PHONEME_EVENTS)
        if rate <= 0:
            raise SpeechUnavailable("espeak-ng failed to initialise (espeak-ng-data missing?)")
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByFile.argtypes = [ctypes.c_char_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        _lib, _rate = lib, rate
    return _lib, _rate


def available() -> bool:
    try:
        _library()
    except SpeechUnavailable:
        return False
    return True


# A voice made for fitting only (``TRACT_VOICES``): an accent whose formant frequencies are scaled
# like a longer or shorter vocal tract's, written as the variant ``vt<F1>-<F2>-<F3>p<lo>-<hi>``
# (F1 F2 F3 in per cent of the accent's, F4 and F5 scaled like F3; the pitch range's base and top
# in Hz). espeak-ng reads it from a voice file written here: the accent's own voice file with
# these lines added, as a variant file adds them (``espeak_SetVoiceByFile``).
_TRACT_VARIANT = re.compile(r"vt(\d+)-(\d+)-(\d+)p(\d+)-(\d+)$")


def _tract_voice_file(voice: str) -> Path | None:
    accent, _, variant = voice.partition("+")
    m = _TRACT_VARIANT.match(variant)
    if m is None:
        return None
    f1, f2, f3, lo, hi = (int(g) for g in m.groups())
    lib, _ = _library()
    data = ctypes.c_char_p()
    lib.espeak_Info(ctypes.byref(data))
    langs = Path((data.value or b"").decode()) / "lang"
    found = [f for f in langs.glob("*/*") if f.name.lower() == accent.lower()]
    if not found:
        raise SpeechUnavailable(f"espeak-ng has no accent {accent!r}")
    lines = [found[0].read_text(), f"pitch {lo} {hi}"]
    lines += [f"formant {k} {f} 100 100" for k, f in ((1, f1), (2, f2), (3, f3), (4, f3), (5, f3))]
    text = "\n".join(lines) + "\n"
    folder = Path(tempfile.gettempdir()) / "vtuber_espeak_voices"
    folder.mkdir(parents=True, exist_ok=True)
    # (a plain file name: espeak-ng refuses some names, e.g. ones holding an accent's name)
    path = folder / f"voice{hashlib.sha1(text.encode()).hexdigest()[:12]}"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def speak(
    text: str, voice: str = "en-us", *, rate: int = 175, pitch: int = 50, pitch_range: int = 50
) -> Utterance:
    """Synthesize ``text`` with an espeak-ng voice (``en-us``, ``en+f3``, ``en-us+m3`` ...),
    ``rate`` in words per minute (80..450), ``pitch`` and ``pitch_range`` 0..99.

    Phone ``start`` times are espeak-ng's phoneme event positions; each phone ends where the next
    begins (the last one at the end of the audio)."""
    with _lock:
        lib, sr = _library()
        chunks: list[NDArray[np.int16]] = []
        events: list[tuple[int, str]] = []
        n_done = [0]

        def on_audio(wav, n, ev):  # type: ignore[no-untyped-def]
            if n > 0 and wav:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while ev[i].type != 0:  # espeakEVENT_LIST_TERMINATED
                e = ev[i]
                if e.type == _EV_PHONEME:
                    name = bytes(e.id.string).split(b"\0", 1)[0].decode("ascii", "replace")
                    events.append((int(e.sample), name))
                i += 1
            n_done[0] += n
            return 0

        cb = _CALLBACK(on_audio)
        lib.espeak_SetSynthCallback(cb)
        vfile = _tract_voice_file(voice)
        if vfile is not None:
            ok = lib.espeak_SetVoiceByFile(str(vfile).encode()) == 0
        else:
            ok = lib.espeak_SetVoiceByName(voice.encode()) == 0
        if not ok:
            raise SpeechUnavailable(f"espeak-ng has no voice {voice!r}")
        lib.espeak_SetParameter(_RATE, int(rate), 0)
        lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        lib.espeak_SetParameter(_RANGE, int(pitch_range), 0)
        data = text.encode("utf-8") + b"\0"
        lib.espeak_Synth(data, len(data), 0, 1, 0, 0, None, None)
        lib.espeak_Synchronize()
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
    end = len(samples) / sr
    spans: list[tuple[str, float, float]] = []
    for k, (s, name) in enumerate(events):
        t0 = s / sr
        t1 = events[k + 1][0] / sr if k + 1 < len(events) else end
        if t1 > t0:
            spans.append((name, t0, t1))
    return Utterance(samples.astype(np.int16), sr, _split(spans), text)


def _split(spans: list[tuple[str, float, float]]) -> list[Phone]:
    """Phones from (name, start, end) spans: each span's kinds by :func:`phone_kinds`, a
    diphthong's parts each an equal share of its time."""
    phones: list[Phone] = []
    for name, t0, t1 in spans:
        kinds = phone_kinds(name)
        step = (t1 - t0) / len(kinds)
        for j, kind in enumerate(kinds):
            phones.append(Phone(name, t0 + j * step, t0 + (j + 1) * step, kind))
    return phones


def relabel(phones: list[Phone]) -> list[Phone]:
    """Phones stored under an earlier phone-to-shape table, labelled by the current one: the parts
    of each split phone (consecutive, touching, same name, equal durations) joined, then split
    again."""
    spans: list[tuple[str, float, float]] = []
    part = 0.0  # the duration of the first part of the span being joined
    for p in phones:
        d = p.end - p.start
        if (spans and spans[-1][0] == p.name and abs(spans[-1][2] - p.start) < 1e-9
                and abs(d - part) < 1e-9):  # fmt: skip
            spans[-1] = (p.name, spans[-1][1], p.end)
        else:
            spans.append((p.name, p.start, p.end))
            part = d
    return _split(spans)


def concatenate(parts: list[Utterance], gap: float = 0.5) -> Utterance:
    """Utterances one after another with ``gap`` seconds of silence between them."""
    if not parts:
        raise ValueError("nothing to concatenate")
    sr = parts[0].rate
    pieces: list[NDArray[np.int16]] = []
    phones: list[Phone] = []
    t = 0.0
    for u in parts:
        if u.rate != sr:
            raise ValueError("utterances differ in sample rate")
        pieces.append(u.samples)
        phones += [Phone(p.name, p.start + t, p.end + t, p.kind) for p in u.phones]
        t += u.duration
        n_gap = round(gap * sr)
        pieces.append(np.zeros(n_gap, np.int16))
        t += n_gap / sr
    return Utterance(np.concatenate(pieces), sr, phones, " / ".join(u.text for u in parts))


# How wide the rendered jaw opens for each vowel shape (0..1 of vtuber.synth.face's jaw drop).
_JAW = {"A": 0.9, "E": 0.55, "O": 0.65, "I": 0.35, "U": 0.3, "voiced": 0.2}


def mouth_open_at(utt: Utterance, t: float) -> float:
    """The jaw opening a talking face shows at ``t`` (0 closed .. 1), from the phone timings:
    wide for A, narrow for I/U, a little for voiced consonants, closed otherwise."""
    for ph in utt.phones:
        if ph.start <= t < ph.end:
            return _JAW.get(ph.kind, 0.0)
    return 0.0


# --- the lip-sync yardstick's corpus (docs/lipsync.md) ------------------------------------------
# Sentences written for this project; the first six are for fitting, the last six are held out.
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "We were away a year ago, and now we are home again.",
    "Please leave your boots by the door before you come in.",
    "My mother made a large pot of soup for the whole family.",
    "Over the hill the old road turns east toward the sea.",
    "I would like a cup of tea and a slice of lemon cake.",
    "Bright lights on the stage made the singers look tired.",
    "Nobody knew how many apples were left in the basket.",
    "Open the window and let the cool morning air inside.",
    "Her little brother reads comic books every evening.",
    "All the boats came back to the harbour before noon.",
    "You can see the moon rise slowly above the mountains.",
    # More fitting sentences (each leans on one vowel), so every vowel shape is well covered.
    "Who put the blue shoes in the room next to the pool?",
    "Good cooks would look for sugar in the wooden box.",
    "Ten men slept on the red bed in the west wing.",
    "The black cat sat on a flat mat and had a nap.",
    "She sees three green trees by the deep sea.",
    "His sister fixed the big window in the kitchen.",
    "Paul bought a tall horse for his daughter in August.",
    "Go home slowly and show the old photos to Joe.",
    "The father called his calm dog from the far farm.",
    "Lots of hot coffee spilled on the long cloth.",
    "A bird heard the early nurse turn the first word.",
    "They came late to play the same game on a grey day.",
    "I like to ride my white bike at night.",
    "The young pup must run up the muddy hill for fun.",
    "How now, brown cow, shout out loud about the town.",
    "The boys enjoy the noisy toys they own.",
)
# The fitting sentences: the first six, then the sixteen that lean on one vowel in an order that
# gives the first and the last 45 % of a fitting take (the halves of ``fit_lipsync_vowels.py
# --validate``) each every vowel in about the whole take's proportion (largest difference 2 points
# of the vowel time over 8 fitting voices; in the order written above, the last 45 % held no U).
_FIT_ORDER = (0, 1, 2, 3, 4, 5, 18, 14, 26, 13, 17, 20, 12, 19, 21, 15, 22, 25, 24, 23, 27, 16)
FIT_SENTENCES = tuple(SENTENCES[i] for i in _FIT_ORDER)
HELD_OUT_SENTENCES = SENTENCES[6:12]


@dataclass(frozen=True, slots=True)
class Voice:
    """An espeak-ng voice (language + variant) with a speed (words/min) and pitch (0..99)."""

    name: str
    rate: int
    pitch: int

    @property
    def label(self) -> str:
        return f"{self.name}@{self.rate}wpm/p{self.pitch}"


HELD_OUT_VOICES = (
    Voice("en-gb-x-rp+m5", 185, 45),
    Voice("en-us+f4", 160, 90),  # high
    Voice("en-029+m2", 220, 35),  # fast
    Voice("en-gb-scotland+f1", 150, 55),
    Voice("en-us-nyc+m8", 165, 5),  # low
    Voice("en+Alicia", 170, 95),  # child-like: formants x1.3-1.5, high pitch
)
# No fitting voice shares an espeak-ng variant (the timbre: formant scales, pitch range) with a
# held-out one; accents are shared (an accent is not a voice).
HELD_OUT_VARIANTS = tuple(v.name.split("+")[1] for v in HELD_OUT_VOICES)
_ACCENTS = ("en-us", "en", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-029",
            "en-gb-scotland", "en-us-nyc")  # fmt: skip
_FIT_VARIANTS = (
    "m1", "m3", "m4", "m6", "m7", "f2", "f3", "f5", "Annie", "Andrea", "anika", "belinda",
    "linda", "steph", "steph2", "aunty", "adam", "Alex", "Andy", "david", "edward", "john", "max",
    "paul", "quincy", "rob", "shelby", "grandma", "norbert", "victor", "travis", "caleb",
    "benjamin", "zac", "Denis", "Hugo", "Lee", "Mike", "iven", "michel", "klatt", "klatt2",
    "grandpa", "Jacky", "Marco", "robert", "pablo", "antonio",
)  # fmt: skip


def _fit_voices() -> tuple[Voice, ...]:
    """Each fitting variant twice, with seeded accents, speeds (130-230 wpm) and pitches (0-99)."""
    rng = np.random.default_rng(0)
    out = []
    for i, var in enumerate(_FIT_VARIANTS):
        for j in range(2):
            acc = _ACCENTS[(2 * i + j) % len(_ACCENTS)]
            rate, pitch = int(rng.integers(130, 231)), int(rng.integers(0, 100))
            out.append(Voice(f"{acc}+{var}", rate, pitch))
    return tuple(out)


FIT_VOICES = _fit_voices()


def _tract_voices(n: int = 32) -> tuple[Voice, ...]:
    """Voices made for fitting only, to cover vocal tracts from a large man's to a child's: each
    an accent (in turn) with its formants scaled by a common factor drawn log-uniformly from
    0.85-1.5 (a man's formants to a child's, which lie 30-60 % higher), each of F1 F2 F3 by
    another +-8 % on top, a pitch range rising with the factor (80-116 Hz at 1, 270-390 Hz at
    1.5, +-15 %), seeded speeds (130-230 wpm) and pitches (0-99)."""
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        s = float(np.exp(rng.uniform(np.log(0.85), np.log(1.5))))
        f1, f2, f3 = (round(100 * s * rng.uniform(0.92, 1.08)) for _ in range(3))
        lo = round(80 * s**3 * rng.uniform(0.85, 1.15))
        rate, pitch = int(rng.integers(130, 231)), int(rng.integers(0, 100))
        variant = f"vt{f1}-{f2}-{f3}p{lo}-{round(1.45 * lo)}"
        out.append(Voice(f"{_ACCENTS[i % len(_ACCENTS)]}+{variant}", rate, pitch))
    return tuple(out)


# Fitting only, besides FIT_VOICES (docs/lipsync.md): none is a held-out voice's variant.
TRACT_VOICES = _tract_voices()


def speak_voice(text: str, voice: Voice) -> Utterance:
    return speak(text, voice.name, rate=voice.rate, pitch=voice.pitch)


def talking_face(
    utt: Utterance,
    fps: float = 25.0,
    *,
    duration: float | None = None,
    mouth: Callable[[float], float | None] | None = None,
    photo: str = "grace_hopper",
    size: tuple[int, int] = (480, 360),
) -> list[tuple[float, NDArray[np.uint8], float]]:
    """A rendered face (vtuber.synth.face) saying ``utt``: (t, BGR image, jaw opening) at ``fps``
    for ``duration`` s (default: the utterance's). The jaw follows :func:`mouth_open_at`, unless
    ``mouth(t)`` returns a number (e.g. a silent open mouth where no phone sounds)."""
    from vtuber.synth.face import FaceRenderer

    renderer = FaceRenderer.from_photo(photo)
    n = int((duration if duration is not None else utt.duration) * fps)
    out = []
    for i in range(n):
        t = i / fps
        m = mouth(t) if mouth is not None else None
        o = mouth_open_at(utt, t) if m is None else float(m)
        out.append((t, renderer.render(mouth_open=o, size=size), o))
    return out
