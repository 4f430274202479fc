"""`katib-suggest serve --backend early-stopping` as the container runs it: port, health, validation, SIGTERM."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.cli import build_parser
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.quality.latency import free_port
from katib_suggestion.served import check_loads, default_port
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from servers import katib_suggest
from stopping_requests import spec


def test_katib_ports_by_default():
    args = build_parser().parse_args(["serve", "--backend", "early-stopping"])
    assert args.port is None and default_port(args.backend) == 6788
    assert default_port("optuna") == 6789


def test_the_image_check_loads_what_the_service_needs(monkeypatch):
    check_loads("early-stopping")
    missing = dataclasses.replace(EARLY_STOPPING, imports=("no_such_module_here",))
    monkeypatch.setattr("katib_suggestion.served.EARLY_STOPPING", missing)
    with pytest.raises(BackendUnavailable, match=r"pip install 'katib-suggest\[early-stopping\]'"):
        check_loads("early-stopping")


def _wait_serving(address: str, process: subprocess.Popen) -> None:
    for _ in range(600):  # bounded by count; each try waits up to 1 s
        assert process.poll() is None, process.stdout.read()
        with grpc.insecure_channel(address) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service="manager.v1beta1.EarlyStopping"), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
        time.sleep(0.05)
    raise AssertionError("the early-stopping server never answered SERVING")


def test_served_from_the_environment_as_the_image_sets_it():
    port = free_port()
    env = {**os.environ, "KATIB_SUGGEST_BACKEND": "early-stopping", "KATIB_SUGGEST_PORT": str(port),
           "KATIB_SUGGEST_HOST": "127.0.0.1"}
    process = subprocess.Popen([katib_suggest(), "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        address = f"127.0.0.1:{port}"
        _wait_serving(address, process)
        with grpc.insecure_channel(address) as channel:
            stub = api_pb2_grpc.EarlyStoppingStub(channel)
            stub.ValidateEarlyStoppingSettings(pb.ValidateEarlyStoppingSettingsRequest(
                early_stopping=spec("asha", reduction_factor="4")), timeout=30)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "rpc=ValidateEarlyStoppingSettings algorithm=asha code=OK" in output
    assert f"early-stopping backend serving on 127.0.0.1:{port}" in output
