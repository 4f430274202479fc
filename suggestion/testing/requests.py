"""Fabricated experiments and requests for the conformance checks: Katib-shaped spaces, histories of every state."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from katib_suggestion.model import Distribution, Experiment, SuggestionRequest, Trial, TrialState
from katib_validators.catalog import served_by

# A space with every kind of parameter Katib has: log double, stepped double,
# plain and stepped int, discrete numbers and categorical strings.
MIXED_PARAMETERS: list[dict[str, Any]] = [
    {"name": "lr", "parameterType": "double",
     "feasibleSpace": {"min": "0.0001", "max": "0.1", "distribution": "logUniform"}},
    {"name": "dropout", "parameterType": "double", "feasibleSpace": {"min": "0.0", "max": "0.5", "step": "0.05"}},
    {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "8"}},
    {"name": "batch", "parameterType": "int", "feasibleSpace": {"min": "16", "max": "256", "step": "16"}},
    {"name": "momentum", "parameterType": "discrete", "feasibleSpace": {"list": ["0.8", "0.9", "0.95", "0.99"]}},
    {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam", "rmsprop"]}},
]
# Only stepped or listed dimensions: finite, for grid and for exhaustion checks.
FINITE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "dropout", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.3", "step": "0.1"}},
    {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
    {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
]
# Added to the mixed space for algorithms that declare the normal distributions.
NORMAL_PARAMETERS: list[dict[str, Any]] = [
    {"name": "wd", "parameterType": "double",
     "feasibleSpace": {"min": "0.001", "max": "0.1", "distribution": "logNormal"}},
    {"name": "warmup", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "100", "distribution": "normal"}},
]


def experiment_doc(algorithm: str, parameters=None, settings=None, *, name: str = "test-experiment",
                   maximize: bool = False, max_trials: int = 60, parallel: int = 4) -> dict[str, Any]:
    """An Experiment resource (metadata + spec) as a user would apply it."""
    return {
        "metadata": {"name": name},
        "spec": {
            "parameters": copy.deepcopy(MIXED_PARAMETERS if parameters is None else parameters),
            "objective": {"type": "maximize" if maximize else "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": algorithm,
                          "algorithmSettings": [{"name": k, "value": str(v)} for k, v in (settings or {}).items()]},
            "maxTrialCount": max_trials,
            "parallelTrialCount": parallel,
        },
    }


def make_experiment(backend: str, algorithm: str, parameters=None, settings=None, **kwargs) -> Experiment:
    """The typed Experiment a backend receives (validated, seed resolved as the server does)."""
    from katib_suggestion.pipeline import with_seed
    from katib_validators.experiment import parse_experiment

    experiment, problems = parse_experiment(experiment_doc(algorithm, parameters, settings, **kwargs), backend)
    assert not problems, [str(p) for p in problems]
    return with_seed(experiment)


@dataclass(frozen=True)
class Case:
    """One (backend, algorithm) with extra settings; ``parameters`` None picks the richest accepted space."""

    backend: str
    algorithm: str  # the algorithm's key, as declared
    settings: Mapping[str, Any] = field(default_factory=dict)
    parameters: tuple[Mapping[str, Any], ...] | None = None
    deterministic: bool = False  # by design: random_state must not change its answers (a plain sequence)

    @property
    def id(self) -> str:
        return "-".join([self.backend, self.algorithm, *map(str, self.settings.values())])

    def to_json(self) -> str:
        return json.dumps({"backend": self.backend, "algorithm": self.algorithm, "settings": dict(self.settings),
                           "parameters": None if self.parameters is None else list(self.parameters),
                           "deterministic": self.deterministic})

    @classmethod
    def from_json(cls, text: str) -> Case:
        data = json.loads(text)
        parameters = data.pop("parameters")
        return cls(**data, parameters=None if parameters is None else tuple(parameters))


def algorithm_name(case: Case) -> str:
    return next(a.names[0] for a in served_by(case.backend).values() if a.key == case.algorithm)


def space_for(case: Case) -> list[dict[str, Any]]:
    """The case's parameters, or the first of mixed+normal, mixed, finite that the algorithm accepts."""
    if case.parameters is not None:
        return copy.deepcopy(list(case.parameters))
    from katib_validators.experiment import parse_experiment

    algorithm = next(a for a in served_by(case.backend).values() if a.key == case.algorithm)
    options = [MIXED_PARAMETERS, FINITE_PARAMETERS]
    if Distribution.NORMAL in algorithm.distributions:
        options.insert(0, MIXED_PARAMETERS + NORMAL_PARAMETERS)
    for parameters in options:
        doc = experiment_doc(algorithm_name(case), parameters, case.settings, max_trials=24)
        if not parse_experiment(doc, case.backend)[1]:
            return copy.deepcopy(parameters)
    raise AssertionError(f"{case.id} accepts none of the kit's spaces; give the Case its own parameters")


def scenario(case: Case, *, completed: int, pending: int, failed: int = 0, pruned: int = 0, count: int = 4,
             seed: int = 11, maximize: bool = False, random_state: int | None = None,
             parameters: list[dict[str, Any]] | None = None) -> SuggestionRequest:
    """A request whose history holds fabricated but feasible trials of every state."""
    settings = dict(case.settings)
    if random_state is not None:
        settings["random_state"] = random_state
    experiment = make_experiment(case.backend, algorithm_name(case), parameters or space_for(case), settings,
                                 maximize=maximize, max_trials=24)
    rng = random.Random(11)
    space = experiment.space
    history, seen = [], set()
    plan = [TrialState.COMPLETED] * completed + [TrialState.FAILED] * failed + \
        [TrialState.PRUNED] * pruned + [TrialState.PENDING] * pending
    for index, state in enumerate(plan):
        vector = [rng.random() for _ in range(len(space))]
        point = space.from_unit(vector)
        if space.key(point) in seen:
            continue
        seen.add(space.key(point))
        value = sum((u - 0.3) ** 2 for u in vector) if state in (TrialState.COMPLETED, TrialState.PRUNED) else None
        history.append(Trial(f"trial-{index}", point, state, value))
    return SuggestionRequest(experiment, tuple(history), count, seed=seed, suggested_before=len(history))
