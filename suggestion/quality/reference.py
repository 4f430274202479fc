"""Reference arms: each library used directly, stateful for a whole run, behind the driver's stub.

A reference arm is what someone without Katib would write: one optuna study,
one hyperopt ``Trials``, one skopt ``Optimizer`` for the whole experiment,
told each result once as it arrives and asked for as many points as there
are free slots. ``ReferenceStub`` answers the driver's GetSuggestions calls
from such an arm, so the simulated controller (parallelism, completion order,
failures, trial names, seeds) is exactly the one our servers face: only who
proposes the points differs.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from katib_api import api_pb2
from katib_suggestion.model import Experiment, Point, SearchSpace

Condition = api_pb2.TrialStatus.TrialConditionType
_FINISHED = (Condition.SUCCEEDED, Condition.FAILED, Condition.KILLED, Condition.EARLYSTOPPED,
             Condition.METRICSUNAVAILABLE)



class Arm(Protocol):
    """One library driven directly for one experiment; minimises.

    Lifecycle: ``ask`` whenever slots are free, ``tell`` each result once when
    its trial ends. Points are numbered in the order they were asked (0, 1, ...).
    """

    def ask(self, count: int) -> list[Point]:
        """``count`` new points (typed values of the experiment's space)."""

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        """Results of earlier points by their number; None: the trial failed."""


def declared_reference(backend: str) -> str:
    """``"module:attribute"`` of the backend's reference arm factory, "" when it declares none (a plugin may)."""
    from katib_validators.catalog import registered

    entry = registered().get(backend)
    return entry.plugin.reference if entry is not None else ""


def _factory(backend: str):
    spec = declared_reference(backend)
    if not spec:
        raise LookupError(f"the {backend} backend declares no reference arm (BackendPlugin.reference)")
    name, _, attribute = spec.partition(":")
    module = importlib.import_module(name)
    return module, getattr(module, attribute)


def make_arm(backend: str, experiment: Experiment, seed: int) -> Arm:
    """The reference arm for ``experiment.algorithm`` of ``backend`` (settings already parsed)."""
    return _factory(backend)[1](experiment, seed)


def describe(backend: str, algorithm: str, settings: dict | None = None) -> str:
    """One line naming the library call the reference arm makes, for the report: the module's ``describe`` when it
    has one (ours), else the first line of the factory's docstring."""
    module, factory = _factory(backend)
    if callable(getattr(module, "describe", None)):
        return module.describe(algorithm, settings or {})
    doc = (factory.__doc__ or "").strip().splitlines()
    return f"{doc[0].rstrip('.') if doc else 'the library used directly'} ({declared_reference(backend)})"


class ReferenceStub:
    """Stands in for a SuggestionStub: tells the arm what finished since the last call, then asks it."""

    def __init__(self, arm: Arm, space: SearchSpace):
        self.arm = arm
        self.space = space
        self.asked = 0
        self.told: set[int] = set()

    def GetSuggestions(self, request: api_pb2.GetSuggestionsRequest, timeout: float | None = None):  # noqa: N802
        if len(request.trials) != self.asked:
            raise AssertionError(f"the driver holds {len(request.trials)} trials, the arm asked {self.asked} points")
        results = [(index, _value(trial)) for index, trial in enumerate(request.trials)
                   if index not in self.told and trial.status.condition in _FINISHED]
        if results:
            self.arm.tell(results)
            self.told.update(index for index, _ in results)
        points = self.arm.ask(request.current_request_number) if request.current_request_number else []
        self.asked += len(points)
        reply = api_pb2.GetSuggestionsReply()
        for point in points:
            reply.parameter_assignments.add().assignments.extend(
                api_pb2.ParameterAssignment(name=name, value=value) for name, value in self.space.format(point).items())
        return reply


def _value(trial: api_pb2.Trial) -> float | None:
    if trial.status.condition != Condition.SUCCEEDED or not trial.status.observation.metrics:
        return None
    return float(trial.status.observation.metrics[0].value)
