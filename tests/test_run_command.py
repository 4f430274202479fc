"""`katib-suggest run`: a tiny Experiment end to end with real trial processes, and its pieces."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml
from katib_suggestion.cli import main
from katib_suggestion.local.process import Collector, CommandTemplate
from servers import in_process_server

ROOT = Path(__file__).resolve().parent.parent

# A trial: sleeps a little (so parallel trials finish out of order), logs its start and end, prints
# metrics the way training code does, and fails for one region of the space.
TRIAL_SCRIPT = """
import os, sys, time
x, layers, opt = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(os.environ["SPANS"], "a") as spans:
    spans.write(f"start {time.time()}\\n")
time.sleep(0.05 + (hash((x, layers, opt)) % 7) / 50)
if x > 0.9:
    sys.exit(3)  # a crash: the trial fails
loss = (x - 0.3) ** 2 + 0.01 * layers + (0.0 if opt == "adam" else 0.1)
print("epoch 1: loss=" + repr(loss + 0.5) + " accuracy=0.1")
print("epoch 2: loss = " + repr(loss) + ", accuracy=0.9")
with open(os.environ["SPANS"], "a") as spans:
    spans.write(f"end {time.time()}\\n")
"""


def _experiment(tmp_path: Path, command: list[str], **spec) -> Path:
    doc = {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "tiny-run"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["accuracy"]},
            "algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "random_state", "value": "3"}]},
            "parallelTrialCount": 3, "maxTrialCount": 9, "maxFailedTrialCount": 9,
            "parameters": [
                {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}},
                {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}},
                {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}}],
            "trialTemplate": {
                "primaryContainerName": "training", "trialParameters": [
                    {"name": "x", "reference": "x"}, {"name": "depth", "reference": "layers"},
                    {"name": "opt", "reference": "optimizer"}],
                "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                    "containers": [{"name": "sidecar", "image": "busybox", "command": ["false"]},
                                   {"name": "training", "image": "python", "command": command,
                                    "env": [{"name": "SPANS", "value": str(tmp_path / "spans.txt")}]}],
                    "restartPolicy": "Never"}}}}},
            **spec,
        },
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


PARAMETERS = ["${trialParameters.x}", "${trialParameters.depth}", "${trialParameters.opt}"]
COMMAND = [sys.executable, "-c", TRIAL_SCRIPT, *PARAMETERS]


def _spans_overlap(path: Path) -> bool:
    depth, deepest = 0, 0
    for line in sorted(path.read_text().split("\n")[:-1], key=lambda t: float(t.split()[1])):
        depth += 1 if line.startswith("start") else -1
        deepest = max(deepest, depth)
    return deepest > 1


def test_run_drives_a_tiny_experiment_with_real_parallel_trial_processes(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["--log-level", "WARNING", "run", str(_experiment(tmp_path, COMMAND)), "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "Experiment tiny-run Succeeded: maxTrialCount reached; 9 trials finished" in printed
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert len(rows) == 9 and len({r["trial"] for r in rows}) == 9
    succeeded = [r for r in rows if r["status"] == "Succeeded"]
    for row in succeeded:  # min strategy for a minimised objective, and by default for additional metrics too
        x, layers, opt = float(row["x"]), int(row["layers"]), row["optimizer"]
        assert float(row["objective"]) == pytest.approx((x - 0.3) ** 2 + 0.01 * layers + (opt != "adam") * 0.1)
        assert float(row["accuracy"]) == 0.1
    for row in rows:
        assert (row["status"] == "Failed") == (float(row["x"]) > 0.9)
    best = min(succeeded, key=lambda r: float(r["objective"]))
    assert f"Best trial {best['trial']}: loss=" in printed
    assert _spans_overlap(tmp_path / "spans.txt"), "trials did not run in parallel"
    assert (out / "trials" / f"{best['trial']}.log").read_text().startswith("$ ")
    for row in rows:  # timings in UTC, ISO 8601
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["start"]), row["start"]
        assert row["start"] <= row["end"] and float(row["seconds"]) >= 0
    if importlib.util.find_spec("matplotlib"):  # plots are optional (the bench extra)
        assert (out / "convergence.png").stat().st_size > 10_000


def test_failed_trials_reaching_the_limit_fail_the_experiment_with_their_stderr(tmp_path, capsys):
    crash = "import sys; print('epoch 1'); sys.exit('CUDA out of memory: tried to allocate 2 GiB')"
    path = _experiment(tmp_path, [sys.executable, "-c", crash, *PARAMETERS], maxFailedTrialCount=2,
                       parallelTrialCount=1)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plot"]) == 1
    printed = capsys.readouterr().out
    # Katib fails the Experiment as soon as failed trials reach maxFailedTrialCount: 2, not 3
    assert "Experiment tiny-run Failed: 2 trials failed, maxFailedTrialCount is 2; 2 trials finished" in printed
    assert "exit status 1 (and 1 more trials)" in printed
    assert "  | CUDA out of memory: tried to allocate 2 GiB" in printed
    rows = list(csv.DictReader((tmp_path / "out" / "trials.csv").open()))
    assert [r["message"] for r in rows] == ["exit status 1: CUDA out of memory: tried to allocate 2 GiB"] * 2


def test_trials_that_print_nothing_fail_and_no_plot_is_drawn(tmp_path, capsys):
    path = _experiment(tmp_path, [sys.executable, "-c", "pass", *PARAMETERS], maxTrialCount=2,
                       parallelTrialCount=2, maxFailedTrialCount=2)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "convergence.png").write_bytes(b"an earlier run's plot")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--force"]) == 1
    captured = capsys.readouterr()
    assert "Failed trial tiny-run-" in captured.out and "no loss=<number> line in the trial's output" in captured.out
    assert "no successful trial" in captured.out
    assert "no plot: no trial succeeded" in captured.err
    assert not (tmp_path / "out" / "convergence.png").exists()


def test_a_shorter_run_lowers_the_failed_trial_limit_instead_of_refusing(tmp_path, capsys):
    path = ROOT / "examples" / "run-branin.yaml"  # maxFailedTrialCount 3, parallelTrialCount 4
    assert main(["run", str(path), "--max-trials", "2", "--out", str(tmp_path), "--no-plot"]) == 0
    captured = capsys.readouterr()
    assert "note: maxFailedTrialCount 3 lowered to 2 to fit --max-trials 2" in captured.err
    assert "note: parallelTrialCount 4 lowered to 2 to fit --max-trials 2" in captured.err
    assert "Succeeded: maxTrialCount reached; 2 trials finished (2 succeeded, 0 failed)" in captured.out
    # a built-in function writes no trial logs, and the output does not claim any
    assert f"trials.csv: {tmp_path / 'trials.csv'}" in captured.out and "trial logs" not in captured.out
    assert not (tmp_path / "trials").exists()
    # logs at WARNING during a run (no line per call through the progress), the final progress line once
    assert " INFO " not in captured.err and captured.err.count("run-branin trials: 2/2") == 1


def test_log_level_given_brings_the_call_logs_back(tmp_path, capsys):
    path = ROOT / "examples" / "run-branin.yaml"
    args = ["--log-level", "info", "run", str(path), "--max-trials", "4", "--out", str(tmp_path), "--no-plot"]
    assert main(args) == 0
    assert "rpc=GetSuggestions" in capsys.readouterr().err


def test_builtin_function_against_a_running_server(tmp_path, capsys):
    path = ROOT / "examples" / "run-branin.yaml"
    with in_process_server("optuna") as (address, _):
        status = main(["run", str(path), "--address", address, "--max-trials", "12", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "12 trials finished (12 succeeded, 0 failed)" in printed or "goal was reached" in printed


def test_invalid_experiments_are_refused_with_every_problem(tmp_path, capsys):
    path = _experiment(tmp_path, COMMAND, algorithm={"algorithmName": "tpe", "algorithmSettings": [
        {"name": "n_startup_trials", "value": "-1"}]}, parallelTrialCount=0)
    assert main(["run", str(path), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "algorithmSettings[0].value: n_startup_jobs must be" in error and "parallelTrialCount" in error


def test_a_builtin_function_needs_its_parameters(tmp_path, capsys):
    assert main(["run", str(_experiment(tmp_path, COMMAND)), "--function", "branin", "--out", str(tmp_path)]) == 2
    assert "branin needs the parameters x1, x2" in capsys.readouterr().err


def test_stdout_collector_follows_katib_default_filter_and_strategies():
    spec = {"objective": {"type": "maximize", "objectiveMetricName": "acc", "additionalMetricNames": ["loss"],
                          "metricStrategies": [{"name": "loss", "value": "latest"}]}}
    collector = Collector.of(spec)
    stdout = "acc=0.5 loss=2\nno metrics here x=1\n2026-01-01T00:00:00Z acc = 0.7, loss=1.5e-1\nacc=oops\nacc=0.6\n"
    assert collector.parse(stdout) == {"acc": 0.7, "loss": 0.15}
    custom = Collector.of({**spec, "metricsCollectorSpec": {"source": {"filter": {"metricsFormat": [
        r"([\w|-]+)\s*:\s*((-?\d+)(\.\d+)?)"]}}}})
    assert custom.parse("acc: 0.25\nacc=0.9\n") == {"acc": 0.25}


def test_commands_are_substituted_word_by_word_without_a_shell():
    container = {"name": "main", "command": ["train"],
                 "args": ["--lr=${trialParameters.lr}; rm -rf /", "${trialSpec.Name}"]}
    spec = {"trialTemplate": {"trialParameters": [{"name": "lr", "reference": "learning_rate"}],
                              "trialSpec": {"spec": {"template": {"spec": {"containers": [container]}}}}}}
    argv, _ = CommandTemplate.of(spec).render({"learning_rate": "0.1"}, "trial-1")
    assert argv == ["train", "--lr=0.1; rm -rf /", "trial-1"]
    spec["trialTemplate"]["trialParameters"] = []
    with pytest.raises(ValueError, match="undeclared trialParameters: lr"):
        CommandTemplate.of(spec)
