"""The steps of `katib-suggest run`: load and check the Experiment, pick the trial function, drive it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml
from katib_api import api_pb2
from katib_suggestion.local.driver import ExperimentDriver
from katib_suggestion.local.process import FUNCTION_ANNOTATION, Collector, CommandTemplate, Outcome, run_command
from katib_suggestion.local.progress import Progress
from katib_suggestion.local.trials import LocalTrials, convergence_plot
from katib_suggestion.quality.problems import PROBLEMS
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import BACKENDS, backends_serving
from katib_validators.experiment import parse_experiment

DEFAULT_PARALLEL = 3  # Katib's default parallelTrialCount


class Invalid(Exception):
    """The experiment cannot run locally; the message lists why, one problem a line."""


def load_experiment(path: Path, max_trials: int | None) -> dict[str, Any]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, Mapping)]
    except (OSError, yaml.YAMLError) as error:
        raise Invalid(str(error)) from error
    doc = next((d for d in docs if d.get("kind", "Experiment") == "Experiment"), None)
    if doc is None or not isinstance(doc.get("spec"), Mapping):
        raise Invalid("no Experiment (kind: Experiment with a spec) in the file")
    doc = copy.deepcopy(doc)
    if max_trials is not None:
        doc["spec"]["maxTrialCount"] = max_trials
    doc["spec"].setdefault("parallelTrialCount", DEFAULT_PARALLEL)
    if not doc["spec"].get("maxTrialCount"):
        raise Invalid("set spec.maxTrialCount (or --max-trials): a local run needs an end")
    return doc


def choose_backend(doc: Mapping[str, Any], wanted: str | None) -> str:
    """The first backend (or ``wanted``) whose validators accept the experiment."""
    name = (doc["spec"].get("algorithm") or {}).get("algorithmName")
    candidates = [b for b in (backends_serving(name) or BACKENDS) if wanted in (None, b)] or [wanted]
    first_problems = None
    for backend in candidates:
        _, problems = parse_experiment(doc, backend)
        if not problems:
            return backend
        first_problems = first_problems or problems
    raise Invalid("\n".join(f"  {p}" for p in first_problems or []))


def trial_function(doc: Mapping[str, Any], function: str | None, cwd: Path, timeout: float, out: Path):
    """(trial name, assignments) -> Outcome: a built-in function, or the template's command."""
    function = function or ((doc.get("metadata") or {}).get("annotations") or {}).get(FUNCTION_ANNOTATION)
    if function:
        return _builtin(doc, function)
    try:
        template, collector = CommandTemplate.of(doc["spec"]), Collector.of(doc["spec"])
    except (ValueError, KeyError, TypeError) as error:
        raise Invalid(f"  spec.trialTemplate: {error} (or give --function NAME)") from error
    (out / "trials").mkdir(parents=True, exist_ok=True)
    processes: set = set()

    def run(trial: str, assignments: dict[str, str]) -> Outcome:
        return run_command(template, collector, assignments, trial, cwd, timeout, out / "trials" / f"{trial}.log",
                           processes)

    run.processes = processes
    return run


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


def validate_on_server(stub, doc: Mapping[str, Any]) -> str:
    """What Katib does once before the first trial; a non-empty answer means the experiment fails."""
    request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment_message(doc))
    try:
        stub.ValidateAlgorithmSettings(request, timeout=60, wait_for_ready=True)
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN):
            return error.details() or error.code().name
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            return f"the suggestion server is unreachable: {error.details()}"
    return ""  # every other code counts as valid for Katib too


@dataclass
class LocalResult:
    name: str
    metric: str
    trials: LocalTrials
    reason: str  # why the experiment ended
    succeeded: bool

    def summary(self) -> str:
        done = self.trials.finished
        failed = sum(1 for f in done if f.outcome.value is None)
        lines = [f"Experiment {self.name} {'Succeeded' if self.succeeded else 'Failed'}: {self.reason}; "
                 f"{len(done)} trials finished ({len(done) - failed} succeeded, {failed} failed)"]
        best = self.trials.best()
        if best is None:
            first_failure = next((f for f in done if f.outcome.message), None)
            if first_failure:
                lines.append(f"no successful trial; {first_failure.name}: {first_failure.outcome.message}")
            return "\n".join(lines)
        lines.append(f"Best trial {best.name}: {self.metric}={best.outcome.value:.6g}")
        lines += [f"  {name} = {value}" for name, value in best.assignments.items()]
        return "\n".join(lines)

    def plot(self, path: Path) -> str:
        title = f"{self.name}: best {self.metric} so far"
        return convergence_plot(self.trials.finished, self.trials.maximize, self.metric, title, path)


def run(doc: Mapping[str, Any], stub, function) -> LocalResult:
    """Drive the experiment: parallelTrialCount trials at once, until maxTrialCount, the goal, or too many fail."""
    spec, experiment = doc["spec"], experiment_message(doc)
    objective = spec["objective"]
    maximize = objective["type"] == "maximize"
    progress = Progress(experiment.spec.max_trial_count, f"{experiment.name} trials", unit="trial")
    trials = LocalTrials(function, experiment.spec.parallel_trial_count, maximize, progress)
    trials.processes = getattr(function, "processes", trials.processes)
    goal = objective.get("goal")

    def goal_reached() -> bool:
        best = trials.best()
        return goal is not None and best is not None and (
            best.outcome.value >= float(goal) if maximize else best.outcome.value <= float(goal))

    max_failed = spec.get("maxFailedTrialCount")
    driver = ExperimentDriver(experiment, lambda: stub, lambda _: None, max_failed=max_failed,
                              runner=trials, stop=goal_reached)
    try:
        driver.run()
    finally:
        trials.close()
        progress.close()
    failed = sum(1 for f in trials.finished if f.outcome.value is None)
    if max_failed is not None and failed > int(max_failed):
        return LocalResult(experiment.name, objective["objectiveMetricName"], trials,
                           f"{failed} trials failed, more than maxFailedTrialCount {max_failed}", False)
    reason = "the objective goal was reached" if goal_reached() else "maxTrialCount reached"
    return LocalResult(experiment.name, objective["objectiveMetricName"], trials, reason, True)
