"""The quick and full suites: which algorithms, problems, seeds and budgets a benchmark runs."""

from __future__ import annotations

from dataclasses import dataclass

from katib_suggestion.quality.problems import PROBLEMS
from katib_suggestion.quality.runner import RunResult, Task, accepts
from katib_suggestion.quality.scoring import Scores, mean_curve, regret_curve
from katib_validators.catalog import ALGORITHMS


@dataclass(frozen=True)
class Suite:
    name: str
    seeds: tuple[int, ...]
    budgets: dict[str, int]  # problem -> trials per run
    startup: int | None = None  # random trials before a model-based algorithm models; None: its default


# Settings that set the number of random start-up trials, by backend (the defaults are 10 to 20).
STARTUP_SETTINGS = ("n_startup_trials", "n_startup_jobs", "n_initial_points")
# Eight seeds: enough for a one-sided Mann-Whitney U test to reach p < 0.001 (see gate.py). The quick
# suite's 20-trial budget would be all start-up with default settings, so it shortens the start-up
# to 8 trials: a pull request that breaks the model, not just the random phase, must show.
SUITES = {
    "quick": Suite("quick", tuple(range(8)), {p.name: p.quick_budget for p in PROBLEMS.values() if p.quick_budget},
                   startup=8),
    "full": Suite("full", tuple(range(10)), {p.name: p.budget for p in PROBLEMS.values()}),
}


def _settings(suite: Suite, algorithm) -> tuple[tuple[str, str], ...]:
    if suite.startup is None:
        return ()
    return tuple((s.name, str(suite.startup)) for s in algorithm.schema.settings if s.name in STARTUP_SETTINGS)


def plan(suite: Suite, backends=None, algorithms=None, problems=None, seeds=None) -> tuple[list[Task], list[str]]:
    """The tasks of a suite (every catalog algorithm by default) and the cells skipped, with why."""
    tasks, skipped = [], []
    for algorithm in ALGORITHMS:
        if backends and algorithm.backend not in backends or algorithms and algorithm.key not in algorithms:
            continue
        for problem, budget in suite.budgets.items():
            if problems and problem not in problems:
                continue
            settings = _settings(suite, algorithm)
            first = Task(algorithm.backend, algorithm.key, problem, 0, budget, settings)
            reasons = accepts(first)
            if reasons:
                skipped.append(f"{first.cell}: {'; '.join(reasons)}")
                continue
            tasks += [Task(algorithm.backend, algorithm.key, problem, seed, budget, settings)
                      for seed in (seeds if seeds is not None else suite.seeds)]
    return tasks, skipped


def cells(results: list[RunResult]) -> dict[str, dict]:
    """Per algorithm x problem: per-seed scores, fingerprints of the raw losses and the mean curve."""
    grouped: dict[str, list[RunResult]] = {}
    for result in sorted(results, key=lambda r: (r.task.cell, r.task.seed)):
        grouped.setdefault(result.task.cell, []).append(result)
    table = {}
    for cell, runs in grouped.items():
        curves = [regret_curve(r.task.problem, r.losses, r.task.budget) for r in runs]
        scores = [Scores.of(curve) for curve in curves]
        table[cell] = {"budget": runs[0].task.budget, "seeds": [r.task.seed for r in runs],
                       "final": [s.final for s in scores], "auc": [s.auc for s in scores],
                       "losses": [fingerprint(r.losses) for r in runs], "curve": mean_curve(curves)}
    return table


def fingerprint(losses: list[float | None]) -> str:
    """A short exact digest of a run: equal digests mean bit-identical losses, trial by trial."""
    import hashlib

    return hashlib.sha256(repr(losses).encode()).hexdigest()[:16]
