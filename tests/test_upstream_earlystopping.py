"""Upstream Katib's test/unit/v1beta1/earlystopping cases, run against our service over gRPC.

The cases are upstream's (same requests, same expected codes). Where upstream pins its own
wording, ours differs on purpose (every problem at once, the field, the allowed range), so the
assertion here is the code plus the fact the message names; where upstream's request leaves out
what Katib always sends, the difference is tested and said.
"""

from __future__ import annotations

import grpc
import pytest
from katib_api import api_pb2, api_pb2_grpc
from stopping_requests import stopping_server


@pytest.fixture(scope="module")
def stub():
    with stopping_server() as address, grpc.insecure_channel(address) as channel:
        yield api_pb2_grpc.EarlyStoppingStub(channel)


def _validate(stub, early_stopping):
    try:
        stub.ValidateEarlyStoppingSettings(
            api_pb2.ValidateEarlyStoppingSettingsRequest(early_stopping=early_stopping), timeout=30)
    except grpc.RpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


def _settings(**values):
    return [api_pb2.EarlyStoppingSetting(name=k, value=v) for k, v in values.items()]


def test_valid_settings(stub):
    spec = api_pb2.EarlyStoppingSpec(algorithm_name="medianstop",
                                     algorithm_settings=_settings(min_trials_required="2", start_step="5"))
    assert _validate(stub, spec) == (grpc.StatusCode.OK, "")


@pytest.mark.parametrize(("spec", "upstream_details", "ours_names"), [
    (api_pb2.EarlyStoppingSpec(algorithm_name="unknown"),
     "unknown algorithm name unknown", "unknown early-stopping algorithm"),
    (api_pb2.EarlyStoppingSpec(algorithm_name="medianstop", algorithm_settings=_settings(unknown_conf="100")),
     "unknown setting unknown_conf for algorithm medianstop", "unknown setting for algorithm medianstop"),
    (api_pb2.EarlyStoppingSpec(algorithm_name="medianstop", algorithm_settings=_settings(min_trials_required="0")),
     "min_trials_required must be greater than zero (>0)", "min_trials_required must be 1 <= int"),
    (api_pb2.EarlyStoppingSpec(algorithm_name="medianstop", algorithm_settings=_settings(start_step="0")),
     "start_step must be greater or equal than one (>=1)", "start_step must be 1 <= int"),
])
def test_invalid_settings(stub, spec, upstream_details, ours_names):
    code, details = _validate(stub, spec)
    assert code == grpc.StatusCode.INVALID_ARGUMENT  # upstream's behaviour
    assert ours_names in details and details != upstream_details  # wording: ours names the field and the range


def test_get_early_stopping_rules(stub):
    """Upstream sends an Experiment with no spec at all and two just-created trials, and expects OK.

    Katib never sends such a request (it calls only when spec.earlyStopping names an algorithm),
    and an unnamed algorithm is a mistake we report, as ValidateEarlyStoppingSettings would: so
    the request as upstream writes it is INVALID_ARGUMENT here. With the algorithm Katib would
    send, the behaviour upstream tests holds: OK, no rule yet, and no DB manager needed.
    """
    trials = [api_pb2.Trial(name="test-asfjh"), api_pb2.Trial(name="test-234hs")]
    request = api_pb2.GetEarlyStoppingRulesRequest(experiment=api_pb2.Experiment(name="test"), trials=trials,
                                                   db_manager_address="katib-db-manager.kubeflow:6789")
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetEarlyStoppingRules(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    request.experiment.spec.early_stopping.algorithm_name = "medianstop"
    reply = stub.GetEarlyStoppingRules(request, timeout=30)  # the DB manager's address resolves nowhere here
    assert list(reply.early_stopping_rules) == []
