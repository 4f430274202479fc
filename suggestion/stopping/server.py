"""The early-stopping server: Katib's EarlyStopping service with the suggestion server's health, limits and shutdown."""

from __future__ import annotations

from functools import partial

from katib_suggestion.observability import CallMetrics
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.server import Config, Running, ServerHandle, build_server, built_on_loop
from katib_suggestion.stopping.dbmanager import DBManagerConfig
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_suggestion.stopping.service import SERVICE, EarlyStoppingServicer, add_to_server


def make_stopping_server(config: Config, writer_factory=None, db_config: DBManagerConfig | None = None) -> Running:
    """An unstarted early-stopping server with its bound port (port 0 in tests for a free one)."""
    metrics = CallMetrics()
    pools = (FairExecutor(config.max_workers, "rules"), FairExecutor(1, "status"))
    servicer = EarlyStoppingServicer(pools[0], metrics, quick_pool=pools[1], writer_factory=writer_factory,
                                     db_config=db_config)
    loop, server, health_servicer, port = built_on_loop(
        build_server(config, partial(add_to_server, servicer), SERVICE), pools)
    return Running(ServerHandle(loop, server, pools), port, health_servicer, metrics, EARLY_STOPPING.name, loop,
                   EARLY_STOPPING.health_names)
