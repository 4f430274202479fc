"""Build and run the gRPC server: health, reflection, message limits, graceful SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from katib_api import api_pb2
from katib_suggestion.memory import return_large_allocations_to_the_os
from katib_suggestion.observability import CallMetrics
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import DeferredBackend
from katib_suggestion.service import SuggestionServicer, add_to_server

log = logging.getLogger(__name__)

# The name Katib's readiness and liveness probes ask about.
KATIB_HEALTH_SERVICE = "manager.v1beta1.Suggestion"
SUGGESTION_SERVICE = api_pb2.DESCRIPTOR.services_by_name["Suggestion"].full_name
# 10,000 trials of a dozen parameters are a few MiB; leave ample room.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Config:
    backend: str
    host: str = "0.0.0.0"
    port: int = 6789
    grace_period: float = 30.0  # seconds calls in flight may take after SIGTERM
    drain_period: float = 1.0  # seconds health says NOT_SERVING while calls are still accepted
    max_workers: int = 8
    metrics_port: int | None = None  # Prometheus /metrics on this port when set (0: any free port)


@dataclass
class Running:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    metrics: CallMetrics
    backend: DeferredBackend

    def mark_serving(self) -> None:
        for name in ("", KATIB_HEALTH_SERVICE, SUGGESTION_SERVICE):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def shutdown(self, grace: float, drain: float = 0.0) -> None:
        """NOT_SERVING first, then let calls in flight finish.

        Once stop() starts, every new call is refused, health checks included;
        the drain period lets probes and clients see NOT_SERVING first.
        """
        self.health.enter_graceful_shutdown()
        time.sleep(drain)
        self.server.stop(grace).wait()


def make_server(config: Config) -> Running:
    """An unstarted server with its bound port (bind port 0 in tests for a free one)."""
    backend = DeferredBackend(config.backend)
    suggester = Suggester(config.backend, backend)
    metrics = CallMetrics()
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
               # gRPC shares ports by default: a second server would silently split the traffic
               ("grpc.so_reuseport", 0)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=config.max_workers), options=options)
    add_to_server(SuggestionServicer(suggester, metrics), server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SUGGESTION_SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    try:
        port = server.add_insecure_port(f"{_bracketed(config.host)}:{config.port}")
    except RuntimeError as error:
        port, cause = 0, error
    else:
        cause = None
    if port == 0:
        raise OSError(f"cannot listen on {config.host}:{config.port} (in use, or not an address here)") from cause
    return Running(server, port, health_servicer, metrics, backend)


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(config: Config) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 after a graceful stop."""
    return_large_allocations_to_the_os()
    running = make_server(config)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        log.info("received %s: NOT_SERVING, finishing calls in flight (grace %.0fs)",
                 signal.Signals(signum).name, config.grace_period)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    running.server.start()
    if config.metrics_port is not None:
        port = running.metrics.serve_metrics(config.host, config.metrics_port)
        log.info("Prometheus metrics on %s:%d/metrics", config.host, port)
    running.mark_serving()
    running.backend.warm_up()
    log.info("katib-suggest %s backend serving on %s:%d", config.backend, config.host, running.port)
    stopping.wait()
    running.shutdown(config.grace_period, config.drain_period)
    log.info("stopped")
    return 0
