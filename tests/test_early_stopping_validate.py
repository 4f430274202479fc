"""spec.earlyStopping checked offline (validate) and written by init --early-stopping."""

from __future__ import annotations

import copy

import pytest
import yaml
from katib_suggestion.cli import main
from katib_validators.early_stopping import ALGORITHMS, SCHEMAS, check_settings
from katib_validators.early_stopping_experiment import check_early_stopping

INIT = ["init", "--name", "es-try", "--image", "python:3.11-slim", "--command", "python3 train.py",
        "--param", "lr=double:1e-4:1e-1:log", "--minimize", "loss", "--no-input"]


@pytest.fixture
def experiment(tmp_path) -> dict:
    path = tmp_path / "es.yaml"
    assert main([*INIT, "--early-stopping", "medianstop", "-o", str(path)]) == 0
    return yaml.safe_load(path.read_text())


def _messages(doc) -> list[str]:
    errors, warnings = check_early_stopping(doc)
    return [str(p) for p in errors] + [f"warning: {p}" for p in warnings]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_init_writes_a_valid_block_with_every_default(tmp_path, capsys, algorithm):
    path = tmp_path / f"{algorithm}.yaml"
    assert main([*INIT, "--early-stopping", algorithm, "-o", str(path)]) == 0
    block = yaml.safe_load(path.read_text())["spec"]["earlyStopping"]
    assert block["algorithmName"] == algorithm
    assert [s["name"] for s in block["algorithmSettings"]] == [s.name for s in SCHEMAS[algorithm].settings]
    assert main(["validate", str(path)]) == 0
    assert "1 file(s) valid" in capsys.readouterr().out


def test_init_refuses_a_bad_setting_naming_the_flag(tmp_path, capsys):
    code = main([*INIT, "--early-stopping", "percentile", "--early-stopping-setting", "percentile=120",
                 "-o", str(tmp_path / "x.yaml")])
    assert code != 0 and not (tmp_path / "x.yaml").exists()
    assert "--early-stopping: spec.earlyStopping.algorithmSettings[0].value: percentile must be 0 < float < 100" \
        in capsys.readouterr().err


def test_init_names_a_setting_that_is_no_name_value_pair_once(tmp_path, capsys):
    code = main([*INIT, "--early-stopping", "medianstop", "--early-stopping-setting", "start_step",
                 "-o", str(tmp_path / "x.yaml")])
    err = capsys.readouterr().err
    assert code != 0 and not (tmp_path / "x.yaml").exists()
    assert "--early-stopping-setting start_step: write NAME=VALUE, e.g. start_step=5" in err
    assert "algorithmSettings" not in err  # the malformed item is not also judged as a setting


def test_validate_lists_every_problem_of_the_block(experiment, tmp_path, capsys):
    experiment["spec"]["earlyStopping"] = {"algorithmName": "medianstop", "algorithmSettings": [
        {"name": "min_trials_required", "value": "0"}, {"name": "start_step", "value": 4},
        {"name": "min_trials", "value": "3"}]}
    experiment["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "None"}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(experiment))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "spec.earlyStopping.algorithmSettings[0].value: min_trials_required must be 1 <= int <= 10000" in out
    assert 'spec.earlyStopping.algorithmSettings[1].value: Katib stores setting values as strings; quote it: ' \
           'value: "4"' in out
    assert "spec.earlyStopping.algorithmSettings[2].name: unknown setting for algorithm medianstop" in out
    assert "spec.metricsCollectorSpec.collector.kind: Katib's None metrics collector never applies" in out


@pytest.mark.parametrize(("kind", "expected"), [
    ("StdOut", []), ("File", []),
    ("TensorFlowEvent", ["TensorFlowEvent metrics collector never applies early-stopping rules"]),
    ("Push", ["Push metrics collector never applies"]), ("None", ["None metrics collector never applies"]),
    ("Custom", ["warning: spec.metricsCollectorSpec.collector.kind: a Custom collector stops trials only if"]),
])
def test_the_collector_must_apply_stop_rules(experiment, kind, expected):
    experiment["spec"]["metricsCollectorSpec"] = {"collector": {"kind": kind}}
    found = _messages(experiment)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True))


def test_the_objective_metric_is_required(experiment):
    del experiment["spec"]["objective"]["objectiveMetricName"]
    assert _messages(experiment) == ["spec.objective.objectiveMetricName: early-stopping rules compare the "
                                     "objective metric; name it (e.g. loss) (got None)"]


@pytest.mark.parametrize(("block", "expected"), [
    ("medianstop", "spec.earlyStopping: must be a mapping"),
    ({"algorithmSettings": []}, "spec.earlyStopping.algorithmName: unknown early-stopping algorithm"),
    ({"algorithmName": "asha", "algorithmSettings": {"eta": "3"}}, "must be a list of {name, value} entries"),
    ({"algorithmName": "nope", "algorithmSettings": [{"value": "1"}]}, "[0].name: name the setting"),
])
def test_malformed_blocks_are_problems_never_crashes(experiment, block, expected):
    doc = copy.deepcopy(experiment)
    doc["spec"]["earlyStopping"] = block
    assert any(expected in m for m in _messages(doc))


def test_no_block_no_problem(experiment):
    del experiment["spec"]["earlyStopping"]
    assert check_early_stopping(experiment) == ([], [])


def test_cross_setting_rule_of_asha():
    _, problems = check_settings("asha", [("min_resource", "1000000"), ("min_early_stopping_rate", "10")])
    assert [p.path for p in problems] == ["spec.earlyStopping.algorithmSettings[1]"]


def test_katib_config_early_stopping_entries_must_name_what_our_image_serves():
    from katib_suggestion.images import image_for
    from katib_validators.katib_config import check_katib_config

    config = {"apiVersion": "config.kubeflow.org/v1beta1", "kind": "KatibConfig", "runtime": {"suggestions": [],
              "earlyStoppings": [
                  {"algorithmName": "medianstop", "image": "ghcr.io/kubeflow/katib/earlystopping-medianstop:v0.19.0"},
                  {"algorithmName": "asha", "image": image_for("early-stopping")},
                  {"algorithmName": "hyperband", "image": image_for("early-stopping")},
                  {"algorithmName": "percentile", "image": image_for("optuna")},
                  {"image": image_for("early-stopping")}]}}
    assert [(p.path, p.message.split(";")[0]) for p in check_katib_config(config)] == [
        ("runtime.earlyStoppings[2].algorithmName",
         f"{image_for('early-stopping')} serves medianstop, percentile, asha"),
        ("runtime.earlyStoppings[3].image", "this is a suggestion image"),
        ("runtime.earlyStoppings[4]", "each entry needs algorithmName and image")]
