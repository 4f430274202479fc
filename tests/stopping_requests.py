"""Builders of EarlyStopping requests as Katib's controller sends them, and a started early-stopping server."""

from __future__ import annotations

from contextlib import contextmanager

from katib_api import api_pb2 as pb
from katib_suggestion.server import Config
from katib_suggestion.stopping.server import make_stopping_server

CONDITIONS = pb.TrialStatus.TrialConditionType


def spec(algorithm: str = "medianstop", **settings) -> pb.EarlyStoppingSpec:
    return pb.EarlyStoppingSpec(algorithm_name=algorithm, algorithm_settings=[
        pb.EarlyStoppingSetting(name=k, value=str(v)) for k, v in settings.items()])


def rules_request(trials: dict[str, int], db_address: str, *, algorithm: str = "medianstop", maximize=False,
                  metric: str = "loss", name: str = "exp", **settings) -> pb.GetEarlyStoppingRulesRequest:
    """``trials``: name -> TrialConditionType."""
    objective = pb.ObjectiveSpec(type=pb.MAXIMIZE if maximize else pb.MINIMIZE, objective_metric_name=metric)
    experiment = pb.Experiment(name=name, spec=pb.ExperimentSpec(
        objective=objective, early_stopping=spec(algorithm, **settings)))
    return pb.GetEarlyStoppingRulesRequest(
        experiment=experiment, db_manager_address=db_address,
        trials=[pb.Trial(name=n, status=pb.TrialStatus(condition=c)) for n, c in trials.items()])


@contextmanager
def stopping_server(writer_factory=None, db_config=None):
    """A started early-stopping server on 127.0.0.1:<free port>; yields its address."""
    running = make_stopping_server(Config(backend="early-stopping", host="127.0.0.1", port=0), writer_factory,
                                   db_config)
    running.server.start()
    running.mark_serving()
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.server.stop(None).wait()
