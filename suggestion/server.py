"""Build and run the gRPC server: health, reflection, message limits, fair workers, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from katib_api import api_pb2
from katib_suggestion import collector
from katib_suggestion.errors import BackendUnavailable
from katib_suggestion.listen import add_port
from katib_suggestion.memory import return_large_allocations_to_the_os
from katib_suggestion.observability import CallMetrics
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import DeferredBackend
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.served import check_ready
from katib_suggestion.service import SuggestionServicer, add_to_server
from katib_suggestion.stop_signal import StopSignal
from katib_suggestion.stopping.declaration import EARLY_STOPPING

log = logging.getLogger(__name__)

# The name Katib's readiness and liveness probes ask about.
KATIB_HEALTH_SERVICE = "manager.v1beta1.Suggestion"
SUGGESTION_SERVICE = api_pb2.DESCRIPTOR.services_by_name["Suggestion"].full_name
# 10,000 trials of a dozen parameters are a few MiB; leave ample room.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_STREAMS = 16


@dataclass(frozen=True)
class Config:
    backend: str
    host: str = "0.0.0.0"
    port: int = 6789
    grace_period: float = 30.0  # seconds calls in flight may take after SIGTERM
    drain_period: float = 1.0  # seconds health says NOT_SERVING while calls are still accepted
    # Suggestion calls computed at once. Katib runs one server per experiment with 0.5 CPU
    # by default, and the work holds the GIL most of the time: more threads share the same
    # core (a call waiting behind 8 running ones waited 11 s instead of one call's time) and
    # each holds a call's working set (see katib_validators.budget). Raise it for a server
    # shared by several experiments on several cores.
    max_workers: int = 1
    metrics_port: int | None = None  # Prometheus /metrics on this port when set (0: any free port)


def _quiet_stale_poller(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Drop the one harmless error grpc.aio leaves behind when its core shuts down between servers.

    When the last server or channel of a process closes, gRPC's core shuts down and closes the
    descriptor its poller registered with this loop; a wake-up already queued for it then reports
    "Bad file descriptor" with a traceback (seen between runs of the quality benchmark's workers
    and in the test suite). Nothing is lost: the next server registers a new descriptor.
    """
    error = context.get("exception")
    if isinstance(error, OSError) and error.errno == errno.EBADF:
        log.debug("grpc.aio poller woke on a closed descriptor after gRPC shut down: ignored")
        return
    loop.default_exception_handler(context)


class _Loop:
    """An asyncio event loop on a daemon thread, driven from synchronous code.

    One per process, shared by every server it starts (tests, the local runner
    and the quality gate start several in turn): grpc.aio polls its completion
    queue from the loops it has seen, and a stopped loop left behind makes it
    fail with a closed file descriptor.
    """

    _shared: _Loop | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(_quiet_stale_poller)
        threading.Thread(target=self.loop.run_forever, name="grpc-aio", daemon=True).start()

    @classmethod
    def shared(cls) -> _Loop:
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def run(self, coroutine, timeout: float | None = None):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


class ServerHandle:
    """A grpc.aio server with the synchronous start()/stop(grace).wait() of grpc.Server.

    The event loop answers health checks and queues suggestion work on worker
    threads, so a probe is answered in milliseconds however busy the workers are.
    """

    def __init__(self, loop: _Loop, server: grpc.aio.Server, pools: tuple[FairExecutor, ...]):
        self._loop, self._server, self.pools = loop, server, pools

    def start(self) -> None:
        self._loop.run(self._server.start())

    def stop(self, grace: float | None) -> threading.Event:
        """Refuse new calls, give calls in flight ``grace`` seconds, then cancel them."""
        stopped = threading.Event()

        def finished(_future) -> None:
            for pool in self.pools:
                pool.shutdown()
            stopped.set()

        asyncio.run_coroutine_threadsafe(self._server.stop(grace), self._loop.loop).add_done_callback(finished)
        return stopped


@dataclass
class Running:
    server: ServerHandle
    port: int
    health: health.aio.HealthServicer
    metrics: CallMetrics
    name: str  # what ``serve --backend`` named: a suggestion backend or the early-stopping service
    loop: _Loop
    health_names: tuple[str, ...] = ()

    def waiting(self) -> int:
        """Calls queued for a worker and not started yet."""
        return sum(pool.waiting() for pool in self.server.pools)

    def mark_serving(self, status=health_pb2.HealthCheckResponse.SERVING) -> None:
        for name in self.health_names or ("", KATIB_HEALTH_SERVICE, SUGGESTION_SERVICE):
            self.loop.run(self.health.set(name, status))

    def mark_ready(self, loaded: Callable[[], None] | None = None) -> None:
        """Check what serving needs (served.check_ready), run ``loaded`` (serve settles the garbage collector
        there, so the first call already runs settled), then report SERVING: a server whose implementation
        cannot load (a plugin's broken declaration, a missing extra) must never look ready.
        BackendUnavailable names what is missing."""
        check_ready(self.name)
        if loaded:
            loaded()
        self.mark_serving()

    def shutdown(self, grace: float, drain: float = 0.0) -> None:
        """NOT_SERVING first, then let calls in flight finish.

        Once stop() starts, every new call is refused, health checks included;
        the drain period lets probes and clients see NOT_SERVING first.
        """
        self.loop.run(self.health.enter_graceful_shutdown())
        time.sleep(drain)
        self.server.stop(grace).wait()


def make_server(config: Config) -> Running:
    """An unstarted server with its bound port (bind port 0 in tests for a free one)."""
    backend = DeferredBackend(config.backend)
    metrics = CallMetrics()
    pools = (FairExecutor(config.max_workers, "suggest"), FairExecutor(1, "validate"))
    servicer = SuggestionServicer(Suggester(config.backend, backend), metrics,
                                  suggest_pool=pools[0], validate_pool=pools[1])
    loop, server, health_servicer, port = built_on_loop(
        build_server(config, partial(add_to_server, servicer), SUGGESTION_SERVICE), pools)
    return Running(ServerHandle(loop, server, pools), port, health_servicer, metrics, config.backend, loop)


def built_on_loop(build, pools: tuple[FairExecutor, ...]):
    """(loop, server, health servicer, port) from the ``build`` coroutine run on the shared loop; the
    pools are shut down when it fails (a port already taken), so no worker thread is left behind."""
    loop = _Loop.shared()
    try:
        return (loop, *loop.run(build))
    except BaseException:
        for pool in pools:
            pool.shutdown()
        raise


async def build_server(config: Config, register: Callable[[grpc.aio.Server], None], service: str):
    """The aio server with one of our services (``register`` adds it, ``service`` names it for
    reflection) and the health servicer, created on the loop that will run them."""
    server = grpc.aio.server(options=server_options())
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((service, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    return server, health_servicer, add_port(server, config.host, config.port)


def server_options() -> list[tuple[str, int]]:
    """Channel options of every server we run (suggestion and early stopping)."""
    return [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # gRPC shares ports by default: a second server would silently split the traffic
            ("grpc.so_reuseport", 0),
            # calls one connection may have open: Katib's controller has one at a time per
            # experiment; a client flooding its connection waits on its side instead of
            # filling this server with requests (kubelet's probes come on a connection of their own)
            ("grpc.max_concurrent_streams", MAX_STREAMS)]


def serve(config: Config) -> int:
    """Run until SIGTERM or SIGINT; exit status 0 after a graceful stop."""
    return_large_allocations_to_the_os()
    if config.backend == EARLY_STOPPING.name:
        from katib_suggestion.stopping.server import make_stopping_server

        running = make_stopping_server(config)
    else:
        running = make_server(config)
    stop_signal = StopSignal()
    running.server.start()
    if config.metrics_port is not None:
        port = running.metrics.serve_metrics(config.host, config.metrics_port)
        log.info("Prometheus metrics on %s:%d/metrics", config.host, port)
    running.mark_serving(health_pb2.HealthCheckResponse.NOT_SERVING)  # probes see "starting", not "unknown"
    try:
        running.mark_ready(loaded=collector.settle)  # settled once everything a call needs is loaded
    except BackendUnavailable:
        running.server.stop(0).wait()
        raise  # the CLI prints it and exits 2: a pod that crashes with the reason, not one that hangs
    log.info("katib-suggest %s backend serving on %s:%d", config.backend, config.host, running.port)
    log.info("received %s: NOT_SERVING, finishing calls in flight (grace %.0fs)", stop_signal.wait(),
             config.grace_period)
    running.shutdown(config.grace_period, config.drain_period)
    log.info("stopped")
    return 0
