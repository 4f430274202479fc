"""`katib-suggest init` round trips: generate, parse, validate (ours and upstream's rules), render the trial."""

from __future__ import annotations

import pytest
import yaml
from katib_suggestion.authoring.params import ParamError, parse_param
from katib_suggestion.cli import main
from katib_validators.catalog import ALGORITHMS
from katib_validators.experiment import parse_experiment
from katib_validators.resource import check_resource, resource_warnings
from katib_webhook import experiment_errors, render_trial, resource_errors

# Every parameter type and option of the compact form, for the algorithms that take them.
MIXED = ("lr=double:1e-5:1e-1:log", "dropout=double:0:0.5:step=0.05", "layers=int:1:8", "batch=int:16:256:step=16",
         "momentum=discrete:0.8,0.9,0.95", "opt=categorical:adam,sgd,on")
GRID = ("dropout=double:0.1:0.5:step=0.1", "layers=int:1:4", "momentum=discrete:0.9,0.99", "opt=categorical:adam,sgd")
NORMAL = ("w=double:0:1:normal", "scale=double:0.1:10:lognormal", "lr=double:1e-4:1e-1:loguniform",
          "k=int:1:5:uniform", "opt=categorical:adam,sgd")
KINDS = ("Job", "PyTorchJob", "TFJob")
CASES = [pytest.param(a, kind, GRID if a.key == "grid" else MIXED, id=f"{a.names[-1]}-{kind}")
         for a in ALGORITHMS for kind in KINDS]
CASES += [pytest.param(a, "Job", NORMAL, id=f"{a.names[-1]}-normal") for a in ALGORITHMS if a.backend == "hyperopt"]


def generate(capsys, *argv: str) -> tuple[str, dict]:
    status = main(["--log-level", "ERROR", "init", "--no-input", *argv])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return captured.out, yaml.safe_load(captured.out)


def sample(parameter: dict) -> str:
    space = parameter["feasibleSpace"]
    return space["list"][-1] if "list" in space else space["max"]


@pytest.mark.parametrize("algorithm, kind, params", CASES)
def test_generated_experiment_is_valid_everywhere_and_renders(capsys, algorithm, kind, params):
    argv = ["--name", "round-trip", "--image", "ghcr.io/team/train:1", "--command", "python3 train.py --epochs=2",
            "--minimize", "loss", "--metric", "accuracy", "--algorithm", algorithm.names[-1], "--kind", kind,
            "--max-trials", "8", "--gpus", "1", "--cpu", "500m", "--memory", "2Gi"]
    text, doc = generate(capsys, *argv, *(f"--param={p}" for p in params),
                         *(["--workers", "2"] if kind != "Job" else []))
    assert text.startswith("# Written by katib-suggest init.")
    assert parse_experiment(doc, algorithm.backend)[1] == []
    assert check_resource(doc) == [] and resource_warnings(doc) == []
    assert experiment_errors(doc) == []
    spec = doc["spec"]
    assert spec["algorithm"]["algorithmName"] == algorithm.names[-1]
    assert [p["name"] for p in spec["parameters"]] == [p.split("=")[0] for p in params]
    values = {p["name"]: sample(p) for p in spec["parameters"]}
    trial = render_trial(spec, values)
    assert resource_errors(trial) == []
    pods = [trial["spec"]["template"]] if kind == "Job" else [
        r["template"] for r in next(iter(trial["spec"].values())).values()]
    for pod in pods:
        assert pod["metadata"]["annotations"] == {"sidecar.istio.io/inject": "false"}
        (training,) = pod["spec"]["containers"]
        assert training["name"] == spec["trialTemplate"]["primaryContainerName"]
        assert training["command"] == ["python3", "train.py", "--epochs=2", *(f"--{n}={v}" for n, v in values.items())]
        assert training["resources"]["limits"] == {"cpu": "500m", "memory": "2Gi", "nvidia.com/gpu": 1}


@pytest.mark.parametrize("kind, replicas", [
    ("Job", None), ("PyTorchJob", {"Master": 1}), ("TFJob", {"Worker": 1}),
])
def test_replica_structure_without_workers(capsys, kind, replicas):
    _, doc = generate(capsys, "--name", "r", "--image", "i:1", "--command", "train", "--param", "x=int:1:3",
                      "--maximize", "m", "--kind", kind)
    trial_spec = doc["spec"]["trialTemplate"]["trialSpec"]
    if replicas is None:
        assert trial_spec["spec"]["backoffLimit"] == 0
        assert trial_spec["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    else:
        (specs,) = trial_spec["spec"].values()
        assert {name: r["replicas"] for name, r in specs.items()} == replicas


def test_placeholders_stay_where_written_and_the_rest_are_appended(capsys):
    _, doc = generate(capsys, "--name", "p", "--image", "i:1", "--command",
                      "python3 train.py --learning-rate ${trialParameters.lr} --out=/runs/${trialSpec.Name}",
                      "--param", "lr=double:0.001:0.1", "--param", "opt=categorical:adam,sgd", "--maximize", "acc")
    spec = doc["spec"]
    trial = render_trial(spec, {"lr": "0.01", "opt": "sgd"})
    assert trial["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python3", "train.py", "--learning-rate", "0.01", "--out=/runs/${trialSpec.Name}", "--opt=sgd"]
    assert experiment_errors(doc) == []


@pytest.mark.parametrize("collector, source", [
    ("StdOut", None),
    ("File", {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File", "format": "TEXT"}}),
    ("TensorFlowEvent", {"fileSystemPath": {"path": "/var/log/katib/tfevent/", "kind": "Directory"}}),
])
def test_metrics_collectors(capsys, collector, source):
    text, doc = generate(capsys, "--name", "c", "--image", "i:1", "--command", "train", "--param", "x=int:1:3",
                         "--maximize", "m", "--collector", collector)
    assert doc["spec"]["metricsCollectorSpec"] == {"collector": {"kind": collector},
                                                   **({"source": source} if source else {})}
    assert experiment_errors(doc) == [] and f"# {collector}: " in text


@pytest.mark.parametrize("value", ["yes", "no", "on", "off", "true", "null", "~", "0x1F", "1:30", "1e3", "0755",
                                   "2026-01-01", "- x", "a: b", "#x", " padded", "12", ".inf"])
def test_values_yaml_readers_would_misread_are_quoted(capsys, value):
    other = "plain-value"
    _, doc = generate(capsys, "--name", "q", "--image", "i:1", "--command", "train", "--maximize", "m",
                      "--param", f"choice=categorical:{value},{other}", "--setting", f"random_state={7}")
    assert doc["spec"]["parameters"][0]["feasibleSpace"]["list"] == [value.strip(), other]
    assert doc["spec"]["algorithm"]["algorithmSettings"] == [{"name": "random_state", "value": "7"}]


@pytest.mark.parametrize("text, expected", [
    ("lr=double:1e-5:1e-1:log", {"min": "1e-5", "max": "1e-1", "distribution": "logUniform"}),
    ("x=double:-1:1:normal:step=0.1", {"min": "-1", "max": "1", "distribution": "normal", "step": "0.1"}),
    ("s=double:0.1:10:lognormal", {"min": "0.1", "max": "10", "distribution": "logNormal"}),
    ("h=int:32:256:step=32", {"min": "32", "max": "256", "step": "32"}),
    ("h=int:1:8:uniform", {"min": "1", "max": "8", "distribution": "uniform"}),
    ("b=discrete:16, 32,64", {"list": ["16", "32", "64"]}),
    ("o=categorical:adam,sgd", {"list": ["adam", "sgd"]}),
])
def test_compact_parameter_form(text, expected):
    assert parse_param(text)["feasibleSpace"] == expected


@pytest.mark.parametrize("text, says", [
    ("lr", "NAME=double:MIN:MAX"), ("=int:1:2", "NAME=double"), ("lr=float:1:2", "type 'float'"),
    ("lr=double:1", "give min and max"), ("lr=double::2", "give min and max"), ("lr=double:1:2:cube", "'cube'"),
    ("lr=double:1:2:log:log", "'log'"), ("b=discrete:", "separated by commas"), ("c=categorical:a,,b", "commas"),
])
def test_compact_parameter_form_errors(text, says):
    with pytest.raises(ParamError, match=says.replace("(", r"\(")):
        parse_param(text)
