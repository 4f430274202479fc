"""A server loads only what its algorithms need: memory is what Katib's 100Mi default allows."""

import json
import subprocess
import sys

import pytest

HEAVY = ["scipy.stats", "cmaes", "hyperopt", "skopt", "sklearn"]


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], heavy: str) -> bool:
    return heavy in modules


@pytest.mark.parametrize("algorithm", ["tpe", "random", "sobol", "grid", "cmaes"])
def test_optuna_algorithms_do_not_load_scipy_stats_or_other_backends(algorithm):
    code = f"""
import sys
sys.path.insert(0, "tests")
from conftest import make_experiment, FINITE_PARAMETERS
from katib_suggestion.model import SuggestionRequest
from katib_suggestion.registry import load_backend
params = FINITE_PARAMETERS if "{algorithm}" == "grid" else None
experiment = make_experiment("optuna", "{algorithm}", params, max_trials=20)
load_backend("optuna").suggest(SuggestionRequest(experiment, (), 2, seed=1))
"""
    modules = _modules_after(code)
    assert not [m for m in HEAVY if _loaded(modules, m)]


def test_the_cli_does_not_import_any_backend():
    modules = _modules_after("from katib_suggestion.cli import build_parser; build_parser()")
    assert not {"optuna", "hyperopt", "skopt", "grpc"} & modules


def test_reading_the_catalog_imports_declarations_only():
    modules = _modules_after("from katib_validators.catalog import ALGORITHMS, BACKENDS; print(len(ALGORITHMS))")
    assert not {"optuna", "hyperopt", "skopt", "grpc", "numpy", "katib_suggestion.backends.optuna_backend"} & modules
    assert "katib_suggestion.backends.builtin" in modules  # the declarations, found through entry points
