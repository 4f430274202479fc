"""The early-stopping benchmark's parts: curves with known ends, arms, the simulated cluster, the table."""

from __future__ import annotations

import dataclasses
import json
import math

import grpc
import pytest
from katib_api import api_pb2_grpc
from katib_suggestion.model import Direction, Objective
from katib_suggestion.quality.stopping import bench, curves
from katib_suggestion.quality.stopping.arms import ARMS, ours, upstream_medianstop
from katib_suggestion.quality.stopping.cluster import SimulatedCluster
from katib_suggestion.quality.stopping.report import rows
from katib_suggestion.stopping.rules import Curve, CurveState
from katib_suggestion.testing.dbmanager import db_manager
from stopping_requests import CONDITIONS, rules_request, stopping_server

LOSS = Objective(Direction.MINIMIZE, "loss")


def test_the_synthetic_curve_ends_at_its_known_value_and_curves_cross():
    best = {"x1": repr(math.pi), "x2": "2.275", "lr": repr(10 ** -1.5)}
    assert curves.synthetic_curve(best)[-1] == pytest.approx(0.397887, abs=1e-5)
    slow = curves.synthetic_curve({**best, "lr": "0.01"})
    fast = curves.synthetic_curve({**best, "lr": "1.0"})
    assert slow[8] > fast[8] and slow[-1] < fast[-1]  # the late bloomer looks worse at epoch 9 and ends better
    assert curves.synthetic_curve(best, 5) == curves.synthetic_curve(best)[:5]


def test_the_sgd_curve_trains_only_as_far_as_asked_and_is_deterministic():
    values = {"alpha": "0.0001", "eta0": "0.01", "loss": "hinge", "schedule": "constant"}
    first = curves.sgd_digits_curve(values, 3)
    assert len(first) == 3 and all(0.0 <= v <= 1.0 for v in first)
    curves._training.cache_clear()
    assert curves.sgd_digits_curve(values, 4)[:3] == first


def test_upstreams_medianstop_takes_the_mean_ours_the_median():
    finished = [Curve(n, CurveState.SUCCEEDED, (v,) * 4) for n, v in (("a", 1.0), ("b", 2.0), ("c", 9.0))]
    [theirs] = upstream_medianstop()(LOSS, finished, 3)
    [mine] = ours("medianstop")(LOSS, finished, 3)
    assert (theirs.threshold, mine.threshold) == (4.0, 2.0)


def test_the_benchmark_measures_the_code_the_service_runs():
    history = {"a": [5, 4, 3, 2, 1], "b": [9, 8, 7, 6, 5], "c": [3, 2, 2, 2, 2], "d": [1, 1]}
    states = {"a": CONDITIONS.SUCCEEDED, "b": CONDITIONS.SUCCEEDED, "c": CONDITIONS.EARLYSTOPPED,
              "d": CONDITIONS.RUNNING}
    local = [Curve(n, {"a": CurveState.SUCCEEDED, "b": CurveState.SUCCEEDED, "c": CurveState.STOPPED,
                       "d": CurveState.RUNNING}[n], tuple(map(float, v))) for n, v in history.items()]
    with db_manager() as (address, db), stopping_server() as server, grpc.insecure_channel(server) as channel:
        for name, values in history.items():
            db.report(name, "loss", values)
        stub = api_pb2_grpc.EarlyStoppingStub(channel)
        for arm in ("medianstop", "percentile", "asha"):
            settings = {"min_trials_required": "2"}
            reply = stub.GetEarlyStoppingRules(rules_request(states, address, algorithm=arm, **settings), timeout=30)
            expected = ours(arm, **settings)(LOSS, local, len(local))
            assert [(r.name, float(r.value), r.start_step) for r in reply.early_stopping_rules] == \
                [(e.metric, e.threshold, e.start_step) for e in expected]


TINY = dataclasses.replace(curves.CURVE_PROBLEMS["curves-branin"], name="tiny", budget=8)


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(curves.CURVE_PROBLEMS, "tiny", TINY)
    monkeypatch.setattr(bench, "CURVE_PROBLEMS", curves.CURVE_PROBLEMS)


def test_every_arm_runs_and_no_stopping_spends_every_epoch(tiny):
    results = [bench.run_task(bench.StopTask("tiny", "random", arm, 0, parallel=2))
               for arm in ("none", "asha", "optuna-none", "optuna-sha")]
    none, asha, optuna_none, optuna_sha = results
    assert none.epochs == optuna_none.epochs == TINY.budget * TINY.epochs
    assert none.stopped == optuna_none.stopped == 0
    assert asha.epochs < none.epochs and asha.stopped > 0 and optuna_sha.stopped > 0
    [row] = [r for r in rows(results) if r.arm == "asha"]
    assert row.epochs_share == asha.epochs / none.epochs and row.seeds == 1


def test_the_simulated_cluster_stops_exactly_where_the_collector_would(tiny):
    cluster = SimulatedCluster(TINY, ARMS["asha"])
    from katib_suggestion.local.driver import ExperimentDriver
    from katib_suggestion.wire import experiment_message

    task = bench.StopTask("tiny", "random", "asha", 1, parallel=2)
    stub = bench._stub("random")
    report = ExperimentDriver(experiment_message(bench.experiment_doc(TINY, task)), lambda: stub, lambda _: None,
                              runner=cluster).run()
    assert cluster.epochs == sum(len(c.values) for c in cluster.curves.values())
    for trial in report.trials:
        curve = cluster.curves[trial.name]
        stopped = trial.status.condition == CONDITIONS.EARLYSTOPPED
        assert (curve.state is CurveState.STOPPED) == stopped
        assert stopped or len(curve.values) == TINY.epochs


def test_resumed_runs_come_from_the_shared_journal_and_a_cut_line_loses_nothing_after_it(tmp_path):
    from katib_suggestion.quality.journal import Journal, finished
    from katib_suggestion.quality.stopping.bench import StopResult, StopTask

    first, second = (StopResult(StopTask("synthetic", "medianstop", "ours", seed), 10 + seed, 0.5, 1)
                     for seed in (0, 1))
    path = tmp_path / "stopping-runs.jsonl"
    path.write_text(json.dumps(first.to_json()) + "\n" + json.dumps(second.to_json())[:25])  # interrupted
    tasks = [first.task, second.task]
    assert finished(path, tasks, StopResult.from_json) == {first.task: first}
    journal = Journal(path, keep=True)
    journal.write(second)
    journal.close()
    assert finished(path, tasks, StopResult.from_json) == {first.task: first, second.task: second}


def test_runs_in_worker_processes_equal_the_runs_in_this_one_in_task_order():
    """--workers 2 goes through quality.pool (one Ctrl-C ends every worker); the results do not change."""
    tasks = [bench.StopTask("curves-branin", "random", arm, seed) for arm in ("asha", "optuna-sha") for seed in (0, 1)]
    progress = []
    in_workers = bench.run_all(tasks, 2, progress.append)
    assert in_workers == bench.run_all(tasks, 1)
    assert sorted(progress, key=lambda result: tasks.index(result.task)) == in_workers  # each reported once
