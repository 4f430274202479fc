"""Issue 13's differential property test, the part the conformance kit does not run: fresh processes.

The property itself (what ValidateAlgorithmSettings accepts, every GetSuggestions
serves) runs for every built-in algorithm as the kit's
``test_what_validate_accepts_every_call_serves`` in test_conformance.py, as it
does for plugins; benchmarks/adversarial_campaign.py runs the same at scale.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_suggestion.testing.adversarial import FOREIGN, scenarios
from katib_suggestion.testing.contract import fresh_process_replies, run_scenario
from katib_validators.catalog import ALGORITHMS

LARGE = 200  # the largest single call of a cheap algorithm here (the campaign goes to 1000)


@pytest.mark.parametrize("backend", sorted({a.backend for a in ALGORITHMS}))
def test_a_fresh_process_gives_the_same_answers(backend):
    samples = _replayable(backend)
    samples = samples[:: max(1, len(samples) // 3)][:3]
    replies = fresh_process_replies(backend, [request for request, _ in samples])
    assert replies == [reply for _, reply in samples]


def _replayable(backend: str) -> list:
    """Answered calls of generated experiments of the backend's first algorithm."""
    found = []
    suggester = Suggester(backend, load_backend(backend))

    @settings(max_examples=6, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(scenarios(next(a for a in ALGORITHMS if a.backend == backend), frozenset(FOREIGN), large=LARGE))
    def collect(scenario):
        report = run_scenario(scenario, suggester)
        if report.last_reply is not None:
            found.append((report.last_request, report.last_reply))

    collect()
    assert found, f"no generated {backend} experiment was accepted"
    return found
