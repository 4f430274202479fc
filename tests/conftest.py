"""Shared builders: experiments in the YAML form users write, parsed the way the server parses them."""

from __future__ import annotations

import pytest

# One definition of the shared spaces and builders: the conformance kit's (plugin authors use it too).
from katib_suggestion.testing.requests import (  # noqa: F401 - re-exported to the tests
    FINITE_PARAMETERS,
    MIXED_PARAMETERS,
    experiment_doc,
    make_experiment,
)


@pytest.fixture
def experiment_factory():
    return make_experiment
