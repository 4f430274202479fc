"""Shared builders: experiments in the YAML form users write, parsed the way the server parses them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from katib_suggestion.model import Experiment
from katib_suggestion.pipeline import with_seed
from katib_validators.experiment import parse_experiment

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

# Only stepped or listed dimensions: finite, for grid and for exhaustion tests.
FINITE_PARAMETERS: list[dict[str, Any]] = [
    {"name": "dropout", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.3", "step": "0.1"}},
    {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
    {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
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
    """The typed Experiment a backend receives (seed resolved as the server does)."""
    experiment, problems = parse_experiment(experiment_doc(algorithm, parameters, settings, **kwargs), backend)
    assert not problems, [str(p) for p in problems]
    return with_seed(experiment)


@pytest.fixture
def experiment_factory():
    return make_experiment
