"""The contract every backend's ``suggest`` must keep, as plain checks over fabricated histories.

Each ``check_*`` function takes a ``Case`` (backend, algorithm, extra settings)
and raises AssertionError with the reason when the backend breaks the
contract. ``katib_suggestion.testing.pytest_plugin`` runs them all as a pytest
suite; they also work without pytest.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

from katib_suggestion.batch import suggest_unique
from katib_suggestion.model import Point, SuggestionRequest, TrialState
from katib_suggestion.registry import load_backend
from katib_suggestion.testing.requests import (
    FINITE_PARAMETERS,
    Case,
    algorithm_name,
    experiment_doc,
    make_experiment,
    scenario,
    space_for,
)


def _keys(request: SuggestionRequest, points: list[Point]) -> list[tuple[str, ...]]:
    return [request.experiment.space.key(p) for p in points]


def assert_feasible(request: SuggestionRequest, points: list[Point]) -> None:
    """Every point names every parameter once, with a value Katib would accept as written."""
    for point in points:
        assert set(point) == set(request.experiment.space.names), f"point {point} does not name every parameter"
        for parameter in request.experiment.space:
            text = parameter.format(point[parameter.name])
            assert parameter.format(parameter.parse(text)) == text, f"{parameter.name}={text} is not feasible"


def assert_no_repeats(request: SuggestionRequest, points: list[Point]) -> None:
    """``suggest``'s own answer repeats no pending trial and no point of itself (the core would hide it)."""
    keys = _keys(request, points)
    pending = {request.experiment.space.key(t.params) for t in request.history if t.state is TrialState.PENDING}
    assert len(set(keys)) == len(keys), "the backend repeated a point inside one batch"
    assert not pending & set(keys), "the backend repeated a pending trial (did it see the pending trials?)"


def check_exact_count_of_feasible_points(case: Case, completed: int) -> None:
    request = scenario(case, completed=completed, pending=3)
    proposal = load_backend(case.backend).suggest(request)
    assert len(proposal.points) == request.count, f"asked for {request.count}, got {len(proposal.points)}"
    assert_feasible(request, proposal.points)
    assert_no_repeats(request, proposal.points)


def check_batch_never_repeats_itself_or_a_pending_trial(case: Case) -> None:
    # at the start (no result yet: pending trials only) and past every algorithm's start-up phase,
    # where upstream's TPE started repeating (#1329)
    for completed in (0, 30):
        request = scenario(case, completed=completed, pending=4, count=6)
        assert_no_repeats(request, load_backend(case.backend).suggest(request).points)


def check_no_repeats_with_the_core_guard_on_a_finite_space(case: Case) -> None:
    request = scenario(case, completed=6, pending=2, count=6)
    if not request.experiment.space.is_finite:
        experiment = make_experiment(case.backend, algorithm_name(case), copy.deepcopy(FINITE_PARAMETERS),
                                     case.settings, max_trials=24)
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
    assert_no_repeats(request, points)


def check_only_failed_trials_so_far(case: Case) -> None:
    request = scenario(case, completed=0, pending=0, failed=6)
    assert len(load_backend(case.backend).suggest(request).points) == request.count


def check_a_different_random_state_gives_a_different_answer(case: Case) -> None:
    """A seeded algorithm answers differently under another random_state; one the case declares deterministic
    by design (``Case.deterministic``: a plain sequence) must answer the same, so the opt-out is checked too."""
    backend = load_backend(case.backend)
    first = backend.suggest(scenario(case, completed=15, pending=0, seed=1, random_state=1))
    second = backend.suggest(scenario(case, completed=15, pending=0, seed=2, random_state=2))
    if case.deterministic:
        assert first.points == second.points, "declared deterministic, but random_state changes the answer"
    else:
        assert first.points != second.points, ("random_state does not change the answer (an algorithm that is "
                                               "deterministic by design declares it: ConformanceTests.deterministic)")


def check_served_over_grpc(case: Case) -> None:
    """A short experiment through a real server, driven as Katib drives it: validation first, then
    exact counts in every reply, the reply's settings merged back, trials finishing out of order, some failing."""
    from katib_suggestion.testing.wire_check import run_short_experiment

    report = run_short_experiment(case.backend, experiment_doc(algorithm_name(case), space_for(case), case.settings,
                                                               max_trials=12, parallel=3))
    assert len(report.trials) == 12, f"the experiment ended after {len(report.trials)} of 12 trials"
    assert report.repeats() == 0, "a trial repeats another trial's assignments"


def check_what_validate_accepts_every_call_serves(case: Case, examples: int, large: int = 200) -> None:
    """Issue 13's property on generated adversarial experiments (odd numbers, extreme bounds, steps and
    settings, odd metric values, large counts and positions): when Validate accepts one, every call
    Katib would then make answers with the requested count of feasible, unrepeated points."""
    try:
        from hypothesis import HealthCheck, given, settings
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError("this check generates experiments with hypothesis: pip install "
                                  "'katib-suggest[testing]'", name=error.name) from error
    from katib_suggestion.pipeline import Suggester
    from katib_suggestion.testing.adversarial import FOREIGN, scenarios
    from katib_suggestion.testing.contract import run_scenario
    from katib_validators.catalog import served_by

    algorithm = next(a for a in served_by(case.backend).values() if a.key == case.algorithm)
    # two independent Suggesters: one plays the scenario, the other answers its last call again
    suggesters = tuple(Suggester(case.backend, load_backend(case.backend)) for _ in range(2))
    accepted: list[bool] = []

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(scenarios(algorithm, frozenset(FOREIGN), large=large))
    def check(scenario):
        report = run_scenario(scenario, *suggesters)
        assert not report.findings, (report.findings, scenario)
        accepted.append(report.accepted)

    check()
    # guards the generator: mostly legal experiments, or the calls would go untested
    assert sum(accepted) >= examples // 3, f"only {sum(accepted)} of {len(accepted)} generated experiments accepted"
