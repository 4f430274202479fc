"""The gRPC edge: decode nothing itself, map every error to a status in one place, log one line."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import grpc
from katib_api import api_pb2
from katib_suggestion.cancellation import CancelToken, run_cancellable
from katib_suggestion.errors import (
    BackendUnavailable,
    CallAbandoned,
    ConflictPersisted,
    DependencyUnavailable,
    InvalidExperiment,
    InvalidRequest,
    PermissionRefused,
    ResourceMissing,
    SearchSpaceExhausted,
    ServerBusy,
)
from katib_suggestion.observability import CallMetrics
from katib_suggestion.pipeline import Suggester
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.wire import MalformedRequest, experiment_name, parse_request, raw_request
from katib_validators.budget import MAX_EXPERIMENT_BYTES

log = logging.getLogger(__name__)
LOGGED_DETAILS = 2000  # characters of an error kept in the call's log line
LOGGED_NAME = 100  # characters of the experiment's name (Katib's are at most 40; a hostile one may be MiBs)

_CODES = {
    InvalidExperiment: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    SearchSpaceExhausted: grpc.StatusCode.FAILED_PRECONDITION,
    BackendUnavailable: grpc.StatusCode.FAILED_PRECONDITION,
    ServerBusy: grpc.StatusCode.UNAVAILABLE,
    DependencyUnavailable: grpc.StatusCode.UNAVAILABLE,
    PermissionRefused: grpc.StatusCode.PERMISSION_DENIED,
    ResourceMissing: grpc.StatusCode.NOT_FOUND,
    ConflictPersisted: grpc.StatusCode.ABORTED,
    CallAbandoned: grpc.StatusCode.CANCELLED,
}


def status_of(error: Exception, *, fail_closed: bool = False) -> tuple[grpc.StatusCode, str]:
    """The gRPC status for an error. Unexpected errors become INTERNAL with an id to find the
    traceback in the log; with ``fail_closed`` (validation) they become INVALID_ARGUMENT,
    because Katib treats any other code as "valid"."""
    for kind in type(error).__mro__:
        if kind in _CODES:
            return _CODES[kind], str(error)
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error (incident %s)", incident, exc_info=error)
    if fail_closed:
        return grpc.StatusCode.INVALID_ARGUMENT, (
            f"katib-suggest could not check this experiment (incident {incident} in the suggestion "
            "server log); please report it")
    return grpc.StatusCode.INTERNAL, f"internal error (incident {incident} in the suggestion server log)"


def _reject_malformed(request) -> None:
    if isinstance(request, MalformedRequest) and request.size:
        raise InvalidRequest(f"the {request.message_type} is {request.size / 2**20:.1f} MiB; an Experiment that "
                             f"Katib can store is at most 1.5 MiB and this server reads at most "
                             f"{request.max_bytes / 2**20:.0f} MiB of one; shorten the Experiment")
    if isinstance(request, MalformedRequest):
        raise InvalidRequest(f"the request is not a valid {request.message_type} message ({request.reason}); "
                             "send a message of api.v1.beta1 as Katib's controller does")


def add_to_server(servicer: SuggestionServicer, server: grpc.Server) -> None:
    """Register like the generated helper does, but with request parsers that never raise."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            getattr(servicer, name),
            request_deserializer=raw_request(request_type, max_bytes),
            response_serializer=reply_type.SerializeToString)
        for name, request_type, reply_type, max_bytes in (
            ("GetSuggestions", api_pb2.GetSuggestionsRequest, api_pb2.GetSuggestionsReply, None),
            # carries nothing but the Experiment
            ("ValidateAlgorithmSettings", api_pb2.ValidateAlgorithmSettingsRequest,
             api_pb2.ValidateAlgorithmSettingsReply, MAX_EXPERIMENT_BYTES),
        )
    }
    service = api_pb2.DESCRIPTOR.services_by_name["Suggestion"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))


class SuggestionServicer:
    """Katib's Suggestion service over one Suggester, for a grpc.aio server.

    The handlers run on the event loop, which also answers health checks, so
    they only queue the blocking work: GetSuggestions on the suggestion pool,
    ValidateAlgorithmSettings on a pool of its own (always cheap, it never
    waits behind a long suggestion). Both pools take turns between experiments.
    """

    def __init__(self, suggester: Suggester, metrics: CallMetrics | None = None, *,
                 suggest_pool: FairExecutor, validate_pool: FairExecutor):
        self._suggester = suggester
        self._metrics = metrics or CallMetrics()
        self._suggest_pool = suggest_pool
        self._validate_pool = validate_pool

    async def GetSuggestions(self, request, context):
        return await self._call("GetSuggestions", request, context, self._suggest_pool, self._suggest)

    async def ValidateAlgorithmSettings(self, request, context):
        return await self._call("ValidateAlgorithmSettings", request, context, self._validate_pool, self._validate,
                                fail_closed=True)

    def _suggest(self, data: bytes, facts: dict):
        request = parse_request(api_pb2.GetSuggestionsRequest, data)
        _reject_malformed(request)
        facts["count"] = request.current_request_number
        return self._suggester.suggest(request, facts)

    def _validate(self, data: bytes, facts: dict):
        request = parse_request(api_pb2.ValidateAlgorithmSettingsRequest, data)
        _reject_malformed(request)
        facts["algorithm"] = request.experiment.spec.algorithm.algorithm_name
        self._suggester.validate(request.experiment)
        return api_pb2.ValidateAlgorithmSettingsReply()

    async def _call(self, method: str, data, context, pool: FairExecutor, work: Callable, fail_closed=False):
        """Queue ``work(data, facts)`` as one of its experiment's jobs; only a glance at the bytes here."""
        start = time.perf_counter()
        facts: dict = {}
        token = CancelToken()
        try:
            _reject_malformed(data)
            name = experiment_name(data)
            facts["experiment"] = name[:LOGGED_NAME]
            reply = await asyncio.wrap_future(pool.submit(name, len(data), self._run, token, work, data, facts))
        except asyncio.CancelledError:
            # the caller gave up (deadline, cancel or server stop): a call still queued is dropped
            # unrun, a running one stops at its next safe point and frees the worker
            token.cancel()
            self._log(method, facts, start, grpc.StatusCode.CANCELLED)
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes a status, none escapes
            code, details = status_of(error, fail_closed=fail_closed)
            self._log(method, facts, start, code, details)
            await context.abort(code, details)
        self._log(method, facts, start, grpc.StatusCode.OK)
        return reply

    def _run(self, token: CancelToken, work: Callable, data: bytes, facts: dict):
        """The worker's side of a call: ``work`` with its cancellation token in reach of checkpoint()."""
        try:
            return run_cancellable(token, work, data, facts)
        except CallAbandoned:
            fields = {"rpc": "stopped", **facts, "safe_points": token.safe_points,
                      "after_cancel": token.safe_points - (token.safe_points_at_cancel or 0),
                      "longest_gap_cpu_ms": round(token.longest_gap * 1000, 1)}
            log.info("abandoned call stopped: %s", " ".join(f"{k}={v}" for k, v in fields.items()), extra=fields)
            raise

    def _log(self, method, facts, start, code, details=""):
        """One line per call; the same fields go to JSON logs as keys and to the metrics."""
        seconds = time.perf_counter() - start
        fields = {"rpc": method, **facts, "code": code.name, "duration_ms": round(seconds * 1000, 1)}
        if details:
            fields["error"] = details[:LOGGED_DETAILS]
        text = " ".join(f"{k}={v!r}" if k == "error" else f"{k}={v}" for k, v in fields.items())
        log.log(logging.INFO if code is grpc.StatusCode.OK else logging.WARNING, text, extra=fields)
        self._metrics.observe(method, code.name, seconds, facts.get("history"))
