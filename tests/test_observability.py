"""One structured log line per call, JSON logs for collectors, Prometheus metrics on request."""

from __future__ import annotations

import json
import urllib.request

import grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from servers import ServerProcess, free_port
from test_server_wire import experiment


def _call(address: str, e: pb.Experiment) -> grpc.StatusCode:
    with grpc.insecure_channel(address) as channel:
        try:
            api_pb2_grpc.SuggestionStub(channel).GetSuggestions(
                pb.GetSuggestionsRequest(experiment=e, current_request_number=2, total_request_number=2), timeout=30)
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def test_json_logs_have_one_object_per_call_with_its_fields():
    server = ServerProcess("optuna", env={"KATIB_SUGGEST_LOG_FORMAT": "json"})
    server.wait_serving()
    bad = experiment()
    bad.spec.parameter_specs.parameters[0].feasible_space.min = "oops"
    assert _call(server.address, experiment()) == grpc.StatusCode.OK
    assert _call(server.address, bad) == grpc.StatusCode.INVALID_ARGUMENT
    code, output = server.terminate()
    assert code == 0
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(records) == len(output.strip().splitlines()), "every log line is JSON"
    calls = [r for r in records if r.get("rpc") == "GetSuggestions"]
    assert [c["code"] for c in calls] == ["OK", "INVALID_ARGUMENT"]
    assert calls[0]["experiment"] == "wire-test" and calls[0]["algorithm"] == "tpe" and calls[0]["count"] == 2
    assert "duration_ms" in calls[0] and calls[0]["level"] == "INFO"
    assert "feasibleSpace.min" in calls[1]["error"]


def test_prometheus_metrics_count_calls_by_code():
    metrics_port = free_port()
    server = ServerProcess("optuna", extra=["--metrics-port", str(metrics_port)])
    server.wait_serving()
    try:
        bad = experiment()
        bad.spec.algorithm.algorithm_name = "no-such-algorithm"
        _call(server.address, experiment())
        _call(server.address, bad)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as reply:
            text = reply.read().decode()
    finally:
        server.terminate()
    assert 'katib_suggest_calls_total{code="OK",method="GetSuggestions"} 1.0' in text
    assert 'katib_suggest_calls_total{code="INVALID_ARGUMENT",method="GetSuggestions"} 1.0' in text
    assert 'katib_suggest_call_seconds_count{method="GetSuggestions"} 2.0' in text
    assert "katib_suggest_history_trials_bucket" in text
