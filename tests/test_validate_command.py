"""`katib-suggest validate`: Experiment and katib-config YAML checked offline, problems as file: field: message."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from katib_suggestion.cli import main
from katib_suggestion.images import backend_of, image_for
from katib_validators.catalog import BACKENDS, served_by
from test_validators_rules import BASE as UNANNOTATED

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _annotated(doc: dict) -> dict:
    """``doc`` with the Istio opt-out on its Job's pod template, so it draws no warning."""
    doc = copy.deepcopy(doc)
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["metadata"] = {
        "annotations": {"sidecar.istio.io/inject": "false"}}
    return doc


BASE = _annotated(UNANNOTATED)


def _write(tmp_path: Path, name: str, *documents) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False) if documents else "")
    return str(path)


def _run(capsys, *argv: str) -> tuple[int, list[str]]:
    status = main(["--log-level", "ERROR", "validate", *argv])
    return status, capsys.readouterr().out.splitlines()


def _config(*entries) -> dict:
    return {"apiVersion": "config.kubeflow.org/v1beta1", "kind": "KatibConfig",
            "runtime": {"suggestions": [{"algorithmName": n, "image": i} for n, i in entries]}}


def test_valid_experiment_exits_0_and_says_so_on_stdout(tmp_path, capsys):
    assert _run(capsys, _write(tmp_path, "ok.yaml", BASE)) == (0, ["1 file(s) valid"])


def test_problems_print_file_field_message_and_exit_1(tmp_path, capsys):
    bad = {**BASE, "metadata": {"name": "Bad_Name"}}
    path = _write(tmp_path, "bad.yaml", bad)
    status, lines = _run(capsys, path)
    assert status == 1
    # the line of the field in the file (metadata.name: yaml.safe_dump writes it on line 4), as compilers do
    assert lines == [f"{path}:4: metadata.name: use at most 40 lowercase letters, digits and '-', starting with a "
                     "letter and ending with a letter or digit (got 'Bad_Name')"]


def test_every_document_of_a_file_is_checked_and_numbered(tmp_path, capsys):
    bad = {**BASE, "spec": {**BASE["spec"], "maxTrialCount": 0}}
    path = _write(tmp_path, "multi.yaml", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
                  BASE, bad)
    status, lines = _run(capsys, path)
    third = path_text = Path(path).read_text()
    third = len(path_text.split("\n---")[0].splitlines()) + len(path_text.split("\n---")[1].splitlines())
    assert status == 1 and len(lines) >= 2
    *errors, note = lines
    assert all(line.startswith(f"{path}:") and int(line.split(":")[1]) > third and ": spec." in line
               for line in errors), errors
    # a document of another kind is named, not skipped silently (a note: it does not fail the file)
    assert note == f"{path}:2: note: kind: Namespace is neither an Experiment nor a katib-config; not checked"


def test_unreadable_and_malformed_files_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    missing = str(tmp_path / "missing.yaml")
    status, lines = _run(capsys, str(broken), missing, _write(tmp_path, "ok.yaml", BASE))
    assert status == 2
    assert lines[0].startswith(f"{broken}: not valid YAML: ")
    assert lines[1].startswith(f"{missing}: cannot read: ")
    assert len(lines) == 2


@pytest.mark.parametrize("documents", [(), ({"apiVersion": "v1", "kind": "Service"},), (["a", "list"],), ("text",)])
def test_files_without_an_experiment_are_problems(tmp_path, capsys, documents):
    status, lines = _run(capsys, _write(tmp_path, "other.yaml", *documents))
    assert status == 1 and lines


def test_backend_flag_pins_the_backend(tmp_path, capsys):
    gamma = {**BASE, "spec": {**BASE["spec"], "algorithm": {
        "algorithmName": "tpe", "algorithmSettings": [{"name": "gamma", "value": "0.3"}]}}}
    path = _write(tmp_path, "gamma.yaml", gamma)
    assert _run(capsys, path) == (0, ["1 file(s) valid"])  # hyperopt's tpe takes gamma
    status, lines = _run(capsys, "--backend", "optuna", path)
    assert status == 1 and "algorithmSettings[0].name: unknown setting" in lines[0]


def test_katib_config_maps_algorithms_to_images_that_serve_them(tmp_path, capsys):
    entries = [(name, image_for(backend)) for backend in BACKENDS for name in served_by(backend)]
    good = _config(*entries, ("hyperband", "docker.io/kubeflowkatib/suggestion-hyperband:v0.17.0"))
    assert _run(capsys, _write(tmp_path, "good.yaml", good)) == (0, ["1 file(s) valid"])
    bad = _config(("grid", "registry:5000/me/katib-suggest-hyperopt:dev"), ("tpe", "x/katib-suggest-nope:1"))
    bad["runtime"]["suggestions"].append("not-a-mapping")
    path = _write(tmp_path, "bad.yaml", bad)
    status, lines = _run(capsys, path)
    assert status == 1
    assert [line.split(": ")[1] for line in lines] == ["runtime.suggestions[0].image",
                                                       "runtime.suggestions[1].image", "runtime.suggestions[2]"]


def test_katib_config_inside_its_config_map(tmp_path, capsys):
    inner = yaml.safe_dump(_config(("cmaes", image_for("hyperopt"))))
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "katib-config"},
                  "data": {"katib-config.yaml": inner}}
    status, lines = _run(capsys, _write(tmp_path, "cm.yaml", config_map))
    assert status == 1 and lines[0].split(": ")[1] == "runtime.suggestions[0].image"
    assert image_for("optuna") in lines[0]


@pytest.mark.parametrize("image, backend", [
    ("ghcr.io/katib-suggest/katib-suggest-optuna:0.1.0", "optuna"), ("katib-suggest-skopt", "skopt"),
    ("localhost:5000/org/katib-suggest-hyperopt:dev", "hyperopt"), ("a/katib-suggest-optuna@sha256:00", "optuna"),
    ("docker.io/kubeflowkatib/suggestion-optuna:v0.17.0", None), ("katib-suggest-", None),
])
def test_image_naming(image, backend):
    assert backend_of(image) == backend


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_validate_without_warnings(example, capsys):
    assert _run(capsys, "--strict", str(example)) == (0, ["1 file(s) valid"])


def test_an_example_for_every_algorithm_key():
    from katib_validators.catalog import ALGORITHMS

    have = {p.stem for p in EXAMPLES}
    missing = [f"{a.backend}-{a.key}" for a in ALGORITHMS if f"{a.backend}-{a.key}" not in have]
    assert not missing, f"add examples/{missing[0]}.yaml"


def test_installed_command_in_a_subprocess(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""\
        apiVersion: kubeflow.org/v1beta1
        kind: Experiment
        metadata: {name: x}
        spec: {maxTrialCount: 0}
        """))
    script = Path(sys.executable).with_name("katib-suggest")
    result = subprocess.run([str(script), "validate", str(EXAMPLES[0]), str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert f"{bad}:4: spec.maxTrialCount: must be greater than 0 (got 0)" in lines
    assert all(line.startswith(f"{bad}:") for line in lines)
    result = subprocess.run([str(script), "validate", str(EXAMPLES[0])], capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "1 file(s) valid\n", "")


def test_warnings_come_after_errors_and_fail_only_with_strict(tmp_path, capsys):
    quiet, noisy = _write(tmp_path, "quiet.yaml", BASE), _write(tmp_path, "noisy.yaml", UNANNOTATED)
    status, lines = _run(capsys, noisy, quiet)
    assert status == 0
    assert lines == [f"{noisy}:52: warning: spec.trialTemplate.trialSpec.spec.template.metadata.annotations: add "
                     'sidecar.istio.io/inject: "false": where the namespace injects Istio sidecars, the sidecar keeps '
                     "the pod running after training ends and the trial never completes (harmless without Istio)",
                     "2 file(s) valid, 1 warning (--strict fails on them)"]
    status, strict_lines = _run(capsys, "--strict", noisy, quiet)
    assert status == 1 and strict_lines == lines[:1]
    bad = _write(tmp_path, "bad.yaml", {**UNANNOTATED, "metadata": {"name": "Bad_Name"}})
    status, lines = _run(capsys, noisy, bad)
    assert status == 1
    assert [line.split(": ")[1] for line in lines] == ["metadata.name", "warning", "warning"]


def test_json_format_lists_every_problem_with_its_severity(tmp_path, capsys):
    noisy = _write(tmp_path, "noisy.yaml", UNANNOTATED)
    bad = _write(tmp_path, "bad.yaml", {"apiVersion": "v1", "kind": "Namespace"}, BASE,
                 {**BASE, "spec": {**BASE["spec"], "maxTrialCount": 0}})
    assert main(["validate", "--format", "json", noisy, bad, str(tmp_path / "missing.yaml")]) == 2
    report = json.loads(capsys.readouterr().out)
    assert {k: report[k] for k in ("valid", "exit_code", "files", "errors", "warnings")} == {
        "valid": False, "exit_code": 2, "files": 3, "errors": 2, "warnings": 1}
    by_field = {(p["file"], p["document"], p["field"]): p for p in report["problems"]}
    assert by_field[(noisy, None, "spec.trialTemplate.trialSpec.spec.template.metadata.annotations")][
        "severity"] == "warning"
    counted = by_field[(bad, 3, "spec.maxTrialCount")]
    assert counted["severity"] == "error" and counted["value"] == 0 and "greater than 0" in counted["message"]
    unreadable = by_field[(str(tmp_path / "missing.yaml"), None, "")]
    assert unreadable["message"].startswith("cannot read: ") and "value" not in unreadable


def test_json_format_of_a_valid_file_under_strict(tmp_path, capsys):
    noisy = _write(tmp_path, "noisy.yaml", UNANNOTATED)
    assert main(["validate", "--format", "json", noisy]) == 0
    assert json.loads(capsys.readouterr().out)["valid"] is True
    assert main(["validate", "--format", "json", "--strict", noisy]) == 1
    assert json.loads(capsys.readouterr().out)["exit_code"] == 1
