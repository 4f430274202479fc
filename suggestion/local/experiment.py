"""The steps of `katib-suggest run`: load and check the Experiment, pick the trial function, drive it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import grpc
import yaml
from katib_suggestion.local.driver import ExperimentDriver, UnexpectedReply
from katib_suggestion.local.gpus import VISIBLE, GpuShares
from katib_suggestion.local.groups import ProcessGroups
from katib_suggestion.local.process import FUNCTION_ANNOTATION, Collector, CommandTemplate, Outcome, run_command
from katib_suggestion.local.progress import Progress, note
from katib_suggestion.local.result import LocalResult, decide
from katib_suggestion.local.stopping import LocalStopping
from katib_suggestion.local.trials import LocalTrials
from katib_suggestion.quality.problems import PROBLEMS
from katib_suggestion.wire import experiment_message

DEFAULT_PARALLEL = 3  # Katib's default parallelTrialCount


class Invalid(Exception):
    """The experiment cannot run locally; the message lists why, one problem a line."""


def load_experiment(path: Path, max_trials: int | None) -> tuple[dict[str, Any], list[str]]:
    """The Experiment resource with --max-trials applied, and notes on what that changed."""
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, Mapping)]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise Invalid(f"  {error}") from error
    doc = next((d for d in docs if d.get("kind", "Experiment") == "Experiment"), None)
    if doc is None or not isinstance(doc.get("spec"), Mapping):
        raise Invalid("  no Experiment (kind: Experiment with a spec) in the file")
    doc, notes = copy.deepcopy(doc), []
    spec = doc["spec"]
    spec.setdefault("parallelTrialCount", DEFAULT_PARALLEL)
    if max_trials is not None:
        spec["maxTrialCount"] = max_trials
        # Katib requires both counts <= maxTrialCount: a shorter run keeps the closest limits it can
        for field in ("maxFailedTrialCount", "parallelTrialCount"):
            value = spec.get(field)
            if isinstance(value, int) and not isinstance(value, bool) and value > max_trials > 0:
                spec[field] = max_trials
                notes.append(f"{field} {value} lowered to {max_trials} to fit --max-trials {max_trials}")
    if not spec.get("maxTrialCount"):
        raise Invalid("  set spec.maxTrialCount (or --max-trials): a local run needs an end")
    return doc, notes


def trial_function(doc: Mapping[str, Any], function: str | None, cwd: Path, timeout: float, out: Path,
                   groups: ProcessGroups,
                   gpus: GpuShares | None = None) -> tuple[Callable[[str, dict[str, str]], Outcome], bool]:
    """(trial name, assignments) -> Outcome: a built-in function, or the template's command (each with its
    own share of ``gpus``); and whether trials are processes (with logs)."""
    function = function or ((doc.get("metadata") or {}).get("annotations") or {}).get(FUNCTION_ANNOTATION)
    if function:
        return _builtin(doc, function), False
    try:
        template, collector = CommandTemplate.of(doc["spec"]), Collector.of(doc["spec"])
    except (ValueError, KeyError, TypeError) as error:
        raise Invalid(f"  spec.trialTemplate: {error} (or give --function NAME)") from error
    (out / "trials").mkdir(parents=True, exist_ok=True)

    def run(trial: str, assignments: dict[str, str], watch=None) -> Outcome:
        devices = gpus.take(lambda: groups.stopping) if gpus else []
        if devices is None:
            return Outcome(None, message=groups.reason, killed=True)
        on = f" on GPU {','.join(devices)}" if devices else ""
        # a trial may run for hours: say what started, so a quiet terminal does not look hung
        note(f"trial {trial} started{on}: {', '.join(f'{k}={v}' for k, v in assignments.items())}")
        try:
            return run_command(template, collector, assignments, trial, cwd, timeout,
                               out / "trials" / f"{trial}.log", groups,
                               {VISIBLE: ",".join(devices)} if gpus else None, watch)
        finally:
            if gpus:
                gpus.give_back(devices)

    return run, True


def _builtin(doc: Mapping[str, Any], name: str):
    if name not in PROBLEMS:
        raise Invalid(f"  unknown built-in function {name!r}; choose one of {', '.join(PROBLEMS)}")
    needed = {p["name"] for p in PROBLEMS[name].parameters}
    missing = needed - {p.get("name") for p in doc["spec"].get("parameters") or []}
    if missing:
        raise Invalid(f"  {name} needs the parameters {', '.join(sorted(needed))}; missing: "
                      f"{', '.join(sorted(missing))} (see its space with the examples/run-*.yaml files)")
    metric = doc["spec"]["objective"]["objectiveMetricName"]

    def run(trial: str, assignments: dict[str, str]) -> Outcome:
        value = PROBLEMS[name].function(assignments)
        return Outcome(value, {metric: value})

    return run


def run(doc: Mapping[str, Any], stub, function, groups: ProcessGroups | None,
        interrupted: Callable[[], int | None] = lambda: None) -> LocalResult:
    """Drive the experiment: parallelTrialCount trials at once, until Katib would end it or a signal stops it.

    ``interrupted()`` is the signal that stopped the run, if any; ``groups`` holds the trial processes.
    """
    spec, experiment = doc["spec"], experiment_message(doc)
    objective = spec["objective"]
    progress = Progress(experiment.spec.max_trial_count, f"{experiment.name} trials", unit="trial")
    # a built-in function reports only its final value: early stopping needs the trial's stdout
    stopping = LocalStopping(spec, Collector.of(spec)) if spec.get("earlyStopping") and groups else None
    trials = LocalTrials(function, experiment.spec.parallel_trial_count, objective["type"] == "maximize",
                         progress, groups, stopping)
    goal = objective.get("goal")

    def goal_reached() -> bool:
        best = trials.best()
        return goal is not None and best is not None and (
            best.outcome.value >= float(goal) if trials.maximize else best.outcome.value <= float(goal))

    driver = ExperimentDriver(experiment, lambda: stub, lambda _: None, max_failed=spec.get("maxFailedTrialCount"),
                              runner=trials, stop=lambda: goal_reached() or interrupted() is not None)
    error = ""
    try:
        driver.run()
    except grpc.RpcError as failure:
        error = f"GetSuggestions failed: {failure.code().name}: {failure.details()}"
    except UnexpectedReply as failure:
        error = f"GetSuggestions: {failure}"
    finally:
        # decided before the trials still running are ended: Katib's verdict counts what finished
        verdict = decide(spec, trials, goal_reached(), interrupted(), error)
        trials.close(verdict.kill_reason)
        progress.close()
    return LocalResult(experiment.name, objective["objectiveMetricName"], trials, verdict)
