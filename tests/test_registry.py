"""Backends are found by name, checked at start-up, and imported after the server is up."""

import pytest
from conftest import make_experiment
from katib_suggestion import registry
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.model import SuggestionRequest


def test_unknown_backend_names_the_choices():
    with pytest.raises(BackendUnavailable, match="choose one of optuna"):
        registry.DeferredBackend("tensorflow")


def test_missing_library_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(registry._LIBRARIES, "optuna", ("optuna", "no_such_library_here"))
    with pytest.raises(BackendUnavailable, match=r"needs no_such_library_here.*katib-suggest\[optuna\]"):
        registry.DeferredBackend("optuna")


def test_deferred_backend_answers_like_the_loaded_one():
    deferred = registry.DeferredBackend("optuna")
    deferred.warm_up().join(timeout=60)
    request = SuggestionRequest(make_experiment("optuna", "tpe"), (), 3, seed=5)
    assert deferred.suggest(request) == registry.load_backend("optuna").suggest(request)
