"""The conformance suite as pytest tests: subclass ``ConformanceTests`` in a test module of yours.

::

    from katib_suggestion.testing import ConformanceTests

    class TestMyBackend(ConformanceTests):
        backends = ("mybackend",)
        # optional: settings that switch an algorithm onto another model, one case each
        variants = {("mybackend", "myalgo"): [{"flavour": "b"}]}
        # optional: cases deterministic by design ({} is the algorithm's defaults): for them the kit checks
        # that random_state does NOT change the answer, instead of that it does
        deterministic = {("mybackend", "sequence"): [{"scramble": "false"}]}

The kit needs pytest and hypothesis: ``pip install "katib-suggest[testing]"``.

Every algorithm the backends declare is run through every check of
``katib_suggestion.testing.conformance``; a backend that does not load fails
(with the command that installs it), it is never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.registry import load_backend
from katib_suggestion.testing import conformance
from katib_suggestion.testing.requests import Case
from katib_validators.catalog import served_by


class ConformanceTests:
    """Base of a conformance test class (not collected itself: its name does not start with Test)."""

    backends: ClassVar[Sequence[str]] = ()
    variants: ClassVar[Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]] = {}
    deterministic: ClassVar[Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]] = {}
    # algorithm key -> Katib parameters, for an algorithm that accepts none of the kit's spaces
    parameters: ClassVar[Mapping[tuple[str, str], Sequence[Mapping[str, Any]]]] = {}
    # generated adversarial experiments per algorithm (each is validated, then driven for several calls)
    adversarial_examples: ClassVar[int] = 12

    @classmethod
    def cases(cls) -> list[Case]:
        assert cls.backends, f"{cls.__name__}: set backends = ('your-backend',)"
        found = []
        for backend in cls.backends:
            keys = dict.fromkeys(a.key for a in served_by(backend).values())
            assert keys, f"{cls.__name__}: backend {backend!r} is not installed or declares no algorithm"
            for key in keys:
                space = cls.parameters.get((backend, key))
                space = None if space is None else tuple(space)
                fixed = [dict(settings) for settings in cls.deterministic.get((backend, key), ())]
                found += [Case(backend, key, dict(extra), space, deterministic=dict(extra) in fixed)
                          for extra in ({}, *cls.variants.get((backend, key), ()))]
                unknown = [f for f in fixed if f and f not in map(dict, cls.variants.get((backend, key), ()))]
                assert not unknown, f"{cls.__name__}.deterministic names {unknown}: list them in variants too"
        return found

    def pytest_generate_tests(self, metafunc):
        if "case" in metafunc.fixturenames:
            cases = self.cases()
            if metafunc.function.__name__ == "test_what_validate_accepts_every_call_serves":
                cases = [c for c in cases if not c.settings]  # the experiments bring their own settings
            metafunc.parametrize("case", cases, ids=[c.id for c in cases])

    @pytest.fixture(autouse=True)
    def _loadable(self, case):
        try:
            load_backend(case.backend)
        except BackendUnavailable as error:
            pytest.fail(str(error))

    @pytest.mark.parametrize("completed", [0, 30])
    def test_exact_count_of_feasible_points(self, case, completed):
        conformance.check_exact_count_of_feasible_points(case, completed)

    def test_batch_never_repeats_itself_or_a_pending_trial(self, case):
        conformance.check_batch_never_repeats_itself_or_a_pending_trial(case)

    def test_no_repeats_with_the_core_guard_on_a_finite_space(self, case):
        conformance.check_no_repeats_with_the_core_guard_on_a_finite_space(case)

    def test_same_request_same_answer(self, case):
        conformance.check_same_request_same_answer(case)

    def test_fresh_process_gives_the_same_answer(self, case):
        conformance.check_fresh_process_gives_the_same_answer(case)

    @pytest.mark.parametrize("maximize", [False, True])
    def test_failed_and_pruned_trials_are_tolerated(self, case, maximize):
        conformance.check_failed_and_pruned_trials_are_tolerated(case, maximize)

    def test_only_failed_trials_so_far(self, case):
        conformance.check_only_failed_trials_so_far(case)

    def test_a_different_random_state_gives_a_different_answer(self, case):
        conformance.check_a_different_random_state_gives_a_different_answer(case)

    def test_what_validate_accepts_every_call_serves(self, case):
        conformance.check_what_validate_accepts_every_call_serves(case, self.adversarial_examples)

    def test_served_over_grpc(self, case):
        conformance.check_served_over_grpc(case)
