"""Build Katib protobuf experiments from the YAML-form documents of conftest."""

from __future__ import annotations

from katib_api import api_pb2 as pb

_TYPES = {"double": pb.DOUBLE, "int": pb.INT, "discrete": pb.DISCRETE, "categorical": pb.CATEGORICAL}
_DISTRIBUTIONS = {"uniform": pb.UNIFORM, "logUniform": pb.LOG_UNIFORM, "normal": pb.NORMAL, "logNormal": pb.LOG_NORMAL}


def experiment_message(doc: dict) -> pb.Experiment:
    spec = doc["spec"]
    message = pb.Experiment(name=doc["metadata"]["name"])
    message.spec.objective.type = pb.MAXIMIZE if spec["objective"]["type"] == "maximize" else pb.MINIMIZE
    message.spec.objective.objective_metric_name = spec["objective"]["objectiveMetricName"]
    message.spec.algorithm.algorithm_name = spec["algorithm"]["algorithmName"]
    for setting in spec["algorithm"]["algorithmSettings"]:
        message.spec.algorithm.algorithm_settings.add(name=setting["name"], value=setting["value"])
    message.spec.max_trial_count = spec.get("maxTrialCount", 0)
    message.spec.parallel_trial_count = spec.get("parallelTrialCount", 0)
    for parameter in spec["parameters"]:
        feasible = parameter["feasibleSpace"]
        space = pb.FeasibleSpace(min=feasible.get("min", ""), max=feasible.get("max", ""),
                                 step=feasible.get("step", ""), list=feasible.get("list", []),
                                 distribution=_DISTRIBUTIONS.get(feasible.get("distribution"), 0))
        message.spec.parameter_specs.parameters.add(
            name=parameter["name"], parameter_type=_TYPES[parameter["parameterType"]], feasible_space=space)
    return message
