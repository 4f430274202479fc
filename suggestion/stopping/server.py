"""The early-stopping server: Katib's EarlyStopping service with the suggestion server's health, limits and shutdown."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from katib_suggestion.listen import add_port
from katib_suggestion.observability import CallMetrics
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.server import Config, Running, ServerHandle, built_on_loop, server_options
from katib_suggestion.stopping.dbmanager import DBManagerConfig
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_suggestion.stopping.service import SERVICE, EarlyStoppingServicer, add_to_server


def make_stopping_server(config: Config, writer_factory=None, db_config: DBManagerConfig | None = None) -> Running:
    """An unstarted early-stopping server with its bound port (port 0 in tests for a free one)."""
    metrics = CallMetrics()
    pools = (FairExecutor(config.max_workers, "rules"), FairExecutor(1, "status"))
    servicer = EarlyStoppingServicer(pools[0], metrics, quick_pool=pools[1], writer_factory=writer_factory,
                                     db_config=db_config)
    loop, server, health_servicer, port = built_on_loop(_build(config, servicer), pools)
    return Running(ServerHandle(loop, server, pools), port, health_servicer, metrics, None, loop,
                   EARLY_STOPPING.health_names)


async def _build(config: Config, servicer: EarlyStoppingServicer):
    server = grpc.aio.server(options=server_options())
    add_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    return server, health_servicer, add_port(server, config.host, config.port)
