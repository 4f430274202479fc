"""The trial's resource per kind (batch Job, PyTorchJob, TFJob) with its primary container; the metrics collector."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from katib_validators.pods import ISTIO_INJECT, REPLICA_SPECS

_PLACEHOLDER = re.compile(r"\$\{trialParameters\.(.+?)\}")
_SHELLS = ("sh", "bash", "zsh", "dash", "ash")


@dataclass(frozen=True)
class TrialKind:
    """How one kind of trial resource is written: its apiVersion, primary container name and replicas."""

    api_version: str
    container: str  # the name its operator requires of the training container
    spec: Callable[[dict[str, Any], int], dict[str, Any]]  # (pod template, extra workers) -> resource spec
    summary: str


def _job(pod: dict[str, Any], workers: int) -> dict[str, Any]:
    pod["spec"]["restartPolicy"] = "Never"
    return {"backoffLimit": 0, "template": pod}


def _replica(count: int, pod: dict[str, Any]) -> dict[str, Any]:
    # Never: a failing trial fails at once instead of restarting in place until a limit
    return {"replicas": count, "restartPolicy": "Never", "template": copy.deepcopy(pod)}


def _pytorch(pod: dict[str, Any], workers: int) -> dict[str, Any]:
    replicas = {"Master": _replica(1, pod)}  # the operator requires exactly one Master
    if workers:
        replicas["Worker"] = _replica(workers, pod)
    return {REPLICA_SPECS["PyTorchJob"]: replicas}


def _tensorflow(pod: dict[str, Any], workers: int) -> dict[str, Any]:
    # Without a Chief, worker 0 takes the master role that Katib's default primaryPodLabels select.
    return {REPLICA_SPECS["TFJob"]: {"Worker": _replica(1 + workers, pod)}}


TRIAL_KINDS = {
    "Job": TrialKind("batch/v1", "training-container", _job, "one pod per trial (batch/v1 Job)"),
    "PyTorchJob": TrialKind("kubeflow.org/v1", "pytorch", _pytorch, "a Master and --workers Workers"),
    "TFJob": TrialKind("kubeflow.org/v1", "tensorflow", _tensorflow, "1 + --workers Workers; worker 0 reports"),
}
# collector kind -> its default path (StdOut reads the container's output)
COLLECTORS = {"StdOut": None, "File": "/var/log/katib/metrics.log", "TensorFlowEvent": "/var/log/katib/tfevent/"}


def trial_spec(kind: str, container: dict[str, Any], workers: int) -> dict[str, Any]:
    """The trialSpec resource with the Istio opt-out on every pod template."""
    chosen = TRIAL_KINDS[kind]
    pod = {"metadata": {"annotations": {ISTIO_INJECT: "false"}}, "spec": {"containers": [container]}}
    return {"apiVersion": chosen.api_version, "kind": kind, "spec": chosen.spec(pod, workers)}


def container(kind: str, image: str, command: list[str], gpus: int, cpu: str | None,
              memory: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"name": TRIAL_KINDS[kind].container, "image": image, "command": command}
    requests = {key: value for key, value in (("cpu", cpu), ("memory", memory)) if value is not None}
    limits = {**requests, **({"nvidia.com/gpu": gpus} if gpus else {})}
    if limits:
        result["resources"] = {**({"requests": requests} if requests else {}), "limits": limits}
    return result


def trial_command(command: list[str], names: list[str]) -> list[str]:
    """``command`` with ``--NAME=${trialParameters.NAME}`` appended for each parameter it does not place itself."""
    placed = {m for word in command for m in _PLACEHOLDER.findall(word)}
    missing = [name for name in names if name not in placed]
    if missing and os.path.basename(command[0]) in _SHELLS and "-c" in command:
        raise ValueError(f"a '{command[0]} -c' script takes no appended arguments; write "
                         f"${{trialParameters.{missing[0]}}} in the script where each value goes")
    return [*command, *(f"--{name}=${{trialParameters.{name}}}" for name in missing)]


def collector_spec(kind: str, path: str | None) -> dict[str, Any]:
    if kind == "StdOut":
        return {"collector": {"kind": "StdOut"}}
    source = {"path": path or COLLECTORS[kind], "kind": "File" if kind == "File" else "Directory"}
    if kind == "File":
        source["format"] = "TEXT"
    return {"source": {"fileSystemPath": source}, "collector": {"kind": kind}}
