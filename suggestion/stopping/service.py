"""The EarlyStopping gRPC edge: queue the blocking work, map every error to a status, log one line per call."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import grpc
from katib_api import api_pb2
from katib_suggestion.observability import CallMetrics
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.service import LOGGED_DETAILS, LOGGED_NAME, _reject_malformed, status_of
from katib_suggestion.stopping import plan, wire
from katib_suggestion.stopping.dbmanager import DBManagerConfig, ObservationLogs
from katib_suggestion.wire import experiment_name, parse_request, raw_request

log = logging.getLogger(__name__)
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
        self._metrics, self._db_config = metrics or CallMetrics(), db_config or DBManagerConfig()
        self._writer_factory = writer_factory or _default_writer
        self._writer = None
        self._writer_lock = threading.Lock()

    async def GetEarlyStoppingRules(self, data, context):
        return await self._call("GetEarlyStoppingRules", data, context, self._pool, self._rules,
                                experiment_name(data))

    async def SetTrialStatus(self, data, context):
        return await self._call("SetTrialStatus", data, context, self._quick_pool, self._set_status, "")

    async def ValidateEarlyStoppingSettings(self, data, context):
        return await self._call("ValidateEarlyStoppingSettings", data, context, self._quick_pool, self._validate, "",
                                fail_closed=True)

    def _rules(self, data: bytes, facts: dict):
        request = wire.rules_request(_parsed(api_pb2.GetEarlyStoppingRulesRequest, data))
        facts.update(algorithm=request.algorithm[:LOGGED_NAME], trials=len(request.trials))
        logs: list[ObservationLogs] = []

        def reader():
            logs.append(ObservationLogs(request.db_manager_address, self._db_config))
            return logs[0].values

        try:
            rules = plan.stopping_rules(request, reader)
        finally:
            for opened in logs:
                opened.__exit__(None, None, None)
        facts["rules"] = len(rules)
        return wire.rules_reply(rules)

    def _set_status(self, data: bytes, facts: dict):
        trial = _parsed(api_pb2.SetTrialStatusRequest, data).trial_name
        facts["trial"] = trial[:LOGGED_NAME]
        facts["changed"] = self._writer_instance().mark_early_stopped(trial)
        return api_pb2.SetTrialStatusReply()

    def _validate(self, data: bytes, facts: dict):
        algorithm, settings = wire.spec_of(_parsed(api_pb2.ValidateEarlyStoppingSettingsRequest, data).early_stopping)
        facts["algorithm"] = algorithm[:LOGGED_NAME]
        plan.validate(algorithm, settings)
        return api_pb2.ValidateEarlyStoppingSettingsReply()

    def _writer_instance(self):
        with self._writer_lock:
            if self._writer is None:
                self._writer = self._writer_factory()
            return self._writer

    async def _call(self, method: str, data, context, pool: FairExecutor, work: Callable, key: str,
                    fail_closed: bool = False):
        start, facts = time.perf_counter(), {"experiment": key[:LOGGED_NAME]} if key else {}
        try:
            _reject_malformed(data)
            reply = await asyncio.wrap_future(pool.submit(key, len(data), work, data, facts))
        except asyncio.CancelledError:
            self._log(method, facts, start, grpc.StatusCode.CANCELLED)
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes a status, none escapes
            code, details = status_of(error, fail_closed=fail_closed)
            self._log(method, facts, start, code, details)
            await context.abort(code, details)
        self._log(method, facts, start, grpc.StatusCode.OK)
        return reply

    def _log(self, method, facts, start, code, details=""):
        seconds = time.perf_counter() - start
        fields = {"rpc": method, **facts, "code": code.name, "duration_ms": round(seconds * 1000, 1)}
        if details:
            fields["error"] = details[:LOGGED_DETAILS]
        log.log(logging.INFO if code is grpc.StatusCode.OK else logging.WARNING,
                " ".join(f"{k}={v!r}" if k == "error" else f"{k}={v}" for k, v in fields.items()), extra=fields)
        self._metrics.observe(method, code.name, seconds, facts.get("trials"))


def _parsed(message_type, data: bytes):
    request = parse_request(message_type, data)
    _reject_malformed(request)
    return request


def _default_writer():
    from katib_suggestion.stopping.trial_status import TrialStatusWriter

    return TrialStatusWriter()
