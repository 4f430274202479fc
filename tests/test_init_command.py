"""`katib-suggest init` as a user meets it: spec files, refusals naming the input, files, prompts, a local run."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest
import yaml
from katib_suggestion.authoring.inputs import suggest_name
from katib_suggestion.cli import main
from katib_validators.counts import check_name

SCRIPT = str(Path(sys.executable).with_name("katib-suggest"))
REQUIRED = ("--name", "tiny", "--image", "python:3.11-slim", "--command", "python3 train.py",
            "--param", "x=double:-2:2", "--minimize", "loss")


def init(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["--log-level", "ERROR", "init", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_an_invalid_name_is_refused_with_a_valid_suggestion(capsys):
    status, out, err = init(capsys, *REQUIRED, "--name", "My_MNIST.Run")
    assert (status, out) == (2, "")
    assert "--name: metadata.name: use at most 40 lowercase letters" in err
    assert err.rstrip().endswith("try --name my-mnist-run")


@pytest.mark.parametrize("text", ["My_MNIST.Run", "1st try", "---", "", "A" * 80, "x-" * 30, "über-run", "9"])
def test_suggested_names_pass_katib_rules(text):
    assert check_name(suggest_name(text)) == []


def test_every_problem_is_named_by_its_input(capsys):
    status, _, err = init(capsys, *REQUIRED, "--param", "lr=double:0:1:log", "--param", "k=int:5:1",
                          "--algorithm", "cmaes", "--setting", "sigma=-1", "--max-trials", "2", "--parallel", "3")
    assert status == 2
    lines = err.splitlines()
    assert lines[0] == "katib-suggest init: the Experiment would not be valid:"
    assert [line.split(": ")[0].strip() for line in lines[1:]] == ["--parallel", "--param lr", "--param k",
                                                                   "--setting sigma"]


@pytest.mark.parametrize("argv, says", [
    (("--param", "lr=float:1:2"), "--param: lr: type 'float'"),
    (("--setting", "random_state"), "--setting random_state: write NAME=VALUE"),
    (("--cpu", "two"), "--cpu: 'two' is not a Kubernetes quantity"),
    (("--workers", "2"), "--workers: a Job runs one pod"),
    (("--metrics-path", "/m.log"), "--metrics-path: only for --collector File"),
    (("--collector", "File", "--metrics-path", "m.log"), "--metrics-path: must be an absolute path"),
    (("--command", "bash -c 'python3 train.py'"), "--command: a 'bash -c' script takes no appended arguments"),
    (("--command", "python3 'unclosed"), "--command: cannot split it into words (No closing quotation)"),
    (("--command", ""), "--command: give the training command"),
])
def test_inputs_of_the_wrong_form(capsys, argv, says):
    status, out, err = init(capsys, *REQUIRED, *argv)
    assert (status, out) == (2, "") and says in err


def test_missing_inputs_are_listed_when_stdin_is_not_a_terminal(tmp_path):
    result = subprocess.run([SCRIPT, "init", "--image", "x:1"], stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=60, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[1:] == ["  --name: required", "  --command: required", "  --param: required",
                                              "  --maximize/--minimize: required"]


def test_spec_file_with_flags_over_it(tmp_path, capsys):
    spec = tmp_path / "katib-init.yaml"
    spec.write_text(textwrap.dedent("""\
        name: team-mnist
        namespace: ml-team
        image: ghcr.io/team/mnist:2
        command: [python3, /opt/mnist.py, "--lr=${trialParameters.lr}"]
        parameters:
          lr: double:1e-5:1e-1:log
          momentum: double:0.5:0.99
        maximize: accuracy
        metrics: [loss]
        goal: 0.99
        algorithm: bayesianoptimization
        settings: {base_estimator: GP, random_state: 7}
        max-trials: 30
        parallel: 4
        kind: TFJob
        workers: 1
        collector: File
        """))
    status, out, _ = init(capsys, "--from", str(spec), "--max-trials", "40", "--param", "momentum=double:0.8:0.9")
    assert status == 0
    doc = yaml.safe_load(out)
    assert doc["metadata"] == {"name": "team-mnist", "namespace": "ml-team"}
    assert (doc["spec"]["maxTrialCount"], doc["spec"]["parallelTrialCount"]) == (40, 4)
    assert doc["spec"]["parameters"][1]["feasibleSpace"] == {"min": "0.8", "max": "0.9"}
    assert doc["spec"]["objective"] == {"type": "maximize", "objectiveMetricName": "accuracy", "goal": 0.99,
                                        "additionalMetricNames": ["loss"]}
    assert doc["spec"]["algorithm"]["algorithmSettings"] == [{"name": "base_estimator", "value": "GP"},
                                                             {"name": "random_state", "value": "7"}]
    worker = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["tfReplicaSpecs"]["Worker"]
    assert worker["replicas"] == 2
    assert worker["template"]["spec"]["containers"][0]["command"] == [
        "python3", "/opt/mnist.py", "--lr=${trialParameters.lr}", "--momentum=${trialParameters.momentum}"]


@pytest.mark.parametrize("content, says", [
    ("name: x\nbogus: 1\n", "bogus: not an init input; use one of algorithm, collector, command"),
    ("max-trials: many\n", "max-trials: must be a whole number (got 'many')"),
    ("parameters: {lr: float:1:2}\n", "parameters: lr: type 'float'"),
    ("- a list\n", "the spec file must be a YAML mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_spec_file_problems(tmp_path, capsys, content, says):
    spec = tmp_path / "spec.yaml"
    spec.write_text(content)
    status, _, err = init(capsys, "--from", str(spec), "--no-input")
    assert status == 2 and f"--from {spec}: " in err and says in err


def test_output_file_is_not_overwritten_without_force(tmp_path, capsys):
    target = tmp_path / "exp.yaml"
    assert init(capsys, *REQUIRED, "-o", str(target))[:2] == (0, "")
    first = target.read_text()
    assert f"katib-suggest validate {target}" in first
    target.write_text("mine\n")
    status, _, err = init(capsys, *REQUIRED, "-o", str(target))
    assert status == 2 and "--force" in err and target.read_text() == "mine\n"
    assert init(capsys, *REQUIRED, "-o", str(target), "--force")[0] == 0 and target.read_text() == first
    assert main(["validate", "--strict", str(target)]) == 0


TRAIN = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--layers", type=int)
args = parser.parse_args()
print(f"loss={(args.x - 0.5) ** 2 + args.layers / 10}")
"""


def test_a_generated_experiment_runs_locally(tmp_path, capsys):
    (tmp_path / "train.py").write_text(TRAIN)
    experiment = tmp_path / "tiny.yaml"
    status, _, err = init(capsys, *REQUIRED, "--command", f"{sys.executable} train.py", "--param", "layers=int:1:3",
                          "--algorithm", "random", "--setting", "random_state=3", "--max-trials", "4",
                          "-o", str(experiment))
    assert status == 0, err
    out = tmp_path / "run"
    status = main(["--log-level", "ERROR", "run", str(experiment), "--cwd", str(tmp_path), "--out", str(out),
                   "--no-plot"])
    assert status == 0, capsys.readouterr()
    with (out / "trials.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 4 and all(float(row["objective"]) >= 0.1 for row in rows)


def _spawn(tmp_path: Path, *argv: str) -> pexpect.spawn:
    return pexpect.spawn(SCRIPT, ["init", *argv], cwd=str(tmp_path), encoding="utf-8", timeout=60,
                         dimensions=(40, 200))


def test_prompts_on_a_terminal_check_each_answer(tmp_path):
    child = _spawn(tmp_path, "--image", "ghcr.io/you/train:1", "-o", "exp.yaml")
    child.expect_exact("Experiment name (lowercase letters, digits, '-'): ")
    child.sendline("My_Exp")
    child.expect_exact("press Enter for the suggestion")
    child.expect_exact("Experiment name (lowercase letters, digits, '-') [my-exp]: ")
    child.sendline("")
    child.expect_exact("Training command")
    child.sendline("python3 train.py --epochs=1")
    child.expect_exact("Parameter to tune")
    child.sendline("lr=double:0:1:log")
    child.expect_exact("feasibleSpace.min: logUniform needs min > 0")
    child.sendline("lr=double:1e-4:1e-1:log")
    child.expect_exact("empty line when done")
    child.sendline("opt=categorical:adam,sgd")
    child.expect_exact("empty line when done")
    child.sendline("")
    child.expect_exact("Objective metric")
    child.sendline("val_loss")
    child.expect_exact("maximize or minimize [minimize]: ")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    doc = yaml.safe_load((tmp_path / "exp.yaml").read_text())
    assert doc["metadata"]["name"] == "my-exp"
    assert doc["spec"]["objective"]["type"] == "minimize"
    assert [p["name"] for p in doc["spec"]["parameters"]] == ["lr", "opt"]
    assert main(["validate", "--strict", str(tmp_path / "exp.yaml")]) == 0


def test_prompts_end_cleanly_when_input_ends(tmp_path):
    child = _spawn(tmp_path, "--name", "x", "--image", "i:1", "-o", "exp.yaml")
    child.expect_exact("Training command")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "nothing written" in child.before and "Traceback" not in child.before
    assert not (tmp_path / "exp.yaml").exists()


def test_a_parameter_given_twice_is_refused(capsys):
    status, _, err = init(capsys, *REQUIRED, "--param", "x=double:0:1")
    assert status == 2 and "--param x: given twice; keep one" in err


def test_a_space_smaller_than_the_default_trial_count_gets_every_point_by_default(tmp_path, capsys):
    # a 3 x 2 space cannot give 12 distinct trials (validation refuses more trials than points),
    # so the default becomes its size; an explicit --max-trials above it is still refused
    small = ("--name", "small", "--image", "python:3.11-slim", "--command", "python3 train.py",
             "--param", "layers=int:1:3", "--param", "opt=categorical:adam,sgd", "--minimize", "loss")
    target = tmp_path / "small.yaml"
    assert init(capsys, *small, "-o", str(target))[:2] == (0, "")
    spec = yaml.safe_load(target.read_text())["spec"]
    assert (spec["maxTrialCount"], spec["parallelTrialCount"], spec["maxFailedTrialCount"]) == (6, 3, 3)
    assert main(["validate", "--strict", str(target)]) == 0
    status, _, err = init(capsys, *small, "--max-trials", "7", "-o", str(tmp_path / "seven.yaml"))
    assert status == 2 and "--max-trials" in err and "at most 6" in err, err
