"""Field names the Experiment CRD does not know, each with the closest one it does (kubectl refuses them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_validators.problems import Problem
from katib_validators.spelling import did_you_mean

# kubeflow.org/v1beta1 Experiment, as far as its schema is fixed (trialTemplate, metricsCollectorSpec,
# earlyStopping and nasConfig carry free-form or separately checked parts and are not listed inside).
TOP = ("apiVersion", "kind", "metadata", "spec", "status")
SPEC = ("parameters", "objective", "algorithm", "earlyStopping", "trialTemplate", "parallelTrialCount",
        "maxTrialCount", "maxFailedTrialCount", "metricsCollectorSpec", "nasConfig", "resumePolicy")
OBJECTIVE = ("type", "goal", "objectiveMetricName", "additionalMetricNames", "metricStrategies")
ALGORITHM = ("algorithmName", "algorithmSettings")
PARAMETER = ("name", "parameterType", "feasibleSpace")
FEASIBLE_SPACE = ("max", "min", "list", "step", "distribution")
NAME_VALUE = ("name", "value")


def unknown_fields(doc: Any) -> list[Problem]:
    """One problem per field name the CRD does not declare, at the places whose fields are fixed."""
    if not isinstance(doc, Mapping):
        return []
    problems = _unknown(doc, "", TOP)
    spec = doc.get("spec")
    if not isinstance(spec, Mapping):
        return problems
    problems += _unknown(spec, "spec", SPEC)
    problems += _unknown(spec.get("objective"), "spec.objective", OBJECTIVE)
    algorithm = spec.get("algorithm")
    problems += _unknown(algorithm, "spec.algorithm", ALGORITHM)
    settings = algorithm.get("algorithmSettings") if isinstance(algorithm, Mapping) else None
    for i, item in enumerate(settings if isinstance(settings, list) else []):
        problems += _unknown(item, f"spec.algorithm.algorithmSettings[{i}]", NAME_VALUE)
    parameters = spec.get("parameters")
    for i, item in enumerate(parameters if isinstance(parameters, list) else []):
        problems += _unknown(item, f"spec.parameters[{i}]", PARAMETER)
        space = item.get("feasibleSpace") if isinstance(item, Mapping) else None
        problems += _unknown(space, f"spec.parameters[{i}].feasibleSpace", FEASIBLE_SPACE)
    return problems


def _unknown(node: Any, path: str, known: tuple[str, ...]) -> list[Problem]:
    if not isinstance(node, Mapping):
        return []
    where = f"{path}." if path else ""
    return [Problem(f"{where}{key}", f"unknown field, which Kubernetes refuses{did_you_mean(key, known)}; "
                    f"known here: {', '.join(known)}") for key in node if key not in known]
