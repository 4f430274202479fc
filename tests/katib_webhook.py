"""Test oracle: upstream Katib's admission rules and the training operator's, transcribed independently of
katib_validators (kubeflow/katib pkg/webhook/v1beta1/experiment/validator, kubeflow/training-operator
pkg/webhooks), plus Katib's substitution of trial parameters into the trial template."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import kubernetes_validate

_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?")  # unanchored at the end, as upstream
_PLACEHOLDER = re.compile(r"\$\{trialParameters\..+?\}")
_REPLICAS = {"PyTorchJob": ("pytorchReplicaSpecs", ("Master", "Worker"), "pytorch"),
             "TFJob": ("tfReplicaSpecs", ("PS", "Worker", "Chief", "Master", "Evaluator"), "tensorflow")}
_DEFAULTED = ("Job", "TFJob", "PyTorchJob", "XGBoostJob", "MPIJob", "TrainJob")


def experiment_errors(doc: dict[str, Any]) -> list[str]:
    """What upstream's experiment webhook refuses in ``doc`` (after its defaulting)."""
    spec, errors = doc["spec"], []
    name = doc["metadata"]["name"]
    if not _NAME.match(name) or len(name) > 40:
        errors.append("metadata.name")
    max_trials, parallel, failed = (spec.get(k) for k in ("maxTrialCount", "parallelTrialCount",
                                                          "maxFailedTrialCount"))
    if failed is not None and (failed < 0 or (max_trials is not None and failed > max_trials)):
        errors.append("maxFailedTrialCount")
    if max_trials is not None and max_trials <= 0 or parallel is not None and parallel <= 0:
        errors.append("counts")
    if parallel is not None and max_trials is not None and parallel > max_trials:
        errors.append("parallelTrialCount")
    objective = spec.get("objective") or {}
    if objective.get("type") not in ("minimize", "maximize") or not objective.get("objectiveMetricName") or \
            objective.get("objectiveMetricName") in (objective.get("additionalMetricNames") or []):
        errors.append("objective")
    if not (spec.get("algorithm") or {}).get("algorithmName"):
        errors.append("algorithm")
    errors += _parameter_errors(spec.get("parameters") or [])
    errors += _collector_errors(spec.get("metricsCollectorSpec") or {"collector": {"kind": "StdOut"}})
    return errors + _template_errors(spec)


def _parameter_errors(parameters: list[dict[str, Any]]) -> list[str]:
    errors = [] if parameters else ["parameters"]
    for p in parameters:
        space = p.get("feasibleSpace") or {}
        if p.get("parameterType") not in ("int", "double", "discrete", "categorical") or \
                space.get("distribution", "uniform") not in ("uniform", "logUniform", "normal", "logNormal"):
            errors.append(f"parameter {p.get('name')}: type or distribution")
        elif p["parameterType"] in ("int", "double") and (space.get("list") or not space.get("min")
                                                          or not space.get("max")):
            errors.append(f"parameter {p['name']}: min/max")
        elif p["parameterType"] in ("discrete", "categorical") and any(k in space for k in ("min", "max", "step")):
            errors.append(f"parameter {p['name']}: list only")
    return errors


def _collector_errors(collector: dict[str, Any]) -> list[str]:
    kind = collector["collector"]["kind"]
    path = ((collector.get("source") or {}).get("fileSystemPath")) or {}
    if kind == "File" and (path.get("kind") != "File" or not os.path.isabs(path.get("path", ""))
                           or path.get("format") not in ("TEXT", "JSON")):
        return ["metricsCollectorSpec: File"]
    if kind == "TensorFlowEvent" and (path.get("kind") != "Directory" or not os.path.isabs(path.get("path", ""))
                                      or path.get("format")):
        return ["metricsCollectorSpec: TensorFlowEvent"]
    return [] if kind in ("StdOut", "File", "TensorFlowEvent", "Push") else ["metricsCollectorSpec: kind"]


def _template_errors(spec: dict[str, Any]) -> list[str]:
    template = spec["trialTemplate"]
    kind = template["trialSpec"].get("kind")
    errors = [] if template.get("primaryContainerName") else ["primaryContainerName"]
    if kind not in _DEFAULTED and not (template.get("successCondition") and template.get("failureCondition")):
        errors.append("conditions")
    text = json.dumps(template["trialSpec"])
    known, names, references = {p["name"] for p in spec["parameters"]}, set(), set()
    for item in template.get("trialParameters") or []:
        name, reference = item.get("name"), item.get("reference")
        if not name or not reference or "{" in name or "}" in name or name in names or reference in references \
                or reference not in known or f"${{trialParameters.{name}}}" not in text:
            errors.append(f"trialParameters {name}")
        names.add(name)
        references.add(reference)
        text = text.replace(f"${{trialParameters.{name}}}", "test-value")
    if _PLACEHOLDER.search(text):
        errors.append("undeclared trialParameters")
    resource = json.loads(text)
    if (resource.get("metadata") or {}).get("name") or not resource.get("apiVersion") or not kind:
        errors.append("trialSpec metadata, apiVersion or kind")
    return errors


def render_trial(spec: dict[str, Any], assignments: dict[str, str], trial: str = "trial-1") -> dict[str, Any]:
    """The trial's resource as Katib creates it: parameters substituted, name and namespace set."""
    template = spec["trialTemplate"]
    text = json.dumps(template["trialSpec"])
    for item in template["trialParameters"]:
        text = text.replace(f"${{trialParameters.{item['name']}}}", assignments[item["reference"]])
    resource = json.loads(text)
    resource["metadata"] = {**(resource.get("metadata") or {}), "name": trial, "namespace": "kubeflow"}
    return resource


def resource_errors(resource: dict[str, Any]) -> list[str]:
    """A rendered trial resource as its API server (Job: the Kubernetes schema, strict) or operator sees it."""
    if resource["kind"] == "Job":
        try:
            kubernetes_validate.validate(resource, kubernetes_validate.latest_version(), strict=True)
        except kubernetes_validate.ValidationError as error:
            return [str(error.message)]
        return []
    field, types, container = _REPLICAS[resource["kind"]]
    errors = []
    for replica, replica_spec in resource["spec"][field].items():
        containers = replica_spec["template"]["spec"]["containers"]
        if replica not in types or not all(c.get("image") for c in containers) or \
                container not in [c["name"] for c in containers] or \
                replica_spec.get("restartPolicy") not in (None, "Always", "OnFailure", "Never", "ExitCode"):
            errors.append(f"replica {replica}")
        if resource["kind"] == "PyTorchJob" and replica == "Master" and replica_spec.get("replicas") != 1:
            errors.append("Master replicas must be 1")
    return errors
