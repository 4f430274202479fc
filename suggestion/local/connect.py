"""The suggestion server of a local run: one started in this process, or ``--address``, checked before use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.server import KATIB_HEALTH_SERVICE, Config, make_server
from katib_suggestion.wire import experiment_message

HEALTH_DEADLINE = 5.0  # seconds: a server that does not answer its health check by then is not there
VALIDATE_DEADLINE = 60.0  # Katib's own deadline for suggestion calls


class ServerProblem(Exception):
    """The suggestion server cannot be used; the message says what to do."""


@contextmanager
def suggestion_stub(address: str | None, backend: str) -> Iterator[api_pb2_grpc.SuggestionStub]:
    """A stub for ``address``, after a health check; without an address, for a server started here."""
    running = None
    if address is None:
        running = make_server(Config(backend=backend, host="127.0.0.1", port=0))
        running.server.start()
        try:
            running.mark_ready()
        except BaseException:
            running.server.stop(None).wait()
            raise
    target = address or f"127.0.0.1:{running.port}"
    try:
        with grpc.insecure_channel(target) as channel:
            check_health(channel, target)
            yield api_pb2_grpc.SuggestionStub(channel)
    finally:
        if running is not None:
            running.server.stop(None).wait()


def check_health(channel: grpc.Channel, address: str) -> None:
    """What Katib's readiness probe asks, with a short deadline and no waiting for a connection."""
    request = health_pb2.HealthCheckRequest(service=KATIB_HEALTH_SERVICE)
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=HEALTH_DEADLINE)
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND):
            return  # no health service, or not under Katib's name: the Suggestion calls will tell
        raise ServerProblem(
            f"no suggestion server answers at {address} ({error.code().name}: {error.details()}); start one "
            "with `katib-suggest serve --backend BACKEND --port PORT`, or leave out --address to run one "
            "in this process") from None
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        raise ServerProblem(f"the server at {address} reports {status} for {KATIB_HEALTH_SERVICE}; "
                            "Katib would not call it either")


def validate_on_server(stub: api_pb2_grpc.SuggestionStub, doc: Mapping[str, Any]) -> str:
    """What Katib does once before the first trial; a non-empty answer means the experiment fails."""
    request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment_message(doc))
    try:
        stub.ValidateAlgorithmSettings(request, timeout=VALIDATE_DEADLINE)
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN):
            return error.details() or error.code().name
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            raise ServerProblem(f"the suggestion server went away: {error.details()}") from None
    return ""  # every other code counts as valid for Katib too
