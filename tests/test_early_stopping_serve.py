"""`katib-suggest serve --backend early-stopping` as the container runs it: port, health, validation, SIGTERM."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
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


def test_serve_never_reports_serving_without_the_early_stopping_extra(monkeypatch):
    """A host install without katib-suggest[early-stopping] is refused at start-up, not at the first
    trial it should mark EarlyStopped."""
    from katib_suggestion.server import Config, serve

    missing = dataclasses.replace(EARLY_STOPPING, imports=("katib_suggestion.stopping.server",
                                                           "no_such_package.client"))
    monkeypatch.setattr("katib_suggestion.served.EARLY_STOPPING", missing)
    monkeypatch.setattr(signal, "signal", lambda *_args: None)  # the test process keeps its own handlers
    raised = []

    def start():
        try:
            serve(Config(backend=EARLY_STOPPING.name, host="127.0.0.1", port=0))
        except BackendUnavailable as error:
            raised.append(error)

    thread = threading.Thread(target=start, daemon=True)  # a server that came up would serve forever
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "serve reported SERVING without the kubernetes package"
    assert len(raised) == 1 and re.search(r"cannot load no_such_package \(not installed\); install it with: "
                                          r"pip install 'katib-suggest\[early-stopping\]'", str(raised[0]))


def test_the_start_up_check_finds_the_kubernetes_client_without_importing_it():
    code = ("import sys; from katib_suggestion.served import check_ready; check_ready('early-stopping'); "
            "assert 'kubernetes' not in sys.modules, 'imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


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
