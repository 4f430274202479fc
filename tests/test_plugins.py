"""Broken plugins stop katib-suggest at start-up with a message that names their distribution.

Each plugin here is a real installed distribution (a .dist-info folder with
entry_points.txt next to its module), made in a temporary folder and put on
the path, which is where importlib.metadata finds installed packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import pytest
from katib_suggestion.plugin import (
    ENTRY_POINT_GROUP,
    INTERFACE_VERSION,
    RANDOM_STATE,
    Algorithm,
    BackendPlugin,
    PluginError,
    Setting,
    SettingsSchema,
)
from katib_validators import catalog
from katib_validators.plugin_checks import declaration_problems

GOOD = """
from katib_suggestion.plugin import INTERFACE_VERSION, RANDOM_STATE, Algorithm, BackendPlugin, SettingsSchema, names
ALGORITHMS = (Algorithm("walk", "{name}", names("{name}", "walk"), SettingsSchema((RANDOM_STATE,)), "a walk"),)
PLUGIN = BackendPlugin("{name}", ALGORITHMS, "{module}:BACKEND", INTERFACE_VERSION)
"""

BROKEN = {
    # distribution -> (backend name, module source)
    "import-error-plugin": ("importerror", "import no_such_library_anywhere\n"),
    "duplicate-plugin": ("optuna", GOOD),
    "twice-plugin": ("twice", GOOD + textwrap.dedent("""
        PLUGIN = BackendPlugin("twice", ALGORITHMS * 2, "twice_plugin:BACKEND", INTERFACE_VERSION)
    """)),
    "schema-plugin": ("schema", GOOD + textwrap.dedent("""
        from katib_suggestion.plugin import Setting
        BAD = SettingsSchema((Setting("width", "float", 5.0, "how wide", low=0, high=1),
                              Setting("mode", "choice", "fast", "how", choices=("slow",))))
        PLUGIN = BackendPlugin("schema", (Algorithm("walk", "schema", ("walk",), BAD, "a walk"),),
                               "schema_plugin:BACKEND", INTERFACE_VERSION)
    """)),
    "future-plugin": ("future", GOOD.replace("INTERFACE_VERSION)", "INTERFACE_VERSION + 1)")),
}


def install_fake(site: Path, distribution: str, backend: str, source: str) -> None:
    """An installed distribution ``distribution`` 1.0 whose module registers backend ``backend``."""
    module = distribution.replace("-", "_")
    (site / f"{module}.py").write_text(source.format(name=backend, module=module))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{backend} = {module}:PLUGIN\n")


def discover(site: Path, monkeypatch, *distributions: str):
    monkeypatch.syspath_prepend(str(site))
    for name in distributions:
        install_fake(site, name, *BROKEN.get(name, (name.removesuffix("-plugin"), GOOD)))
    own = [e for e in metadata.entry_points(group=ENTRY_POINT_GROUP) if e.dist.name == "katib-suggest"]
    theirs = [e for d in metadata.distributions(path=[str(site)]) for e in d.entry_points]
    return catalog._discover(own + theirs)


@pytest.mark.parametrize(("distribution", "message"), [
    ("import-error-plugin", "plugin 'importerror' of import-error-plugin 1.0 (entry point import_error_plugin:PLUGIN) "
                            "cannot be imported: ModuleNotFoundError: No module named 'no_such_library_anywhere'; "
                            "fix it or uninstall it (pip uninstall import-error-plugin)"),
    ("duplicate-plugin", "backend 'optuna' is declared twice, by katib-suggest 0.1.0 and by duplicate-plugin 1.0; "
                         "uninstall one of them"),
    ("twice-plugin", "declares the algorithmName 'walk' twice (algorithms 'walk' and 'walk'); keep it in one"),
    ("schema-plugin", "setting 'width': default 5.0 is not a valid value (0 <= float <= 1)"),
    ("schema-plugin", "setting 'mode': default 'fast' is not one of ['slow']"),
    ("schema-plugin", "declare the random_state setting"),
    ("future-plugin", "is written for plugin interface 2; this katib-suggest supports 1 (current 1): install a "
                      "release of the plugin for interface 1"),
])
def test_a_broken_plugin_is_named_with_what_is_wrong(tmp_path, monkeypatch, distribution, message):
    with pytest.raises(PluginError) as raised:
        discover(tmp_path, monkeypatch, distribution)
    assert message in str(raised.value)
    assert distribution in str(raised.value)


def test_a_good_plugin_joins_the_catalog_after_ours(tmp_path, monkeypatch):
    found = discover(tmp_path, monkeypatch, "walker-plugin")
    assert list(found) == ["optuna", "hyperopt", "skopt", "walker"]
    assert found["walker"].distribution == "walker-plugin 1.0" and not found["walker"].builtin


def test_every_broken_plugin_is_listed_at_once_and_the_cli_stops_before_any_command(tmp_path):
    for name, (backend, source) in BROKEN.items():
        install_fake(tmp_path, name, backend, source)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for argv in (["serve", "--backend", "optuna", "--port", "0"], ["validate", "x.yaml"]):
        result = subprocess.run([sys.executable, "-m", "katib_suggestion", *argv], capture_output=True, text=True,
                                timeout=120, env=env, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("katib-suggest: cannot start, a backend plugin is broken:\n")
        assert "Traceback" not in result.stderr
        assert all(name in result.stderr for name in BROKEN), result.stderr


def _plugin(**changes):
    algorithm = Algorithm("walk", "walker", ("walk", "walker-walk"), SettingsSchema((RANDOM_STATE,)), "a walk")
    plugin = BackendPlugin("walker", (algorithm,), "walker:BACKEND", INTERFACE_VERSION)
    algorithm_changes = {k[10:]: v for k, v in changes.items() if k.startswith("algorithm_")}
    if algorithm_changes:
        changes = {k: v for k, v in changes.items() if not k.startswith("algorithm_")}
        changes["algorithms"] = (replace(algorithm, **algorithm_changes),)
    return replace(plugin, **changes)


def _schema(*settings):
    return SettingsSchema((*settings, RANDOM_STATE))


@pytest.mark.parametrize(("changes", "problem"), [
    ({}, None),
    ({"name": "Walker"}, "backend name 'Walker' must be lowercase letters"),
    ({"backend": "walker.BACKEND"}, "must be 'module:attribute'"),
    ({"requires": ["nevergrad"]}, "requires must be a tuple of import names"),
    ({"resources": {"limit": {"memory": "1Gi"}}}, "resources must look like"),
    ({"algorithms": ()}, "algorithms must be a non-empty tuple"),
    ({"algorithm_backend": "optuna"}, "algorithm 'walk': has backend 'optuna'; it must be 'walker'"),
    ({"algorithm_names": ("Walk It",)}, "algorithmName 'Walk It' must be lowercase"),
    ({"algorithm_summary": ""}, "summary must say in one line"),
    ({"algorithm_distributions": frozenset()}, "distributions must be a non-empty set"),
    ({"algorithm_schema": _schema(Setting("n", "integer", 1, "n"))}, "kind 'integer' must be one of int, float"),
    ({"algorithm_schema": _schema(Setting("n", "int", 1, "n", low=5, high=2))}, "low 5 is above high 2"),
    ({"algorithm_schema": _schema(Setting("n", "int", 1.5, "n"))}, "default 1.5 is not a valid value (int)"),
    ({"algorithm_schema": _schema(Setting("n", "int", 1, "n", aliases=("random_state",)))},
     "setting name 'random_state' is declared twice"),
    ({"algorithm_schema": _schema(Setting("n", "choice", None, "n"))}, "a choice needs choices"),
    ({"algorithm_schema": _schema(Setting("n", "float", 1.0, ""))}, "help must say what the setting does"),
])
def test_declaration_checks(changes, problem):
    found = declaration_problems(_plugin(**changes), "walker")
    assert found == [] if problem is None else any(problem in p for p in found), found


def test_the_entry_point_name_must_be_the_backend_name():
    assert declaration_problems(_plugin(), "walk") == [
        "declares backend 'walker' under the entry-point name 'walk'; make them equal"]
    assert declaration_problems(object(), "walk") == [
        "registers object, not a katib_suggestion.plugin.BackendPlugin"]
