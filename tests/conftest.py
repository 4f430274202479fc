"""Shared builders: experiments in the YAML form users write, parsed the way the server parses them."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# One definition of the shared spaces and builders: the conformance kit's (plugin authors use it too).
from katib_suggestion.testing.requests import (  # noqa: F401 - re-exported to the tests
    FINITE_PARAMETERS,
    MIXED_PARAMETERS,
    experiment_doc,
    make_experiment,
)

# Answers never depend on the clock, and neither may a test: hypothesis' default 200 ms deadline per
# example (and its too-slow health check) failed a property on a loaded 2-core machine.
settings.register_profile("katib-suggest", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("katib-suggest")


@pytest.fixture
def experiment_factory():
    return make_experiment
