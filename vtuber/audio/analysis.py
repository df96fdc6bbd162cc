"""Audio -> mouth: voicing, openness and the five vowel shapes, causally, every 10 ms.

Method (docs/lipsync.md):

1. Mono audio at 16 kHz is cut into 32 ms windows every 10 ms; each window ends at the newest
   sample, so a result is ready as soon as its last 10 ms block arrives. The taper is a Hann
   window's rise over 29 ms and its fall over the last 3 ms. The mouth a hop sends represents
   the sound ``DELAY`` (20 ms) before its newest sample: a declared, fixed audio delay, spent
   from the one-video-frame latency budget, so the vowel network sees the sound on both sides
   of the instant it names (it is fitted with labels at that instant) and the voicing sent is
   that of the window centred there (``AnalyzerConfig.voice_lag``), opened a hop early when
   the next window hears the voice (``AnalyzerConfig.voice_lead``).
2. Per window: the level (dBFS), the periodicity (peak of the normalized autocorrelation at
   pitch lags 2-20 ms, i.e. 50-500 Hz, corrected for the window's own taper) and 12 mel-cepstral
   coefficients (26 mel bands, 100-7000 Hz).
3. Voicing: periodic enough AND louder than a gate. The gate follows the room and the talker: the
   larger of the noise floor + ``floor_margin`` dB (a slow-rising minimum tracker) and the speech
   reference - ``ref_margin`` dB (a slow-falling peak of voiced frames), so fans, keyboards and
   music well below the voice keep the mouth shut.
4. Openness: where the level sits between the gate and the speech reference, 0 when unvoiced.
5. Vowel: the cepstra, normalized to the talker (the talker's running mean over voiced hops is
   replaced by the fitting voices' mean and, when the network declares ``ceps_sd``, each
   coefficient divided by the talker's running standard deviation and scaled to the fitting
   voices': mean and variance normalization), of this hop and the hops 20 and 40 ms earlier go into
   a small neural network (one hidden layer, fitted on the fitting voices only, each also with
   its vocal-tract length perturbed by 0.8-1.25, ``fitting.AUGMENT_WARPS``, and on voices made
   with other vocal-tract lengths, ``speech.TRACT_VOICES``); its softmax,
   lightly smoothed, splits the openness over aa/ih/ou/ee/oh. ``vtuber calibrate --audio``
   learns the talker's vocal-tract length as a frequency warp of the mel bands (``warp``).

:class:`Analyzer` is streaming (``push`` blocks of any size); :func:`analyze` runs the same code
over a whole signal. Both give identical results for identical samples.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vtuber.errors import ConfigError

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]

RATE = 16000
HOP = 160  # 10 ms
WIN = 512  # 32 ms
N_MELS = 26
N_CEPS = 12
VOWEL_KEYS = ("aa", "ih", "ou", "ee", "oh")  # VRM 1.0 names of A I U E O
VOWEL_NAMES = ("A", "I", "U", "E", "O")
MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "lipsync_vowels.json"
# The network for voice profiles: fitted on the fitting voices each warped by its own calibration
# (speaker-adaptive training), so it expects a talker whose vocal-tract warp is applied.
CANONICAL_PATH = MODEL_PATH.with_name("lipsync_vowels_canonical.json")

_LAG_MIN, _LAG_MAX = 32, 320  # 500 Hz .. 50 Hz
_NFFT_AC = 1024


def warp_frequency(f: F64, warp: float) -> F64:
    """Vocal-tract length normalization: the frequency of the talker's spectrum that stands for
    the reference frequency ``f``. ``warp`` > 1 for a shorter vocal tract (higher formants: a
    child's), < 1 for a longer one; ``f * warp`` up to a knee, then linear to the Nyquist
    frequency so nothing is pushed past it."""
    f = np.asarray(f, dtype=np.float64)
    nyq = RATE / 2.0
    knee = 0.8 * nyq / max(warp, 1.0)
    hi = warp * knee + (f - knee) * (nyq - warp * knee) / (nyq - knee)
    return np.where(f <= knee, warp * f, hi)


def mel_filters(warp: float = 1.0) -> F64:
    """(N_MELS, WIN//2+1) triangular mel filters over 100-7000 Hz, their edges warped by
    :func:`warp_frequency`."""

    def mel(f: F64 | float) -> F64:
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    edges_mel = np.linspace(mel(100.0), mel(7000.0), N_MELS + 2)
    edges = warp_frequency(700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0), warp)
    freqs = np.fft.rfftfreq(WIN, 1.0 / RATE)
    fb = np.zeros((N_MELS, freqs.size))
    for i in range(N_MELS):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[i] = np.clip(np.minimum(up, down), 0.0, None)
    return fb


# The analysis window: the first half of a Hann window rising over the first WIN - TAPER_FALL
# samples, the second half falling over the last TAPER_FALL (3 ms). A Hann window weighs the
# newest ~10 ms, where the phone being sounded *now* begins, next to nothing (its centre lags
# 16 ms behind the newest sample); this one, as long, weighs recent sound more, so voicing and
# vowel follow the voice sooner.
TAPER_FALL = 48
_RISE = WIN - TAPER_FALL
WINDOW = np.concatenate([np.hanning(2 * _RISE)[:_RISE], np.hanning(2 * TAPER_FALL)[TAPER_FALL:]])
_WIN_POWER = float(np.mean(WINDOW**2))
_MEL = mel_filters()
_DCT = np.cos(
    np.pi / N_MELS * (np.arange(N_MELS)[None, :] + 0.5) * np.arange(1, N_CEPS + 1)[:, None]
)
_wac = np.correlate(WINDOW, WINDOW, "full")[WIN - 1 :]
_WIN_AC = _wac / _wac[0]


def frame_features(frames: F64, mel: F64 | None = None) -> tuple[F64, F64, F64]:
    """For windows (n, WIN) (ending at the newest sample, tapered by ``WINDOW``): level dBFS
    (n,), periodicity 0..1 (n,), cepstra (n, N_CEPS) (from the filters ``mel``, default:
    unwarped)."""
    x = frames - frames.mean(axis=1, keepdims=True)
    xw = x * WINDOW
    power = np.mean(xw**2, axis=1) / _WIN_POWER
    level = 10.0 * np.log10(power + 1e-12)
    spec = np.abs(np.fft.rfft(xw, axis=1)) ** 2
    logmel = np.log(spec @ (_MEL if mel is None else mel).T + 1e-10)
    ceps = logmel @ _DCT.T
    ac = np.fft.irfft(np.abs(np.fft.rfft(xw, n=_NFFT_AC, axis=1)) ** 2, axis=1)[:, : _LAG_MAX + 1]
    r0 = ac[:, :1] + 1e-12
    r = ac[:, _LAG_MIN:] / r0 / _WIN_AC[_LAG_MIN : _LAG_MAX + 1]
    per = np.clip(r.max(axis=1), 0.0, 1.0)
    return level, per, ceps


def talker_update(mu: F64, var: F64 | None, ceps: F64, rate: float) -> None:
    """One voiced hop of the talker's running cepstral mean ``mu`` and, if kept, variance
    ``var`` (both updated in place, at ``rate`` per hop; the variance around the updated mean)."""
    mu += rate * (ceps - mu)
    if var is not None:
        var += rate * ((ceps - mu) ** 2 - var)


LAGS = (0, 2, 4)  # the hops whose normalized cepstra the vowel network sees (0 = this one)
# The declared audio delay: the mouth sent with a hop represents the sound at the hop's end less
# this (seconds; whole hops). The vowel networks are fitted with labels at that instant, the
# voicing sent is ``AnalyzerConfig.voice_lag`` hops old, ``MouthShape.t`` is the represented
# instant. Chosen on the fitting split (docs/lipsync.md) within the one-video-frame latency budget.
DELAY_HOPS = 2
DELAY = DELAY_HOPS * HOP / RATE


def hop_ends(n: int) -> F64:
    """The time of each of ``n`` hops' newest sample (s from the stream's start); a hop's mouth
    represents its end less ``DELAY``."""
    return np.asarray((np.arange(n) + 1) * HOP / RATE, dtype=np.float64)


HIDDEN = 64


@dataclass
class VowelModel:
    """The vowel network: the normalized cepstra of the hops ``lags`` back (stacked, this hop
    first) are standardized (``in_mean``, ``in_scale``), then ``relu(x W1 + b1) W2 + b2`` gives
    one score per vowel (A I U E O). ``ceps_mean``: the mean cepstrum of the fitting voices'
    voiced hops; the analyzer replaces each talker's running mean by it (cepstral mean
    normalization). ``warp``: the talker's vocal-tract warp (1 = none; a voice profile's).
    ``ceps_sd``: when set, the variance is normalized too: the analyzer keeps the talker's
    running standard deviation of each coefficient over voiced hops (starting at ``ceps_sd``, the
    value the running estimate settles at on the fitting voices) and scales the talker's
    deviation from its mean by ``ceps_sd`` / it; None (networks and profiles made before it):
    the mean only."""

    ceps_mean: F64  # (N_CEPS,)
    in_mean: F64  # (len(lags) * N_CEPS,)
    in_scale: F64
    w1: F64  # (len(lags) * N_CEPS, hidden)
    b1: F64
    w2: F64  # (hidden, 5)
    b2: F64
    lags: tuple[int, ...] = LAGS
    warp: float = 1.0
    ceps_sd: F64 | None = None  # (N_CEPS,)

    @classmethod
    def untrained(
        cls, ceps_mean: F64, lags: tuple[int, ...] = LAGS, ceps_sd: F64 | None = None
    ) -> VowelModel:
        """Uniform output: for collecting the normalized features a network is fitted on."""
        n = len(lags) * N_CEPS
        return cls(ceps_mean, np.zeros(n), np.ones(n), np.zeros((n, 1)), np.zeros(1),
                   np.zeros((1, 5)), np.zeros(5), lags, ceps_sd=ceps_sd)  # fmt: skip

    def scores(self, x: F64) -> F64:
        """(n, 5) vowel scores (logits) for stacked features (n, len(lags) * N_CEPS)."""
        z = (x - self.in_mean) / self.in_scale
        h = np.maximum(z @ self.w1 + self.b1, 0.0)
        return np.asarray(h @ self.w2 + self.b2)

    def probabilities(self, x: F64) -> F64:
        """(n, 5) softmax over the five vowels."""
        s = self.scores(x)
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def to_json(self) -> dict[str, object]:
        def r(a: F64, n: int = 6) -> object:
            return np.round(a, n).tolist()

        d = {
            "kind": "mlp", "lags": list(self.lags), "warp": self.warp,
            "ceps_mean": r(self.ceps_mean, 5), "in_mean": r(self.in_mean),
            "in_scale": r(self.in_scale),
            "w1": r(self.w1), "b1": r(self.b1), "w2": r(self.w2), "b2": r(self.b2),
        }  # fmt: skip
        if self.ceps_sd is not None:
            d["ceps_sd"] = r(self.ceps_sd, 5)
        return d

    @classmethod
    def from_json(cls, d: dict[str, object]) -> VowelModel:
        try:
            lags = tuple(int(v) for v in d["lags"])  # type: ignore[attr-defined]
            a = {k: np.asarray(d[k], dtype=np.float64)
                 for k in ("ceps_mean", "in_mean", "in_scale", "w1", "b1", "w2", "b2")}  # fmt: skip
            warp = float(d.get("warp", 1.0))  # type: ignore[arg-type]
            sd = None if d.get("ceps_sd") is None else np.asarray(d["ceps_sd"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"vowel model: bad or missing field ({e})") from e
        n, h = len(lags) * N_CEPS, a["b1"].shape[0] if a["b1"].ndim == 1 else -1
        want = {"ceps_mean": (N_CEPS,), "in_mean": (n,), "in_scale": (n,), "w1": (n, h),
                "b1": (h,), "w2": (h, 5), "b2": (5,)}  # fmt: skip
        for k, shape in want.items():
            if a[k].shape != shape:
                raise ConfigError(f"vowel model: {k} has shape {a[k].shape}, not {shape}")
        if not lags or min(lags) < 0 or not 0.5 <= warp <= 2.0 or np.any(a["in_scale"] <= 0):
            raise ConfigError("vowel model: bad lags, warp or input scale")
        if sd is not None and (sd.shape != (N_CEPS,) or not np.all(sd > 0)):
            raise ConfigError(f"vowel model: ceps_sd must be {N_CEPS} positive numbers")
        return cls(lags=lags, warp=warp, ceps_sd=sd, **a)


def load_model(path: str | Path | None = None) -> VowelModel:
    p = Path(path) if path else MODEL_PATH
    try:
        return VowelModel.from_json(json.loads(p.read_text()))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read vowel model {p}: {e}") from e


@dataclass
class AnalyzerConfig:
    """Voicing and openness settings (docs/lipsync.md; fitted on the training voices).

    periodicity: least autocorrelation peak that counts as voiced.
    floor_margin / ref_margin: dB above the noise floor / below the speech reference for the gate.
    abs_floor: dBFS below which nothing is voice (a muted microphone's hiss).
    ref_init: the speech reference before any voice was heard (dBFS).
    ref_fall: how fast the speech reference falls, dB per second.
    floor_window: the noise floor is the lowest level of the last so many seconds.
    hold: hops a closing mouth keeps half its openness (0 = shut at once).
    vowel_smooth: weight of the previous vowel probabilities (0 = none).
    min_open: openness of the softest voiced frame.
    cmn_rate: how fast the talker's mean cepstrum (and, with a network's ``ceps_sd``, its
    variance) is learned (share per voiced hop).
    voice_lag: hops the voicing and openness sent lag the newest hop (their window's centre of
    weight then lies near the instant the mouth represents, ``DELAY`` before the newest sample).
    voice_lead: a mouth the lagged hop sends shut opens when one of the next this many (newer)
    hops is voiced, with that hop's level and openness: periodicity needs most of a window
    voiced, so the window centred on a vowel's first instants still reads unvoiced (the hold
    covers the same half window at the voice's end). At most ``voice_lag`` counts; 0: off.
    """

    periodicity: float = 0.5
    floor_margin: float = 10.0
    ref_margin: float = 28.0
    abs_floor: float = -65.0
    ref_init: float = -20.0
    ref_fall: float = 1.0
    floor_window: float = 3.0
    hold: int = 1
    vowel_smooth: float = 0.2
    min_open: float = 0.25
    cmn_rate: float = 0.003
    voice_lag: int = 1
    voice_lead: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.periodicity < 1.0:
            raise ConfigError("lipsync periodicity must be in (0, 1)")
        if self.floor_margin < 0 or self.ref_margin <= 0:
            raise ConfigError("lipsync margins must be positive (dB)")
        if not 0.0 <= self.vowel_smooth < 1.0:
            raise ConfigError("lipsync vowel_smooth must be in [0, 1)")
        if not 0 <= self.voice_lag <= 5:
            raise ConfigError("lipsync voice_lag must be 0..5 hops")
        if not 0 <= self.voice_lead <= 5:
            raise ConfigError("lipsync voice_lead must be 0..5 hops")


@dataclass(frozen=True, slots=True)
class MouthShape:
    """The mouth at one hop: ``t`` = the instant it represents (s, stream clock: the hop's newest
    sample less ``DELAY``), ``level`` dBFS, ``voiced``, ``open`` 0..1 and the five vowel weights
    (sum = open)."""

    t: float
    level: float
    voiced: bool
    open: float
    vowels: dict[str, float]


CLOSED = MouthShape(0.0, -120.0, False, 0.0, dict.fromkeys(VOWEL_KEYS, 0.0))


@dataclass
class _State:
    floor: float = -90.0
    ref: float = -20.0
    open: float = 0.0
    hold_left: int = 0
    probs: F64 = field(default_factory=lambda: np.full(5, 0.2))


class Analyzer:
    """Streaming analysis at 16 kHz: ``push(samples)`` returns the MouthShape of every hop
    completed by those samples."""

    def __init__(
        self,
        model: VowelModel | None = None,
        cfg: AnalyzerConfig | None = None,
        *,
        keep_features: bool = False,
    ) -> None:
        self.model = model or load_model()
        self.cfg = cfg or AnalyzerConfig()
        self._mel = _MEL if self.model.warp == 1.0 else mel_filters(self.model.warp)
        self._mu = self.model.ceps_mean.copy()  # the talker's running mean cepstrum
        # the talker's running variance of each coefficient (mean and variance normalization,
        # when the network declares the fitting voices' ``ceps_sd``; it starts there)
        sd = self.model.ceps_sd
        self._sd_ref = None if sd is None else np.asarray(sd, dtype=np.float64)
        self._var = None if self._sd_ref is None else self._sd_ref**2
        # the normalized cepstra of the last hops (newest first), for the network's lags
        self._hist: deque[F64] = deque(maxlen=max(self.model.lags) + 1)
        # (network input, voiced) of every hop, for fitting and calibration
        self.features: list[tuple[F64, bool]] | None = [] if keep_features else None
        self._buf = np.zeros(WIN, dtype=np.float64)
        self._pending = np.zeros(0, dtype=np.float64)
        self._n = 0  # samples consumed into hops
        self.state = _State(ref=self.cfg.ref_init)
        self._levels: deque[float] = deque(maxlen=round(self.cfg.floor_window * RATE / HOP))
        # (level, voiced, openness) of the last hops, newest last: the one sent is voice_lag old
        self._voice: deque[tuple[float, bool, float]] = deque(
            [(-120.0, False, 0.0)] * self.cfg.voice_lag, maxlen=self.cfg.voice_lag + 1
        )

    def push(self, samples: NDArray[np.floating]) -> list[MouthShape]:
        x = np.concatenate([self._pending, np.asarray(samples, dtype=np.float64).ravel()])
        n_hops = len(x) // HOP
        self._pending = x[n_hops * HOP :]
        if n_hops == 0:
            return []
        full = np.concatenate([self._buf, x[: n_hops * HOP]])
        idx = np.arange(n_hops)[:, None] * HOP + HOP + np.arange(WIN)[None, :]
        frames = full[idx]
        self._buf = full[-WIN:]
        level, per, ceps = frame_features(frames, self._mel)
        out = []
        for i in range(n_hops):
            self._n += HOP
            out.append(self._step(self._n / RATE, float(level[i]), float(per[i]), ceps[i]))
        return out

    def hop_input(self, level: float, per: float, ceps: F64) -> tuple[F64, bool, float]:
        """One hop's network input, voicing and gate (updates the floor, the speech reference
        and the talker's mean; what ``keep_features`` keeps and the fitting caches)."""
        c, s = self.cfg, self.state
        dt = HOP / RATE
        if level > -110.0:  # (exact digital silence says nothing about the room)
            self._levels.append(level)
            s.floor = max(min(self._levels), -90.0)
        gate = max(s.floor + c.floor_margin, s.ref - c.ref_margin, c.abs_floor)
        voiced = per >= c.periodicity and level >= gate
        if voiced:
            s.ref = max(level, s.ref - c.ref_fall * dt)
        else:
            s.ref = max(s.ref - c.ref_fall * dt, c.abs_floor + c.ref_margin)
        if voiced:
            talker_update(self._mu, self._var, ceps, c.cmn_rate)
        dev = ceps - self._mu
        if self._var is not None and self._sd_ref is not None:
            dev = dev * (self._sd_ref / np.sqrt(self._var))
        self._hist.appendleft(dev + self.model.ceps_mean)
        h = self._hist
        x = np.concatenate([h[min(lag, len(h) - 1)] for lag in self.model.lags])
        if self.features is not None:
            self.features.append((x, voiced))
        return x, voiced, gate

    def _step(self, t: float, level: float, per: float, ceps: F64) -> MouthShape:
        c, s = self.cfg, self.state
        x, voiced, gate = self.hop_input(level, per, ceps)
        if voiced:
            probs = self.model.probabilities(x[None, :])[0]
            span = max(s.ref - gate, 6.0)
            o = c.min_open + (1.0 - c.min_open) * min(max((level - gate) / span, 0.0), 1.0)
            s.open = o
            s.hold_left = c.hold
            s.probs = c.vowel_smooth * s.probs + (1.0 - c.vowel_smooth) * probs
        elif s.hold_left > 0:
            s.hold_left -= 1
            s.open *= 0.5
        else:
            s.open = 0.0
        # the vowel: this hop's network (fitted for the instant DELAY back); the voicing and
        # openness: the hop voice_lag back, whose window is centred nearer that instant
        self._voice.append((level, voiced, s.open))
        lv, vo, op = self._voice[0]
        if not op:  # shut: open early if a newer hop within voice_lead hears the voice
            for k in range(1, min(c.voice_lead, c.voice_lag) + 1):
                if self._voice[k][1]:
                    lv, vo, op = self._voice[k]
                    break
        w = op * s.probs
        return MouthShape(
            t - DELAY, lv, vo, op, {k: float(v) for k, v in zip(VOWEL_KEYS, w, strict=True)}
        )


def analyze(
    samples: NDArray[np.floating],
    model: VowelModel | None = None,
    cfg: AnalyzerConfig | None = None,
) -> list[MouthShape]:
    """The shapes of every 10 ms hop of a whole 16 kHz signal (same code as streaming)."""
    return Analyzer(model, cfg).push(samples)


def level_text(shape: MouthShape) -> str:
    """The status-line part: audio level and voice activity."""
    bars = max(0, min(5, int(math.floor((shape.level + 60.0) / 10.0))))
    return f"audio {shape.level:4.0f} dB {'#' * bars:<5} {'VOICE' if shape.voiced else 'quiet'}"
