"""Check spec.trialTemplate: upstream's webhook rules, the primary container, and warnings about its pods."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from katib_validators.pods import ISTIO_INJECT, TRIAL_SPEC, PodTemplate, pod_templates, primary_pods
from katib_validators.problems import Problem

PATH = "spec.trialTemplate"
# Kinds whose success and failure conditions Katib's defaulting fills in.
DEFAULTED_KINDS = ("Job", "TFJob", "PyTorchJob", "XGBoostJob", "MPIJob", "TrainJob")
META_KEYS = ("Name", "Namespace", "Kind", "APIVersion", "Annotations", "Labels")
_USE = re.compile(r"\$\{trialParameters\.(.+?)\}")
_META = re.compile(r"\$\{trialSpec\.(.+?)\}")


def check_trial_template(spec: Mapping[str, Any]) -> list[Problem]:
    """Every problem upstream's webhook would find in spec.trialTemplate, plus its references."""
    template = spec.get("trialTemplate")
    if not isinstance(template, Mapping):
        return [Problem(PATH, "give a trialTemplate (trialSpec, trialParameters, primaryContainerName)")]
    problems = []
    if not _text(template.get("primaryContainerName")):
        problems.append(Problem(f"{PATH}.primaryContainerName", "name the container that runs the training code"))
    problems += _check_source(template)
    problems += _check_primary_container(template)
    parameters = template.get("trialParameters")
    if not isinstance(parameters, list):
        return problems + [Problem(f"{PATH}.trialParameters", "list the trial parameters as {name, reference}",
                                   parameters)]
    names = _declared(parameters, _parameter_names(spec), problems)
    trial_spec = template.get("trialSpec")
    if isinstance(trial_spec, Mapping):
        problems += _check_substitutions(json.dumps(trial_spec, default=str), names)
    return problems


def _check_source(template: Mapping[str, Any]) -> list[Problem]:
    trial_spec, config_map = template.get("trialSpec"), template.get("configMap")
    if (trial_spec is None) == (config_map is None):
        return [Problem(PATH, "give exactly one of trialSpec and configMap")]
    if config_map is not None:
        fields = ("configMapName", "configMapNamespace", "templatePath")
        if not isinstance(config_map, Mapping) or not all(_text(config_map.get(f)) for f in fields):
            return [Problem(f"{PATH}.configMap", f"give {', '.join(fields)}")]
        return []
    if not isinstance(trial_spec, Mapping):
        return [Problem(f"{PATH}.trialSpec", "must be a Kubernetes resource (apiVersion, kind, spec)")]
    problems = []
    if not _text(trial_spec.get("apiVersion")) or not _text(trial_spec.get("kind")):
        problems.append(Problem(f"{PATH}.trialSpec", "give the resource's apiVersion and kind"))
    metadata = trial_spec.get("metadata")
    if isinstance(metadata, Mapping) and (metadata.get("name") or metadata.get("namespace")):
        problems.append(Problem(f"{PATH}.trialSpec.metadata", "remove name and namespace: Katib sets them"))
    if trial_spec.get("kind") not in DEFAULTED_KINDS and not (
            _text(template.get("successCondition")) and _text(template.get("failureCondition"))):
        problems.append(Problem(PATH, f"give successCondition and failureCondition (Katib fills them in only "
                                      f"for {', '.join(DEFAULTED_KINDS)})"))
    return problems


def _check_primary_container(template: Mapping[str, Any]) -> list[Problem]:
    name, pods = template.get("primaryContainerName"), pod_templates(template.get("trialSpec"))
    if not _text(name) or pods is None:
        return []
    primary = primary_pods(pods, template.get("primaryPodLabels"))
    if any(p.containers is None or name in p.containers for p in primary):
        return []
    names = sorted({c for p in primary for c in p.containers or () if isinstance(c, str)})
    where = ", ".join(p.path.removeprefix(f"{TRIAL_SPEC}.") for p in primary)
    argo = " (Argo names the container of a container or script template 'main')" \
        if template["trialSpec"].get("kind") == "Workflow" else ""
    return [Problem(f"{PATH}.primaryContainerName", f"names no container of the trial's primary pod ({where}), so "
                    f"Katib's metrics collector never attaches and the trial never finishes; use "
                    f"{' or '.join(names) or 'the name of the training container'}{argo}", name)]


def trial_pod_warnings(spec: Mapping[str, Any]) -> list[Problem]:
    """What may stop a trial's pods in some clusters: no Istio opt-out, a pod without the primary container."""
    template = spec.get("trialTemplate")
    pods = pod_templates(template.get("trialSpec")) if isinstance(template, Mapping) else None
    if pods is None:
        return []
    warnings, seen = [], set()
    for pod in pods:
        if not pod.istio_disabled() and pod.annotate_at not in seen:
            seen.add(pod.annotate_at)
            warnings.append(Problem(pod.annotate_at, f'add {ISTIO_INJECT}: "false": where the namespace injects '
                                    "Istio sidecars, the sidecar keeps the pod running after training ends and the "
                                    "trial never completes (harmless without Istio)", *_istio_value(pod)))
    name = template.get("primaryContainerName")
    if _text(name) and not _check_primary_container(template):
        warnings += [Problem(pod.path, f"has no container named {name}: Katib 0.18 and later refuse to "
                             "create any trial pod without the primary container (the pod webhook adds the trial "
                             "name to it); give this pod's main container that name", list(pod.containers))
                     for pod in pods if pod.containers is not None and name not in pod.containers]
    return warnings


def _istio_value(pod: PodTemplate) -> tuple[Any, ...]:
    values = [m[key][ISTIO_INJECT] for m in pod.metadata for key in ("annotations", "labels")
              if isinstance(m, Mapping) and isinstance(m.get(key), Mapping) and ISTIO_INJECT in m[key]]
    return tuple(values[:1])


def _declared(parameters: list[Any], known: set[str], problems: list[Problem]) -> set[str]:
    names: set[str] = set()
    references: set[str] = set()
    for i, item in enumerate(parameters):
        where = f"{PATH}.trialParameters[{i}]"
        name = item.get("name") if isinstance(item, Mapping) else None
        reference = item.get("reference") if isinstance(item, Mapping) else None
        if not _text(name) or not _text(reference) or "{" in name or "}" in name:
            problems.append(Problem(where, "give a name (without '{' or '}') and a reference"))
        elif name in names:
            problems.append(Problem(f"{where}.name", "already declared; names must be unique", name))
        elif reference in references:
            problems.append(Problem(f"{where}.reference", "already referenced; references must be unique", reference))
        else:
            names.add(name)
            references.add(reference)
            if known and reference not in known and not _is_meta(reference):
                problems.append(Problem(f"{where}.reference", f"no such parameter in spec.parameters; "
                                        f"choose one of {', '.join(sorted(known))} or a ${{trialSpec.Name}} key",
                                        reference))
    return names


def _check_substitutions(text: str, names: set[str]) -> list[Problem]:
    used = set(_USE.findall(text))
    problems = [Problem(f"{PATH}.trialParameters", f"{name} is declared but the trialSpec never uses "
                        f"${{trialParameters.{name}}}; use it or remove it", name) for name in sorted(names - used)]
    problems += [Problem(f"{PATH}.trialSpec", f"uses ${{trialParameters.{name}}}, which trialParameters does not "
                         "declare; add it there", name) for name in sorted(used - names)]
    return problems


def _parameter_names(spec: Mapping[str, Any]) -> set[str]:
    parameters = spec.get("parameters")
    return {p["name"] for p in parameters if isinstance(p, Mapping) and isinstance(p.get("name"), str)} \
        if isinstance(parameters, list) else set()


def _is_meta(reference: str) -> bool:
    match = _META.search(reference)  # upstream searches, so the key may sit inside other text
    if not match:
        return False
    key = match.group(1)
    indexed = re.fullmatch(r"(.+)\[(.+)\]", key)
    return key in META_KEYS or bool(indexed and indexed.group(1) in META_KEYS)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
