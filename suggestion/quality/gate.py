"""Compare results with a baseline: exact when bit-identical, else a one-sided Mann-Whitney U test.

Why this test: per-seed regrets are bounded, skewed and often tied near 0, so
a rank test fits better than a t-test, and "worse" is one-sided. Why the
corrections: the full suite makes about 120 comparisons, so the family-wise
alpha (0.05) is split over them (Bonferroni), and a loss must also exceed a
minimum effect (0.05 of the gap between a typical random point and the
optimum) so that a tiny but consistent shift does not block a change.
Why exact first: the server is a pure function of the request and seeds are
fixed, so on one machine with the same libraries a run repeats bit for bit;
only when numbers differ (a code change, other library versions, another
CPU's floating point) does the statistical test decide. A cell whose every
seed scores the same within floating-point noise (NOISE, below) is identical
too: another CPU may round the last bits differently without any change in
what the algorithm found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FAMILY_ALPHA = 0.05
MIN_EFFECT = 0.05
METRICS = ("auc", "final")
# Floating-point noise: per seed, both scores equal within 1e-9 relative (1e-12 absolute near a regret of 0).
# Real changes move a regret by far more: the smallest step a trial can make is one trial's improvement.
NOISE_RELATIVE, NOISE_ABSOLUTE = 1e-9, 1e-12


@dataclass(frozen=True)
class Verdict:
    cell: str
    status: str  # identical | same | better | WORSE | new | missing
    p: dict[str, float]  # metric -> one-sided p-value that the candidate is worse
    effect: dict[str, float]  # metric -> candidate mean - baseline mean (positive: worse)

    @property
    def failed(self) -> bool:
        return self.status == "WORSE"


def compare(candidate: dict[str, dict], baseline: dict[str, dict],
            family_alpha: float = FAMILY_ALPHA, min_effect: float = MIN_EFFECT) -> list[Verdict]:
    """One verdict per cell of either side; only cells present in both can fail."""
    shared = [cell for cell in candidate if cell in baseline]
    tests = sum(1 for cell in shared if not _identical(candidate[cell], baseline[cell])) * len(METRICS)
    alpha = family_alpha / max(tests, 1)
    verdicts = [_verdict(cell, candidate[cell], baseline[cell], alpha, min_effect) for cell in shared]
    verdicts += [Verdict(cell, "new", {}, {}) for cell in candidate if cell not in baseline]
    verdicts += [Verdict(cell, "missing", {}, {}) for cell in baseline if cell not in candidate]
    return sorted(verdicts, key=lambda v: v.cell)


def _identical(now: dict, before: dict) -> bool:
    """Same seeds and, seed by seed, the same scores (bit for bit, or within floating-point noise)."""
    return now["seeds"] == before["seeds"] and all(
        math.isclose(a, b, rel_tol=NOISE_RELATIVE, abs_tol=NOISE_ABSOLUTE)
        for metric in METRICS for a, b in zip(now[metric], before[metric], strict=True))


def bit_identical(now: dict, before: dict) -> bool:
    """Every run repeated trial for trial (the loss fingerprints match)."""
    return now["seeds"] == before["seeds"] and now["losses"] == before["losses"]


def _verdict(cell: str, now: dict, before: dict, alpha: float, min_effect: float) -> Verdict:
    if _identical(now, before):
        return Verdict(cell, "identical", {m: 1.0 for m in METRICS}, {m: 0.0 for m in METRICS})
    p = {m: one_sided_p(now[m], before[m], worse=True) for m in METRICS}
    effect = {m: _mean(now[m]) - _mean(before[m]) for m in METRICS}
    if any(p[m] < alpha and effect[m] > min_effect for m in METRICS):
        return Verdict(cell, "WORSE", p, effect)
    better = any(one_sided_p(now[m], before[m], worse=False) < alpha and -effect[m] > min_effect for m in METRICS)
    return Verdict(cell, "better" if better else "same", p, effect)


def one_sided_p(now: list[float], before: list[float], worse: bool) -> float:
    """p-value of 'now is stochastically greater (worse: more regret) than before' (or less)."""
    from scipy.stats import mannwhitneyu

    if len(now) < 2 or len(before) < 2:
        return 1.0
    result = mannwhitneyu(now, before, alternative="greater" if worse else "less", method="auto")
    return float(result.pvalue)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
