"""The primaryContainerName rule and the pod warnings, on good and bad trial templates of each kind."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from katib_validators.pods import pod_templates
from katib_validators.resource import check_resource, resource_warnings

PRIMARY = "spec.trialTemplate.primaryContainerName"
OFF = {"annotations": {"sidecar.istio.io/inject": "false"}}
ARG = "--lr=${trialParameters.lr}"


def pod(*names: str, metadata: dict | None = OFF) -> dict[str, Any]:
    spec = {"containers": [{"name": n, "image": "train:1", "args": [ARG]} for n in names]}
    return {"spec": spec, **({"metadata": copy.deepcopy(metadata)} if metadata is not None else {})}


def replicas(field: str, **templates: dict) -> dict[str, Any]:
    return {field: {name: {"replicas": 1, "template": template} for name, template in templates.items()}}


def experiment(api_version: str, kind: str, spec: dict, primary: str, **template: Any) -> dict[str, Any]:
    return {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "pods"}, "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
        "algorithm": {"algorithmName": "random"}, "maxTrialCount": 3, "parallelTrialCount": 1,
        "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
        "trialTemplate": {"primaryContainerName": primary, "trialParameters": [{"name": "lr", "reference": "lr"}],
                          "trialSpec": {"apiVersion": api_version, "kind": kind, "spec": spec}, **template}}}


def job(primary: str, *names: str, metadata: dict | None = OFF) -> dict:
    return experiment("batch/v1", "Job", {"template": pod(*names, metadata=metadata)}, primary)


def argo(primary: str, template: dict, **extra: Any) -> dict:
    steps = {"name": "main-steps", "steps": [[{"name": "train", "template": "train"}]]}
    spec = {"entrypoint": "main-steps", "podMetadata": OFF, "templates": [steps, {"name": "train", **template}]}
    return experiment("argoproj.io/v1alpha1", "Workflow", spec, primary, successCondition="status.phase",
                      failureCondition="status.phase", **extra)


def tekton(primary: str, **extra: Any) -> dict:
    task = {"name": "model-training", "taskSpec": {"steps": [
        {"name": "train", "image": "train:1", "args": [ARG]}, {"image": "busybox", "script": "echo done"}]}}
    spec = {"pipelineSpec": {"tasks": [task]}}
    doc = experiment("tekton.dev/v1beta1", "PipelineRun", spec, primary, successCondition="status.ok",
                     failureCondition="status.failed", **extra)
    doc["spec"]["trialTemplate"]["trialSpec"]["metadata"] = OFF
    return doc


# (label, experiment, the problem path expected on primaryContainerName: True or False)
CASES = [
    ("job", job("training", "training", "sidecar"), False),
    ("job-wrong-name", job("trainer", "training"), True),
    ("pytorch", experiment("kubeflow.org/v1", "PyTorchJob", replicas(
        "pytorchReplicaSpecs", Master=pod("pytorch"), Worker=pod("pytorch")), "pytorch"), False),
    ("pytorch-wrong-name", experiment("kubeflow.org/v1", "PyTorchJob", replicas(
        "pytorchReplicaSpecs", Master=pod("pytorch"), Worker=pod("pytorch")), "training-container"), True),
    ("pytorch-only-on-worker", experiment("kubeflow.org/v1", "PyTorchJob", replicas(
        "pytorchReplicaSpecs", Master=pod("pytorch"), Worker=pod("pytorch", "helper")), "helper"), True),
    ("tfjob-worker-0-is-master", experiment("kubeflow.org/v1", "TFJob", replicas(
        "tfReplicaSpecs", Worker=pod("tensorflow")), "tensorflow"), False),
    ("tfjob-chief-is-master", experiment("kubeflow.org/v1", "TFJob", replicas(
        "tfReplicaSpecs", Chief=pod("chief"), Worker=pod("tensorflow")), "tensorflow"), True),
    ("tfjob-primary-pod-labels", experiment("kubeflow.org/v1", "TFJob", replicas(
        "tfReplicaSpecs", Chief=pod("chief"), Worker=pod("tensorflow")), "tensorflow",
        primaryPodLabels={"training.kubeflow.org/replica-type": "worker"}), False),
    ("mpijob-launcher", experiment("kubeflow.org/v1", "MPIJob", replicas(
        "mpiReplicaSpecs", Launcher=pod("mpi-launcher"), Worker=pod("mpi-launcher")), "mpi-launcher"), False),
    ("mpijob-worker-name", experiment("kubeflow.org/v1", "MPIJob", replicas(
        "mpiReplicaSpecs", Launcher=pod("mpi-launcher"), Worker=pod("mpi-worker")), "mpi-worker"), True),
    ("xgboost", experiment("kubeflow.org/v1", "XGBoostJob", replicas(
        "xgbReplicaSpecs", Master=pod("xgboost"), Worker=pod("xgboost")), "xgboost"), False),
    ("xgboost-wrong-name", experiment("kubeflow.org/v1", "XGBoostJob", replicas(
        "xgbReplicaSpecs", Master=pod("xgboost"), Worker=pod("xgboost")), "xgb"), True),
    ("argo-container-is-main", argo("main", {"container": {"name": "model-training", "image": "t:1",
                                                           "args": [ARG]}}), False),
    ("argo-container-name-is-not-kept", argo("model-training", {"container": {"name": "model-training",
                                                                              "image": "t:1", "args": [ARG]}}), True),
    ("argo-container-set", argo("trainer", {"containerSet": {"containers": [
        {"name": "trainer", "image": "t:1", "args": [ARG]}]}}), False),
    ("tekton-step", tekton("step-train"), False),
    ("tekton-step-name-without-prefix", tekton("train"), True),
    ("tekton-unnamed-step", tekton("step-unnamed-1"), False),
    ("unknown-kind-is-not-guessed", experiment("ray.io/v1", "RayJob", {"entrypoint": ARG}, "anything",
                                               successCondition="s", failureCondition="f"), False),
    ("job-of-another-group-is-not-guessed", experiment("example.com/v1", "Job", {"template": pod("a")}, "b",
                                                       successCondition="s", failureCondition="f"), False),
]


@pytest.mark.parametrize("doc, wrong", [pytest.param(doc, wrong, id=label) for label, doc, wrong in CASES])
def test_primary_container_must_be_in_the_primary_pod(doc, wrong):
    problems = check_resource(doc)
    assert [p.path for p in problems] == ([PRIMARY] if wrong else []), [str(p) for p in problems]
    if wrong:
        message = problems[0].message
        assert "never attaches" in message and problems[0].value == doc["spec"]["trialTemplate"][
            "primaryContainerName"]
        names = {c for p in pod_templates(doc["spec"]["trialTemplate"]["trialSpec"]) for c in p.containers}
        assert any(f"use {name}" in message for name in names), message


def test_argo_message_explains_main():
    problems = check_resource(argo("model-training", {"script": {"image": "t:1", "source": ARG}}))
    assert "use main (Argo names the container of a container or script template 'main')" in problems[0].message


@pytest.mark.parametrize("metadata, value", [
    (None, None), ({"annotations": {"other": "x"}}, None), ({"annotations": {"sidecar.istio.io/inject": "true"}},
                                                            "true"),
    ({"annotations": {"sidecar.istio.io/inject": False}}, False),
])
def test_istio_opt_out_missing_is_a_warning(metadata, value):
    doc = job("training", "training", metadata=metadata)
    assert check_resource(doc) == []
    (warning,) = resource_warnings(doc)
    assert warning.path == "spec.trialTemplate.trialSpec.spec.template.metadata.annotations"
    assert warning.message.startswith('add sidecar.istio.io/inject: "false"')
    assert (warning.value if warning.has_value else None) == value


@pytest.mark.parametrize("metadata", [OFF, {"labels": {"sidecar.istio.io/inject": "false"}}])
def test_istio_opt_out_as_annotation_or_label(metadata):
    assert resource_warnings(job("training", "training", metadata=metadata)) == []


def test_istio_warning_per_replica_and_once_for_shared_metadata():
    doc = experiment("kubeflow.org/v1", "PyTorchJob", replicas(
        "pytorchReplicaSpecs", Master=pod("pytorch", metadata=None), Worker=pod("pytorch", metadata={})), "pytorch")
    assert [w.path.split(".")[-4] for w in resource_warnings(doc)] == ["Master", "Worker"]
    two_steps = argo("main", {"container": {"name": "t", "image": "t:1", "args": [ARG]}})
    two_steps["spec"]["trialTemplate"]["trialSpec"]["spec"]["templates"].append(
        {"name": "other", "script": {"image": "t:1", "source": "echo"}})
    assert resource_warnings(two_steps) == []
    del two_steps["spec"]["trialTemplate"]["trialSpec"]["spec"]["podMetadata"]
    assert [w.path for w in resource_warnings(two_steps)] == [
        "spec.trialTemplate.trialSpec.spec.podMetadata.annotations"]


def test_a_pod_without_the_primary_container_is_a_warning():
    doc = experiment("kubeflow.org/v1", "MPIJob", replicas(
        "mpiReplicaSpecs", Launcher=pod("mpi-launcher"), Worker=pod("mpi-worker")), "mpi-launcher")
    assert check_resource(doc) == []
    (warning,) = resource_warnings(doc)
    assert warning.path == "spec.trialTemplate.trialSpec.spec.mpiReplicaSpecs.Worker.template"
    assert "has no container named mpi-launcher: Katib 0.18 and later refuse" in warning.message
    assert warning.value == ["mpi-worker"]


@pytest.mark.parametrize("trial_spec", [
    None, "text", {"apiVersion": "batch/v1", "kind": "Job"}, {"apiVersion": "batch/v1", "kind": "Job", "spec": []},
    {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"containers": "x"}}}},
    {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": {"pytorchReplicaSpecs": {"Master": None}}},
    {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "spec": {"templates": [None, {"steps": []}]}},
    {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun", "spec": {"pipelineRef": {"name": "p"}}},
    {"apiVersion": 1, "kind": "Job", "spec": {}},
])
def test_unreadable_templates_are_left_to_the_other_rules(trial_spec):
    assert pod_templates(trial_spec) is None
