"""A short experiment, validated first as Katib's controller does, against an in-process or any server."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.local.driver import DriverReport, ExperimentDriver
from katib_suggestion.server import Config, make_server
from katib_suggestion.wire import experiment_message


def _loss(assignments: dict[str, str]) -> float | None:
    """A deterministic loss of the formatted values; every seventh point fails, as some trials do."""
    digest = zlib.crc32(repr(sorted(assignments.items())).encode())
    return None if digest % 7 == 0 else (digest % 1000) / 1000


def run_short_experiment(backend: str, doc: Mapping[str, Any]) -> DriverReport:
    """ValidateAlgorithmSettings must accept ``doc``; then the driver runs it to maxTrialCount."""
    running = make_server(Config(backend=backend, host="127.0.0.1", port=0, max_workers=2))
    running.server.start()
    running.mark_serving()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            return validate_and_drive(api_pb2_grpc.SuggestionStub(channel), doc)
    finally:
        running.server.stop(None).wait()


def validate_and_drive(stub: api_pb2_grpc.SuggestionStub, doc: Mapping[str, Any],
                       call_timeout: float = 120.0) -> DriverReport:
    """What Katib's controller does with ``doc`` against any server: validate once, then drive every trial."""
    message = experiment_message(doc)
    try:
        stub.ValidateAlgorithmSettings(api_pb2.ValidateAlgorithmSettingsRequest(experiment=message),
                                       timeout=call_timeout)
    except grpc.RpcError as error:
        raise AssertionError(f"ValidateAlgorithmSettings refused the experiment: {error.code().name}: "
                             f"{error.details()}") from error
    return ExperimentDriver(message, lambda: stub, _loss, seed=1, call_timeout=call_timeout).run()
