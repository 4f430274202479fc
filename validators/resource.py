"""Checks only the applied YAML form has: kind, CRD field types, defaults, resumePolicy, template."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_validators.counts import is_whole
from katib_validators.fields import unknown_fields
from katib_validators.problems import Problem, guarded
from katib_validators.template import check_trial_template, trial_pod_warnings

API_VERSION = "kubeflow.org/v1beta1"
KIND = "Experiment"
RESUME_POLICIES = ("Never", "LongRunning", "FromVolume")
DEFAULT_PARALLEL = 3  # what Katib's defaulting webhook sets when parallelTrialCount is absent
_STRING_FIELDS = ("min", "max", "step")


def check_resource(doc: Any) -> list[Problem]:
    """Problems of an Experiment resource that the gRPC form cannot carry; never raises.

    These are refused by the API server or by upstream's admission webhook
    before any suggestion service is called, so they are checked offline only.
    """
    if not isinstance(doc, Mapping):
        return [Problem("", "an Experiment is a mapping with apiVersion, kind, metadata and spec")]
    problems = guarded("apiVersion", lambda: _check_kind(doc)) + guarded("spec", lambda: unknown_fields(doc))
    spec = doc.get("spec")
    if not isinstance(spec, Mapping):
        return problems  # parse_experiment reports the missing spec
    problems += guarded("spec.parameters", lambda: _check_string_fields(spec))
    problems += guarded("spec.parallelTrialCount", lambda: _check_default_parallel(spec))
    problems += guarded("spec.resumePolicy", lambda: _check_resume_policy(spec.get("resumePolicy")))
    problems += guarded("spec.trialTemplate", lambda: check_trial_template(spec))
    return problems


def resource_warnings(doc: Any) -> list[Problem]:
    """What stops trials in some clusters but not in others (Istio injection, Katib's version): warnings that
    `validate` prints apart and that fail it only with --strict; never raises."""
    spec = doc.get("spec") if isinstance(doc, Mapping) else None
    if not isinstance(spec, Mapping):
        return []
    return guarded("spec.trialTemplate", lambda: trial_pod_warnings(spec))


def _check_kind(doc: Mapping[str, Any]) -> list[Problem]:
    problems = []
    if doc.get("apiVersion") != API_VERSION:
        problems.append(Problem("apiVersion", f"must be {API_VERSION}", doc.get("apiVersion")))
    if doc.get("kind") != KIND:
        problems.append(Problem("kind", f"must be {KIND}", doc.get("kind")))
    return problems


def _check_string_fields(spec: Mapping[str, Any]) -> list[Problem]:
    # The CRD types these as strings: the API server refuses an unquoted 0.01.
    problems = []
    parameters = spec.get("parameters")
    for i, item in enumerate(parameters if isinstance(parameters, list) else []):
        space = item.get("feasibleSpace") if isinstance(item, Mapping) else None
        if not isinstance(space, Mapping):
            continue
        where = f"spec.parameters[{i}].feasibleSpace"
        problems += [_quote(f"{where}.{field}", space[field]) for field in _STRING_FIELDS
                     if _unquoted(space.get(field))]
        values = space.get("list")
        problems += [_quote(f"{where}.list[{j}]", value) for j, value in enumerate(values)
                     if _unquoted(value)] if isinstance(values, list) else []
    algorithm = spec.get("algorithm")
    settings = algorithm.get("algorithmSettings") if isinstance(algorithm, Mapping) else None
    for i, item in enumerate(settings if isinstance(settings, list) else []):
        if isinstance(item, Mapping) and _unquoted(item.get("value")):
            problems.append(_quote(f"spec.algorithm.algorithmSettings[{i}].value", item["value"]))
    return problems


def _unquoted(value: Any) -> bool:
    return value is not None and not isinstance(value, str)


def _quote(path: str, value: Any) -> Problem:
    shown = str(value).lower() if isinstance(value, bool) else value
    return Problem(path, f"Kubernetes refuses a non-string here; quote it: \"{shown}\"", value)


def _check_default_parallel(spec: Mapping[str, Any]) -> list[Problem]:
    max_trials = spec.get("maxTrialCount")
    if spec.get("parallelTrialCount") is None and is_whole(max_trials) and 0 < max_trials < DEFAULT_PARALLEL:
        return [Problem("spec.parallelTrialCount", f"not set, so Katib uses {DEFAULT_PARALLEL}, which exceeds "
                        f"maxTrialCount ({max_trials}); set parallelTrialCount to at most {max_trials}")]
    return []


def _check_resume_policy(policy: Any) -> list[Problem]:
    if policy in (None, "") or (isinstance(policy, str) and policy in RESUME_POLICIES):
        return []
    return [Problem("spec.resumePolicy", f"must be one of {', '.join(RESUME_POLICIES)}", policy)]
