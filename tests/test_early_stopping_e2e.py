"""Katib's whole early-stopping loop over gRPC: suggestion server, early-stopping server, DB manager and
Kubernetes API doubles, trials whose collector applies the rules and calls SetTrialStatus."""

from __future__ import annotations

import grpc
import pytest
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.local.driver import ExperimentDriver
from katib_suggestion.quality.stopping.curves import CURVE_PROBLEMS
from katib_suggestion.stopping.rules import Comparison, RuleTracker, StopRule
from katib_suggestion.stopping.trial_status import TrialStatusWriter
from katib_suggestion.testing.dbmanager import db_manager
from katib_suggestion.testing.kubernetes_api import kubernetes_api
from katib_suggestion.wire import experiment_message
from servers import in_process_server
from stopping_requests import CONDITIONS, stopping_server

PROBLEM = CURVE_PROBLEMS["curves-branin"]
_COMPARISONS = {pb.LESS: Comparison.LESS, pb.GREATER: Comparison.GREATER, pb.EQUAL: Comparison.EQUAL}


class KatibLikeCluster:
    """Trials as Katib runs them with early stopping: rules asked for at creation, every report
    stored in the DB manager, the collector's comparison, SetTrialStatus when all rules are met."""

    def __init__(self, experiment, trials, stopping, db_address, db, kubernetes):
        self.experiment, self.trials, self.stopping = experiment, trials, stopping
        self.db_address, self.db, self.kubernetes = db_address, db, kubernetes
        self.running: dict[str, tuple[dict, RuleTracker, list[float]]] = {}
        self.rules: dict[str, list[StopRule]] = {}

    def start(self, trial) -> None:
        known = [t for t in self.trials() if t.name != trial.name]
        reply = self.stopping.GetEarlyStoppingRules(pb.GetEarlyStoppingRulesRequest(
            experiment=self.experiment, trials=known, db_manager_address=self.db_address), timeout=60)
        rules = [StopRule(r.name, float(r.value), _COMPARISONS[r.comparison], r.start_step)
                 for r in reply.early_stopping_rules]
        self.rules[trial.name] = rules
        self.kubernetes.add_trial(trial.name)
        values = {a.name: a.value for a in trial.spec.parameter_assignments.assignments}
        self.running[trial.name] = (values, RuleTracker(rules, "loss", False), [])

    def wait(self, running):
        while True:
            ended = [item for item in map(self._tick, running) if item is not None]
            if ended:
                return ended

    def _tick(self, trial):
        values, tracker, reported = self.running[trial.name]
        reported.append(PROBLEM.curve(values, len(reported) + 1)[-1])
        self.db.report(trial.name, "loss", [repr(reported[-1])], start=len(reported))
        if tracker.report("loss", reported[-1]):
            self.stopping.SetTrialStatus(pb.SetTrialStatusRequest(trial_name=trial.name), timeout=60)
            return trial, min(reported), CONDITIONS.EARLYSTOPPED
        return (trial, min(reported)) if len(reported) == PROBLEM.epochs else None


@pytest.mark.parametrize("algorithm", ["medianstop", "asha"])
def test_katibs_early_stopping_loop(tmp_path, monkeypatch, algorithm):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    doc = {"metadata": {"name": f"e2e-{algorithm}"},
           "spec": {"parameters": [dict(p) for p in PROBLEM.parameters],
                    "objective": {"type": "minimize", "objectiveMetricName": "loss"},
                    "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state",
                                                                                   "value": "3"}]},
                    "maxTrialCount": 16, "parallelTrialCount": 3}}
    experiment = experiment_message(doc)
    experiment.spec.early_stopping.algorithm_name = algorithm
    experiment.spec.early_stopping.algorithm_settings.add(name="min_trials_required", value="2")
    with db_manager() as (db_address, db), kubernetes_api(tmp_path) as (kubeconfig, kubernetes), \
            in_process_server("optuna") as (suggest_address, _), \
            stopping_server(lambda: TrialStatusWriter(kubeconfig=str(kubeconfig))) as stop_address, \
            grpc.insecure_channel(suggest_address) as suggest_channel, \
            grpc.insecure_channel(stop_address) as stop_channel:
        stopping = api_pb2_grpc.EarlyStoppingStub(stop_channel)
        stopping.ValidateEarlyStoppingSettings(pb.ValidateEarlyStoppingSettingsRequest(
            early_stopping=experiment.spec.early_stopping), timeout=60)
        suggestion = api_pb2_grpc.SuggestionStub(suggest_channel)
        holder: list = []
        cluster = KatibLikeCluster(experiment, lambda: holder[0].report.trials, stopping, db_address, db, kubernetes)
        driver = ExperimentDriver(experiment, lambda: suggestion, lambda _: None, runner=cluster)
        holder.append(driver)
        report = driver.run()
    stopped = [t for t in report.trials if t.status.condition == CONDITIONS.EARLYSTOPPED]
    finished = [t for t in report.trials if t.status.condition == CONDITIONS.SUCCEEDED]
    assert len(report.trials) == 16 and stopped and finished
    for trial in report.trials:
        conditions = [c["type"] for c in kubernetes.conditions(trial.name)]
        logs = len(db.logs[trial.name])
        if trial in stopped:
            [rule] = cluster.rules[trial.name]
            assert conditions == ["EarlyStopped"] and logs == rule.start_step  # stopped at its rule's report
        else:
            assert conditions == [] and logs == PROBLEM.epochs
