"""The plugin through katib-suggest's conformance kit: the contract every built-in backend keeps."""

from katib_suggestion.testing import ConformanceTests


class TestNevergrad(ConformanceTests):
    backends = ("nevergrad",)
    variants = {("nevergrad", "de"): [{"crossover": "dimension", "popsize": 6}]}
