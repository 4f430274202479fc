"""optuna's own pruners used directly, on the same simulated cluster: the reference arms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.quality.stopping.curves import CurveProblem

OPTUNA_ARMS = ("optuna-none", "optuna-percentile", "optuna-sha")


def _pruner(name: str):
    import optuna

    return {"optuna-none": optuna.pruners.NopPruner,
            # the same knobs as our percentile's defaults: 25th percentile, 5 startup trials, from report 4 on
            "optuna-percentile": lambda: optuna.pruners.PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=4),
            # the same rungs as our asha's defaults: 1, 3, 9, ... reports, keep the best third
            "optuna-sha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)}[name]()


def _distributions(problem: CurveProblem) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    found = {}
    for parameter in problem.parameters:
        space = parameter["feasibleSpace"]
        if parameter["parameterType"] == "categorical":
            found[parameter["name"]] = CategoricalDistribution(space["list"])
        else:
            found[parameter["name"]] = FloatDistribution(float(space["min"]), float(space["max"]),
                                                         log=space.get("distribution") == "logUniform")
    return found


def run_optuna(problem: CurveProblem, algorithm: str, arm: str, seed: int, parallel: int) -> tuple[int, float, int]:
    """(epochs spent, final value of the best completed trial's configuration, trials stopped)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed) if algorithm == "tpe" else optuna.samplers.RandomSampler(seed)
    study = optuna.create_study(sampler=sampler, pruner=_pruner(arm))
    distributions = _distributions(problem)
    running: list[tuple[Any, Mapping[str, str], list[float]]] = []
    created = epochs = stopped = 0
    while created < problem.budget or running:
        while len(running) < parallel and created < problem.budget:
            trial = study.ask(distributions)
            running.append((trial, {k: str(v) for k, v in trial.params.items()}, []))
            created += 1
        for item in list(running):  # one tick: every running trial trains one more epoch
            trial, values, reported = item
            reported.append(problem.curve(values, len(reported) + 1)[-1])
            epochs += 1
            trial.report(reported[-1], len(reported))
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                stopped += 1
            elif len(reported) == problem.epochs:
                study.tell(trial, min(reported))
            else:
                continue
            running.remove(item)
    best = {k: str(v) for k, v in study.best_trial.params.items()}
    return epochs, problem.final(best), stopped
