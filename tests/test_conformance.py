"""One conformance suite run over every (backend, algorithm) of the catalog.

Each backend is called directly with typed requests, as the server calls it:
exact count, feasible values, no repeats of the batch or of pending trials,
determinism (also from a fresh process), failed and pruned trials tolerated.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FINITE_PARAMETERS, MIXED_PARAMETERS, make_experiment
from katib_suggestion.batch import suggest_unique
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.model import Distribution, SuggestionRequest, Trial, TrialState
from katib_suggestion.registry import load_backend
from katib_validators.catalog import ALGORITHMS

TESTS_DIR = Path(__file__).resolve().parent

NORMAL_PARAMETERS = [
    {"name": "wd", "parameterType": "double",
     "feasibleSpace": {"min": "0.001", "max": "0.1", "distribution": "logNormal"}},
    {"name": "warmup", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "100", "distribution": "normal"}},
]


def _loadable(backend: str) -> bool:
    try:
        load_backend(backend)
    except BackendUnavailable:
        return False
    return True


# Settings that switch an algorithm onto another model: each variant is a case of its own.
VARIANTS = {("skopt", "bayesianoptimization"): [{"base_estimator": e} for e in ("RF", "ET", "GBRT")]}
CASES = [pytest.param((a.backend, a.key, {}), id=f"{a.backend}-{a.key}") for a in ALGORITHMS] + [
    pytest.param((backend, key, extra), id=f"{backend}-{key}-{'-'.join(map(str, extra.values()))}")
    for (backend, key), variants in VARIANTS.items() for extra in variants]


def parameters_for(backend: str, key: str) -> list[dict]:
    algorithm = next(a for a in ALGORITHMS if a.backend == backend and a.key == key)
    if any(rule.__name__ == "needs_finite_grid" for rule in algorithm.space_rules):
        return copy.deepcopy(FINITE_PARAMETERS)
    extra = NORMAL_PARAMETERS if Distribution.NORMAL in algorithm.distributions else []
    return copy.deepcopy(MIXED_PARAMETERS + extra)


def scenario(backend: str, key: str, extra: dict | None = None, *, completed: int, pending: int, failed: int = 0,
             pruned: int = 0, count: int = 4, seed: int = 11, maximize: bool = False,
             random_state: int | None = None) -> SuggestionRequest:
    """A request whose history holds fabricated but feasible trials of every state."""
    settings = dict(extra or {})
    if random_state is not None:
        settings["random_state"] = random_state
    experiment = make_experiment(backend, key, parameters_for(backend, key), settings, maximize=maximize,
                                 max_trials=24)
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


def _keys(request, points):
    return [request.experiment.space.key(p) for p in points]


def _assert_feasible(request, points):
    for point in points:
        assert set(point) == set(request.experiment.space.names)
        for parameter in request.experiment.space:
            text = parameter.format(point[parameter.name])
            assert parameter.format(parameter.parse(text)) == text, (parameter.name, text)


@pytest.fixture(params=CASES)
def case(request):
    backend = request.param[0]
    if not _loadable(backend):
        pytest.fail(f"backend {backend} does not load: install katib-suggest[{backend}]")
    return request.param


@pytest.mark.parametrize("completed", [0, 30])
def test_exact_count_of_feasible_points(case, completed):
    request = scenario(*case, completed=completed, pending=3)
    proposal = load_backend(case[0]).suggest(request)
    assert len(proposal.points) == request.count
    _assert_feasible(request, proposal.points)


def test_batch_never_repeats_itself_or_a_pending_trial(case):
    # past every algorithm's start-up phase, where upstream's TPE started repeating (#1329)
    request = scenario(*case, completed=30, pending=4, count=6)
    points = load_backend(case[0]).suggest(request).points
    keys = _keys(request, points)
    pending = {request.experiment.space.key(t.params) for t in request.history if t.state is TrialState.PENDING}
    assert len(set(keys)) == len(keys), "the backend repeated a point inside one batch"
    assert not pending & set(keys), "the backend repeated a pending trial"


def test_no_repeats_with_the_core_guard_on_a_finite_space(case):
    request = scenario(*case, completed=6, pending=2, count=6)
    if request.experiment.space.cardinality() is None:
        request = SuggestionRequest(
            make_experiment(case[0], case[1], copy.deepcopy(FINITE_PARAMETERS), case[2], max_trials=24),
            (), 6, seed=3)
    batch = suggest_unique(load_backend(case[0]), request)
    keys = _keys(request, batch.points) + [request.experiment.space.key(t.params) for t in request.history]
    assert len(set(keys)) == len(keys)
    _assert_feasible(request, batch.points)


def test_same_request_same_answer(case):
    backend = load_backend(case[0])
    request = scenario(*case, completed=25, pending=2)
    assert backend.suggest(request).points == backend.suggest(request).points


def test_fresh_process_gives_the_same_answer(case):
    request = scenario(*case, completed=25, pending=2)
    here = [request.experiment.space.format(p) for p in load_backend(case[0]).suggest(request).points]
    code = (f"import sys, json; sys.path.insert(0, {str(TESTS_DIR)!r}); "
            "from test_conformance import fresh_answer; "
            f"print(json.dumps(fresh_answer({case[0]!r}, {case[1]!r}, {case[2]!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=TESTS_DIR)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == here


def fresh_answer(backend: str, key: str, extra: dict) -> list[dict[str, str]]:
    request = scenario(backend, key, extra, completed=25, pending=2)
    return [request.experiment.space.format(p) for p in load_backend(backend).suggest(request).points]


@pytest.mark.parametrize("maximize", [False, True])
def test_failed_and_pruned_trials_are_tolerated(case, maximize):
    request = scenario(*case, completed=12, pending=2, failed=5, pruned=4, maximize=maximize)
    points = load_backend(case[0]).suggest(request).points
    assert len(points) == request.count
    _assert_feasible(request, points)


def test_only_failed_trials_so_far(case):
    request = scenario(*case, completed=0, pending=0, failed=6)
    assert len(load_backend(case[0]).suggest(request).points) == request.count


def test_a_different_random_state_gives_a_different_answer(case):
    backend = load_backend(case[0])
    first = backend.suggest(scenario(*case, completed=15, pending=0, seed=1, random_state=1))
    second = backend.suggest(scenario(*case, completed=15, pending=0, seed=2, random_state=2))
    assert first.points != second.points
