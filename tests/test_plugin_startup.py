"""A plugin that shadows a built-in name or misnames its implementation is caught at start-up, blamed by name
(issue 24, items 12 and 13)."""

from __future__ import annotations

import os
import subprocess

import pytest
from katib_suggestion.errors import BackendUnavailable, InvalidExperiment
from katib_suggestion.pipeline import Suggester
from katib_suggestion.plugin import PluginError
from katib_suggestion.wire import experiment_message
from katib_validators import catalog
from katib_validators.experiment import parse_experiment
from katib_validators.routing import ROUTES_VARIABLE
from servers import katib_suggest
from test_plugins import GOOD, discover, install_fake

SOBOL = GOOD.replace('names("{name}", "walk")', '("sobol", "{name}-sobol")')
WORKING = SOBOL + "\nfrom katib_suggestion.backends.optuna_backend import BACKEND\n"


def _install(site, distribution: str, backend: str, source: str, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    install_fake(site, distribution, backend, source)
    return discover(site, monkeypatch)


def test_a_plugin_name_a_builtin_serves_is_a_start_up_error(tmp_path, monkeypatch):
    monkeypatch.delenv(ROUTES_VARIABLE, raising=False)
    with pytest.raises(PluginError) as raised:
        _install(tmp_path, "shadow-plugin", "shadow", SOBOL, monkeypatch)
    message = str(raised.value)
    assert ("the shadow backend of shadow-plugin 1.0 declares the algorithmName 'sobol', which the optuna backend "
            "of katib-suggest 0.1.0 serves too") in message
    assert f"Rename it in the plugin (e.g. shadow-sobol), or say which serves it: {ROUTES_VARIABLE}=sobol=shadow " \
           "(or sobol=optuna)" in message


@pytest.mark.parametrize("route", ["shadow", "optuna"])
def test_a_route_the_user_gives_settles_it_everywhere(tmp_path, monkeypatch, route):
    monkeypatch.setenv(ROUTES_VARIABLE, f"sobol={route}")
    found = _install(tmp_path, "shadow-plugin", "shadow", SOBOL, monkeypatch)
    monkeypatch.setattr(catalog, "_registered", found)
    assert catalog.backends_serving("sobol") == [route]
    # validate without --backend judges the Experiment as the routed image would
    doc = {"metadata": {"name": "s"}, "spec": {
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "objective": {"type": "minimize", "objectiveMetricName": "loss"}, "maxTrialCount": 5,
        "algorithm": {"algorithmName": "sobol"}}}
    experiment, problems = parse_experiment(doc, None)
    assert not problems and experiment.algorithm == ("walk" if route == "shadow" else "sobol")
    from katib_suggestion.deploy.routes import routes

    assert routes("sobol")["sobol"] == route


def test_a_route_that_cannot_apply_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(ROUTES_VARIABLE, "sobol=skopt,tpe")
    with pytest.raises(PluginError, match=f"{ROUTES_VARIABLE}: 'tpe' is not NAME=BACKEND"):
        _install(tmp_path, "walker-plugin", "walker", GOOD, monkeypatch)
    monkeypatch.setenv(ROUTES_VARIABLE, "sobol=skopt")
    with pytest.raises(PluginError, match=f"{ROUTES_VARIABLE} routes 'sobol' to 'skopt', but sobol is served by "
                                          "optuna"):
        discover(tmp_path, monkeypatch)


def test_a_misspelt_implementation_module_is_caught_when_the_catalog_is_read(tmp_path, monkeypatch):
    typo = GOOD.replace('"{module}:BACKEND"', '"{module}_nothere:BACKEND"')
    with pytest.raises(PluginError) as raised:
        _install(tmp_path, "typo-plugin", "typo", typo, monkeypatch)
    assert ("plugin 'typo' of typo-plugin 1.0 (entry point typo_plugin:PLUGIN) is invalid:\n    - declares its "
            "implementation as 'typo_plugin_nothere:BACKEND', but no module typo_plugin_nothere is installed: fix "
            "the backend string of its declaration") in str(raised.value)


def test_serve_imports_the_implementation_before_it_reports_serving(tmp_path):
    # the module exists (the catalog's check passes) but has no BACKEND: only importing it can tell
    install_fake(tmp_path, "noattr-plugin", "noattr", GOOD)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([katib_suggest(), "serve", "--backend", "noattr", "--host", "127.0.0.1", "--port", "0"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2, result.stderr
    assert ("katib-suggest: the noattr backend of noattr-plugin 1.0 declares noattr_plugin:BACKEND, which is not an "
            "object with a suggest(request) method") in result.stderr
    assert "serving on" not in result.stderr and "Traceback" not in result.stderr


def test_a_plugin_that_serves_starts_as_any_backend(tmp_path):
    install_fake(tmp_path, "good-plugin", "good", WORKING.replace('("sobol", ', '("good-walk", '))
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    process = subprocess.Popen([katib_suggest(), "serve", "--backend", "good", "--host", "127.0.0.1", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        for line in process.stdout:
            if "serving on" in line or "Traceback" in line:
                break
        assert "katib-suggest good backend serving on" in line, line
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_validate_blames_the_server_not_the_experiment_when_the_backend_cannot_load():
    class Broken:
        def suggest(self, request):
            raise BackendUnavailable("the walker backend of walker-plugin 1.0 declares walker:BACKEND, which is not "
                                     "an object with a suggest(request) method")

    doc = {"metadata": {"name": "x"}, "spec": {
        "parameters": [{"name": "a", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "objective": {"type": "minimize", "objectiveMetricName": "loss"}, "maxTrialCount": 5,
        "algorithm": {"algorithmName": "random"}}}
    with pytest.raises(InvalidExperiment) as raised:
        Suggester("optuna", Broken()).validate(experiment_message(doc))
    assert ("spec.algorithm.algorithmName: this suggestion server cannot serve random, whatever the Experiment says: "
            "the walker backend of walker-plugin 1.0") in str(raised.value)
