"""The gRPC edge: decode nothing itself, map every error to a status in one place, log one line."""

from __future__ import annotations

import logging
import time
import uuid

import grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.errors import BackendUnavailable, InvalidExperiment, InvalidRequest, SearchSpaceExhausted
from katib_suggestion.observability import CallMetrics
from katib_suggestion.pipeline import Suggester
from katib_suggestion.wire import MalformedRequest, tolerant_parser

log = logging.getLogger(__name__)
LOGGED_DETAILS = 2000  # characters of an error kept in the call's log line

_CODES = {
    InvalidExperiment: grpc.StatusCode.INVALID_ARGUMENT,
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    SearchSpaceExhausted: grpc.StatusCode.FAILED_PRECONDITION,
    BackendUnavailable: grpc.StatusCode.FAILED_PRECONDITION,
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
    if isinstance(request, MalformedRequest):
        raise InvalidRequest(f"the request is not a valid {request.message_type} message ({request.reason}); "
                             "send a message of api.v1.beta1 as Katib's controller does")


def add_to_server(servicer: SuggestionServicer, server: grpc.Server) -> None:
    """Register like the generated helper does, but with request parsers that never raise."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            getattr(servicer, name),
            request_deserializer=tolerant_parser(request_type),
            response_serializer=reply_type.SerializeToString)
        for name, request_type, reply_type in (
            ("GetSuggestions", api_pb2.GetSuggestionsRequest, api_pb2.GetSuggestionsReply),
            ("ValidateAlgorithmSettings", api_pb2.ValidateAlgorithmSettingsRequest,
             api_pb2.ValidateAlgorithmSettingsReply),
        )
    }
    service = api_pb2.DESCRIPTOR.services_by_name["Suggestion"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))


class SuggestionServicer(api_pb2_grpc.SuggestionServicer):
    """Katib's Suggestion service over one Suggester."""

    def __init__(self, suggester: Suggester, metrics: CallMetrics | None = None):
        self._suggester = suggester
        self._metrics = metrics or CallMetrics()

    def GetSuggestions(self, request, context):
        start = time.perf_counter()
        facts: dict = {}
        try:
            _reject_malformed(request)
            facts.update(experiment=request.experiment.name, count=request.current_request_number)
            reply = self._suggester.suggest(request, facts)
        except Exception as error:  # noqa: BLE001 - every error becomes a status, none escapes
            self._fail(context, "GetSuggestions", facts, start, *status_of(error))
        self._log("GetSuggestions", facts, start, grpc.StatusCode.OK)
        return reply

    def ValidateAlgorithmSettings(self, request, context):
        start = time.perf_counter()
        facts: dict = {}
        try:
            _reject_malformed(request)
            facts.update(experiment=request.experiment.name, algorithm=request.experiment.spec.algorithm.algorithm_name)
            self._suggester.validate(request.experiment)
        except Exception as error:  # noqa: BLE001
            self._fail(context, "ValidateAlgorithmSettings", facts, start, *status_of(error, fail_closed=True))
        self._log("ValidateAlgorithmSettings", facts, start, grpc.StatusCode.OK)
        return api_pb2.ValidateAlgorithmSettingsReply()

    def _fail(self, context, method, facts, start, code, details):
        self._log(method, facts, start, code, details)
        context.abort(code, details)

    def _log(self, method, facts, start, code, details=""):
        """One line per call; the same fields go to JSON logs as keys and to the metrics."""
        seconds = time.perf_counter() - start
        fields = {"rpc": method, **facts, "code": code.name, "duration_ms": round(seconds * 1000, 1)}
        if details:
            fields["error"] = details[:LOGGED_DETAILS]
        text = " ".join(f"{k}={v!r}" if k == "error" else f"{k}={v}" for k, v in fields.items())
        log.log(logging.INFO if code is grpc.StatusCode.OK else logging.WARNING, text, extra=fields)
        self._metrics.observe(method, code.name, seconds, facts.get("history"))
