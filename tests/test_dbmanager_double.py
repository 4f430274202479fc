"""The DB manager double (testing.dbmanager) keeps logs as Katib's DB manager does, over gRPC and as a process."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given
from hypothesis import strategies as st
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import free_port
from katib_suggestion.testing.dbmanager import ObservationTimeError, db_manager, format_time, parse_time


def log(stamp: str, metric: str, value: str) -> pb.MetricLog:
    return pb.MetricLog(time_stamp=stamp, metric=pb.Metric(name=metric, value=value))


def rows(reply) -> list[tuple[str, str, str]]:
    return [(m.time_stamp, m.metric.name, m.metric.value) for m in reply.observation_log.metric_logs]


@pytest.fixture
def stub():
    with db_manager() as (address, double), grpc.insecure_channel(address) as channel:
        yield api_pb2_grpc.DBManagerStub(channel), double, channel


@pytest.mark.parametrize(("text", "utc"), [
    ("2026-01-01T00:00:01Z", "2026-01-01T00:00:01Z"),
    ("2026-01-01T00:00:01.500000000Z", "2026-01-01T00:00:01.5Z"),  # Go's RFC3339Nano trims trailing zeros
    ("2026-01-01T02:00:01.123456789+02:00", "2026-01-01T00:00:01.123456Z"),  # microseconds, as the database
])
def test_time_stamps_as_go_writes_them(text, utc):
    assert format_time(parse_time(text)) == utc


@pytest.mark.parametrize("text", ["2026-01-01 00:00:01Z", "2026-01-01T00:00:01", "yesterday", "2026-13-01T00:00:01Z"])
def test_a_time_stamp_that_is_not_rfc3339_is_refused(text):
    with pytest.raises(ObservationTimeError, match="Error parsing time"):
        parse_time(text)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_format_and_parse_round_trip_to_the_microsecond(moment):
    assert parse_time(format_time(moment)) == moment


def test_reports_come_back_in_time_order_filtered_by_metric(stub):
    db, _, _ = stub
    start = datetime(2026, 1, 1, tzinfo=UTC)
    logs = [log(format_time(start + timedelta(seconds=s)), metric, f"{metric}-{s}")
            for s in range(20) for metric in ("loss", "acc")]
    random.Random(7).shuffle(logs)
    db.ReportObservationLog(pb.ReportObservationLogRequest(
        trial_name="t", observation_log=pb.ObservationLog(metric_logs=[*logs, log("", "loss", "no time")])),
        timeout=10)
    reply = db.GetObservationLog(pb.GetObservationLogRequest(trial_name="t", metric_name="loss"), timeout=10)
    assert [value for _, _, value in rows(reply)] == [f"loss-{s}" for s in range(20)]  # the one without time skipped
    window = db.GetObservationLog(pb.GetObservationLogRequest(
        trial_name="t", start_time="2026-01-01T00:00:05Z", end_time="2026-01-01T00:00:06Z"), timeout=10)
    assert sorted(value for _, _, value in rows(window)) == ["acc-5", "acc-6", "loss-5", "loss-6"]  # inclusive


def test_equal_times_keep_the_order_they_came_in(stub):
    db, _, _ = stub
    same = "2026-01-01T00:00:00Z"
    for value in ("1", "2", "3"):
        db.ReportObservationLog(pb.ReportObservationLogRequest(
            trial_name="t", observation_log=pb.ObservationLog(metric_logs=[log(same, "loss", value)])), timeout=10)
    reply = db.GetObservationLog(pb.GetObservationLogRequest(trial_name="t"), timeout=10)
    assert [value for _, _, value in rows(reply)] == ["1", "2", "3"]


def test_a_bad_time_stamp_is_an_error_and_stores_nothing(stub):
    db, double, _ = stub
    bad = pb.ReportObservationLogRequest(trial_name="t", observation_log=pb.ObservationLog(metric_logs=[
        log("2026-01-01T00:00:00Z", "loss", "1"), log("01/02/2026", "loss", "2")]))
    with pytest.raises(grpc.RpcError) as caught:
        db.ReportObservationLog(bad, timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNKNOWN and "01/02/2026" in caught.value.details()
    assert double.logs.get("t", []) == []
    with pytest.raises(grpc.RpcError) as caught:
        db.GetObservationLog(pb.GetObservationLogRequest(trial_name="t", start_time="soon"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNKNOWN


def test_delete_drops_one_trials_logs_and_health_serves(stub):
    db, double, channel = stub
    double.report("a", "loss", [1, 2])
    double.report("b", "loss", [3])
    db.DeleteObservationLog(pb.DeleteObservationLogRequest(trial_name="a"), timeout=10)
    assert rows(db.GetObservationLog(pb.GetObservationLogRequest(trial_name="a"), timeout=10)) == []
    assert [v for _, _, v in rows(db.GetObservationLog(pb.GetObservationLogRequest(trial_name="b"), timeout=10))] == [
        "3"]
    status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10).status
    assert status == health_pb2.HealthCheckResponse.SERVING


def test_the_module_serves_until_sigterm_and_exits_0():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "katib_suggestion.testing.dbmanager", "--host", "127.0.0.1",
                                "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        assert "serving on 127.0.0.1" in process.stderr.readline()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = api_pb2_grpc.DBManagerStub(channel)
            stub.ReportObservationLog(pb.ReportObservationLogRequest(trial_name="t", observation_log=pb.ObservationLog(
                metric_logs=[log("2026-01-01T00:00:00Z", "loss", "0.5")])), timeout=30)
            assert rows(stub.GetObservationLog(pb.GetObservationLogRequest(trial_name="t"), timeout=30)) == [
                ("2026-01-01T00:00:00Z", "loss", "0.5")]
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
