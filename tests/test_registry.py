"""Backends are found by name, checked at start-up, and imported after the server is up."""

from dataclasses import replace

import pytest
from conftest import make_experiment
from katib_suggestion import registry
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.model import SuggestionRequest
from katib_validators import catalog


def test_unknown_backend_names_the_choices():
    with pytest.raises(BackendUnavailable, match="choose one of optuna, hyperopt, skopt"):
        registry.DeferredBackend("tensorflow")


def test_missing_library_names_the_extra_to_install(monkeypatch):
    entry = catalog.registered()["optuna"]
    plugin = replace(entry.plugin, requires=("optuna", "no_such_library_here"))
    monkeypatch.setitem(catalog.registered(), "optuna", replace(entry, plugin=plugin))
    with pytest.raises(BackendUnavailable, match=r"needs no_such_library_here.*katib-suggest\[optuna\]"):
        registry.DeferredBackend("optuna")


def test_a_backend_whose_object_has_no_suggest_is_refused(monkeypatch):
    entry = catalog.registered()["optuna"]
    plugin = replace(entry.plugin, backend="katib_suggestion.backends.optuna_backend:_BY_ALGORITHM")
    monkeypatch.setitem(catalog.registered(), "optuna", replace(entry, plugin=plugin))
    with pytest.raises(BackendUnavailable, match="not an object with a suggest"):
        registry.load_backend("optuna")


def test_deferred_backend_answers_like_the_loaded_one():
    deferred = registry.DeferredBackend("optuna")
    request = SuggestionRequest(make_experiment("optuna", "tpe"), (), 3, seed=5)
    assert deferred.suggest(request) == registry.load_backend("optuna").suggest(request)


def test_builtin_backends_come_from_entry_points_in_the_catalog_order():
    entries = catalog.registered()
    assert list(entries) == ["optuna", "hyperopt", "skopt"]
    assert all(e.builtin and e.distribution.startswith("katib-suggest ") for e in entries.values())
    assert catalog.BACKENDS == ("optuna", "hyperopt", "skopt")
    assert {a.backend for a in catalog.ALGORITHMS} == set(catalog.BACKENDS)
