"""Scores of runs: normalised regret curves, their area, and per-cell means with confidence intervals."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

from katib_suggestion.quality.problems import PROBLEMS

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


def regret_curve(problem: str, losses: list[float | None], budget: int) -> list[float]:
    """Best-so-far normalised regret after each trial (creation order), padded to the budget.

    Before the first successful trial the regret is 1 (a typical random point).
    """
    spec = PROBLEMS[problem]
    curve, best = [], None
    for loss in losses[:budget]:
        if loss is not None and (best is None or loss < best):
            best = loss
        curve.append(1.0 if best is None else spec.normalised_regret(best))
    curve += [curve[-1] if curve else 1.0] * (budget - len(curve))
    return curve


@dataclass(frozen=True)
class Scores:
    """One run's scores: ``final`` is the simple regret at the budget, ``auc`` the curve's mean."""

    final: float
    auc: float

    @classmethod
    def of(cls, curve: list[float]) -> Scores:
        return cls(final=curve[-1], auc=sum(curve) / len(curve))


@dataclass(frozen=True)
class Summary:
    mean: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def summarise(values: list[float], seed: int = 0) -> Summary:
    """Mean and a percentile-bootstrap 95% interval; a fixed seed keeps reports reproducible."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return Summary(mean, mean, mean)
    rng = random.Random(seed)
    means = sorted(statistics.fmean(rng.choices(values, k=len(values))) for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - CONFIDENCE) / 2
    return Summary(mean, means[int(tail * BOOTSTRAP_RESAMPLES)], means[int((1 - tail) * BOOTSTRAP_RESAMPLES) - 1])


def mean_curve(curves: list[list[float]]) -> list[float]:
    return [statistics.fmean(column) for column in zip(*curves, strict=True)]
