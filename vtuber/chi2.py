"""Chi-square tail thresholds for integer degrees of freedom, in closed form (no scipy).

The smoother's gates (vtuber/smoothing.py) need, once at start-up, the chi-square value exceeded
with the same probability as ``|N(0,1)| > sigma``. scipy.stats would give it as
``chi2.isf(2 * norm.sf(sigma), dof)`` but importing scipy.stats costs ~0.6 s of start-up
(docs/performance.md); for an integer ``dof`` the survival function has a closed form and the
inverse is a bisection. tests/test_speed_mechanisms.py checks both against scipy.
"""

from __future__ import annotations

import math
from functools import lru_cache


def chi2_sf(x: float, dof: int) -> float:
    """P(X > x) for X ~ chi-square with ``dof`` (a positive integer) degrees of freedom."""
    if dof < 1:
        raise ValueError(f"dof must be a positive integer, got {dof}")
    if x <= 0.0:
        return 1.0
    h = 0.5 * x
    e = math.exp(-h)
    if dof % 2 == 0:  # Q(k, h) = e^-h * sum_{i<k} h^i / i!
        term = total = 1.0
        for i in range(1, dof // 2):
            term *= h / i
            total += term
        return e * total
    # Odd: Q(1/2 + m, h) = erfc(sqrt h) + e^-h * sum_{i<m} h^(i+1/2) / Gamma(i + 3/2)
    total = math.erfc(math.sqrt(h))
    term = math.sqrt(h) / math.gamma(1.5)
    for i in range((dof - 1) // 2):
        if i:
            term *= h / (i + 0.5)
        total += e * term
    return total


def chi2_isf(p: float, dof: int) -> float:
    """The x with ``chi2_sf(x, dof) == p`` (0 < p <= 1), to ~1e-12 relative."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p}")
    lo, hi = 0.0, max(1.0, float(dof))
    while chi2_sf(hi, dof) > p:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if chi2_sf(mid, dof) > p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


@lru_cache(maxsize=256)  # a smoother asks for the same few (sigma, dof) pairs many times
def gaussian_equivalent_threshold(sigma: float, dof: int) -> float:
    """The chi-square (``dof``) threshold with the false-alarm rate of ``|N(0,1)| > sigma``;
    ``inf`` for ``sigma <= 0`` (no gate)."""
    if sigma <= 0:
        return math.inf
    return chi2_isf(math.erfc(sigma / math.sqrt(2.0)), dof)
