"""The early-stopping service's only bridge to protobuf: requests to typed values, rules to replies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from katib_api import api_pb2
from katib_suggestion.model import Direction, Objective
from katib_suggestion.stopping.rules import Comparison, CurveState, StopRule

_Condition = api_pb2.TrialStatus.TrialConditionType
_STATES = {
    _Condition.CREATED: CurveState.RUNNING, _Condition.RUNNING: CurveState.RUNNING,
    _Condition.SUCCEEDED: CurveState.SUCCEEDED,
    _Condition.EARLYSTOPPED: CurveState.STOPPED, _Condition.KILLED: CurveState.STOPPED,
}
_DIRECTIONS = {api_pb2.MINIMIZE: Direction.MINIMIZE, api_pb2.MAXIMIZE: Direction.MAXIMIZE}
_COMPARISONS = {Comparison.EQUAL: api_pb2.EQUAL, Comparison.LESS: api_pb2.LESS, Comparison.GREATER: api_pb2.GREATER}


@dataclass(frozen=True)
class RulesRequest:
    """What GetEarlyStoppingRules needs from its request."""

    experiment: str
    algorithm: str
    settings: tuple[tuple[str, str], ...]
    objective: Objective | None  # None when the experiment names no direction or metric
    trials: tuple[tuple[str, CurveState], ...]
    db_manager_address: str


def spec_of(spec: api_pb2.EarlyStoppingSpec) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(algorithm name, (name, value) settings) of an EarlyStoppingSpec."""
    return spec.algorithm_name, tuple((s.name, s.value) for s in spec.algorithm_settings)


def rules_request(request: api_pb2.GetEarlyStoppingRulesRequest) -> RulesRequest:
    spec = request.experiment.spec
    algorithm, settings = spec_of(spec.early_stopping)
    direction = _DIRECTIONS.get(spec.objective.type)
    metric = spec.objective.objective_metric_name
    objective = Objective(direction, metric) if direction is not None and metric else None
    trials = tuple((t.name, _STATES.get(t.status.condition, CurveState.FAILED)) for t in request.trials)
    return RulesRequest(request.experiment.name, algorithm, settings, objective, trials, request.db_manager_address)


def rules_reply(rules: Sequence[StopRule]) -> api_pb2.GetEarlyStoppingRulesReply:
    """Thresholds travel as repr() text: Go's strconv.ParseFloat reads back the same double."""
    return api_pb2.GetEarlyStoppingRulesReply(early_stopping_rules=[
        api_pb2.EarlyStoppingRule(name=r.metric, value=repr(float(r.threshold)),
                                  comparison=_COMPARISONS[r.comparison], start_step=r.start_step)
        for r in rules])


def metric_values(log: api_pb2.ObservationLog) -> tuple[str, ...]:
    """The values of a DB manager's observation log as text, in the order stored (by time)."""
    return tuple(entry.metric.value for entry in log.metric_logs)
