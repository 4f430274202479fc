"""The contract every backend's ``suggest`` must keep, as plain checks over fabricated histories.

Each ``check_*`` function takes a ``Case`` (backend, algorithm, extra settings)
and raises AssertionError with the reason when the backend breaks the
contract. ``katib_suggestion.testing.pytest_plugin`` runs them all as a pytest
suite; they also work without pytest.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from katib_suggestion.batch import suggest_unique
from katib_suggestion.model import Distribution, Experiment, Point, SuggestionRequest, Trial, TrialState
from katib_suggestion.registry import load_backend
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

    @property
    def id(self) -> str:
        return "-".join([self.backend, self.algorithm, *map(str, self.settings.values())])

    def to_json(self) -> str:
        return json.dumps({"backend": self.backend, "algorithm": self.algorithm, "settings": dict(self.settings),
                           "parameters": None if self.parameters is None else list(self.parameters)})

    @classmethod
    def from_json(cls, text: str) -> Case:
        data = json.loads(text)
        parameters = data.pop("parameters")
        return cls(**data, parameters=None if parameters is None else tuple(parameters))


def _name(case: Case) -> str:
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
        doc = experiment_doc(_name(case), parameters, case.settings, max_trials=24)
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
    experiment = make_experiment(case.backend, _name(case), parameters or space_for(case), settings,
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


def _keys(request: SuggestionRequest, points: list[Point]) -> list[tuple[str, ...]]:
    return [request.experiment.space.key(p) for p in points]


def assert_feasible(request: SuggestionRequest, points: list[Point]) -> None:
    """Every point names every parameter once, with a value Katib would accept as written."""
    for point in points:
        assert set(point) == set(request.experiment.space.names), f"point {point} does not name every parameter"
        for parameter in request.experiment.space:
            text = parameter.format(point[parameter.name])
            assert parameter.format(parameter.parse(text)) == text, f"{parameter.name}={text} is not feasible"


def check_exact_count_of_feasible_points(case: Case, completed: int) -> None:
    request = scenario(case, completed=completed, pending=3)
    proposal = load_backend(case.backend).suggest(request)
    assert len(proposal.points) == request.count, f"asked for {request.count}, got {len(proposal.points)}"
    assert_feasible(request, proposal.points)


def check_batch_never_repeats_itself_or_a_pending_trial(case: Case) -> None:
    # past every algorithm's start-up phase, where upstream's TPE started repeating (#1329)
    request = scenario(case, completed=30, pending=4, count=6)
    keys = _keys(request, load_backend(case.backend).suggest(request).points)
    pending = {request.experiment.space.key(t.params) for t in request.history if t.state is TrialState.PENDING}
    assert len(set(keys)) == len(keys), "the backend repeated a point inside one batch"
    assert not pending & set(keys), "the backend repeated a pending trial"


def check_no_repeats_with_the_core_guard_on_a_finite_space(case: Case) -> None:
    request = scenario(case, completed=6, pending=2, count=6)
    if request.experiment.space.cardinality() is None:
        experiment = make_experiment(case.backend, _name(case), copy.deepcopy(FINITE_PARAMETERS), case.settings,
                                     max_trials=24)
        request = SuggestionRequest(experiment, (), 6, seed=3)
    batch = suggest_unique(load_backend(case.backend), request)
    keys = _keys(request, batch.points) + [request.experiment.space.key(t.params) for t in request.history]
    assert len(set(keys)) == len(keys), "a point repeats a trial or another point of the batch"
    assert_feasible(request, batch.points)


def check_same_request_same_answer(case: Case) -> None:
    backend = load_backend(case.backend)
    request = scenario(case, completed=25, pending=2)
    assert backend.suggest(request).points == backend.suggest(request).points, "the same request got another answer"


def answer(case: Case) -> list[dict[str, str]]:
    """The formatted answer to the restart scenario (what a fresh process must reproduce)."""
    request = scenario(case, completed=25, pending=2)
    return [request.experiment.space.format(p) for p in load_backend(case.backend).suggest(request).points]


def check_fresh_process_gives_the_same_answer(case: Case) -> None:
    code = ("import json, sys; from katib_suggestion.testing.conformance import Case, answer; "
            "print(json.dumps(answer(Case.from_json(sys.argv[1]))))")
    result = subprocess.run([sys.executable, "-c", code, case.to_json()], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == answer(case), \
        "a fresh process answered the same request differently (state kept between calls?)"


def check_failed_and_pruned_trials_are_tolerated(case: Case, maximize: bool) -> None:
    request = scenario(case, completed=12, pending=2, failed=5, pruned=4, maximize=maximize)
    points = load_backend(case.backend).suggest(request).points
    assert len(points) == request.count
    assert_feasible(request, points)


def check_only_failed_trials_so_far(case: Case) -> None:
    request = scenario(case, completed=0, pending=0, failed=6)
    assert len(load_backend(case.backend).suggest(request).points) == request.count


def check_a_different_random_state_gives_a_different_answer(case: Case) -> None:
    backend = load_backend(case.backend)
    first = backend.suggest(scenario(case, completed=15, pending=0, seed=1, random_state=1))
    second = backend.suggest(scenario(case, completed=15, pending=0, seed=2, random_state=2))
    assert first.points != second.points, "random_state does not change the answer"


def check_served_over_grpc(case: Case) -> None:
    """A short experiment through a real server, driven as Katib drives it: validation first, then
    exact counts in every reply, the reply's settings merged back, trials finishing out of order, some failing."""
    from katib_suggestion.testing.wire_check import run_short_experiment

    report = run_short_experiment(case.backend, experiment_doc(_name(case), space_for(case), case.settings,
                                                               max_trials=12, parallel=3))
    assert len(report.trials) == 12, f"the experiment ended after {len(report.trials)} of 12 trials"
    keys = [tuple(a.value for a in t.spec.parameter_assignments.assignments) for t in report.trials]
    assert len(set(keys)) == len(keys), "a trial repeats another trial's assignments"
