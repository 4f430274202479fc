"""The quick and full suites: which algorithms, problems, seeds, budgets and parallelism a benchmark runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from katib_suggestion.quality.problems import PROBLEMS
from katib_suggestion.quality.runner import OURS, REFERENCE, RunResult, Task, accepts
from katib_suggestion.quality.scoring import Scores, mean_curve, regret_curve
from katib_validators.catalog import ALGORITHMS


@dataclass(frozen=True)
class Suite:
    name: str
    seeds: tuple[int, ...]
    budgets: dict[str, int]  # problem -> trials per run
    startup: int | None = None  # random trials before a model-based algorithm models; None: its default
    parallel: tuple[int, ...] = (4,)  # parallelTrialCount values, each a cell of its own


# Settings that set the number of random start-up trials, by backend (the defaults are 10 to 20).
STARTUP_SETTINGS = ("n_startup_trials", "n_startup_jobs", "n_initial_points")
# Eight seeds: enough for a one-sided Mann-Whitney U test to reach p < 0.001 (see gate.py). The quick
# suite's 20-trial budget would be all start-up with default settings, so it shortens the start-up
# to 8 trials: a pull request that breaks the model, not just the random phase, must show.
# The full suite runs each cell at 1, 4 and 8 parallel trials: one GPU, a small team, eight GPUs.
SUITES = {
    "quick": Suite("quick", tuple(range(8)), {p.name: p.quick_budget for p in PROBLEMS.values() if p.quick_budget},
                   startup=8),
    "full": Suite("full", tuple(range(10)), {p.name: p.budget for p in PROBLEMS.values()}, parallel=(1, 4, 8)),
}


@dataclass(frozen=True)
class Selection:
    """What to run of a suite: filters (None: everything), the arms, and where our arm's server is."""

    backends: tuple[str, ...] | None = None
    algorithms: tuple[str, ...] | None = None  # catalog keys
    problems: tuple[str, ...] | None = None
    seeds: tuple[int, ...] | None = None  # None: the suite's
    parallel: tuple[int, ...] | None = None  # None: the suite's
    reference: bool = False  # also run every cell's reference arm
    address: str | None = None  # benchmark the server there instead of fresh servers of ours
    command: str | None = None  # or a server started from this command for every run
    name: str | None = None  # algorithmName to send (with address or command)
    settings: tuple[tuple[str, str], ...] = ()  # added to the suite's settings; an empty value removes one


def settings_for(suite: Suite, algorithm, extra: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    settings = {}
    if suite.startup is not None:
        settings = {s.name: str(suite.startup) for s in algorithm.schema.settings if s.name in STARTUP_SETTINGS}
    for name, value in extra:
        settings[name] = value
    return tuple((name, value) for name, value in settings.items() if value != "")


def plan(suite: Suite, selection: Selection = Selection()) -> tuple[list[Task], list[str]]:
    """The tasks of a suite (every catalog algorithm by default) and the cells skipped, with why."""
    from katib_suggestion.quality.reference import declared_reference

    tasks, skipped = [], []
    for algorithm in ALGORITHMS:
        if (selection.backends and algorithm.backend not in selection.backends
                or selection.algorithms and algorithm.key not in selection.algorithms):
            continue
        arms = (OURS, REFERENCE) if selection.reference else (OURS,)
        if selection.reference and not declared_reference(algorithm.backend):
            arms = (OURS,)  # a plugin may declare none: its cells are judged without one, and the report says so
            skipped.append(f"{algorithm.backend}/{algorithm.key}/* (reference): the {algorithm.backend} backend "
                           "declares no reference arm (BackendPlugin.reference), so its cells have none")
        settings = settings_for(suite, algorithm, selection.settings)
        for problem, budget in suite.budgets.items():
            if selection.problems and problem not in selection.problems:
                continue
            for parallel in selection.parallel or suite.parallel:
                for arm in arms:
                    remote = arm == OURS and bool(selection.address or selection.command)
                    first = Task(algorithm.backend, algorithm.key, problem, 0, budget, settings, parallel, arm,
                                 *((selection.address, selection.command, selection.name) if remote else ()))
                    # a server that is not ours judges its own input (checked before the runs start)
                    reasons = [] if remote else accepts(first)
                    if reasons:
                        skipped.append(f"{first.cell} ({arm}): {'; '.join(reasons)}")
                        continue
                    seeds = selection.seeds if selection.seeds is not None else suite.seeds
                    tasks += [replace(first, seed=seed) for seed in seeds]
    return tasks, skipped


def cells(results: list[RunResult]) -> dict[str, dict]:
    """Per algorithm x problem x parallelism: per-seed scores, fingerprints of the raw losses and the mean curve."""
    grouped: dict[str, list[RunResult]] = {}
    for result in sorted(results, key=lambda r: (r.task.cell, r.task.seed)):
        grouped.setdefault(result.task.cell, []).append(result)
    table = {}
    for cell, runs in grouped.items():
        task = runs[0].task
        curves = [regret_curve(r.task.problem, r.losses, r.task.budget) for r in runs]
        scores = [Scores.of(curve) for curve in curves]
        table[cell] = {"budget": task.budget, "parallel": task.parallel, "settings": dict(task.settings),
                       "seeds": [r.task.seed for r in runs], "final": [s.final for s in scores],
                       "auc": [s.auc for s in scores], "losses": [fingerprint(r.losses) for r in runs],
                       "degraded": [r.degraded for r in runs], "curve": mean_curve(curves)}
        if all(r.repeated is not None for r in runs):
            table[cell]["repeated"] = [r.repeated for r in runs]
    return table


def fingerprint(losses: list[float | None]) -> str:
    """A short exact digest of a run: equal digests mean bit-identical losses, trial by trial."""
    import hashlib

    return hashlib.sha256(repr(losses).encode()).hexdigest()[:16]
