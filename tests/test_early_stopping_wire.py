"""The EarlyStopping service over gRPC, with the DB manager and Kubernetes API doubles started here."""

from __future__ import annotations

import logging
import statistics
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.stopping.dbmanager import DBManagerConfig
from katib_suggestion.stopping.trial_status import TrialStatusWriter
from katib_suggestion.testing.dbmanager import db_manager
from katib_suggestion.testing.kubernetes_api import kubernetes_api
from stopping_requests import CONDITIONS, rules_request, spec, stopping_server

SUCCEEDED, RUNNING = CONDITIONS.SUCCEEDED, CONDITIONS.RUNNING


@pytest.fixture(scope="module")
def server():
    with stopping_server() as address, grpc.insecure_channel(address) as channel:
        yield api_pb2_grpc.EarlyStoppingStub(channel), channel


def test_health_answers_for_the_names_probes_use(server):
    _stub, channel = server
    health = health_pb2_grpc.HealthStub(channel)
    for name in ("", "manager.v1beta1.EarlyStopping", "api.v1.beta1.EarlyStopping"):
        reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_medianstop_gives_the_true_median_of_running_averages(server):
    stub, _ = server
    with db_manager() as (address, db):
        db.report("a", "loss", [1, 1, 9])  # average of the first 2 reports: 1
        db.report("b", "loss", [2, 4, 0])  # 3
        db.report("c", "loss", [10, 10])  # 10: the mean would be 14/3, the median is 3
        db.report("short", "loss", [5])  # fewer reports than start_step: left out
        db.report("run", "loss", [0, 0, 0])  # still running: not a completed trial
        trials = {"a": SUCCEEDED, "b": SUCCEEDED, "c": SUCCEEDED, "short": SUCCEEDED, "run": RUNNING}
        reply = stub.GetEarlyStoppingRules(rules_request(trials, address, min_trials_required=3, start_step=2),
                                           timeout=30)
    [rule] = reply.early_stopping_rules
    assert (rule.name, float(rule.value), rule.comparison, rule.start_step) == ("loss", 3.0, pb.GREATER, 2)


def test_maximize_compares_less_and_the_value_round_trips_exactly(server):
    stub, _ = server
    with db_manager() as (address, db):
        curves = {"a": [0.1, 0.2], "b": [0.3, 0.35], "c": [0.7, 0.71]}
        for name, values in curves.items():
            db.report(name, "acc", values)
        request = rules_request(dict.fromkeys(curves, SUCCEEDED), address, maximize=True, metric="acc",
                                min_trials_required=2, start_step=2)
        [rule] = stub.GetEarlyStoppingRules(request, timeout=30).early_stopping_rules
    assert rule.comparison == pb.LESS
    assert float(rule.value) == statistics.median([sum(v) / 2 for v in curves.values()])


def test_nothing_kept_between_calls_two_experiments_on_one_server(server):
    stub, _ = server
    with db_manager() as (address, db):
        for name, value in {"x1": 1, "x2": 2, "x3": 3, "y1": 10, "y2": 20, "y3": 30}.items():
            db.report(name, "loss", [value] * 4)
        first = rules_request({"x1": SUCCEEDED, "x2": SUCCEEDED, "x3": SUCCEEDED}, address, name="x")
        second = rules_request({"y1": SUCCEEDED, "y2": SUCCEEDED, "y3": SUCCEEDED}, address, name="y",
                               start_step=1, min_trials_required=2)
        answers = [stub.GetEarlyStoppingRules(r, timeout=30).early_stopping_rules[0] for r in (first, second, first)]
    assert [(float(r.value), r.start_step) for r in answers] == [(2.0, 4), (20.0, 1), (2.0, 4)]


def test_no_rule_and_no_db_call_before_enough_trials_completed(server):
    stub, _ = server
    with db_manager() as (address, db):
        reply = stub.GetEarlyStoppingRules(rules_request({"a": SUCCEEDED, "b": RUNNING}, address), timeout=30)
    assert list(reply.early_stopping_rules) == [] and db.calls == []


def test_trials_without_logs_are_left_out_never_a_crash(server):
    stub, _ = server
    with db_manager() as (address, db):
        db.report("a", "loss", [1, 2, 3, 4])
        request = rules_request({"a": SUCCEEDED, "b": SUCCEEDED, "c": SUCCEEDED}, address)
        assert list(stub.GetEarlyStoppingRules(request, timeout=30).early_stopping_rules) == []


def test_an_unreachable_db_manager_is_unavailable_with_its_address(server):
    stub, _ = server
    with db_manager() as (address, db):
        db.failures = [grpc.StatusCode.UNAVAILABLE] * 10
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetEarlyStoppingRules(rules_request(dict.fromkeys("abc", SUCCEEDED), address), timeout=30)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert f"DB manager at {address}" in caught.value.details()


@pytest.mark.parametrize(("algorithm", "settings", "expected"), [
    ("medianstop", {"start_step": "0"},
     "spec.earlyStopping.algorithmSettings[0].value: start_step must be 1 <= int <= 1000000 (got '0')"),
    ("percentile", {"percentile": "100"}, "percentile must be 0 < float < 100"),
    ("asha", {"reduction_factor": "1"}, "reduction_factor must be 2 <= int <= 100"),
    ("asha", {"eta": "3"}, "unknown setting for algorithm asha; known settings: min_resource"),
    ("bogus", {}, "spec.earlyStopping.algorithmName: unknown early-stopping algorithm; use one of medianstop, "
                  "percentile, asha (got 'bogus')"),
])
def test_validation_names_the_field_and_the_fix(server, algorithm, settings, expected):
    stub, _ = server
    with pytest.raises(grpc.RpcError) as caught:
        stub.ValidateEarlyStoppingSettings(pb.ValidateEarlyStoppingSettingsRequest(
            early_stopping=spec(algorithm, **settings)), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected in caught.value.details()


@pytest.mark.parametrize("algorithm", ["medianstop", "percentile", "asha"])
def test_defaults_validate(server, algorithm):
    stub, _ = server
    stub.ValidateEarlyStoppingSettings(pb.ValidateEarlyStoppingSettingsRequest(early_stopping=spec(algorithm)),
                                       timeout=30)


def test_malformed_bytes_are_invalid_argument(server):
    _stub, channel = server
    call = channel.unary_unary("/api.v1.beta1.EarlyStopping/GetEarlyStoppingRules")
    with pytest.raises(grpc.RpcError) as caught:
        call(b"\xff\xff\xff", timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_set_trial_status_over_grpc(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with kubernetes_api(tmp_path) as (kubeconfig, api):
        api.add_trial("t-1")
        with stopping_server(lambda: TrialStatusWriter(kubeconfig=str(kubeconfig))) as address, \
                grpc.insecure_channel(address) as channel:
            stub = api_pb2_grpc.EarlyStoppingStub(channel)
            for _ in range(2):  # the collector may call twice: one condition
                stub.SetTrialStatus(pb.SetTrialStatusRequest(trial_name="t-1"), timeout=30)
            assert [c["type"] for c in api.conditions("t-1")] == ["EarlyStopped"]
            api.forbidden.add("patch")
            api.add_trial("t-2")
            with pytest.raises(grpc.RpcError) as caught:
                stub.SetTrialStatus(pb.SetTrialStatusRequest(trial_name="t-2"), timeout=30)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "resources: [trials, trials/status], verbs: [get, patch]" in caught.value.details()


def test_set_trial_status_never_waits_behind_a_slow_rules_call(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    patient = DBManagerConfig(call_timeout=300.0, attempts=1, budget=300.0)
    with db_manager() as (address, db), kubernetes_api(tmp_path) as (kubeconfig, api), \
            stopping_server(lambda: TrialStatusWriter(kubeconfig=str(kubeconfig)), patient) as server, \
            grpc.insecure_channel(server) as channel:
        api.add_trial("t-1")
        db.hang.set()  # the DB manager answers nothing until released
        stub = api_pb2_grpc.EarlyStoppingStub(channel)
        rules = stub.GetEarlyStoppingRules.future(rules_request(dict.fromkeys("abc", SUCCEEDED), address), timeout=300)
        while not db.calls:  # bounded by the rules call's own deadline
            assert not rules.done(), rules.exception()
            time.sleep(0.01)
        stub.SetTrialStatus(pb.SetTrialStatusRequest(trial_name="t-1"), timeout=60)
        assert not rules.done()  # still waiting on the DB manager
        db.release.set()
        assert list(rules.result().early_stopping_rules) == []  # answered once released (no logs: no rule)
    assert [c["type"] for c in api.conditions("t-1")] == ["EarlyStopped"]


def test_a_rules_call_whose_client_left_reads_no_further_trial(caplog):
    """The shared gRPC edge cancels the call's token; the DB-manager reads stop at the next trial, so the
    rules worker is free for Katib's retry instead of reading every remaining trial's log for nobody."""
    caplog.set_level(logging.INFO, logger="katib_suggestion.service")
    patient = DBManagerConfig(call_timeout=300.0, attempts=1, budget=300.0)
    with db_manager() as (address, db), stopping_server(None, patient) as server, \
            grpc.insecure_channel(server) as channel:
        db.hang.set()  # the first read waits until released
        stub = api_pb2_grpc.EarlyStoppingStub(channel)
        abandoned = stub.GetEarlyStoppingRules.future(rules_request(dict.fromkeys("abcdef", SUCCEEDED), address),
                                                      timeout=300)
        while not db.calls:  # bounded by the call's own deadline
            assert not abandoned.done(), abandoned.exception()
            time.sleep(0.01)
        abandoned.cancel()
        # the server learns of the cancel asynchronously: release the first read only once its
        # edge has cancelled the call's token (it logs the CANCELLED line right after)
        waited = time.monotonic()
        while not any("code=CANCELLED" in record.getMessage() for record in caplog.records):
            assert time.monotonic() - waited < 60, "the server never saw the client's cancel"
            time.sleep(0.01)
        db.hang.clear()
        db.release.set()
        db.report("x", "loss", [1, 2, 3, 4])
        # the next call runs on the one rules worker only once the abandoned one has stopped
        retry = stub.GetEarlyStoppingRules(rules_request({"x": SUCCEEDED}, address, min_trials_required=1,
                                                         start_step=2), timeout=120)
    assert [rule.value for rule in retry.early_stopping_rules] == ["1.5"]
    assert [trial for trial, _ in db.calls] == ["a", "x"]  # b..f never read
