"""Learning curves the check reports to the pod's DB manager, and the stop rules they call for, computed here alone.

Values are multiples of 1/4096, so sums, averages and medians are exact in binary floating point:
the service's answer must equal the one computed here, not come close to it. Each report carries
two metrics (``loss`` falls, ``accuracy`` rises) with its own time stamp, and a trial's reports are
sent out of time order, so a rule from the wrong metric or the wrong order cannot pass.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from katib_api import api_pb2 as pb
from katib_suggestion.testing.dbmanager import format_time

CONDITION = pb.TrialStatus.TrialConditionType
_START = datetime(2026, 1, 1, tzinfo=UTC)
# What each trial state is in a request: how many of them, and how many reports each has made
_OTHERS = ((CONDITION.RUNNING, 3, (2, 3, 4)), (CONDITION.EARLYSTOPPED, 2, (5,)), (CONDITION.FAILED, 1, (3,)))
METRICS = {"loss": False, "accuracy": True}  # objective metric -> maximize


@dataclass(frozen=True)
class Trial:
    name: str
    condition: int
    loss: tuple[float, ...]

    @property
    def accuracy(self) -> tuple[float, ...]:
        return tuple(1 - value / 8 for value in self.loss)

    def values(self, metric: str) -> tuple[float, ...]:
        return self.loss if metric == "loss" else self.accuracy


def trials(prefix: str, succeeded: int, reports: int) -> list[Trial]:
    """``succeeded`` finished trials with ``reports`` reports each, then running, stopped and failed ones."""
    made = [Trial(f"{prefix}-{i}", CONDITION.SUCCEEDED, _loss(i, reports)) for i in range(succeeded)]
    for condition, count, lengths in _OTHERS:
        made += [Trial(f"{prefix}-{CONDITION.Name(condition).lower()}-{i}", condition,
                       _loss(succeeded + len(made) + i, lengths[i % len(lengths)])) for i in range(count)]
    return made


def _loss(seed: int, reports: int) -> tuple[float, ...]:
    base = (seed * 37) % 61 + 8  # a falling curve, shifted per trial
    return tuple((base * 16 + 4096 // (step + 2)) / 4096 for step in range(reports))


def report_request(trial: Trial, index: int) -> pb.ReportObservationLogRequest:
    """The trial's reports as Katib's metrics collector sends them, in shuffled order."""
    logs = [pb.MetricLog(time_stamp=format_time(_START + timedelta(hours=index, seconds=step)),
                         metric=pb.Metric(name=metric, value=repr(trial.values(metric)[step])))
            for step in range(len(trial.loss)) for metric in METRICS]
    random.Random(index).shuffle(logs)
    return pb.ReportObservationLogRequest(trial_name=trial.name, observation_log=pb.ObservationLog(metric_logs=logs))


def rules_request(experiment: str, made: list[Trial], metric: str, algorithm: str, settings: Mapping[str, object],
                  db_manager_address: str) -> pb.GetEarlyStoppingRulesRequest:
    objective = pb.ObjectiveSpec(type=pb.MAXIMIZE if METRICS[metric] else pb.MINIMIZE, objective_metric_name=metric)
    stopping = pb.EarlyStoppingSpec(algorithm_name=algorithm, algorithm_settings=[
        pb.EarlyStoppingSetting(name=name, value=str(value)) for name, value in settings.items()])
    return pb.GetEarlyStoppingRulesRequest(
        experiment=pb.Experiment(name=experiment, spec=pb.ExperimentSpec(objective=objective,
                                                                         early_stopping=stopping)),
        trials=[pb.Trial(name=t.name, status=pb.TrialStatus(condition=t.condition)) for t in made],
        db_manager_address=db_manager_address)


def _finished(made, metric, step):
    return [t.values(metric) for t in made if t.condition == CONDITION.SUCCEEDED and len(t.loss) >= step]


def median_rule(made: list[Trial], metric: str, settings) -> tuple[float, int]:
    """medianstop: the median of the succeeded trials' averages over their first start_step reports."""
    step = settings["start_step"]
    return statistics.median(sum(values[:step]) / step for values in _finished(made, metric, step)), step


def percentile_rule(made: list[Trial], metric: str, settings) -> tuple[float, int]:
    """percentile: optuna's PercentilePruner, the q-th percentile from the best end of the values at start_step."""
    step, q = settings["start_step"], settings["percentile"]
    cuts = statistics.quantiles([values[step - 1] for values in _finished(made, metric, step)], n=100,
                                method="inclusive")
    return cuts[(100 - q if METRICS[metric] else q) - 1], step


def asha_rule(made: list[Trial], metric: str, settings) -> tuple[float, int]:
    """asha at its lowest rung (min_resource reports): keep the best 1/reduction_factor of the
    succeeded, running and stopped trials' best values there."""
    rung, maximize = settings["min_resource"], METRICS[metric]
    reached = [(max if maximize else min)(t.values(metric)[:rung]) for t in made
               if t.condition != CONDITION.FAILED and len(t.loss) >= rung]
    kept = max(1, len(reached) // settings["reduction_factor"])
    return sorted(reached, reverse=maximize)[kept - 1], rung


# algorithm -> (settings sent, the rule expected: (value, start_step)); asha's lowest rung must lie
# below the longest curve, which every case here has
CASES = {
    "medianstop": ({"min_trials_required": 3, "start_step": 4}, median_rule),
    "percentile": ({"percentile": 25, "min_trials_required": 5, "start_step": 4}, percentile_rule),
    "asha": ({"min_resource": 2, "reduction_factor": 3, "min_trials_required": 3, "rung_selection": "lowest"},
             asha_rule),
}
