"""The gRPC edge: decode nothing itself, map every error to a status in one place, log one line."""

from __future__ import annotations

import logging
import time
import uuid

import grpc

from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.errors import BackendUnavailable, InvalidExperiment, InvalidRequest, SearchSpaceExhausted
from katib_suggestion.pipeline import Suggester

log = logging.getLogger(__name__)

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


class SuggestionServicer(api_pb2_grpc.SuggestionServicer):
    """Katib's Suggestion service over one Suggester."""

    def __init__(self, suggester: Suggester):
        self._suggester = suggester

    def GetSuggestions(self, request, context):
        facts: dict = {"experiment": request.experiment.name, "count": request.current_request_number}
        start = time.perf_counter()
        try:
            reply = self._suggester.suggest(request, facts)
        except Exception as error:  # noqa: BLE001 - every error becomes a status, none escapes
            self._fail(context, "GetSuggestions", facts, start, *status_of(error))
        self._log("GetSuggestions", facts, start, grpc.StatusCode.OK)
        return reply

    def ValidateAlgorithmSettings(self, request, context):
        facts: dict = {"experiment": request.experiment.name,
                       "algorithm": request.experiment.spec.algorithm.algorithm_name}
        start = time.perf_counter()
        try:
            self._suggester.validate(request.experiment)
        except Exception as error:  # noqa: BLE001
            self._fail(context, "ValidateAlgorithmSettings", facts, start, *status_of(error, fail_closed=True))
        self._log("ValidateAlgorithmSettings", facts, start, grpc.StatusCode.OK)
        return api_pb2.ValidateAlgorithmSettingsReply()

    def _fail(self, context, method, facts, start, code, details):
        self._log(method, facts, start, code, details)
        context.abort(code, details)

    @staticmethod
    def _log(method, facts, start, code, details=""):
        fields = " ".join(f"{k}={v}" for k, v in facts.items())
        level = logging.INFO if code in (grpc.StatusCode.OK,) else logging.WARNING
        first_line = details.splitlines()[0] if details else ""
        log.log(level, "%s %s code=%s duration_ms=%.1f%s", method, fields, code.name,
                (time.perf_counter() - start) * 1000, f" error={first_line!r}" if first_line else "")
        if details and code is grpc.StatusCode.INVALID_ARGUMENT:
            log.info("%s details:\n%s", method, details)
