"""Issue 13's differential property test: what ValidateAlgorithmSettings accepts, every GetSuggestions serves.

Generated experiments (katib_suggestion.testing.adversarial) go through the
real Suggester of their backend for every algorithm of the catalog; each
accepted one is driven for several calls the way Katib drives it, and every
answer is checked from the request's texts (katib_suggestion.testing.contract).
Classes of issue 13 owned elsewhere stay off (adversarial.FOREIGN names them);
benchmarks/adversarial_campaign.py runs the same at scale.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_suggestion.testing.adversarial import scenarios
from katib_suggestion.testing.contract import fresh_process_replies, run_scenario
from katib_validators.catalog import ALGORITHMS

# Experiments per algorithm, about 170 in all; model fits make hyperopt and skopt calls dearer.
EXAMPLES = {"optuna": 20, "hyperopt": 12, "skopt": 12}
LARGE = 200  # the largest single call of a cheap algorithm here (the campaign goes to 1000)
_SUGGESTERS: dict[str, tuple[Suggester, Suggester]] = {}
_ANSWERED: dict[str, list] = {}  # backend -> (request, reply) pairs for the fresh-process check


def _suggesters(backend: str) -> tuple[Suggester, Suggester]:
    """Two independent Suggesters: one plays the scenario, the other answers its last call again."""
    if backend not in _SUGGESTERS:
        _SUGGESTERS[backend] = (Suggester(backend, load_backend(backend)), Suggester(backend, load_backend(backend)))
    return _SUGGESTERS[backend]


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: f"{a.backend}-{a.key}")
def test_what_validate_accepts_every_call_serves(algorithm):
    accepted = []
    examples = EXAMPLES[algorithm.backend]

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(scenarios(algorithm, large=LARGE))
    def check(scenario):
        report = run_scenario(scenario, *_suggesters(scenario.backend))
        assert not report.findings, (report.findings, scenario)
        accepted.append(report.accepted)
        if report.last_reply is not None:
            _ANSWERED.setdefault(scenario.backend, []).append((report.last_request, report.last_reply))

    check()
    # guards the generator: mostly legal experiments, or the calls would go untested
    assert sum(accepted) >= examples // 3, f"only {sum(accepted)} of {len(accepted)} experiments were accepted"


@pytest.mark.parametrize("backend", sorted({a.backend for a in ALGORITHMS}))
def test_a_fresh_process_gives_the_same_answers(backend):
    samples = _ANSWERED.get(backend) or _replayable(backend)
    samples = samples[:: max(1, len(samples) // 3)][:3]
    replies = fresh_process_replies(backend, [request for request, _ in samples])
    assert replies == [reply for _, reply in samples]


def _replayable(backend: str) -> list:
    """Answered calls of the backend's algorithms, when the property test did not run first."""
    found = []

    @settings(max_examples=6, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(scenarios(next(a for a in ALGORITHMS if a.backend == backend), large=LARGE))
    def collect(scenario):
        report = run_scenario(scenario, _suggesters(backend)[0])
        if report.last_reply is not None:
            found.append((report.last_request, report.last_reply))

    collect()
    assert found, f"no generated {backend} experiment was accepted"
    return found
