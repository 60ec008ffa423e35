"""Intervals and tests behind the verdicts, from the library that owns them (scipy.stats).

Every test answers with three states: True (the data show the part holds), False (they refute
it) or None (undetermined: the interval straddles the threshold). A two-sided interval at level
1 − α is read as two one-sided tests at α/2 each, one per direction.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

__all__ = ["LEVEL", "ALPHA", "Interval", "Share", "look_level", "pocock_alpha", "t_interval", "r2_interval", "welch",
           "wilson", "share", "share_difference", "share_greater_p", "tost", "welch_p", "welch_p_greater", "holm",
           "above", "below", "within", "both", "negate", "any_of", "all_of"]

ALPHA = 0.05
LEVEL = 1 - ALPHA  # two-sided 95% intervals


def look_level(looks: int | Sequence[int] = 1, alpha: float = ALPHA) -> float:
    """Confidence level of each look of a sequential design (Pocock's rule: one nominal level for every
    look). `looks` is the cumulative seed counts of the looks (e.g. (8, 12)) or, as a number K, K
    equally spaced looks. Over all looks the chance of any false decision stays at alpha."""
    rounds = tuple(range(1, looks + 1)) if isinstance(looks, int) else tuple(int(n) for n in looks)
    return 1 - pocock_alpha(rounds or (1,), alpha)


@lru_cache(maxsize=64)
def pocock_alpha(rounds: tuple[int, ...], alpha: float = ALPHA) -> float:
    """Pocock's nominal two-sided level for looks after `rounds` (cumulative) observations: the constant
    boundary c with P(|Z_k| > c at some look) = alpha under the null, where Z_k are the look statistics
    of one Brownian motion read at information n_k (correlation sqrt(n_j/n_k)); returns 2·(1 − Φ(c)).
    One look gives alpha; two equal looks 0.0294 and three 0.0221 (Pocock 1977, a test pins these).
    The multivariate normal's probability is computed by scipy (Genz's method, fixed random stream:
    the same number every build)."""
    from scipy.optimize import brentq
    t = np.asarray(sorted(set(rounds)), float)
    if len(t) <= 1:
        return alpha
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    law = stats.multivariate_normal(mean=np.zeros(len(t)), cov=cov)

    def crossing(c: float) -> float:
        inside = law.cdf(np.full(len(t), c), lower_limit=np.full(len(t), -c), rng=np.random.default_rng(0))
        return 1 - float(inside) - alpha

    c = brentq(crossing, float(stats.norm.isf(alpha / 2)), float(stats.norm.isf(alpha / (2 * len(t)))) + 0.5,
               xtol=1e-8)
    return float(2 * stats.norm.sf(c))


@dataclass(frozen=True)
class Interval:
    """A point estimate with its interval: a mean, a difference or a rate, n values behind it."""
    mean: float
    lo: float
    hi: float
    n: int

    @property
    def known(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)


@dataclass(frozen=True)
class Share(Interval):
    """k of n seeds did something: the share k/n (as `mean`) with its Wilson interval."""
    k: int = 0


NAN_INTERVAL = Interval(math.nan, math.nan, math.nan, 0)


def _finite(values: Iterable) -> np.ndarray:
    return np.asarray([v for v in values if v is not None and np.isfinite(v)], float)


def t_interval(values, level: float = LEVEL) -> Interval:
    """Mean and two-sided t-interval over seeds; NaN ends with fewer than two values."""
    data = _finite(values)
    n = len(data)
    if n == 0:
        return NAN_INTERVAL
    mean = float(data.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def r2_interval(values, level: float = LEVEL) -> Interval:
    """Mean R² across seeds with an interval that stays inside [0, 1]: a t-interval of atanh(√R²)
    (Fisher's z of the correlation), transformed back; the point is the mean on that scale, transformed
    back too (so it lies inside its interval)."""
    data = np.clip(_finite(values), 0.0, 1.0)
    n = len(data)
    if n == 0:
        return NAN_INTERVAL
    if n == 1:
        return Interval(float(data[0]), math.nan, math.nan, 1)
    # R² of exactly 1 (an exact exponential) has an infinite z: read it as 1 − 1e-9 (z ≈ 10.7)
    z = np.arctanh(np.sqrt(np.minimum(data, 1 - 1e-9)))
    iv = t_interval(z, level)
    point = float(np.tanh(z.mean()) ** 2)
    if not iv.known:
        return Interval(point, math.nan, math.nan, n)
    return Interval(point, float(np.tanh(max(iv.lo, 0.0)) ** 2), float(np.tanh(iv.hi) ** 2), n)


def share_greater_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """One-sided p-value of Fisher's exact test that the first share k1/n1 exceeds the second k2/n2
    (scipy.stats.fisher_exact, alternative "greater"): shares of seeds, never t-tests of bimodal scores."""
    if n1 <= 0 or n2 <= 0:
        return math.nan
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    return float(stats.fisher_exact(table, alternative="greater").pvalue)


def _constant(a: np.ndarray, b: np.ndarray) -> bool:
    """Both groups constant up to float noise (e.g. identical accuracies, or a linear RNN's exact
    rates): their Welch statistic is 0/0, which scipy would compute with a precision warning."""
    scale = max(1.0, float(np.abs(np.concatenate([a, b])).max()))
    return float(np.ptp(a)) <= 1e-9 * scale and float(np.ptp(b)) <= 1e-9 * scale


def _ttest(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided"):
    """scipy's Welch test. Accuracies of seeds that all learned are equal up to a last digit, and
    scipy then warns of "precision loss" on the build's console; the result is still right (a test
    pins it against constant groups), so that one warning is silenced here, not everywhere."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss occurred", category=RuntimeWarning)
        return stats.ttest_ind(a, b, equal_var=False, alternative=alternative)


def welch(a, b, level: float = LEVEL) -> Interval:
    """Difference of means a − b with a Welch t-interval (scipy's ttest_ind, unequal variances)."""
    a, b = _finite(a), _finite(b)
    if len(a) < 2 or len(b) < 2:
        return Interval(float(a.mean() - b.mean()) if len(a) and len(b) else math.nan, math.nan, math.nan,
                        len(a) + len(b))
    diff = float(a.mean() - b.mean())
    if _constant(a, b):
        return Interval(diff, diff, diff, len(a) + len(b))
    ci = _ttest(a, b).confidence_interval(level)
    return Interval(diff, float(ci.low), float(ci.high), len(a) + len(b))


def welch_p_greater(a, b, margin: float = 0.0) -> float:
    """One-sided Welch p-value of H0: mean(a) − mean(b) <= margin (small: a exceeds b by more)."""
    a, b = _finite(a), _finite(b)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if _constant(a, b):
        return 0.0 if a.mean() - b.mean() > margin else 1.0
    return float(_ttest(a - margin, b, alternative="greater").pvalue)


def welch_p(a, b) -> float:
    """Two-sided Welch p-value of equal means (0 or 1 when both groups are constant)."""
    a, b = _finite(a), _finite(b)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    if _constant(a, b):
        return 0.0 if abs(a.mean() - b.mean()) > 1e-12 else 1.0
    return float(_ttest(a, b).pvalue)


@lru_cache(maxsize=65536)
def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials: the same numbers as scipy's
    binomtest(k, n).proportion_ci(level, method="wilson") (a test pins them), without the exact
    p-value that binomtest also computes (a binary search, 10 ms a call). The bounds at k = 0 and
    k = n are exactly 0 and 1, as scipy's are (the formula leaves 5.6e-17 or 1 − 1.1e-16 there)."""
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); computed as centre - half it is
    # 5.6e-17 or so, which made a share of 0 lie outside its own interval.
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def share(k: int, n: int, level: float = LEVEL) -> Share:
    """k of n with the Wilson score interval."""
    if n <= 0:
        return Share(math.nan, math.nan, math.nan, 0, 0)
    lo, hi = wilson(int(k), int(n), float(level))
    return Share(k / n, lo, hi, int(n), int(k))


def share_difference(k1: int, n1: int, k2: int, n2: int, level: float = LEVEL) -> Interval:
    """Difference of two shares k1/n1 − k2/n2 with Newcombe's hybrid score interval (his method 10,
    Statistics in Medicine 1998), built from the two Wilson intervals."""
    if n1 <= 0 or n2 <= 0:
        return NAN_INTERVAL
    a, b = share(k1, n1, level), share(k2, n2, level)
    diff = a.mean - b.mean
    lo = diff - math.sqrt((a.mean - a.lo) ** 2 + (b.hi - b.mean) ** 2)
    hi = diff + math.sqrt((a.hi - a.mean) ** 2 + (b.mean - b.lo) ** 2)
    return Interval(diff, lo, hi, n1 + n2)


def tost(a, b, margin: float, alpha: float = ALPHA) -> tuple[bool | None, Interval]:
    """Two one-sided Welch tests of |mean(a) − mean(b)| < margin (Schuirmann 1987).

    Equivalent (True) when both one-sided tests reject at alpha, i.e. the (1 − 2·alpha) Welch
    interval lies inside ±margin; different (False) when that interval lies wholly outside it;
    otherwise undetermined (None). An interval that merely contains 0 proves nothing."""
    diff = welch(a, b, 1 - 2 * alpha)
    return within(diff, margin), diff


def holm(pvalues: Sequence[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down rejections (which hypotheses are rejected at family-wise error alpha).

    A NaN p-value (a comparison the data could not test) is never rejected and stays in the family
    (as p = 1): dropping it would shrink the family and lower every other comparison's bar."""
    m = len(pvalues)
    order = sorted((p, i) for i, p in enumerate(pvalues) if not math.isnan(p))
    rejected = [False] * m
    for rank, (p, i) in enumerate(order):
        if p > alpha / (m - rank):
            break
        rejected[i] = True
    return rejected


def above(iv: Interval | None, threshold: float) -> bool | None:
    """True when the interval lies above threshold, False when below, None when it straddles it."""
    if iv is None or not iv.known:
        return None
    if iv.lo > threshold:
        return True
    if iv.hi < threshold:
        return False
    return None


def below(iv: Interval | None, threshold: float) -> bool | None:
    """True when the interval lies below threshold, False when above, None when it straddles it."""
    return negate(above(iv, threshold))


def within(iv: Interval | None, margin: float) -> bool | None:
    """True when the interval lies inside ±margin, False when wholly outside it, else None."""
    if iv is None or not iv.known:
        return None
    if -margin <= iv.lo and iv.hi <= margin:
        return True
    if iv.lo > margin or iv.hi < -margin:
        return False
    return None


def negate(state: bool | None) -> bool | None:
    """Negation that keeps 'undetermined' undetermined."""
    return None if state is None else not state


def both(*states: bool | None) -> bool | None:
    """Conjunction with unknowns: False if any is False, True if all are True, else None."""
    if any(s is False for s in states):
        return False
    return True if all(s is True for s in states) else None


all_of = both


def any_of(*states: bool | None) -> bool | None:
    """Disjunction with unknowns: True if any is True, False if all are False, else None."""
    if any(s is True for s in states):
        return True
    return False if states and all(s is False for s in states) else None
