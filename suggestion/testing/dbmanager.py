"""A double of Katib's DB manager: its DBManager gRPC API with observation logs in memory, stored as Katib stores them.

Katib's DB manager (cmd/db-manager/v1beta1, MySQL or Postgres behind it) keeps one row per reported
value: trial, time (microseconds, UTC), metric name, value as text. ReportObservationLog skips
entries without a time stamp and refuses one that is not RFC 3339; GetObservationLog filters by
metric name and an inclusive time window and answers in time order, time stamps in UTC;
DeleteObservationLog drops a trial's rows. Its errors reach the caller as UNKNOWN (plain Go errors).

Tests use ``db_manager()``; the image check runs ``python -m katib_suggestion.testing.dbmanager``
inside the early-stopping image, beside the service, as Katib's pod reaches its DB manager.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
from collections.abc import Iterable
from concurrent import futures
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.stop_signal import StopSignal

KATIB_PORT = 6789  # katib-db-manager listens on 0.0.0.0:6789
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class ObservationTimeError(ValueError):
    """A time stamp that is not RFC 3339 (Katib's DB manager answers such a request with an error)."""


def parse_time(text: str) -> datetime:
    """An RFC 3339 time stamp (Go's time.RFC3339Nano layout) as UTC, to the microsecond as the database keeps it."""
    if not _RFC3339.fullmatch(text):
        raise ObservationTimeError(f"Error parsing time {text}: not RFC 3339")
    whole, _, rest = text.partition(".")
    if rest:  # fromisoformat takes at most microseconds on every Python we support
        digits = re.match(r"\d+", rest).group()
        text = f"{whole}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as error:  # a day or month out of range
        raise ObservationTimeError(f"Error parsing time {text}: {error}") from error


def format_time(moment: datetime) -> str:
    """UTC in Go's RFC3339Nano form: the fraction without trailing zeros, none when whole."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


class DBManagerDouble(api_pb2_grpc.DBManagerServicer):
    """Observation logs held as Katib's DB manager holds them; ``failures``, ``hang`` and ``calls``
    let a test inject errors and slowness into GetObservationLog and see what was asked."""

    def __init__(self):
        self.logs: dict[str, list[tuple[datetime, str, str]]] = {}  # trial -> [(time, metric, value)], time order
        self.failures: list[grpc.StatusCode] = []  # answered to the next GetObservationLog calls, in order
        self.hang = threading.Event()  # while set, every GetObservationLog waits for release
        self.release = threading.Event()
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def store(self, trial: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add (RFC 3339 time, metric, value) rows; all or none (ObservationTimeError)."""
        parsed = [(parse_time(stamp), metric, value) for stamp, metric, value in rows if stamp]
        with self._lock:
            entries = self.logs.setdefault(trial, [])
            entries.extend(parsed)
            entries.sort(key=lambda row: row[0])  # stable: equal times keep the order they came in

    def report(self, trial: str, metric: str, values, start: int = 0) -> None:
        """Test shorthand: ``values`` reported one second apart from ``start`` seconds after 2026-01-01."""
        self.store(trial, [(format_time(_EPOCH + timedelta(seconds=start + i)), metric, str(value))
                           for i, value in enumerate(values)])

    def ReportObservationLog(self, request, context):
        rows = [(log.time_stamp, log.metric.name, log.metric.value) for log in request.observation_log.metric_logs]
        try:
            self.store(request.trial_name, rows)
        except ObservationTimeError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        return api_pb2.ReportObservationLogReply()

    def GetObservationLog(self, request, context):
        self.calls.append((request.trial_name, request.metric_name))
        if self.hang.is_set():
            self.release.wait(30)
        if self.failures:
            context.abort(self.failures.pop(0), "injected by the test")
        try:
            start = parse_time(request.start_time) if request.start_time else None
            end = parse_time(request.end_time) if request.end_time else None
        except ObservationTimeError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        with self._lock:
            rows = list(self.logs.get(request.trial_name, ()))
        logs = [api_pb2.MetricLog(time_stamp=format_time(t), metric=api_pb2.Metric(name=m, value=v))
                for t, m, v in rows
                if (not request.metric_name or m == request.metric_name)
                and (start is None or t >= start) and (end is None or t <= end)]
        return api_pb2.GetObservationLogReply(observation_log=api_pb2.ObservationLog(metric_logs=logs))

    def DeleteObservationLog(self, request, context):
        with self._lock:
            self.logs.pop(request.trial_name, None)
        return api_pb2.DeleteObservationLogReply()


def start_server(double: DBManagerDouble, address: str) -> tuple[grpc.Server, int]:
    """A started gRPC server for ``double`` (and health: SERVING for "", as Katib's answers) on ``address``."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    api_pb2_grpc.add_DBManagerServicer_to_server(double, server)
    health_servicer = health.HealthServicer()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port(address)
    server.start()
    return server, port


@contextmanager
def db_manager():
    """A started DB manager double on loopback; yields (address, double)."""
    double = DBManagerDouble()
    server, port = start_server(double, "127.0.0.1:0")
    try:
        yield f"127.0.0.1:{port}", double
    finally:
        double.release.set()
        server.stop(None).wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m katib_suggestion.testing.dbmanager", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (Katib's: 0.0.0.0)")
    parser.add_argument("--port", type=int, default=KATIB_PORT, help=f"port (Katib's: {KATIB_PORT})")
    args = parser.parse_args(argv)
    server, port = start_server(DBManagerDouble(), f"{args.host}:{args.port}")
    stop_signal = StopSignal()
    print(f"DB manager double serving on {args.host}:{port}", file=sys.stderr, flush=True)
    stop_signal.wait()
    server.stop(1).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
