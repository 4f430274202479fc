"""Table-driven cases, one table per rule: each has a good input and at least one bad one."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from katib_validators.experiment import parse_experiment
from katib_validators.resource import check_resource

BASE: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "mnist-tpe", "namespace": "kubeflow"},
    "spec": {
        "objective": {"type": "maximize", "goal": 0.99, "objectiveMetricName": "accuracy",
                      "additionalMetricNames": ["loss"]},
        "algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "random_state", "value": "7"}]},
        "parallelTrialCount": 3, "maxTrialCount": 12, "maxFailedTrialCount": 3,
        "parameters": [
            {"name": "lr", "parameterType": "double",
             "feasibleSpace": {"min": "0.001", "max": "0.1", "distribution": "logUniform"}},
            {"name": "momentum", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "0.9"}},
            {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
        "trialTemplate": {
            "primaryContainerName": "training",
            "trialParameters": [{"name": "learningRate", "reference": "lr"},
                                {"name": "momentum", "reference": "momentum"},
                                {"name": "optimizer", "reference": "optimizer"}],
            "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "training", "image": "mnist:1", "command": [
                    "python3", "mnist.py", "--lr=${trialParameters.learningRate}",
                    "--momentum=${trialParameters.momentum}", "--optimizer=${trialParameters.optimizer}"]}]}}}},
        },
    },
}

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_DELETE = object()


def _set(doc: dict, path: str, value: Any) -> None:
    keys = [int(index) if index else name for name, index in _STEP.findall(path)]
    target = doc
    for key in keys[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value


def edit(*changes: tuple[str, Any]):
    """A mutator that sets each (dotted path, value); _DELETE removes the key."""
    def mutate(doc: dict) -> None:
        for path, value in changes:
            _set(doc, path, value)
    return mutate


def param(i: int, **space: Any):
    return edit(*((f"spec.parameters[{i}].feasibleSpace.{k}", v) for k, v in space.items()))


def algo(name: str, *settings: tuple[str, Any]):
    return edit(("spec.algorithm", {"algorithmName": name,
                                    "algorithmSettings": [{"name": n, "value": v} for n, v in settings]}))


def params(*items: dict):
    """Replace the parameters, and the template's references with ones to the new names."""
    names = [item["name"] for item in items]
    return edit(("spec.parameters", list(items)),
                ("spec.trialTemplate.trialParameters", [{"name": n, "reference": n} for n in names]),
                ("spec.trialTemplate.trialSpec.spec", {"args": [f"${{trialParameters.{n}}}" for n in names]}))


def dbl(name: str, low: str, high: str, **extra: Any) -> dict:
    return {"name": name, "parameterType": "double", "feasibleSpace": {"min": low, "max": high, **extra}}


def integer(name: str, low: str, high: str, **extra: Any) -> dict:
    return {"name": name, "parameterType": "int", "feasibleSpace": {"min": low, "max": high, **extra}}


def cat(name: str, *values: Any) -> dict:
    return {"name": name, "parameterType": "categorical", "feasibleSpace": {"list": list(values)}}


def template_params(*pairs: tuple[str, str]):
    return edit(("spec.trialTemplate.trialParameters", [{"name": n, "reference": r} for n, r in pairs]))


# grid over x in {0.0, ..., 0.5} (6 values) and n in {1, 2}: 12 points
def _grid(step: str | None, max_trials: int = 12):
    double = dbl("x", "0.0", "0.5") if step is None else dbl("x", "0.0", "0.5", step=step)
    return edit(("spec.algorithm.algorithmName", "grid"), ("spec.maxTrialCount", max_trials),
                ("spec.parameters", [double, integer("n", "1", "2")]),
                ("spec.trialTemplate.trialParameters", [{"name": "x", "reference": "x"},
                                                        {"name": "n", "reference": "n"}]),
                ("spec.trialTemplate.trialSpec.spec", {"args": ["${trialParameters.x}", "${trialParameters.n}"]}))


OK = None  # expected path of a good case: no problem at all
P0 = "spec.parameters[0].feasibleSpace"
TT = "spec.trialTemplate"

# rule -> [(label, mutator, expected problem path or OK)]
RULES: dict[str, list[tuple[str, Any, str | None]]] = {
    "name.pattern": [
        ("lowercase-dashes", edit(("metadata.name", "a-b-1")), OK),
        ("underscore", edit(("metadata.name", "abc_x")), "metadata.name"),
        ("uppercase", edit(("metadata.name", "Abc")), "metadata.name"),
        ("trailing-dash", edit(("metadata.name", "abc-")), "metadata.name"),
        ("missing", edit(("metadata", {})), "metadata.name"),
    ],
    "name.length": [
        ("40-chars", edit(("metadata.name", "a" * 40)), OK),
        ("41-chars", edit(("metadata.name", "a" * 41)), "metadata.name"),
    ],
    "counts.whole": [
        ("ints", edit(("spec.maxTrialCount", 5)), OK),
        ("string", edit(("spec.maxTrialCount", "5")), "spec.maxTrialCount"),
        ("bool", edit(("spec.parallelTrialCount", True)), "spec.parallelTrialCount"),
        ("above-int32", edit(("spec.maxTrialCount", 2**31)), "spec.maxTrialCount"),
    ],
    "counts.positive": [
        ("one", edit(("spec.maxTrialCount", 3), ("spec.parallelTrialCount", 1)), OK),
        ("max-zero", edit(("spec.maxTrialCount", 0)), "spec.maxTrialCount"),
        ("parallel-zero", edit(("spec.parallelTrialCount", 0)), "spec.parallelTrialCount"),
        ("failed-negative", edit(("spec.maxFailedTrialCount", -1)), "spec.maxFailedTrialCount"),
    ],
    "counts.not_above_max": [
        ("equal", edit(("spec.parallelTrialCount", 12), ("spec.maxFailedTrialCount", 12)), OK),
        ("parallel-above", edit(("spec.parallelTrialCount", 13)), "spec.parallelTrialCount"),
        ("failed-above", edit(("spec.maxFailedTrialCount", 13)), "spec.maxFailedTrialCount"),
    ],
    "counts.default_parallel": [
        ("max-3", edit(("spec.parallelTrialCount", _DELETE), ("spec.maxTrialCount", 3),
                       ("spec.maxFailedTrialCount", 1)), OK),
        ("max-2", edit(("spec.parallelTrialCount", _DELETE), ("spec.maxTrialCount", 2),
                       ("spec.maxFailedTrialCount", 1)), "spec.parallelTrialCount"),
    ],
    "objective.type": [
        ("minimize", edit(("spec.objective.type", "minimize")), OK),
        ("misspelt", edit(("spec.objective.type", "minimise")), "spec.objective.type"),
        ("missing", edit(("spec.objective.type", _DELETE)), "spec.objective.type"),
        ("no-objective", edit(("spec.objective", _DELETE)), "spec.objective"),
    ],
    "objective.metric": [
        ("named", edit(("spec.objective.objectiveMetricName", "loss"), ("spec.objective.additionalMetricNames", [])),
         OK),
        ("blank", edit(("spec.objective.objectiveMetricName", " ")), "spec.objective.objectiveMetricName"),
        ("number", edit(("spec.objective.objectiveMetricName", 3)), "spec.objective.objectiveMetricName"),
    ],
    "objective.goal": [
        ("absent", edit(("spec.objective.goal", _DELETE)), OK),
        ("int", edit(("spec.objective.goal", 1)), OK),
        ("quoted", edit(("spec.objective.goal", "0.9")), "spec.objective.goal"),
        ("nan", edit(("spec.objective.goal", float("nan"))), "spec.objective.goal"),
        ("bool", edit(("spec.objective.goal", True)), "spec.objective.goal"),
    ],
    "objective.additional_metrics": [
        ("other", edit(("spec.objective.additionalMetricNames", ["loss", "f1"])), OK),
        ("repeats-objective", edit(("spec.objective.additionalMetricNames", ["accuracy"])),
         "spec.objective.additionalMetricNames"),
        ("not-a-list", edit(("spec.objective.additionalMetricNames", "loss")), "spec.objective.additionalMetricNames"),
        ("empty-name", edit(("spec.objective.additionalMetricNames", [""])), "spec.objective.additionalMetricNames[0]"),
    ],
    "objective.metric_strategies": [
        ("max", edit(("spec.objective.metricStrategies", [{"name": "accuracy", "value": "max"}])), OK),
        ("unknown-value", edit(("spec.objective.metricStrategies", [{"name": "accuracy", "value": "avg"}])),
         "spec.objective.metricStrategies[0].value"),
        ("no-name", edit(("spec.objective.metricStrategies", [{"value": "min"}])),
         "spec.objective.metricStrategies[0].name"),
        ("repeated", edit(("spec.objective.metricStrategies", [{"name": "loss", "value": "min"},
                                                               {"name": "loss", "value": "max"}])),
         "spec.objective.metricStrategies[1].name"),
    ],
    "algorithm.name": [
        ("alias", algo("optuna-tpe"), OK),
        ("unknown", algo("hyperband"), "spec.algorithm.algorithmName"),
        ("missing", edit(("spec.algorithm", {})), "spec.algorithm.algorithmName"),
    ],
    "algorithm.distribution": [
        ("log-uniform", param(1, distribution="logUniform"), OK),
        ("normal-on-optuna", param(1, distribution="normal"), "spec.parameters[1].feasibleSpace.distribution"),
    ],
    "space.present": [
        ("one", params(dbl("x", "0", "1")), OK),
        ("empty", params(), "spec.parameters"),
        ("missing", edit(("spec.parameters", _DELETE)), "spec.parameters"),
    ],
    "space.name": [
        ("renamed", edit(("spec.parameters[2].name", "opt"),
                         ("spec.trialTemplate.trialParameters[2].reference", "opt")), OK),
        ("blank", edit(("spec.parameters[0].name", "")), "spec.parameters[0].name"),
        ("not-a-string", edit(("spec.parameters[0].name", 5)), "spec.parameters[0].name"),
    ],
    "space.unique_names": [
        ("distinct", edit(), OK),
        ("repeated", edit(("spec.parameters[1].name", "lr")), "spec.parameters[1].name"),
    ],
    "space.parameter_type": [
        ("int", params(integer("x", "1", "5")), OK),
        ("unknown", edit(("spec.parameters[0].parameterType", "unknown")), "spec.parameters[0].parameterType"),
        ("float", edit(("spec.parameters[0].parameterType", "float")), "spec.parameters[0].parameterType"),
    ],
    "space.feasible_space": [
        ("given", edit(), OK),
        ("missing", edit(("spec.parameters[0].feasibleSpace", _DELETE)), "spec.parameters[0].feasibleSpace"),
        ("scalar", edit(("spec.parameters[0].feasibleSpace", "0-1")), "spec.parameters[0].feasibleSpace"),
    ],
    "space.numbers_parse": [
        ("exponent", param(0, min="1e-3"), OK),
        ("word", param(0, min="small"), f"{P0}.min"),
        ("infinite", param(0, max="inf"), f"{P0}.max"),
        ("missing-max", param(0, max=_DELETE), f"{P0}.max"),
        ("a-list", param(0, min=["0.1"]), f"{P0}.min"),
    ],
    "space.int_bounds": [
        ("whole", params(integer("x", "-3", "7")), OK),
        ("fraction", params(integer("x", "1.5", "7")), f"{P0}.min"),
        ("decimal-point", params(integer("x", "1", "7.0")), f"{P0}.max"),
        ("fractional-step", params(integer("x", "1", "7", step="0.5")), f"{P0}.step"),
    ],
    "space.int64": [
        ("2^62", params(integer("x", "0", str(2**62))), OK),
        ("2^64", params(integer("x", "0", str(2**64))), f"{P0}.max"),
        ("5000-digits", params(integer("x", "0", "9" * 5000)), f"{P0}.max"),
    ],
    "space.min_below_max": [
        ("below", param(1, min="0.1", max="0.2"), OK),
        ("equal", param(1, min="0.5", max="0.5"), "spec.parameters[1].feasibleSpace.min"),
        ("above", param(1, min="0.9", max="0.5"), "spec.parameters[1].feasibleSpace.min"),
    ],
    "space.range_finite": [
        ("wide", params(dbl("x", "-1e300", "1e300")), OK),
        ("overflowing", params(dbl("x", "-1e308", "1e308")), f"{P0}.max"),
    ],
    "space.log_min_positive": [
        ("positive", param(0, min="1e-10"), OK),
        ("zero", param(0, min="0"), f"{P0}.min"),
        ("negative-int", params(integer("x", "-1", "10", distribution="logUniform")), f"{P0}.min"),
    ],
    "space.step_positive": [
        ("positive", param(1, step="0.1"), OK),
        ("zero", param(1, step="0"), "spec.parameters[1].feasibleSpace.step"),
        ("negative", param(1, step="-0.1"), "spec.parameters[1].feasibleSpace.step"),
    ],
    "space.step_fits": [
        ("whole-range", param(1, min="0.5", max="0.9", step="0.4"), OK),
        ("wider", param(1, step="0.5"), "spec.parameters[1].feasibleSpace.step"),
        ("int-wider", params(integer("x", "1", "4", step="4")), f"{P0}.step"),
    ],
    "space.step_count": [
        ("fine", param(1, step="1e-9"), OK),
        ("subnormal", param(1, step="1e-320"), "spec.parameters[1].feasibleSpace.step"),
    ],
    "space.numeric_without_list": [
        ("min-max", edit(), OK),
        ("with-list", param(1, list=["0.5"]), "spec.parameters[1].feasibleSpace.list"),
    ],
    "space.list_without_bounds": [
        ("list-only", params(cat("opt", "a", "b")), OK),
        ("with-min", edit(("spec.parameters[2].feasibleSpace.min", "0")), "spec.parameters[2].feasibleSpace.min"),
        ("with-step", edit(("spec.parameters[2].feasibleSpace.step", "1")), "spec.parameters[2].feasibleSpace.step"),
    ],
    "space.list_non_empty": [
        ("one-value", params(cat("opt", "a")), OK),
        ("empty", params(cat("opt")), f"{P0}.list"),
        ("missing", edit(("spec.parameters[2].feasibleSpace", {})), "spec.parameters[2].feasibleSpace.list"),
    ],
    "space.list_no_duplicates": [
        ("distinct", params(cat("opt", "a", "A")), OK),
        ("repeated", params(cat("opt", "a", "b", "a")), f"{P0}.list[2]"),
        ("same-number", params({"name": "d", "parameterType": "discrete",
                                "feasibleSpace": {"list": ["1", "1.0"]}}), f"{P0}.list[1]"),
    ],
    "space.discrete_numbers": [
        ("numbers", params({"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "2.5"]}}), OK),
        ("word", params({"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": ["1", "x"]}}),
         f"{P0}.list[1]"),
        ("nan", params({"name": "d", "parameterType": "discrete", "feasibleSpace": {"list": ["nan"]}}),
         f"{P0}.list[0]"),
    ],
    "space.distribution_enum": [
        ("uniform", param(1, distribution="uniform"), OK),
        ("list-kind-ignored", edit(("spec.parameters[2].feasibleSpace.distribution", "uniform")), OK),
        ("unknown", param(1, distribution="gaussian"), "spec.parameters[1].feasibleSpace.distribution"),
    ],
    "grid.step_for_doubles": [
        ("stepped", _grid(step="0.1"), OK),
        ("no-step", _grid(step=None), "spec.parameters[0].feasibleSpace.step"),
    ],
    "grid.enough_points": [
        ("exactly", _grid(step="0.1", max_trials=12), OK),
        ("too-many-trials", _grid(step="0.1", max_trials=13), "spec.maxTrialCount"),
    ],
    "cmaes.two_numeric": [
        ("two", algo("cmaes"), OK),
        ("one", edit(("spec.algorithm.algorithmName", "cmaes"), ("spec.parameters", [cat("o", "a"),
                                                                                     dbl("x", "0", "1")]),
                     ("spec.trialTemplate.trialParameters", [])), "spec.parameters"),
    ],
    "settings.shape": [
        ("list", edit(("spec.algorithm.algorithmSettings", [])), OK),
        ("mapping", edit(("spec.algorithm.algorithmSettings", {"random_state": "1"})),
         "spec.algorithm.algorithmSettings"),
        ("no-name", edit(("spec.algorithm.algorithmSettings", [{"value": "1"}])),
         "spec.algorithm.algorithmSettings[0]"),
    ],
    "settings.duplicate": [
        ("once", algo("cmaes", ("sigma", "0.3")), OK),
        ("alias-and-name", algo("cmaes", ("sigma", "0.3"), ("sigma0", "0.2")),
         "spec.algorithm.algorithmSettings[1].name"),
    ],
    "resource.kind": [
        ("experiment", edit(), OK),
        ("wrong-api", edit(("apiVersion", "kubeflow.org/v1alpha3")), "apiVersion"),
        ("lowercase-kind", edit(("kind", "experiment")), "kind"),
    ],
    "resource.string_fields": [
        ("quoted", edit(), OK),
        ("unquoted-min", param(1, min=0.5), "spec.parameters[1].feasibleSpace.min"),
        ("unquoted-list", edit(("spec.parameters[2].feasibleSpace.list", [1, 2])),
         "spec.parameters[2].feasibleSpace.list[0]"),
        ("unquoted-setting", edit(("spec.algorithm.algorithmSettings[0].value", 7)),
         "spec.algorithm.algorithmSettings[0].value"),
    ],
    "resource.resume_policy": [
        ("from-volume", edit(("spec.resumePolicy", "FromVolume")), OK),
        ("unknown", edit(("spec.resumePolicy", "Always")), "spec.resumePolicy"),
    ],
    "template.present": [
        ("given", edit(), OK),
        ("missing", edit(("spec.trialTemplate", _DELETE)), TT),
    ],
    "template.primary_container": [
        ("named", edit(("spec.trialTemplate.primaryContainerName", "training")), OK),
        ("missing", edit(("spec.trialTemplate.primaryContainerName", _DELETE)), f"{TT}.primaryContainerName"),
    ],
    "template.source": [
        ("config-map", edit(("spec.trialTemplate.trialSpec", _DELETE), ("spec.trialTemplate.configMap", {
            "configMapName": "templates", "configMapNamespace": "kubeflow", "templatePath": "job.yaml"})), OK),
        ("both", edit(("spec.trialTemplate.configMap", {"configMapName": "t"})), TT),
        ("neither", edit(("spec.trialTemplate.trialSpec", _DELETE)), TT),
        ("config-map-incomplete", edit(("spec.trialTemplate.trialSpec", _DELETE),
                                       ("spec.trialTemplate.configMap", {"configMapName": "t"})), f"{TT}.configMap"),
        ("no-kind", edit(("spec.trialTemplate.trialSpec.kind", _DELETE)), f"{TT}.trialSpec"),
        ("named", edit(("spec.trialTemplate.trialSpec.metadata", {"name": "x"})), f"{TT}.trialSpec.metadata"),
    ],
    "template.conditions": [
        ("custom-kind-with-conditions", edit(("spec.trialTemplate.trialSpec.kind", "RayJob"),
                                             ("spec.trialTemplate.successCondition", "status.ok"),
                                             ("spec.trialTemplate.failureCondition", "status.failed")), OK),
        ("custom-kind-without", edit(("spec.trialTemplate.trialSpec.kind", "RayJob")), TT),
    ],
    "template.trial_parameters": [
        ("meta-reference", edit(("spec.trialTemplate.trialParameters[2].reference", "${trialSpec.Name}")), OK),
        ("missing", edit(("spec.trialTemplate.trialParameters", _DELETE)), f"{TT}.trialParameters"),
        ("no-reference", edit(("spec.trialTemplate.trialParameters[0].reference", "")), f"{TT}.trialParameters[0]"),
        ("brace-name", edit(("spec.trialTemplate.trialParameters[0].name", "a}")), f"{TT}.trialParameters[0]"),
        ("duplicate-name", template_params(("learningRate", "lr"), ("learningRate", "momentum")),
         f"{TT}.trialParameters[1].name"),
        ("duplicate-reference", template_params(("learningRate", "lr"), ("momentum", "lr")),
         f"{TT}.trialParameters[1].reference"),
        ("unknown-reference", edit(("spec.trialTemplate.trialParameters[0].reference", "rate")),
         f"{TT}.trialParameters[0].reference"),
    ],
    "template.substitutions": [
        ("all-used", edit(), OK),
        ("declared-unused", template_params(("learningRate", "lr"), ("momentum", "momentum"),
                                            ("optimizer", "optimizer"), ("trial", "${trialSpec.Name}")),
         f"{TT}.trialParameters"),
        ("used-undeclared", template_params(("learningRate", "lr"), ("momentum", "momentum")), f"{TT}.trialSpec"),
    ],
}


CASES = [pytest.param(rule, mutate, expected, id=f"{rule}/{label}")
         for rule, cases in RULES.items() for label, mutate, expected in cases]


def offline_problems(doc: Any, backend: str | None = "optuna") -> list:
    """What `katib-suggest validate` reports for one document."""
    return parse_experiment(doc, backend)[1] + check_resource(doc)


def test_base_is_valid():
    assert offline_problems(BASE) == []


def test_every_rule_has_a_good_and_a_bad_case():
    for rule, cases in RULES.items():
        outcomes = {expected is OK for _, _, expected in cases}
        assert outcomes == {True, False}, rule


@pytest.mark.parametrize("rule, mutate, expected", CASES)
def test_rule(rule, mutate, expected):
    doc = copy.deepcopy(BASE)
    mutate(doc)
    problems = offline_problems(doc)
    paths = [p.path for p in problems]
    if expected is OK:
        assert problems == [], [str(p) for p in problems]
    else:
        assert expected in paths, [str(p) for p in problems]
    assert all(p.message and p.path is not None for p in problems)
