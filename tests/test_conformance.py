"""The conformance kit (katib_suggestion.testing) run over every algorithm of our own backends.

Plugin authors run the same class over theirs (examples/plugins/ shows how): one suite.
"""

from __future__ import annotations

import pytest
from katib_suggestion.testing import ConformanceTests
from katib_suggestion.testing.requests import NORMAL_PARAMETERS  # noqa: F401 - used by test_experiment_e2e
from katib_validators.catalog import registered


class TestBuiltinBackends(ConformanceTests):
    backends = tuple(name for name, entry in registered().items() if entry.builtin)
    # Settings that switch an algorithm onto another model: each variant is a case of its own.
    variants = {("skopt", "bayesianoptimization"): [{"base_estimator": e} for e in ("RF", "ET", "GBRT")]}
    adversarial_examples = 20  # more than the kit's default; benchmarks/adversarial_campaign.py runs thousands


# (backend, algorithm key, extra settings) of every case, for the end-to-end experiments
CASES = [pytest.param((c.backend, c.algorithm, dict(c.settings)), id=c.id) for c in TestBuiltinBackends.cases()]
