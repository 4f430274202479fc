"""The conformance kit as a plugin author meets it: one documented contract, checks that see suggest()'s own answer,
a bool setting kind, an explicit opt-out for deterministic variants, its extra (issue 24, item 14)."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest
from katib_suggestion.model import Proposal
from katib_suggestion.plugin import Problem, SearchSpaceExhausted, Setting, SettingsSchema, SuggestionError
from katib_suggestion.testing import ConformanceTests, conformance
from katib_suggestion.testing.requests import Case
from katib_validators.plugin_checks import schema_problems
from katib_validators.settings import RANDOM_STATE

ROOT = Path(__file__).resolve().parents[1]
CASE = Case("optuna", "random")


class Pending:
    """Proposes the first pending trial's point again: what a backend that ignores pending trials does."""

    def suggest(self, request):
        pending = [t.params for t in request.history if t.state.value == "pending"]
        space = request.experiment.space
        fresh = [space.from_unit([0.05 + 0.1 * i] * len(space)) for i in range(request.count)]
        return Proposal((pending[:1] + fresh)[:request.count])


class Twice:
    """Proposes one point count times."""

    def suggest(self, request):
        point = request.experiment.space.from_unit([(request.seed % 97) / 97] * len(request.experiment.space))
        return Proposal([point] * request.count)


class Sequence:
    """Deterministic by design: ignores the seed, walks a fixed sequence past the history."""

    def suggest(self, request):
        space, start = request.experiment.space, len(request.history)
        return Proposal([space.from_unit([((start + i) * 0.618) % 1] * len(space)) for i in range(request.count)])


@pytest.mark.parametrize("backend, said", [(Pending(), "repeated a pending trial"),
                                           (Twice(), "repeated a point inside one batch")])
def test_the_kit_sees_repeats_the_core_would_hide(monkeypatch, backend, said):
    monkeypatch.setattr(conformance, "load_backend", lambda name: backend)
    for check in (conformance.check_batch_never_repeats_itself_or_a_pending_trial,
                  lambda case: conformance.check_exact_count_of_feasible_points(case, 0)):
        with pytest.raises(AssertionError, match=said):
            check(CASE)
    # the core's guard hides it: served through suggest_unique, the batch is clean
    conformance.check_no_repeats_with_the_core_guard_on_a_finite_space(CASE)


def test_a_deterministic_variant_opts_out_explicitly_and_is_held_to_it(monkeypatch):
    monkeypatch.setattr(conformance, "load_backend", lambda name: Sequence())
    with pytest.raises(AssertionError, match="ConformanceTests.deterministic"):
        conformance.check_a_different_random_state_gives_a_different_answer(CASE)
    conformance.check_a_different_random_state_gives_a_different_answer(Case("optuna", "random", deterministic=True))
    monkeypatch.setattr(conformance, "load_backend", lambda name: Twice())  # uses the seed
    with pytest.raises(AssertionError, match="declared deterministic, but random_state changes the answer"):
        conformance.check_a_different_random_state_gives_a_different_answer(Case("optuna", "random",
                                                                                 deterministic=True))


def test_deterministic_cases_come_from_the_class_and_must_be_variants():
    class Kit(ConformanceTests):
        backends = ("optuna",)
        variants = {("optuna", "sobol"): [{"random_state": 3}]}
        deterministic = {("optuna", "sobol"): [{"random_state": 3}]}

    marked = {(c.algorithm, c.deterministic) for c in Kit.cases() if c.algorithm == "sobol"}
    assert marked == {("sobol", False), ("sobol", True)}
    assert Case.from_json(Case("optuna", "sobol", {}, None, True).to_json()).deterministic is True

    class Wrong(Kit):
        deterministic = {("optuna", "sobol"): [{"random_state": 4}]}

    with pytest.raises(AssertionError, match="list them in variants too"):
        Wrong.cases()


def test_a_bool_setting_is_declared_parsed_and_described():
    scramble = Setting("scramble", "bool", True, "scramble the sequence")
    assert schema_problems(SettingsSchema((scramble, RANDOM_STATE))) == []
    assert [scramble.parse(text) for text in ("true", "False", " TRUE ")] == [True, False, True]
    with pytest.raises(ValueError, match="scramble must be true or false"):
        scramble.parse("yes")
    bad = schema_problems(SettingsSchema((Setting("s", "bool", "yes", "h"), Setting("t", "bool", None, "h", low=0),
                                          RANDOM_STATE)))
    assert bad == ["setting 's': default 'yes' is not True, False or None",
                   "setting 't': a bool takes no low, high or choices"]
    from katib_validators.reference import _row

    assert "| `scramble` | - | true or false | `true` |" in _row(scramble)


def test_the_plugin_interface_exports_what_a_backend_raises_and_returns():
    assert issubclass(SearchSpaceExhausted, SuggestionError)
    assert Problem("spec.parameters", "why").path == "spec.parameters"


def test_the_kit_names_its_extra_when_hypothesis_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as in an environment without it
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'katib-suggest\[testing\]'"):
        conformance.check_what_validate_accepts_every_call_serves(CASE, 1)


def test_the_testing_extra_brings_the_kits_dependencies():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    testing = config["options.extras_require"]["testing"]
    assert "pytest" in testing and "hypothesis" in testing
