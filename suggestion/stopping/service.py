"""Katib's EarlyStopping service: the rules, SetTrialStatus and validation, each call run by the shared gRPC edge."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack

import grpc
from katib_api import api_pb2
from katib_suggestion.edge import LOGGED_NAME, CallEdge, parsed
from katib_suggestion.observability import CallMetrics
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.stopping import plan, wire
from katib_suggestion.stopping.dbmanager import DBManagerConfig, ObservationLogs
from katib_suggestion.wire import experiment_name, raw_request

SERVICE = api_pb2.DESCRIPTOR.services_by_name["EarlyStopping"].full_name
_METHODS = (
    ("GetEarlyStoppingRules", api_pb2.GetEarlyStoppingRulesRequest, api_pb2.GetEarlyStoppingRulesReply),
    ("SetTrialStatus", api_pb2.SetTrialStatusRequest, api_pb2.SetTrialStatusReply),
    ("ValidateEarlyStoppingSettings", api_pb2.ValidateEarlyStoppingSettingsRequest,
     api_pb2.ValidateEarlyStoppingSettingsReply),
)


def add_to_server(servicer: EarlyStoppingServicer, server) -> None:
    """Register with request parsers that never raise (a malformed request is INVALID_ARGUMENT)."""
    handlers = {name: grpc.unary_unary_rpc_method_handler(
        getattr(servicer, name), request_deserializer=raw_request(request_type),
        response_serializer=reply_type.SerializeToString) for name, request_type, reply_type in _METHODS}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


class EarlyStoppingServicer:
    """Katib's EarlyStopping service. Rules (many DB manager calls) run on one pool that takes turns
    between experiments; SetTrialStatus and validation on another, so a trial's collector waiting to
    mark it EarlyStopped never queues behind a long rules call. The Trial-status writer (the Kubernetes
    client) is made on the first SetTrialStatus, so a server outside a cluster still gives rules."""

    def __init__(self, pool: FairExecutor, metrics: CallMetrics | None = None, *, quick_pool: FairExecutor,
                 db_config: DBManagerConfig | None = None, writer_factory: Callable | None = None):
        self._pool, self._quick_pool = pool, quick_pool
        self._edge, self._db_config = CallEdge(metrics, size_fact="trials"), db_config or DBManagerConfig()
        self._writer_factory = writer_factory or _default_writer
        self._writer = None
        self._writer_lock = threading.Lock()

    async def GetEarlyStoppingRules(self, data, context):
        return await self._edge.call("GetEarlyStoppingRules", data, context, self._pool, self._rules,
                                     experiment_name)

    async def SetTrialStatus(self, data, context):
        return await self._edge.call("SetTrialStatus", data, context, self._quick_pool, self._set_status)

    async def ValidateEarlyStoppingSettings(self, data, context):
        return await self._edge.call("ValidateEarlyStoppingSettings", data, context, self._quick_pool,
                                     self._validate, fail_closed=True)

    def _rules(self, data: bytes, facts: dict):
        request = wire.rules_request(parsed(api_pb2.GetEarlyStoppingRulesRequest, data))
        facts.update(algorithm=request.algorithm[:LOGGED_NAME], trials=len(request.trials))
        with ExitStack() as opened:  # the DB manager's channel, only if the plan reads it
            rules = plan.stopping_rules(request, lambda: opened.enter_context(
                ObservationLogs(request.db_manager_address, self._db_config)).values)
        facts["rules"] = len(rules)
        return wire.rules_reply(rules)

    def _set_status(self, data: bytes, facts: dict):
        trial = parsed(api_pb2.SetTrialStatusRequest, data).trial_name
        facts["trial"] = trial[:LOGGED_NAME]
        facts["changed"] = self._writer_instance().mark_early_stopped(trial)
        return api_pb2.SetTrialStatusReply()

    def _validate(self, data: bytes, facts: dict):
        algorithm, settings = wire.spec_of(parsed(api_pb2.ValidateEarlyStoppingSettingsRequest, data).early_stopping)
        facts["algorithm"] = algorithm[:LOGGED_NAME]
        plan.validate(algorithm, settings)
        return api_pb2.ValidateEarlyStoppingSettingsReply()

    def _writer_instance(self):
        with self._writer_lock:
            if self._writer is None:
                self._writer = self._writer_factory()
            return self._writer


def _default_writer():
    from katib_suggestion.stopping.trial_status import TrialStatusWriter

    return TrialStatusWriter()
