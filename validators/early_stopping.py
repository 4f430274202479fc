"""Early-stopping algorithms and their settings, declared once; ValidateEarlyStoppingSettings and validate read them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from katib_validators.problems import Problem
from katib_validators.settings import Setting, SettingsSchema

PATH = "spec.earlyStopping"
SETTINGS_PATH = f"{PATH}.algorithmSettings"

MIN_TRIALS = Setting(
    "min_trials_required", "int", 3,
    "completed trials (with enough reports) needed before any rule is given; until then no trial is stopped",
    low=1, high=10_000)
START_STEP = Setting(
    "start_step", "int", 4,
    "the report of the objective at which Katib's collector compares a new trial with the rule "
    "(it compares once, at exactly this report, using the trial's best value so far)",
    low=1, high=1_000_000)

MEDIANSTOP = SettingsSchema((MIN_TRIALS, START_STEP))

PERCENTILE = SettingsSchema((
    Setting("percentile", "float", 25.0,
            "a trial whose best value at start_step is worse than this percentile of the completed trials' "
            "values at that step is stopped (optuna's PercentilePruner; 50 is the median)",
            low=0, high=100, low_open=True, high_open=True),
    Setting("min_trials_required", "int", 5,
            "completed trials with a value at start_step needed before the rule is given "
            "(optuna's n_startup_trials)", low=1, high=10_000),
    Setting("start_step", "int", 4, START_STEP.help, low=1, high=1_000_000),
))


def _rungs_fit(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    if values["min_resource"] * values["reduction_factor"] ** values["min_early_stopping_rate"] > 10**9:
        return [("min_early_stopping_rate", "the first rung lies beyond 10^9 reports; lower min_early_stopping_rate "
                                            "or min_resource")]
    return []


ASHA = SettingsSchema((
    Setting("min_resource", "int", 1,
            "reports of the objective at the first rung (optuna's min_resource)", low=1, high=1_000_000),
    Setting("reduction_factor", "int", 3,
            "rungs lie at min_resource * reduction_factor^k reports, and a trial must be in the best "
            "1/reduction_factor of the trials that reached its rung to go on", low=2, high=100),
    Setting("min_early_stopping_rate", "int", 0,
            "skip this many of the lowest rungs (optuna's min_early_stopping_rate)", low=0, high=30),
    Setting("min_trials_required", "int", 3,
            "trials that must have reached a rung before a new trial is judged there", low=1, high=10_000),
    # measured (benchmark --early-stopping, 2026-12-06): lowest saved 4-7 points more epochs than rotate
    # in all four problem x algorithm cells, with a lower mean regret (0.083 against 0.096)
    Setting("rung_selection", "choice", "lowest",
            "which rung a new trial is judged at: lowest (the first rung enough trials have reached: saves "
            "most) or rotate (new trials take the rungs in turn, as Hyperband's brackets: kinder to late bloomers)",
            choices=("lowest", "rotate")),
), checks=(_rungs_fit,))

# Algorithm name -> schema. medianstop is upstream Katib's name and settings (drop-in).
SCHEMAS: dict[str, SettingsSchema] = {"medianstop": MEDIANSTOP, "percentile": PERCENTILE, "asha": ASHA}
ALGORITHMS = tuple(SCHEMAS)


def check_settings(algorithm: Any, pairs: Sequence[tuple[str, str]],
                   path: str = PATH) -> tuple[dict[str, Any], list[Problem]]:
    """The parsed settings of one early-stopping algorithm, or every problem with them."""
    schema = SCHEMAS.get(algorithm) if isinstance(algorithm, str) else None
    if schema is None:
        return {}, [Problem(f"{path}.algorithmName",
                            f"unknown early-stopping algorithm; use one of {', '.join(ALGORITHMS)}", algorithm)]
    return schema.parse(pairs, algorithm, f"{path}.algorithmSettings")


def settings_pairs(raw: Any, path: str = SETTINGS_PATH) -> tuple[list[tuple[str, str]] | None, list[Problem]]:
    """``algorithmSettings`` as written in YAML -> (name, value) pairs, one per entry so that problems
    found later name the right index; None (nothing more to check) when an entry has no name."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return None, [Problem(path, "must be a list of {name, value} entries", raw)]
    pairs, problems = [], []
    for index, item in enumerate(raw):
        name = item.get("name") if isinstance(item, Mapping) else None
        value = item.get("value") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            problems.append(Problem(f"{path}[{index}].name", "name the setting", name))
            continue
        if not isinstance(value, str):
            # the CRD types it as a string: Kubernetes refuses the Experiment before Katib sees it
            problems.append(Problem(f"{path}[{index}].value",
                                    f'Katib stores setting values as strings; quote it: value: "{value}"', value))
        pairs.append((name, value if isinstance(value, str) else str(value)))
    return (pairs if len(pairs) == len(raw) else None), problems
