"""What `validate` (and init) say about a mistake: the line it is on, the closest known name, what a file is."""

from __future__ import annotations

import textwrap

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from katib_suggestion.cli import main
from katib_validators.locate import document_nodes, line_of
from katib_validators.spelling import closest
from test_validate_command import BASE, _run, _write

EXPERIMENT = textwrap.dedent("""\
    apiVersion: kubeflow.org/v1beta1
    kind: Experiment
    metadata:
      name: typos
    spec:
      maxTrialCounts: 12
      objective:
        type: maximise
        objectiveMetricName: accuracy
      algorithm:
        algorithmName: multivariate-tpe
        algorithmSettings:
          - name: n_startup_trial
            value: "5"
      parameters:
        - name: lr
          parameterType: doubel
          feasibleSpace: {min: "0.01", max: "0.1"}
    """)


def test_each_problem_names_its_line_and_the_closest_known_name(tmp_path, capsys):
    path = tmp_path / "typos.yaml"
    path.write_text(EXPERIMENT)
    status, lines = _run(capsys, str(path))
    assert status == 1
    said = {line.split(": ", 2)[1]: line for line in lines}
    assert said["spec.maxTrialCounts"].startswith(f"{path}:6: ")
    assert "unknown field, which Kubernetes refuses (did you mean maxTrialCount?)" in said["spec.maxTrialCounts"]
    assert said["spec.objective.type"].startswith(f"{path}:8: ")
    assert "must be minimize or maximize (did you mean maximize?)" in said["spec.objective.type"]
    setting = said["spec.algorithm.algorithmSettings[0].name"]
    assert setting.startswith(f"{path}:13: ") and "(did you mean n_startup_trials?)" in setting
    kind = said["spec.parameters[0].parameterType"]
    assert kind.startswith(f"{path}:17: ") and "(did you mean double?)" in kind


def test_nothing_far_from_every_name_is_suggested():
    assert closest("bogus", ["gpus", "goal", "image"]) is None
    assert closest("gp", ["tpe", "random"]) is None
    assert closest("Maximize", ["maximize", "minimize"]) == "maximize"


def test_a_document_of_another_kind_is_noted_and_the_file_stays_valid(tmp_path, capsys):
    path = _write(tmp_path, "with-service.yaml", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}},
                  BASE)
    status, lines = _run(capsys, path)
    assert status == 0
    assert lines == [f"{path}:2: note: kind: Service is neither an Experiment nor a katib-config; not checked",
                     "1 file(s) valid"]


def test_an_init_spec_file_is_named_for_what_it_is(tmp_path, capsys):
    path = tmp_path / "katib.yaml"
    path.write_text("name: mnist\nimage: ghcr.io/team/mnist:2\ncommand: python3 train.py\n"
                    "parameters: {lr: 'double:1e-5:1e-1:log'}\nmaximise: accuracy\n")
    status, lines = _run(capsys, str(path))
    assert status == 1
    assert lines == [f"{path}:1: this is a katib-suggest init spec file (keys spelled like init's flags), not an "
                     f"Experiment; write the Experiment from it with: katib-suggest init --from {path} -o "
                     "EXPERIMENT.yaml, then validate EXPERIMENT.yaml"]
    # and init itself points at the misspelt key
    assert main(["init", "--from", str(path), "--no-input"]) == 2
    assert "maximise: not an init input (did you mean maximize?); use one of" in capsys.readouterr().err


_KEYS = st.sampled_from(["spec", "min", "name", "sidecar.istio.io/inject", "list", "value", "trialSpec"])
_TREES = st.recursive(st.integers(0, 9) | st.text("abc", max_size=3),
                      lambda inner: st.lists(inner, min_size=1, max_size=3) |
                      st.dictionaries(_KEYS, inner, min_size=1, max_size=3), max_leaves=12)


def _paths(tree, prefix=""):
    """(path as validators write it, the key or index it ends with) of every node below ``tree``."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, child in items:
        path = f"{prefix}[{key}]" if isinstance(key, int) else f"{prefix}.{key}" if prefix else key
        yield path, key
        yield from _paths(child, path)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(_KEYS, _TREES, min_size=1, max_size=4), st.booleans())
def test_every_written_field_is_found_on_its_own_line(tree, flow):
    text = yaml.safe_dump(tree, default_flow_style=flow and None, width=10_000)
    [node] = document_nodes(text)
    lines = text.splitlines()
    for path, key in _paths(tree):
        number = line_of(node, path)
        assert number is not None and 1 <= number <= len(lines), (path, text)
        if isinstance(key, str) and not flow:
            assert key in lines[number - 1], (path, number, text)
    # a field that is not written points at its closest written parent, never nowhere
    assert line_of(node, f"{next(iter(tree))}.absent.deeper") is not None
