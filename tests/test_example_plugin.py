"""The example plugin (examples/plugins/nevergrad) installed into a fresh environment from its own folder.

The fresh venv sees this environment's packages (katib-suggest, nevergrad) through
a .pth file but not the reverse: the plugin exists only there. It is then served
over the wire, validated, run end to end with `katib-suggest run`, and put
through the conformance kit with its own test suite, as its author would.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import grpc
import pytest
import yaml
from katib_api import api_pb2
from katib_suggestion.testing.wire_check import validate_and_drive
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import BACKENDS
from sandbox import read_only, writable_places
from servers import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "plugins" / "nevergrad"
# the tutorial's Experiment, shortened: 12 trials, no goal (so every run makes all 12)
EXPERIMENT = yaml.safe_load((PLUGIN / "experiment.yaml").read_text())
del EXPERIMENT["spec"]["objective"]["goal"]
EXPERIMENT["spec"]["maxTrialCount"] = 12


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The plugin's folder as its author has it (a copy: the build writes into it)."""
    return shutil.copytree(PLUGIN, tmp_path_factory.mktemp("plugin") / "nevergrad",
                           ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, copy) -> Path:
    """The python of a new venv with the plugin pip-installed from its own folder."""
    root = tmp_path_factory.mktemp("fresh")
    venv.create(root / "venv", with_pip=False)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # like --system-site-packages, but the "system" is this test's environment (itself a venv)
    Path(purelib, "_katib_suggest_parent.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    result = subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                             "--no-index", str(copy)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def cli(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "katib_suggestion", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd)


def test_the_plugin_exists_only_in_the_fresh_environment(fresh):
    assert "nevergrad" not in BACKENDS
    shown = subprocess.run([fresh, "-c", "import sys; from katib_validators.catalog import registered as r; "
                                         "print(r()['nevergrad'].distribution, 'nevergrad' in sys.modules)"],
                           capture_output=True, text=True)
    # found, and its declaration did not import nevergrad (the library loads only when served)
    assert shown.stdout.strip() == "katib-suggest-nevergrad 0.1.0 False", shown.stderr


def test_validate_and_the_settings_reference_see_the_plugin(fresh, tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(yaml.safe_dump(EXPERIMENT))
    broken = yaml.safe_load(yaml.safe_dump(EXPERIMENT))
    broken["spec"]["algorithm"]["algorithmSettings"] = [{"name": "popsize", "value": "2"}]
    bad.write_text(yaml.safe_dump(broken))
    assert cli(fresh, "validate", str(good), cwd=tmp_path).returncode == 0
    refused = cli(fresh, "validate", str(bad), cwd=tmp_path)
    assert refused.returncode == 1
    assert "spec.algorithm.algorithmSettings[0].value: popsize must be 4 <= int <= 1000" in refused.stdout
    reference = subprocess.run([fresh, "-m", "katib_validators.reference"], capture_output=True, text=True)
    assert "### nevergrad: de" in reference.stdout and "| `popsize` | `population_size` |" in reference.stdout


def test_served_over_the_wire_and_run_end_to_end(fresh, tmp_path):
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(EXPERIMENT))
    server = ServerProcess("nevergrad", command=[str(fresh), "-m", "katib_suggestion"])
    try:
        server.wait_serving(timeout=120)
        run = cli(fresh, "run", str(path), "--address", server.address, "--out", str(tmp_path / "out"), "--no-plot",
                  cwd=tmp_path)
        assert run.returncode == 0, run.stdout + run.stderr
        with grpc.insecure_channel(server.address) as channel:  # a mistake is refused on the wire, naming the fix
            bad = yaml.safe_load(yaml.safe_dump(EXPERIMENT))
            bad["spec"]["algorithm"]["algorithmSettings"] = [{"name": "crossover", "value": "threepoints"}]
            with pytest.raises(grpc.RpcError) as refused:
                server.stub(channel).ValidateAlgorithmSettings(
                    api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment_message(bad)), timeout=60)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "crossover must be one of twopoints, onepoint, dimension, random" in refused.value.details()
    finally:
        code, output = server.terminate()
    assert code == 0, output
    assert "katib-suggest nevergrad backend serving" in output
    with open(tmp_path / "out" / "trials.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and len({(r["x1"], r["x2"]) for r in rows}) == 12
    assert {r["status"] for r in rows} == {"Succeeded"}


def test_served_with_nothing_writable(fresh, tmp_path):
    """As its image runs under its katib-config entry: every mount read-only (no /tmp, HOME or TMPDIR
    to write to), no capabilities; the sandbox is checked first, then a whole experiment is driven."""
    env = {"HOME": str(tmp_path), "TMPDIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}  # the image's ENV
    assert writable_places(fresh, {**os.environ, **env}, tmp_path) == []
    server = ServerProcess("nevergrad", command=read_only([str(fresh), "-m", "katib_suggestion"]), env=env)
    try:
        server.wait_serving(timeout=120)
        with grpc.insecure_channel(server.address) as channel:
            report = validate_and_drive(server.stub(channel), EXPERIMENT)
    finally:
        code, output = server.terminate()
    assert code == 0, output
    assert len(report.trials) == 12 and not report.failed_calls


def test_the_conformance_kit_passes_in_the_plugins_own_suite(fresh, copy, tmp_path):
    tests = copy / "tests"
    result = subprocess.run([fresh, "-c", "import sys, pytest; sys.exit(pytest.main(sys.argv[1:]))", str(tests),
                             "-q", "-p", "no:cacheprovider"], capture_output=True, text=True, timeout=900,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_benchmarked_with_its_own_reference_arm(fresh, tmp_path):
    out = tmp_path / "quality"
    result = cli(fresh, "--log-level", "ERROR", "benchmark", "--backend", "nevergrad", "--problems", "branin",
                 "--seeds", "3", "--workers", "1", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "katib-suggest benchmark: the nevergrad backend serves de" in result.stderr
    arms = {json.loads(line)["task"]["arm"] for line in (out / "runs.jsonl").read_text().splitlines()}
    assert arms == {"ours", "reference"}
    report = (out / "report" / "report.md").read_text()
    assert ("reference arm of nevergrad/de: nevergrad's DifferentialEvolution used directly: one optimizer for the "
            "whole run, ask/tell (katib_suggest_nevergrad.reference:DirectDE)") in report
    assert "Against the reference arms at parallelism 4" in report


def test_routed_by_katib_config_to_its_own_image(fresh, tmp_path):
    live = str(ROOT / "tests" / "data" / "katib-config" / "standalone-v0.19.0.yaml")
    refused = cli(fresh, "katib-config", live, "--algorithms", "upstream,nevergrad-de", cwd=tmp_path)
    assert refused.returncode == 2 and "the nevergrad backend (katib-suggest-nevergrad 0.1.0) declares no image: " \
                                       "give --image nevergrad=" in refused.stderr
    routed = cli(fresh, "katib-config", live, "--algorithms", "upstream,nevergrad-de", "--image",
                 "nevergrad=registry.example.com/ml/katib-suggest-nevergrad", cwd=tmp_path)
    assert routed.returncode == 0, routed.stderr
    config = yaml.safe_load(yaml.safe_load(routed.stdout)["data"]["katib-config.yaml"])
    entries = {e["algorithmName"]: e for e in config["runtime"]["suggestions"]}
    # its own image at the plugin's version, with the resources its declaration asks for; ours stay ours
    assert entries["nevergrad-de"]["image"] == "registry.example.com/ml/katib-suggest-nevergrad:0.1.0"
    assert entries["nevergrad-de"]["resources"]["limits"]["memory"] == "384Mi"
    assert entries["tpe"]["image"].endswith("/katib-suggest-hyperopt:0.1.0") and "de" not in entries
    checked = tmp_path / "merged.yaml"
    checked.write_text(routed.stdout)
    assert cli(fresh, "validate", str(checked), cwd=tmp_path).returncode == 0  # validate knows the plugin's image
