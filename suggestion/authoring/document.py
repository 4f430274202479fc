"""The Experiment `katib-suggest init` writes: built from the inputs, checked by the validators, shown as inputs."""

from __future__ import annotations

import re
from typing import Any

from katib_suggestion.authoring.inputs import DEFAULT_MAX_TRIALS, FLAGS, Inputs, suggest_name
from katib_suggestion.authoring.trial import TRIAL_KINDS, collector_spec, container, trial_command, trial_spec
from katib_validators.experiment import parse_experiment
from katib_validators.problems import Problem
from katib_validators.resource import API_VERSION, DEFAULT_PARALLEL, KIND, check_resource, resource_warnings
from katib_validators.search_space import parse_search_space

# Where a problem's field comes from, longest prefix first (parameters and settings are named by index).
_SOURCES = (("metadata.name", "name"), ("metadata.namespace", "namespace"), ("spec.objective.goal", "goal"),
            ("spec.objective.additionalMetricNames", "metrics"), ("spec.objective", "objective"),
            ("spec.algorithm", "algorithm"), ("spec.parallelTrialCount", "parallel"),
            ("spec.maxTrialCount", "max_trials"), ("spec.maxFailedTrialCount", "max_failed"),
            ("spec.metricsCollectorSpec", "collector"), ("spec.trialTemplate", "command"),
            ("spec.parameters", "parameters"))
# trialParameters[i] is made from parameters[i]
_INDEXED = re.compile(r"spec\.(parameters|trialTemplate\.trialParameters|algorithm\.algorithmSettings)\[(\d+)\]")


def build(inputs: Inputs) -> dict[str, Any]:
    """The Experiment resource (plain data); raises ValueError when the command cannot take the parameters."""
    names = [p.get("name") for p in inputs.parameters]
    max_trials = inputs.max_trials if inputs.max_trials is not None else default_max_trials(inputs.parameters)
    objective = {"type": inputs.direction or "maximize", "objectiveMetricName": inputs.objective}
    if inputs.goal is not None:
        objective["goal"] = inputs.goal
    if inputs.metrics:
        objective["additionalMetricNames"] = list(inputs.metrics)
    algorithm: dict[str, Any] = {"algorithmName": inputs.algorithm}
    if inputs.settings:
        algorithm["algorithmSettings"] = [{"name": k, "value": v} for k, v in inputs.settings.items()]
    command = trial_command(inputs.command or [], [str(n) for n in names])
    training = container(inputs.kind, inputs.image, command, inputs.gpus or 0, inputs.cpu, inputs.memory)
    metadata = {"name": inputs.name, **({"namespace": inputs.namespace} if inputs.namespace else {})}
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": {
        "objective": objective,
        "algorithm": algorithm,
        "parallelTrialCount": inputs.parallel if inputs.parallel is not None else
        max(1, min(DEFAULT_PARALLEL, max_trials)),
        "maxTrialCount": max_trials,
        "maxFailedTrialCount": inputs.max_failed if inputs.max_failed is not None else
        min(DEFAULT_PARALLEL, max_trials),
        "parameters": inputs.parameters,
        "metricsCollectorSpec": collector_spec(inputs.collector, inputs.metrics_path),
        "trialTemplate": {
            "primaryContainerName": TRIAL_KINDS[inputs.kind].container,
            "trialParameters": [{"name": n, "description": _describe(p), "reference": n}
                                for n, p in zip(names, inputs.parameters, strict=True)],
            "trialSpec": trial_spec(inputs.kind, training, inputs.workers),
        },
    }}


def default_max_trials(parameters: list[dict[str, Any]]) -> int:
    """12 trials, or every point of a smaller finite space (asking for more is refused at validation)."""
    space, problems = parse_search_space(parameters)
    if space is None or problems or not space.is_finite:
        return DEFAULT_MAX_TRIALS
    return max(1, min(DEFAULT_MAX_TRIALS, space.cardinality()))


def problems_of(doc: dict[str, Any], inputs: Inputs) -> list[str]:
    """Every problem the validators find, warnings included, each led by the input it comes from."""
    problems = parse_experiment(doc, None)[1] + check_resource(doc) + resource_warnings(doc)
    return [_as_input(problem, inputs) for problem in problems]


def _as_input(problem: Problem, inputs: Inputs) -> str:
    hint = f"; try --name {suggest_name(str(inputs.name))}" if problem.path == "metadata.name" else ""
    return f"{_source(problem.path, inputs)}: {problem}{hint}"


def _source(path: str, inputs: Inputs) -> str:
    indexed = _INDEXED.match(path)
    if indexed:
        settings = indexed.group(1).startswith("algorithm")
        names = list(inputs.settings) if settings else [p.get("name") for p in inputs.parameters]
        if int(indexed.group(2)) < len(names):
            return f"{'--setting' if settings else '--param'} {names[int(indexed.group(2))]}"
    field = next((name for prefix, name in _SOURCES if path.startswith(prefix)), None)
    return FLAGS[field] if field else "input"


def _describe(parameter: dict[str, Any]) -> str:
    space = parameter.get("feasibleSpace")
    space = space if isinstance(space, dict) else {}
    if isinstance(space.get("list"), list):
        values = [str(v) for v in space["list"]]
        shown = ", ".join(values[:6]) + (f" ... ({len(values)} values)" if len(values) > 6 else "")
        return f"{parameter.get('parameterType')}: one of {shown}"
    scale = f", {space['distribution']}" if space.get("distribution") else ""
    step = f", step {space['step']}" if space.get("step") else ""
    return f"{parameter.get('parameterType')} from {space.get('min')} to {space.get('max')}{step}{scale}"
