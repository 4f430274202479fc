"""`katib-suggest run` behaves like the cluster: validate's rules first, Katib's 2>&1, the routed backend,
trial start lines, a GPU share per trial, a clean output folder, no gRPC core noise (issue 24, items 1-6, 18)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from katib_suggestion.cli import main
from katib_suggestion.local import gpus, progress

# A training script that reports its metric through Python's logging (stderr), as many do.
LOGGING_TRIAL = """
import json, logging, os, sys, time
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
x = float(sys.argv[1])
record = os.environ.get("RECORD")
if record:  # when this trial ran and which GPUs it saw
    with open(record, "a") as f:
        f.write(json.dumps({"start": time.time(), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}) + "\\n")
    time.sleep(0.4)
    with open(record, "a") as f:
        f.write(json.dumps({"end": time.time(), "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}) + "\\n")
if os.environ.get("SILENT_METRIC"):
    print("epoch 3 done, accuracy 0.91")
    sys.exit(0)
logging.info("epoch 1 loss=%r", (x - 0.3) ** 2)
"""


def _experiment(tmp_path: Path, *, algorithm: str = "tpe", settings=(), env=(), gpus_per_trial: int = 0,
                primary: str = "training", parallel: int = 2, trials: int = 4) -> Path:
    script = tmp_path / "train.py"
    script.write_text(LOGGING_TRIAL)
    container = {"name": "training", "image": "python:3.11-slim",
                 "command": [sys.executable, str(script), "${trialParameters.x}"],
                 "env": [{"name": k, "value": v} for k, v in env]}
    if gpus_per_trial:
        container["resources"] = {"limits": {"nvidia.com/gpu": gpus_per_trial}}
    doc = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "walk"}, "spec": {
        "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": algorithm, "algorithmSettings": [
            {"name": "random_state", "value": "5"}, *({"name": k, "value": v} for k, v in settings)]},
        "parallelTrialCount": parallel, "maxTrialCount": trials, "maxFailedTrialCount": trials,
        "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}],
        "trialTemplate": {"primaryContainerName": primary, "trialParameters": [{"name": "x", "reference": "x"}],
                          "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {
                              "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
                              "spec": {"containers": [container], "restartPolicy": "Never"}}}}}}}
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _run(capsys, path: Path, out: Path, *flags: str) -> tuple[int, str, str]:
    status = main(["run", str(path), "--out", str(out), "--no-plot", *flags])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _rows(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "trials.csv").open()))


def test_a_metric_logged_to_stderr_counts_as_on_katib(tmp_path, capsys):
    status, printed, err = _run(capsys, _experiment(tmp_path), tmp_path / "out")
    assert status == 0, printed + err
    rows = _rows(tmp_path / "out")
    assert {r["status"] for r in rows} == {"Succeeded"}
    assert all(float(r["objective"]) == pytest.approx((float(r["x"]) - 0.3) ** 2) for r in rows)
    # one log holds both streams in the order the trial wrote them, as Katib's metrics.log does
    log = next((tmp_path / "out" / "trials").glob("*.log")).read_text()
    assert " INFO epoch 1 loss=" in log and log.endswith("--- exit status 0\n")
    assert not list((tmp_path / "out" / "trials").glob("*.output")), "the live output file is folded into the log"


def test_no_metric_shows_what_the_trial_printed_and_where_filters_go(tmp_path, capsys):
    path = _experiment(tmp_path, env=[("SILENT_METRIC", "1")], trials=2)
    status, printed, _ = _run(capsys, path, tmp_path / "out")
    assert status == 1
    assert ("no loss=<number> line in the trial's output (stdout and stderr, read together as Katib's StdOut "
            "collector reads them); if it prints the metric in another form, describe that form in "
            "spec.metricsCollectorSpec.source.filter.metricsFormat") in printed
    assert "  | epoch 3 done, accuracy 0.91" in printed


def test_run_refuses_what_validate_calls_an_error_and_prints_warnings(tmp_path, capsys):
    status, printed, err = _run(capsys, _experiment(tmp_path, primary="trainer"), tmp_path / "out")
    assert status == 2 and printed == ""
    assert "1 problem(s), as katib-suggest validate reports them; nothing was started" in err
    assert "spec.trialTemplate.primaryContainerName: names no container of the trial's primary pod" in err
    assert not (tmp_path / "out" / "trials").exists()
    # a warning (no Istio opt-out) is printed and does not stop the run
    path = _experiment(tmp_path, trials=2)
    doc = yaml.safe_load(path.read_text())
    del doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["metadata"]
    path.write_text(yaml.safe_dump(doc))
    status, printed, err = _run(capsys, path, tmp_path / "out2")
    assert status == 0, err
    assert "katib-suggest run: warning: spec.trialTemplate.trialSpec.spec.template.metadata.annotations: add " \
           "sidecar.istio.io/inject" in err


def test_tpe_goes_where_a_cluster_with_our_katib_config_sends_it(tmp_path, capsys):
    # gamma is hyperopt tpe's setting: the routed backend (hyperopt, as upstream's katib-config) serves it
    path = _experiment(tmp_path, settings=[("gamma", "0.3")], trials=2)
    status, printed, err = _run(capsys, path, tmp_path / "out")
    assert status == 0, err
    assert ("katib-suggest run: tpe is served by the hyperopt backend, as katib-suggest katib-config routes it on "
            "a cluster (--backend optuna for optuna's)") in err
    status, _, err = _run(capsys, path, tmp_path / "out2", "--backend", "optuna")
    assert status == 2 and "unknown setting for algorithm tpe" in err


def test_a_missing_routed_backend_is_named_before_another_serves(tmp_path, capsys, monkeypatch):
    from katib_suggestion import registry

    monkeypatch.setattr(registry, "missing_libraries", lambda name: ["hyperopt"] if name == "hyperopt" else [])
    status, _, err = _run(capsys, _experiment(tmp_path, trials=2), tmp_path / "out")
    assert status == 0, err
    assert ("warning: tpe is served by the optuna backend here, but a cluster with katib-suggest's katib-config "
            "routes it to hyperopt, which is not installed (pip install 'katib-suggest[hyperopt]')") in err


def test_what_only_another_backend_accepts_is_refused_with_the_way_there(tmp_path, capsys, monkeypatch):
    from katib_suggestion.commands import validate
    from katib_validators.problems import Problem

    real = validate.check_document

    def hyperopt_refuses(doc, backend):  # the routed backend refuses what optuna accepts
        errors, warnings = real(doc, backend)
        return errors + ([Problem("spec.algorithm", "hyperopt says no")] if backend == "hyperopt" else []), warnings

    monkeypatch.setattr(validate, "check_document", hyperopt_refuses)
    status, _, err = _run(capsys, _experiment(tmp_path, trials=2), tmp_path / "out")
    assert status == 2 and "  spec.algorithm: hyperopt says no" in err
    assert ("  optuna's tpe accepts this Experiment: write algorithmName optuna-tpe (so a cluster routes it there "
            "too), or give --backend optuna") in err
    assert _run(capsys, _experiment(tmp_path, trials=2), tmp_path / "out2", "--backend", "optuna")[0] == 0


def test_each_trial_says_when_it_starts_with_its_parameters(tmp_path, capsys):
    status, _, err = _run(capsys, _experiment(tmp_path), tmp_path / "out")
    assert status == 0
    started = [line for line in err.splitlines() if line.startswith("trial walk-")]
    assert len(started) == 4 and all(" started: x=" in line for line in started)
    names = {r["trial"] for r in _rows(tmp_path / "out")}
    assert {line.split()[1] for line in started} == names


def test_the_progress_bar_keeps_its_clock_moving_between_trials(monkeypatch):
    refreshed = []

    class Bar:
        def __init__(self, **_):
            self.refreshed = __import__("threading").Event()

        def refresh(self):
            refreshed.append(1)
            self.refreshed.set()

        def close(self):
            pass

    import tqdm
    import tqdm.contrib.logging

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(tqdm, "tqdm", Bar)
    monkeypatch.setattr(progress, "TICK", 0.01)
    monkeypatch.setattr(tqdm.contrib.logging, "logging_redirect_tqdm", lambda: __import__("contextlib").nullcontext())
    shown = progress.Progress(3, "idle")
    assert shown.bar.refreshed.wait(30), "an idle bar was never redrawn"
    shown.close()
    count = len(refreshed)
    assert shown._closed.is_set() and len(refreshed) - count <= 1  # stops with the bar (one tick may be under way)


def _spans(record: Path) -> list[tuple[float, float, str]]:
    events = [json.loads(line) for line in record.read_text().splitlines()]
    starts = sorted((e["start"], e["gpus"]) for e in events if "start" in e)
    ends = sorted((e["end"], e["gpus"]) for e in events if "end" in e)
    return [(s, min(t for t, g in ends if g == gpu and t >= s), gpu) for s, gpu in starts]


@pytest.mark.parametrize("per_trial, overlap", [(1, True), (2, False)])
def test_each_running_trial_gets_its_own_gpus(tmp_path, capsys, monkeypatch, per_trial, overlap):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,5,6")
    record = tmp_path / "record.jsonl"
    path = _experiment(tmp_path, env=[("RECORD", str(record))], gpus_per_trial=per_trial, parallel=3, trials=6)
    status, _, err = _run(capsys, path, tmp_path / "out")
    assert status == 0, err
    spans = _spans(record)
    assert len(spans) == 6
    for i, (start, end, gpu) in enumerate(spans):
        assert len(gpu.split(",")) == per_trial and set(gpu.split(",")) <= {"4", "5", "6"}
        for other_start, other_end, other_gpu in spans[i + 1:]:
            if other_start < end and start < other_end:  # ran at the same time: no GPU in common
                assert not set(gpu.split(",")) & set(other_gpu.split(",")), spans
    overlapping = any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
    assert overlapping == overlap
    said = {1: "at most 3 at once", 2: "at most 1 at once; parallelTrialCount is 3, so the others wait for a GPU"}
    assert f"each trial asks for {per_trial} GPU" in err and said[per_trial] in err
    assert " on GPU " in err


def test_trials_that_ask_for_gpus_on_a_machine_without_any_are_warned_about(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    record = tmp_path / "record.jsonl"
    status, _, err = _run(capsys, _experiment(tmp_path, env=[("RECORD", str(record))], gpus_per_trial=1, trials=2),
                          tmp_path / "out")
    assert status == 0
    assert ("warning: each trial asks for 1 GPU (nvidia.com/gpu), but this machine shows none (CUDA_VISIBLE_DEVICES "
            "unset and no nvidia-smi): trials run without a GPU") in err


def test_machine_gpus_come_from_cuda_visible_devices_or_nvidia_smi(tmp_path):
    assert gpus.machine_gpus({"CUDA_VISIBLE_DEVICES": "2, 3"}) == ["2", "3"]
    assert gpus.machine_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\necho 'GPU 0: A100 (UUID: GPU-1)'\necho 'GPU 1: A100 (UUID: GPU-2)'\n")
    tool.chmod(0o755)
    assert gpus.machine_gpus({"PATH": str(tmp_path)}) == ["0", "1"]
    assert gpus.machine_gpus({"PATH": str(tmp_path / "none")}) == []


def test_a_rerun_into_the_same_folder_needs_force_and_then_starts_clean(tmp_path, capsys):
    path, out = _experiment(tmp_path, trials=2), tmp_path / "out"
    assert _run(capsys, path, out)[0] == 0
    first = {p.name for p in (out / "trials").iterdir()}
    (out / "notes.txt").write_text("mine")
    status, printed, err = _run(capsys, path, out)
    assert status == 2 and printed == ""
    assert f"{out} holds an earlier run's results (trials.csv, trials); give --force to replace them, or --out " \
           "another folder to keep them" in err
    assert {p.name for p in (out / "trials").iterdir()} == first, "nothing of the earlier run is touched"
    doc = yaml.safe_load(path.read_text())
    doc["metadata"]["name"] = "walk-again"
    path.write_text(yaml.safe_dump(doc))
    assert _run(capsys, path, out, "--force")[0] == 0
    assert all(p.name.startswith("walk-again-") for p in (out / "trials").iterdir())
    assert len(_rows(out)) == 2 and (out / "notes.txt").read_text() == "mine"


# Records GRPC_VERBOSITY at the moment grpc is first imported: grpcio reads it then and never again.
_WATCH_GRPC = """
import importlib.abc, os, sys
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "grpc" and "seen" not in globals():
            globals()["seen"] = os.environ.get("GRPC_VERBOSITY", "unset")
            sys.stderr.write("GRPC_VERBOSITY at import: " + seen + "\\n")
        return None
sys.meta_path.insert(0, Watch())
from katib_suggestion.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_grpc_core_logs_are_off_before_grpc_is_imported(tmp_path):
    path = _experiment(tmp_path, trials=2)
    env = {k: v for k, v in os.environ.items() if k != "GRPC_VERBOSITY"}
    result = subprocess.run([sys.executable, "-c", _WATCH_GRPC, "run", str(path), "--out", str(tmp_path / "out"),
                             "--no-plot"], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "GRPC_VERBOSITY at import: NONE" in result.stderr
    assert "Got goaway" not in result.stderr
