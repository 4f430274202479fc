"""Logging set-up (text or JSON, one structured line per call) and optional Prometheus metrics."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_format: str) -> None:
    """Root logging for the process; only the CLI calls this (never at import)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(_json_formatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def iso_utc(created: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-11-29T22:33:33.508Z: log collectors parse it as is."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class Formatter(JsonFormatter):
        def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
            return iso_utc(record.created)

    # fields passed with extra= (experiment, algorithm, code, duration_ms, ...) become JSON keys
    return Formatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                     rename_fields={"levelname": "level", "asctime": "time"})


class CallMetrics:
    """Prometheus series for the Suggestion RPCs; a no-op until ``serve_metrics`` runs."""

    def __init__(self) -> None:
        self._calls = self._latency = self._history = None

    def serve_metrics(self, host: str, port: int) -> int:
        """Expose /metrics over HTTP; returns the bound port (0 picks a free one)."""
        import prometheus_client

        registry = prometheus_client.CollectorRegistry()
        self._calls = prometheus_client.Counter(
            "katib_suggest_calls", "Suggestion RPCs by method and status code", ["method", "code"], registry=registry)
        self._latency = prometheus_client.Histogram(
            "katib_suggest_call_seconds", "Suggestion RPC latency", ["method"], registry=registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60))
        self._history = prometheus_client.Histogram(
            "katib_suggest_history_trials", "Trials per GetSuggestions request", registry=registry,
            buckets=(0, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000))
        server, _thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
        return server.server_port

    def observe(self, method: str, code: str, seconds: float, history: int | None) -> None:
        if self._calls is None:
            return
        self._calls.labels(method, code).inc()
        self._latency.labels(method).observe(seconds)
        if history is not None:
            self._history.observe(history)
