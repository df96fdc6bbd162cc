"""Online vocal-tract adaptation: the talker's warp learned from ordinary speech, no calibration.

``vtuber calibrate --audio`` learns a talker's vocal-tract warp (a stretch of the frequency axis,
``analysis.warp_frequency``) from 10 s of known vowels. :class:`AdaptiveAnalyzer` estimates a
warp from the talker's running speech as it comes, without knowing what was said:

- the stock network runs on the mel bands placed at each warp of a small grid (``GRID``: one
  :class:`~vtuber.audio.analysis.Analyzer` per warp, all fed the same samples; voicing and
  openness do not depend on the warp);
- :class:`OnlineWarp` keeps, for each grid warp, a running mean over the talker's voiced hops of
  the network's confidence (the log of its largest vowel probability), forgetting with a time
  constant of ``memory`` seconds of voice. Every ``every`` seconds the warp with the highest mean
  confidence, less a prior that pulls toward 1 (``prior`` per step of the grid), becomes the
  target, once ``min_voice`` seconds of voice have been heard; the warp in use moves toward it by
  at most ``rate`` of a grid step per second (never a jump);
- the vowels sent are those of the two grid warps around the warp in use, interpolated in
  log-warp. The openness and voicing are the unwarped analyzer's.

It starts exactly as the plain analyzer (warp 1, nothing heard yet); a new analyzer (a new
session) starts afresh. A voice profile carries its own warp and network, so it is not used with
one. Settings chosen on the fitting voices only (docs/lipsync.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from vtuber.audio.analysis import (
    CANONICAL_PATH,
    HOP,
    RATE,
    VOWEL_KEYS,
    Analyzer,
    AnalyzerConfig,
    MouthShape,
    VowelModel,
    load_model,
)

F64 = NDArray[np.float64]

STEP = 1.07  # the grid's ratio between neighbouring warps
GRID = tuple(round(STEP**k, 4) for k in range(-3, 6))  # 0.816 .. 1.403; 1 among them
HOPS_PER_S = RATE // HOP


@dataclass
class OnlineWarpConfig:
    """memory: seconds of voice the confidence means remember (exponential forgetting).
    every: seconds between re-estimates. min_voice: seconds of voice before the first one.
    prior: confidence (mean log probability) a warp must gain per grid step away from 1.
    rate: grid steps per second the warp in use may move."""

    memory: float = 30.0
    every: float = 1.0
    min_voice: float = 3.0
    prior: float = 0.01
    rate: float = 0.25


class OnlineWarp:
    """The warp estimate from per-hop network probabilities under each grid warp."""

    def __init__(self, grid: tuple[float, ...] = GRID, cfg: OnlineWarpConfig | None = None):
        self.grid = grid
        self.cfg = cfg or OnlineWarpConfig()
        self.log_grid = np.log(np.asarray(grid)) / math.log(STEP)  # in grid steps
        self.conf = np.zeros(len(grid))  # running mean confidence per warp
        self.voiced_hops = 0
        self.hops = 0
        self.pos = float(np.interp(0.0, self.log_grid, np.arange(len(grid))))  # index of warp 1
        self.target = self.pos

    @property
    def warp(self) -> float:
        """The warp in use now."""
        return float(STEP ** np.interp(self.pos, np.arange(len(self.grid)), self.log_grid))

    def update(self, voiced: bool, probs: F64 | None) -> None:
        """One hop: ``probs`` (len(grid), 5), the network's probabilities under each warp, on
        voiced hops."""
        c = self.cfg
        self.hops += 1
        if voiced and probs is not None:
            self.voiced_hops += 1
            a = max(1.0 / self.voiced_hops, 1.0 / (c.memory * HOPS_PER_S))
            self.conf += a * (np.log(probs.max(axis=1) + 1e-9) - self.conf)
        every = max(1, round(c.every * HOPS_PER_S))
        if self.hops % every == 0 and self.voiced_hops >= c.min_voice * HOPS_PER_S:
            self.target = float(np.argmax(self.conf - c.prior * np.abs(self.log_grid)))
        step = c.rate / HOPS_PER_S
        self.pos += min(max(self.target - self.pos, -step), step)

    def mix(self, vowels: list[F64]) -> F64:
        """The vowels at the warp in use: the two grid neighbours' interpolated."""
        i = min(int(math.floor(self.pos)), len(self.grid) - 2)
        f = self.pos - i
        return np.asarray((1.0 - f) * vowels[i] + f * vowels[i + 1])


class AdaptiveAnalyzer:
    """:class:`Analyzer`'s interface (``push`` -> MouthShapes) with the warp learned online.

    ``model``: the network whose vowels are sent (default: the stock one), ``judge``: the network
    whose confidence picks the warp (default: the profile network, ``CANONICAL_PATH``: fitted on
    voices with their warp taken out, so it is surest at the talker's own warp; the stock
    network, fitted on every warp, is nearly as sure at any). ``judge=None`` with
    ``same_judge=True``: the model judges itself."""

    def __init__(
        self,
        model: VowelModel | None = None,
        cfg: AnalyzerConfig | None = None,
        warp_cfg: OnlineWarpConfig | None = None,
        grid: tuple[float, ...] = GRID,
        judge: VowelModel | None = None,
        *,
        same_judge: bool = False,
    ) -> None:
        base = model or load_model()
        self.analyzers = [Analyzer(replace(base, warp=w), cfg) for w in grid]
        if same_judge:
            self.judges = self.analyzers
        else:
            jm = judge or load_model(CANONICAL_PATH)
            self.judges = [Analyzer(replace(jm, warp=w), cfg) for w in grid]
        self.estimate = OnlineWarp(grid, warp_cfg)
        self.i1 = grid.index(1.0)

    @property
    def warp(self) -> float:
        return self.estimate.warp

    def push(self, samples: NDArray[np.floating]) -> list[MouthShape]:
        per_warp = [a.push(samples) for a in self.analyzers]
        judged = (
            per_warp if self.judges is self.analyzers else [a.push(samples) for a in self.judges]
        )
        out = []
        for k, shape in enumerate(per_warp[self.i1]):
            if shape.voiced:
                probs = np.stack([_vowels(s[k]) / max(shape.open, 1e-9) for s in judged])
                self.estimate.update(True, probs)
            else:
                self.estimate.update(False, None)
            w = self.estimate.mix([_vowels(s[k]) for s in per_warp])
            out.append(replace(shape, vowels=dict(zip(VOWEL_KEYS, map(float, w), strict=True))))
        return out


def _vowels(shape: MouthShape) -> F64:
    return np.array([shape.vowels[v] for v in VOWEL_KEYS])


def adaptive_analyze(
    samples: NDArray[np.floating],
    model: VowelModel | None = None,
    cfg: AnalyzerConfig | None = None,
    warp_cfg: OnlineWarpConfig | None = None,
) -> list[MouthShape]:
    """:func:`analysis.analyze` with the warp learned online."""
    return AdaptiveAnalyzer(model, cfg, warp_cfg).push(samples)
