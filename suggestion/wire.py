"""The only bridge to protobuf: Katib messages in, plain documents and typed trials out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from katib_api import api_pb2
from katib_suggestion.model import Objective, Point, SearchSpace, Trial, TrialState
from katib_validators.numeric import finite

_TYPES = {api_pb2.DOUBLE: "double", api_pb2.INT: "int", api_pb2.DISCRETE: "discrete",
          api_pb2.CATEGORICAL: "categorical"}
_DISTRIBUTIONS = {api_pb2.UNIFORM: "uniform", api_pb2.LOG_UNIFORM: "logUniform",
                  api_pb2.NORMAL: "normal", api_pb2.LOG_NORMAL: "logNormal"}
_OBJECTIVES = {api_pb2.MINIMIZE: "minimize", api_pb2.MAXIMIZE: "maximize"}
_Condition = api_pb2.TrialStatus.TrialConditionType
_PENDING = {_Condition.CREATED, _Condition.RUNNING}
# with a value: condition -> state (an enum wrapper's attribute lookup costs a microsecond per trial)
_FINISHED = {_Condition.SUCCEEDED: TrialState.COMPLETED, _Condition.EARLYSTOPPED: TrialState.PRUNED}


@dataclass(frozen=True)
class MalformedRequest:
    """What a request that does not parse as its message type decodes to."""

    message_type: str
    reason: str
    size: int = 0  # set when the message was refused unread for its size
    max_bytes: int = 0


def raw_request(message_type, max_bytes: int | None = None):
    """A gRPC request deserializer that keeps the bytes: parsing a large request holds the GIL
    for a while (a 20,000-trial request: 0.1 to 0.3 s), so it happens on a worker thread, one
    request at a time, never on the event loop that answers health checks. A message over
    ``max_bytes`` is refused unread."""

    def keep(data: bytes):
        if max_bytes is not None and len(data) > max_bytes:
            return MalformedRequest(message_type.DESCRIPTOR.name, "", size=len(data), max_bytes=max_bytes)
        return data

    return keep


def parse_request(message_type, data: bytes):
    """The message, or a MalformedRequest: grpcio would answer INTERNAL for a malformed message,
    and the caller should learn it sent an invalid argument."""
    try:
        return message_type.FromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        return MalformedRequest(message_type.DESCRIPTOR.name, str(error) or type(error).__name__)


def experiment_name(data: bytes) -> str:
    """The experiment's name without parsing the trials: both requests carry the Experiment as
    field 1, so reading them as ValidateAlgorithmSettingsRequest skips the rest (0.4 ms for a
    20,000-trial request). Empty when the bytes do not parse."""
    try:
        return api_pb2.ValidateAlgorithmSettingsRequest.FromString(data).experiment.name
    except (DecodeError, ValueError, RuntimeError):
        return ""


def experiment_sizes(experiment: api_pb2.Experiment, max_parameters: int) -> tuple[int, int, list[int]]:
    """Serialized bytes, parameter count and (up to ``max_parameters`` parameters) list lengths,
    read without building a Python object per value: a hostile request may hold millions."""
    parameters = experiment.spec.parameter_specs.parameters
    count = len(parameters)
    lengths = [len(p.feasible_space.list) for p in parameters] if count <= max_parameters else []
    return experiment.ByteSize(), count, lengths


def experiment_document(experiment: api_pb2.Experiment) -> dict[str, Any]:
    """The Experiment as users write it (Kubernetes field names), so problems name their fields."""
    spec = experiment.spec
    doc_spec: dict[str, Any] = {
        "parameters": [_parameter(p) for p in spec.parameter_specs.parameters],
        "objective": {
            "type": _enum(_OBJECTIVES, spec.objective.type),
            "objectiveMetricName": spec.objective.objective_metric_name,
            "additionalMetricNames": list(spec.objective.additional_metric_names),
        },
        "algorithm": {
            "algorithmName": spec.algorithm.algorithm_name,
            "algorithmSettings": [{"name": s.name, "value": s.value} for s in spec.algorithm.algorithm_settings],
        },
    }
    if spec.objective.goal:
        doc_spec["objective"]["goal"] = spec.objective.goal
    # proto3 sends 0 for "not set"; the YAML form simply leaves the field out
    for name, value in (("maxTrialCount", spec.max_trial_count), ("parallelTrialCount", spec.parallel_trial_count)):
        if value:
            doc_spec[name] = value
    return {"metadata": {"name": experiment.name}, "spec": doc_spec}


def _parameter(p: api_pb2.ParameterSpec) -> dict[str, Any]:
    fs = p.feasible_space
    space: dict[str, Any] = {"min": fs.min, "max": fs.max, "step": fs.step, "list": list(fs.list)}
    if fs.distribution != api_pb2.DISTRIBUTION_UNSPECIFIED:
        space["distribution"] = _enum(_DISTRIBUTIONS, fs.distribution)
    return {"name": p.name, "parameterType": _enum(_TYPES, p.parameter_type), "feasibleSpace": space}


def _enum(names: Mapping[int, str], number: int) -> str:
    # an unknown number stays visible in the problem message instead of vanishing
    return names.get(number, "" if number == 0 else f"<enum value {number}>")


@dataclass
class History:
    trials: list[Trial] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why some trials were left out


def trials_to_history(trials: Iterable[api_pb2.Trial], space: SearchSpace, objective: Objective) -> History:
    """Typed trials; a trial whose assignments do not fit the space is skipped and reported."""
    history = History()
    parsers = [(p.name, p.parser) for p in space]  # looked up once: a request holds thousands of values
    for trial in trials:
        given = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        try:
            params = {name: parse(given[name]) for name, parse in parsers}
        except (KeyError, ValueError):  # the careful path says which value and why
            params, reason = _params(given, space)
            if params is None:
                history.skipped.append(f"{trial.name}: {reason}")
                continue
        state, value = _outcome(trial, objective)
        history.trials.append(Trial(trial.name, params, state, value))
    return history


def _params(given: Mapping[str, str], space: SearchSpace) -> tuple[Point | None, str]:
    """The trial's point, or None and which value does not fit and why (the fast path above failed)."""
    missing = [n for n in space.names if n not in given]
    if missing:
        return None, f"no value for {', '.join(missing)}"
    point: Point = {}
    for parameter in space:
        try:
            point[parameter.name] = parameter.parse(given[parameter.name])
        except ValueError as error:
            return None, f"{parameter.name}: {error}"
    return point, ""


def _outcome(trial: api_pb2.Trial, objective: Objective) -> tuple[TrialState, float | None]:
    status = trial.status  # each protobuf field access builds an object: read once
    condition = status.condition
    if condition in _PENDING:
        return TrialState.PENDING, None
    value = _metric(status.observation.metrics, objective.metric_name)
    if condition in _FINISHED and value is not None:
        return _FINISHED[condition], value
    # failed, killed, unknown, or finished without a usable objective value
    return TrialState.FAILED, None


def _metric(metrics: Iterable[api_pb2.Metric], name: str) -> float | None:
    for metric in metrics:
        if metric.name == name:
            return finite(metric.value)  # None for Katib's "unavailable" too
    return None


def suggestions_reply(
    points: Sequence[Point], space: SearchSpace, algorithm_name: str,
    settings: Mapping[str, str], labels: Sequence[Mapping[str, str]],
) -> api_pb2.GetSuggestionsReply:
    """The reply Katib expects; ``settings`` are stored by Katib and sent back in later calls."""
    reply = api_pb2.GetSuggestionsReply(
        algorithm=api_pb2.AlgorithmSpec(
            algorithm_name=algorithm_name,
            algorithm_settings=[api_pb2.AlgorithmSetting(name=k, value=v) for k, v in settings.items()],
        )
    )
    for point, point_labels in zip(points, labels, strict=True):
        reply.parameter_assignments.add(
            assignments=[api_pb2.ParameterAssignment(name=n, value=v) for n, v in space.format(point).items()],
            labels=dict(point_labels),
        )
    return reply


def experiment_message(doc: Mapping[str, Any]) -> api_pb2.Experiment:
    """The inverse of experiment_document: an Experiment in its YAML form -> the protobuf Katib sends.

    Expects a document that parse_experiment accepted; fields the API does not
    carry (trialTemplate, maxFailedTrialCount, ...) are left out.
    """
    spec = doc["spec"]
    objective, algorithm = spec["objective"], spec["algorithm"]
    message = api_pb2.Experiment(name=doc["metadata"]["name"])
    message.spec.objective.type = {v: k for k, v in _OBJECTIVES.items()}[objective["type"]]
    message.spec.objective.objective_metric_name = objective["objectiveMetricName"]
    message.spec.objective.additional_metric_names.extend(objective.get("additionalMetricNames") or [])
    if objective.get("goal") is not None:
        message.spec.objective.goal = float(objective["goal"])
    message.spec.algorithm.algorithm_name = algorithm["algorithmName"]
    for setting in algorithm.get("algorithmSettings") or []:
        message.spec.algorithm.algorithm_settings.add(name=setting["name"], value=str(setting["value"]))
    message.spec.max_trial_count = int(spec.get("maxTrialCount") or 0)
    message.spec.parallel_trial_count = int(spec.get("parallelTrialCount") or 0)
    types, distributions = {v: k for k, v in _TYPES.items()}, {v: k for k, v in _DISTRIBUTIONS.items()}
    for parameter in spec["parameters"]:
        space = parameter.get("feasibleSpace") or {}
        feasible = api_pb2.FeasibleSpace(
            min=str(space.get("min", "")), max=str(space.get("max", "")), step=str(space.get("step", "")),
            list=[str(v) for v in space.get("list") or []],
            distribution=distributions.get(space.get("distribution"), api_pb2.DISTRIBUTION_UNSPECIFIED))
        message.spec.parameter_specs.parameters.add(
            name=parameter["name"], parameter_type=types[parameter["parameterType"]], feasible_space=feasible)
    return message
