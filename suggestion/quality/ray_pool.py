"""Fan benchmark runs out as Ray tasks: an existing cluster by address, or a throwaway local one."""

from __future__ import annotations

import os
from collections.abc import Iterator

from katib_suggestion.quality.runner import RunFailure, RunResult, Task, attempt

LOCAL = "local"


def run_on_ray(tasks: list[Task], address: str, workers: int) -> Iterator[RunResult | RunFailure]:
    """Results as tasks finish; ``address`` "local" starts Ray on loopback for this call only."""
    if address == LOCAL:
        # keep every listener on 127.0.0.1 and skip token auth on a private single-machine cluster;
        # Ray reads these when it is imported, so they come first
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    try:
        import ray
    except ImportError as error:
        raise SystemExit("--ray needs Ray: pip install 'katib-suggest[ray]'") from error
    if address == LOCAL:
        ray.init(num_cpus=max(workers, 1), include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1, max_retries=1)(attempt)
        pending = [remote.remote(task) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        ray.shutdown()
