"""The gRPC edge of every call: queued on a pool, cancelled when its client leaves, errors mapped, one log line."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

import grpc
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
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.wire import MalformedRequest, parse_request

log = logging.getLogger("katib_suggestion.service")
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


def reject_malformed(request) -> None:
    if isinstance(request, MalformedRequest) and request.size:
        raise InvalidRequest(f"the {request.message_type} is {request.size / 2**20:.1f} MiB; an Experiment that "
                             f"Katib can store is at most 1.5 MiB and this server reads at most "
                             f"{request.max_bytes / 2**20:.0f} MiB of one; shorten the Experiment")
    if isinstance(request, MalformedRequest):
        raise InvalidRequest(f"the request is not a valid {request.message_type} message ({request.reason}); "
                             "send a message of api.v1.beta1 as Katib's controller does")


def parsed(message_type, data: bytes):
    """The request a worker reads from the call's bytes; InvalidRequest says what is wrong with it."""
    request = parse_request(message_type, data)
    reject_malformed(request)
    return request


class CallEdge:
    """Runs the calls of one servicer (suggestion or early stopping).

    The handler runs on the event loop, which also answers health checks, so it only queues
    ``work(data, facts)`` as one of its key's jobs on a pool that takes turns between keys
    (experiments). When the caller gives up (deadline, cancel, server stop), a queued call is
    dropped unrun and a running one stops at its next safe point (katib_suggestion.cancellation),
    freeing the worker. ``size_fact`` names the fact the metrics count as the call's size.
    """

    def __init__(self, metrics: CallMetrics | None, size_fact: str):
        self.metrics = metrics or CallMetrics()
        self._size_fact = size_fact

    async def call(self, method: str, data, context, pool: FairExecutor, work: Callable,
                   key: Callable[[bytes], str] | None = None, fail_closed: bool = False):
        start, facts, token = time.perf_counter(), {}, CancelToken()
        try:
            reject_malformed(data)
            name = key(data) if key else ""
            if name:
                facts["experiment"] = name[:LOGGED_NAME]
            reply = await asyncio.wrap_future(pool.submit(name, len(data), self._run, token, work, data, facts))
        except asyncio.CancelledError:
            token.cancel()
            self._log(method, facts, start, grpc.StatusCode.CANCELLED)
            raise
        except Exception as error:  # noqa: BLE001 - every error becomes a status, none escapes
            code, details = status_of(error, fail_closed=fail_closed)
            self._log(method, facts, start, code, details)
            await context.abort(code, details)
        self._log(method, facts, start, grpc.StatusCode.OK)
        return reply

    @staticmethod
    def _run(token: CancelToken, work: Callable, data: bytes, facts: dict):
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
        self.metrics.observe(method, code.name, seconds, facts.get(self._size_fact))
