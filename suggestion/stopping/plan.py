"""GetEarlyStoppingRules without protobuf: settings checked, curves read, the algorithm's rules."""

from __future__ import annotations

from collections.abc import Callable

from katib_suggestion.errors import InvalidExperiment
from katib_suggestion.stopping.algorithms import ALGORITHMS
from katib_suggestion.stopping.rules import Curve, StopRule
from katib_suggestion.stopping.wire import RulesRequest
from katib_validators.early_stopping import check_settings
from katib_validators.problems import Problem

# (trial name, metric name) -> the values the trial reported, in order
ValuesReader = Callable[[str, str], tuple[float, ...]]


def validate(algorithm: str, settings: tuple[tuple[str, str], ...]) -> dict:
    """The parsed settings; InvalidExperiment naming every problem otherwise."""
    parsed, problems = check_settings(algorithm, settings)
    if problems:
        raise InvalidExperiment(problems)
    return parsed


def stopping_rules(request: RulesRequest, read: Callable[[], ValuesReader]) -> list[StopRule]:
    """The rules for the trials created next. Stateless: everything comes from the request and
    the DB manager, so a restarted server or several Experiments on one server give the same rules.
    ``read`` opens the DB manager only when enough trials could contribute."""
    settings = validate(request.algorithm, request.settings)
    algorithm = ALGORITHMS[request.algorithm]
    candidates = [(name, state) for name, state in request.trials if state in algorithm.reads]
    if len(candidates) < settings["min_trials_required"]:
        return []
    if request.objective is None:
        raise InvalidExperiment([Problem("spec.objective", "early-stopping rules need the objective's type "
                                                           "(minimize or maximize) and objectiveMetricName")])
    values = read()
    metric = request.objective.metric_name
    curves = [Curve(name, state, values(name, metric)) for name, state in candidates]
    return algorithm.rules(request.objective, settings, curves, len(request.trials))
