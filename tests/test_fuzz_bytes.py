"""Byte-level fuzzing of the raw messages: truncated, bit-flipped, spliced and random bytes."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from katib_api import api_pb2 as pb
from servers import KATIB_HEALTH, in_process_server
from test_server_wire import experiment

ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION}
METHODS = {
    "/api.v1.beta1.Suggestion/GetSuggestions": pb.GetSuggestionsRequest(
        experiment=experiment("tpe"), current_request_number=2, total_request_number=2).SerializeToString(),
    "/api.v1.beta1.Suggestion/ValidateAlgorithmSettings": pb.ValidateAlgorithmSettingsRequest(
        experiment=experiment("random")).SerializeToString(),
}


@st.composite
def mutated(draw):
    method = draw(st.sampled_from(sorted(METHODS)))
    data = bytearray(METHODS[method])
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "random", "repeat"]))
    if kind == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            index = draw(st.integers(0, len(data) - 1))
            data[index] ^= 1 << draw(st.integers(0, 7))
    elif kind == "splice":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    elif kind == "repeat":
        data = data * draw(st.integers(2, 50))
    else:
        data = bytearray(draw(st.binary(max_size=512)))
    event(kind)
    return method, bytes(data)


@pytest.fixture(scope="module")
def channel():
    with in_process_server("optuna") as (address, _), grpc.insecure_channel(address) as channel:
        yield channel


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_raw_bytes_never_crash_or_confuse_the_server(channel, case):
    method, data = case
    call = channel.unary_unary(method, request_serializer=lambda raw: raw, response_deserializer=lambda raw: raw)
    try:
        call(data, timeout=60)
    except grpc.RpcError as error:
        event(error.code().name)
        assert error.code() in ALLOWED, (error.code(), error.details())
    else:
        event("OK")
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest(service=KATIB_HEALTH), timeout=5).status == \
        health_pb2.HealthCheckResponse.SERVING


def test_a_hundred_problems_still_arrive_as_invalid_argument(channel):
    """Past gRPC's 8 KiB metadata limit the client would see RESOURCE_EXHAUSTED ("valid" to Katib)."""
    broken = experiment("tpe")
    for _ in range(150):
        broken.spec.parameter_specs.parameters.add(name="lr", parameter_type=pb.DOUBLE,
                                                   feasible_space=pb.FeasibleSpace(min="x" * 80, max="y"))
    stub = channel.unary_unary("/api.v1.beta1.Suggestion/ValidateAlgorithmSettings",
                               request_serializer=pb.ValidateAlgorithmSettingsRequest.SerializeToString,
                               response_deserializer=pb.ValidateAlgorithmSettingsReply.FromString)
    with pytest.raises(grpc.RpcError) as error:
        stub(pb.ValidateAlgorithmSettingsRequest(experiment=broken), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "more; fix these first" in error.value.details()
