"""The pods a trial's resource will create, per kind: where their templates are, their labels and containers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

TRIAL_SPEC = "spec.trialTemplate.trialSpec"
ISTIO_INJECT = "sidecar.istio.io/inject"
REPLICA_TYPE_LABEL = "training.kubeflow.org/replica-type"
JOB_ROLE_LABEL = "training.kubeflow.org/job-role"
# Kubeflow training jobs: kind -> field holding the replica specs (training-operator v1 and mpi-operator).
REPLICA_SPECS = {"TFJob": "tfReplicaSpecs", "PyTorchJob": "pytorchReplicaSpecs", "XGBoostJob": "xgbReplicaSpecs",
                 "MPIJob": "mpiReplicaSpecs", "PaddleJob": "paddleReplicaSpecs", "JAXJob": "jaxReplicaSpecs"}
# The replicas the operator labels job-role=master, which is what Katib's default primaryPodLabels select;
# the second tuple applies when none of the first is present (worker 0 then takes the role).
_MASTER_ROLE = {"TFJob": (("Chief", "Master"), ("Worker",)), "PyTorchJob": (("Master",), ("Worker",)),
                "XGBoostJob": (("Master",), ()), "MPIJob": (("Launcher",), ()), "PaddleJob": (("Master",), ()),
                "JAXJob": (("Worker",), ())}


@dataclass(frozen=True)
class PodTemplate:
    """One pod template of the trial resource, as far as it can be read from the Experiment.

    ``containers`` is None when the containers are defined elsewhere (a taskRef,
    a templateRef): such a pod is never guessed at.
    """

    path: str
    containers: tuple[str, ...] | None
    labels: Mapping[str, Any] = field(default_factory=dict)  # the template's own and those its controller adds
    metadata: tuple[Mapping[str, Any], ...] = ()  # every metadata whose labels and annotations reach the pod
    primary_by_default: bool = True  # selected by Katib when primaryPodLabels is not given
    annotate_at: str = ""  # where one annotation reaches this pod: e.g. <template>.metadata.annotations

    def istio_disabled(self) -> bool:
        return any(_get(_get(m, key), ISTIO_INJECT) == "false" for m in self.metadata for key in ("annotations",
                                                                                                 "labels"))


def pod_templates(trial_spec: Any) -> list[PodTemplate] | None:
    """The pod templates of a trialSpec; None for a kind whose pods cannot be read (never guessed)."""
    if not isinstance(trial_spec, Mapping) or not isinstance(trial_spec.get("spec"), Mapping):
        return None
    group, reader = _READERS.get(trial_spec.get("kind"), ("", None))
    api_version = trial_spec.get("apiVersion")
    if reader is None or not isinstance(api_version, str) or api_version.split("/")[0] != group:
        return None
    return reader(trial_spec)


def primary_pods(pods: list[PodTemplate], primary_labels: Any) -> list[PodTemplate]:
    """The pods Katib attaches its metrics collector to; all pods when the labels match none of them."""
    if isinstance(primary_labels, Mapping) and primary_labels:
        chosen = [p for p in pods if all(str(p.labels.get(k)) == str(v) for k, v in primary_labels.items())]
    else:
        chosen = [p for p in pods if p.primary_by_default]
    return chosen or pods


def _job(trial_spec: Mapping[str, Any]) -> list[PodTemplate] | None:
    pod = _pod(trial_spec["spec"].get("template"), f"{TRIAL_SPEC}.spec.template")
    return [pod] if pod else None


def _training_job(trial_spec: Mapping[str, Any]) -> list[PodTemplate] | None:
    kind = trial_spec["kind"]
    replicas = trial_spec["spec"].get(REPLICA_SPECS[kind])
    if not isinstance(replicas, Mapping):
        return None
    first, fallback = _MASTER_ROLE[kind]
    masters = first if any(r in replicas for r in first) else fallback
    pods = []
    for replica, replica_spec in replicas.items():
        path = f"{TRIAL_SPEC}.spec.{REPLICA_SPECS[kind]}.{replica}.template"
        operator_labels = {REPLICA_TYPE_LABEL: str(replica).lower()}
        if replica in masters:
            operator_labels[JOB_ROLE_LABEL] = "master"
        pod = _pod(_get(replica_spec, "template"), path, operator_labels, replica in masters)
        if pod is None:
            return None
        pods.append(pod)
    return pods or None


def _argo_workflow(trial_spec: Mapping[str, Any]) -> list[PodTemplate] | None:
    # Argo runs a container or script template in a container named "main"; containerSet keeps its names.
    spec = trial_spec["spec"]
    shared = _get(spec, "podMetadata")
    pods = []
    for i, template in enumerate(spec.get("templates") or []):
        if not isinstance(template, Mapping):
            continue
        if "container" in template or "script" in template:
            names: tuple[str, ...] | None = ("main",)
        elif isinstance(_get(template, "containerSet"), Mapping):
            names = tuple(c.get("name") for c in template["containerSet"].get("containers") or []
                          if isinstance(c, Mapping))
        else:
            continue  # steps, dag, suspend: no pod of their own
        own = _get(template, "metadata")
        pods.append(PodTemplate(f"{TRIAL_SPEC}.spec.templates[{i}]", names, {**_labels(shared), **_labels(own)},
                                (shared, own), annotate_at=f"{TRIAL_SPEC}.spec.podMetadata.annotations"))
    return pods or None


def _tekton(trial_spec: Mapping[str, Any]) -> list[PodTemplate] | None:
    # One pod per task; a step runs in container "step-<name>" ("step-unnamed-<i>" without a name).
    run_metadata = _get(trial_spec, "metadata")
    spec = trial_spec["spec"]
    if trial_spec["kind"] == "TaskRun":
        tasks = [("", spec)]
    else:
        pipeline = _get(spec, "pipelineSpec")
        tasks = [(f".pipelineSpec.{key}[{i}]", task) for key in ("tasks", "finally")
                 for i, task in enumerate(_get(pipeline, key) or []) if isinstance(task, Mapping)]
    pods = []
    for where, task in tasks:
        task_spec = _get(task, "taskSpec")
        steps = _get(task_spec, "steps")
        names = tuple(f"step-{s.get('name') or f'unnamed-{i}'}" for i, s in enumerate(steps)
                      if isinstance(s, Mapping)) if isinstance(steps, list) else None
        own = _get(task_spec, "metadata")
        labels = {**_labels(run_metadata), **_labels(own)}
        if task.get("name"):
            labels["tekton.dev/pipelineTask"] = task["name"]
        pods.append(PodTemplate(f"{TRIAL_SPEC}.spec{where}", names, labels, (run_metadata, own),
                                annotate_at=f"{TRIAL_SPEC}.metadata.annotations"))
    return pods or None


def _pod(template: Any, path: str, extra_labels: Mapping[str, str] | None = None,
         primary: bool = True) -> PodTemplate | None:
    containers = _get(_get(template, "spec"), "containers")
    if not isinstance(containers, list):
        return None
    metadata = _get(template, "metadata")
    return PodTemplate(path, tuple(c.get("name") for c in containers if isinstance(c, Mapping)),
                       {**_labels(metadata), **(extra_labels or {})}, (metadata,), primary,
                       f"{path}.metadata.annotations")


def _labels(metadata: Any) -> dict[str, Any]:
    labels = _get(metadata, "labels")
    return dict(labels) if isinstance(labels, Mapping) else {}


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


# kind -> (API group, reader); a kind of another group is not guessed at.
_READERS: dict[str, tuple[str, Callable[[Mapping[str, Any]], list[PodTemplate] | None]]] = {
    "Job": ("batch", _job), "Workflow": ("argoproj.io", _argo_workflow),
    "PipelineRun": ("tekton.dev", _tekton), "TaskRun": ("tekton.dev", _tekton),
    **{kind: ("kubeflow.org", _training_job) for kind in REPLICA_SPECS},
}
