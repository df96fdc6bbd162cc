"""Audio -> mouth: voicing, openness and the five vowel shapes, causally, every 10 ms.

Method (docs/lipsync.md):

1. Mono audio at 16 kHz is cut into 32 ms Hann windows every 10 ms; each window ENDS at the newest
   sample (no look-ahead), so a result is ready as soon as its last 10 ms block arrives.
2. Per window: the level (dBFS), the periodicity (peak of the normalized autocorrelation at
   pitch lags 2-20 ms, i.e. 50-500 Hz, corrected for the window's own taper) and 12 mel-cepstral
   coefficients (26 mel bands, 100-7000 Hz).
3. Voicing: periodic enough AND louder than a gate. The gate follows the room and the talker: the
   larger of the noise floor + ``floor_margin`` dB (a slow-rising minimum tracker) and the speech
   reference - ``ref_margin`` dB (a slow-falling peak of voiced frames), so fans, keyboards and
   music well below the voice keep the mouth shut.
4. Openness: where the level sits between the gate and the speech reference, 0 when unvoiced.
5. Vowel: a linear discriminant over the cepstra (pooled precision matrix + one mean per vowel,
   fitted on training voices; ``vtuber calibrate --audio`` replaces the means by the user's own);
   its softmax, lightly smoothed, splits the openness over aa/ih/ou/ee/oh.

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

_LAG_MIN, _LAG_MAX = 32, 320  # 500 Hz .. 50 Hz
_NFFT_AC = 1024


def _mel_filters() -> F64:
    def mel(f: F64 | float) -> F64:
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    edges_mel = np.linspace(mel(100.0), mel(7000.0), N_MELS + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(WIN, 1.0 / RATE)
    fb = np.zeros((N_MELS, freqs.size))
    for i in range(N_MELS):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[i] = np.clip(np.minimum(up, down), 0.0, None)
    return fb


_WINDOW = np.hanning(WIN)
_WIN_POWER = float(np.mean(_WINDOW**2))
_MEL = _mel_filters()
_DCT = np.cos(
    np.pi / N_MELS * (np.arange(N_MELS)[None, :] + 0.5) * np.arange(1, N_CEPS + 1)[:, None]
)
_wac = np.correlate(_WINDOW, _WINDOW, "full")[WIN - 1 :]
_WIN_AC = _wac / _wac[0]


def frame_features(frames: F64) -> tuple[F64, F64, F64]:
    """For windows (n, WIN): level dBFS (n,), periodicity 0..1 (n,), cepstra (n, N_CEPS)."""
    x = frames - frames.mean(axis=1, keepdims=True)
    xw = x * _WINDOW
    power = np.mean(xw**2, axis=1) / _WIN_POWER
    level = 10.0 * np.log10(power + 1e-12)
    spec = np.abs(np.fft.rfft(xw, axis=1)) ** 2
    mel = np.log(spec @ _MEL.T + 1e-10)
    ceps = mel @ _DCT.T
    ac = np.fft.irfft(np.abs(np.fft.rfft(xw, n=_NFFT_AC, axis=1)) ** 2, axis=1)[:, : _LAG_MAX + 1]
    r0 = ac[:, :1] + 1e-12
    r = ac[:, _LAG_MIN:] / r0 / _WIN_AC[_LAG_MIN : _LAG_MAX + 1]
    per = np.clip(r.max(axis=1), 0.0, 1.0)
    return level, per, ceps


@dataclass
class VowelModel:
    """Linear discriminant: scores = x P m_k - m_k P m_k / 2 + log prior_k for the vowel means
    m_k. ``ceps_mean``: the mean cepstrum of the fitting voices' voiced frames; the analyzer
    replaces each talker's running mean by it (cepstral mean normalization) before scoring."""

    precision: F64  # (N_CEPS, N_CEPS)
    means: F64  # (5, N_CEPS), order A I U E O
    sharpness: float = 1.0
    log_prior: F64 = field(default_factory=lambda: np.zeros(5))
    ceps_mean: F64 | None = None

    def probabilities(self, ceps: F64) -> F64:
        """(n, 5) softmax over the five vowels."""
        pm = self.means @ self.precision  # (5, d)
        s = ceps @ pm.T - 0.5 * np.sum(pm * self.means, axis=1) + self.log_prior
        s = self.sharpness * (s - s.max(axis=1, keepdims=True))
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> dict[str, object]:
        return {
            "precision": np.round(self.precision, 6).tolist(),
            "means": np.round(self.means, 5).tolist(),
            "sharpness": self.sharpness,
            "log_prior": np.round(self.log_prior, 5).tolist(),
            "ceps_mean": None if self.ceps_mean is None else np.round(self.ceps_mean, 5).tolist(),
        }

    @classmethod
    def from_json(cls, d: dict[str, object]) -> VowelModel:
        try:
            p = np.asarray(d["precision"], dtype=np.float64)
            m = np.asarray(d["means"], dtype=np.float64)
            sharp = float(d.get("sharpness", 1.0))  # type: ignore[arg-type]
            prior = np.asarray(d.get("log_prior", np.zeros(5)), dtype=np.float64)
            cm = d.get("ceps_mean")
            ceps_mean = None if cm is None else np.asarray(cm, dtype=np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"vowel model: bad or missing field ({e})") from e
        if p.shape != (N_CEPS, N_CEPS) or m.shape != (5, N_CEPS) or prior.shape != (5,):
            raise ConfigError(f"vowel model: wrong shapes {p.shape}, {m.shape}, {prior.shape}")
        if ceps_mean is not None and ceps_mean.shape != (N_CEPS,):
            raise ConfigError(f"vowel model: wrong ceps_mean shape {ceps_mean.shape}")
        return cls(p, m, sharp, prior, ceps_mean)

    @classmethod
    def fit(cls, ceps: F64, labels: NDArray[np.int64], ridge: float = 1e-3) -> VowelModel:
        """Fit from cepstra (n, N_CEPS) with labels 0..4 (A I U E O)."""
        means = np.stack([ceps[labels == k].mean(axis=0) for k in range(5)])
        resid = ceps - means[labels]
        cov = resid.T @ resid / max(len(ceps) - 5, 1)
        cov += ridge * np.trace(cov) / N_CEPS * np.eye(N_CEPS)
        counts = np.bincount(labels, minlength=5).astype(np.float64)
        return cls(np.linalg.inv(cov), means, log_prior=np.log(counts / counts.sum()))


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
    cmn_rate: how fast the talker's mean cepstrum is learned (share per voiced hop).
    """

    periodicity: float = 0.5
    floor_margin: float = 12.0
    ref_margin: float = 24.0
    abs_floor: float = -65.0
    ref_init: float = -20.0
    ref_fall: float = 1.0
    floor_window: float = 3.0
    hold: int = 1
    vowel_smooth: float = 0.2
    min_open: float = 0.25
    cmn_rate: float = 0.01

    def __post_init__(self) -> None:
        if not 0.0 < self.periodicity < 1.0:
            raise ConfigError("lipsync periodicity must be in (0, 1)")
        if self.floor_margin < 0 or self.ref_margin <= 0:
            raise ConfigError("lipsync margins must be positive (dB)")
        if not 0.0 <= self.vowel_smooth < 1.0:
            raise ConfigError("lipsync vowel_smooth must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class MouthShape:
    """The mouth at one hop: ``t`` = time of the newest sample (s, stream clock), ``level`` dBFS,
    ``voiced``, ``open`` 0..1 and the five vowel weights (sum = open)."""

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
        cm = self.model.ceps_mean
        self._mu = None if cm is None else cm.copy()  # the talker's running mean cepstrum
        # (normalized cepstrum, voiced) of every hop, for fitting and calibration
        self.features: list[tuple[F64, bool]] | None = [] if keep_features else None
        self._buf = np.zeros(WIN, dtype=np.float64)
        self._pending = np.zeros(0, dtype=np.float64)
        self._n = 0  # samples consumed into hops
        self.state = _State(ref=self.cfg.ref_init)
        self._levels: deque[float] = deque(maxlen=round(self.cfg.floor_window * RATE / HOP))

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
        level, per, ceps = frame_features(frames)
        out = []
        for i in range(n_hops):
            self._n += HOP
            out.append(self._step(self._n / RATE, float(level[i]), float(per[i]), ceps[i]))
        return out

    def _step(self, t: float, level: float, per: float, ceps: F64) -> MouthShape:
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
        x = ceps
        if self._mu is not None and self.model.ceps_mean is not None:
            if voiced:
                self._mu += c.cmn_rate * (ceps - self._mu)
            x = ceps - self._mu + self.model.ceps_mean
        if self.features is not None:
            self.features.append((x, voiced))
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
        w = s.open * s.probs
        return MouthShape(
            t, level, voiced, s.open, {k: float(v) for k, v in zip(VOWEL_KEYS, w, strict=True)}
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
