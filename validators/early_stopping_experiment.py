"""Check an Experiment's spec.earlyStopping against the rest of it: algorithm, settings, objective, collector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_validators.early_stopping import PATH, check_settings, settings_pairs
from katib_validators.problems import Problem

COLLECTOR_PATH = "spec.metricsCollectorSpec.collector.kind"
# Katib's file metrics collector (kinds StdOut and File) is the only one that applies stop rules
# (cmd/metricscollector/v1beta1/file-metricscollector, updateStopRules); the TensorFlowEvent collector
# has no stop-rule flags, Push and None attach no collector at all.
APPLIES_RULES = ("StdOut", "File")
NEVER_APPLIES = ("None", "Push", "TensorFlowEvent", "PrometheusMetric")


def check_early_stopping(doc: Any) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of spec.earlyStopping; both empty when the Experiment has none."""
    spec = doc.get("spec") if isinstance(doc, Mapping) else None
    raw = spec.get("earlyStopping") if isinstance(spec, Mapping) else None
    if raw is None:
        return [], []
    if not isinstance(raw, Mapping):
        return [Problem(PATH, "must be a mapping with algorithmName and algorithmSettings", raw)], []
    pairs, errors = settings_pairs(raw.get("algorithmSettings"))
    # with an unnamed entry the indexes no longer match: the algorithm's name is still checked
    errors += check_settings(raw.get("algorithmName"), pairs if pairs is not None else [])[1]
    errors += _objective(spec.get("objective"))
    collector_errors, warnings = _collector(spec.get("metricsCollectorSpec"))
    return errors + collector_errors, warnings


def _objective(objective: Any) -> list[Problem]:
    metric = objective.get("objectiveMetricName") if isinstance(objective, Mapping) else None
    if not isinstance(metric, str) or not metric.strip():
        return [Problem("spec.objective.objectiveMetricName",
                        "early-stopping rules compare the objective metric; name it (e.g. loss)", metric)]
    return []


def _collector(raw: Any) -> tuple[list[Problem], list[Problem]]:
    collector = raw.get("collector") if isinstance(raw, Mapping) else None
    kind = collector.get("kind", "StdOut") if isinstance(collector, Mapping) else "StdOut"
    if kind in APPLIES_RULES:
        return [], []
    fix = f"use kind {' or '.join(APPLIES_RULES)} (the trial prints or writes metric=value after every step), " \
          "or remove spec.earlyStopping"
    if kind in NEVER_APPLIES:
        return [Problem(COLLECTOR_PATH, f"Katib's {kind} metrics collector never applies early-stopping rules, "
                                        f"so no trial would ever be stopped; {fix}", kind)], []
    return [], [Problem(COLLECTOR_PATH, f"a {kind} collector stops trials only if it applies Katib's -stop-rule "
                                        "arguments itself, as the StdOut/File collector does", kind)]
