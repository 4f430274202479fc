"""The Experiment as YAML text, with comments where a user is likely to edit it."""

from __future__ import annotations

import io
from typing import Any

import yaml
from katib_suggestion.authoring.early_stopping import COMMENT as EARLY_STOPPING_COMMENT
from katib_suggestion.authoring.trial import TRIAL_KINDS
from katib_validators.catalog import BACKENDS, served_by
from katib_validators.pods import ISTIO_INJECT

HEADER = """\
Written by katib-suggest init.
  check it:               katib-suggest validate {file}
  run it on this machine: katib-suggest run {file}   (each trial runs the container's command locally)
  submit it to Katib:     kubectl apply -f {file}"""
_POD_COMMENTS = {
    "command": "each ${trialParameters.NAME} becomes the trial's value; katib-suggest run runs this command on "
               "this machine,\nin --cwd (default: the current folder), without a shell",
    "resources": "for each trial pod",
    "restartPolicy": "Never: a failing trial fails at once instead of restarting",
    "backoffLimit": "0: a failed trial is not retried (raise it to retry on flaky nodes)",
}
_COLLECTED = {
    "StdOut": "StdOut: Katib reads the NAME=VALUE lines the training prints, e.g. accuracy=0.93",
    "File": "File: the training writes NAME=VALUE lines to this file (katib-suggest run reads only stdout)",
    "TensorFlowEvent": "TensorFlowEvent: the training writes TensorFlow summaries here "
                       "(katib-suggest run reads only stdout)",
}


def to_yaml(doc: dict[str, Any], file: str = "FILE") -> str:
    """``doc`` as commented YAML that PyYAML (YAML 1.1, as kubectl) reads back as ``doc`` exactly."""
    from ruamel.yaml import YAML

    tree = _tree(doc, (), 0, _comments(doc))
    tree.yaml_set_start_comment(HEADER.format(file=file))
    writer = YAML()
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.width = 4096  # never fold a long command
    stream = io.StringIO()
    writer.dump(tree, stream)
    return stream.getvalue()


def _tree(node: Any, path: tuple, column: int, comments: dict[tuple, str]) -> Any:
    """``node`` as ruamel's commented containers, each commented key given its text at its column."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(node, dict):
        tree = CommentedMap()
        for key, value in node.items():
            child = column + (4 if isinstance(value, list) else 2)
            tree[key] = _tree(value, (*path, key), child, comments)
            text = comments.get((*path, key)) or _pod_comment(path, key)
            if text:
                tree.yaml_set_comment_before_after_key(key, before=text, indent=column)
        return tree
    if isinstance(node, list):
        return CommentedSeq(_tree(item, (*path, i), column, comments) for i, item in enumerate(node))
    if isinstance(node, str) and _needs_quotes(node):
        return DoubleQuotedScalarString(node)
    return node


def _needs_quotes(text: str) -> bool:
    # YAML 1.1 readers (PyYAML, kubectl) take yes, no, on, 0x1F, 1:30 ... as non-strings; ruamel (YAML 1.2)
    # quotes only what 1.2 would misread, so quote whatever 1.1 would read as anything but this string.
    try:
        return yaml.safe_load(text) != text or text != text.strip()
    except yaml.YAMLError:
        return False  # not a plain scalar at all: ruamel quotes it itself


def _pod_comment(path: tuple, key: str) -> str | None:
    if path[:3] != ("spec", "trialTemplate", "trialSpec"):
        return None
    if key == "metadata" and len(path) > 3 and path[-1] == "template":
        return f'{ISTIO_INJECT}: "false": no Istio sidecar, which would keep the pod running after training ends'
    return _POD_COMMENTS.get(key) if key != "command" or "containers" in path else None


def _comments(doc: dict[str, Any]) -> dict[tuple, str]:
    spec = doc["spec"]
    kind = spec["trialTemplate"]["trialSpec"]["kind"]
    algorithms = ", ".join(dict.fromkeys(n for b in BACKENDS for a in served_by(b).values() for n in a.names[:1]))
    comments = {
        ("metadata", "name"): "at most 40 lowercase letters, digits and '-', starting with a letter",
        ("spec", "objective"): "the metric to optimise, as the training reports it",
        ("spec", "algorithm"): f"algorithmName: {algorithms} (settings: see the README's settings reference)",
        ("spec", "parallelTrialCount"): "trials running at once",
        ("spec", "maxFailedTrialCount"): "the Experiment fails when this many trials have failed",
        ("spec", "maxTrialCount"): "trials in all",
        ("spec", "parameters"): "int, double: min, max, optional step and distribution (uniform, logUniform; normal "
                                "and logNormal with hyperopt)\ndiscrete, categorical: list (values as strings)",
        ("spec", "metricsCollectorSpec"): _COLLECTED[spec["metricsCollectorSpec"]["collector"]["kind"]],
        ("spec", "trialTemplate", "primaryContainerName"):
            f"must name the training container below (the {kind} operator requires "
            f"'{TRIAL_KINDS[kind].container}')" if kind != "Job" else "must name the training container below",
        ("spec", "trialTemplate", "trialParameters"):
            "each ${trialParameters.NAME} in the trialSpec becomes the trial's value of parameter `reference`",
    }
    if "earlyStopping" in spec:
        comments["spec", "earlyStopping"] = EARLY_STOPPING_COMMENT
    if "goal" in spec["objective"]:
        comments["spec", "objective", "goal"] = "the Experiment succeeds as soon as a trial reaches this"
    return comments
