"""Katib's DB manager, the one client of it: observation logs with a deadline and bounded retries."""

from __future__ import annotations

import time
from dataclasses import dataclass

import grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.cancellation import checkpoint
from katib_suggestion.errors import DependencyUnavailable, InvalidRequest
from katib_suggestion.stopping.wire import metric_values
from katib_validators.numeric import finite

# Codes worth another try: the DB manager restarting, overloaded, or slow this once.
_RETRIED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}


@dataclass(frozen=True)
class DBManagerConfig:
    call_timeout: float = 10.0  # seconds one GetObservationLog may take
    attempts: int = 3  # tries of one call, the first included
    backoff: float = 0.5  # seconds before the second try, doubled after each
    # Katib gives GetEarlyStoppingRules the same 60 s as GetSuggestions: every DB call of one
    # request must end well inside it, so the controller sees our error instead of its timeout.
    budget: float = 45.0


class ObservationLogs:
    """Reads trials' reported values of one metric from the DB manager at ``address``; use with ``with``."""

    def __init__(self, address: str, config: DBManagerConfig | None = None):
        config = config or DBManagerConfig()
        if not address or ":" not in address:
            raise InvalidRequest(f"db_manager_address {address!r} is not host:port; Katib sends "
                                 "katib-db-manager.kubeflow:6789 unless its config names another")
        self.address, self._config = address, config
        self._channel = grpc.insecure_channel(address)
        self._stub = api_pb2_grpc.DBManagerStub(self._channel)
        self._deadline = time.monotonic() + config.budget

    def __enter__(self) -> ObservationLogs:
        return self

    def __exit__(self, *_exc) -> None:
        self._channel.close()

    def values(self, trial: str, metric: str) -> tuple[float, ...]:
        """The trial's values of ``metric`` in the order reported; text that is no finite number
        (Katib stores "unavailable" for a metric it could not read) is left out."""
        checkpoint()  # between trials' reads: a rules call whose client left stops here
        request = api_pb2.GetObservationLogRequest(trial_name=trial, metric_name=metric)
        reply = self._call(request, trial)
        return tuple(v for v in (finite(text) for text in metric_values(reply.observation_log)) if v is not None)

    def _call(self, request, trial: str):
        pause = self._config.backoff
        for attempt in range(1, self._config.attempts + 1):
            left = self._deadline - time.monotonic()
            if left <= 0:
                break
            try:
                return self._stub.GetObservationLog(request, timeout=min(self._config.call_timeout, left))
            except grpc.RpcError as error:
                if error.code() not in _RETRIED or attempt == self._config.attempts:
                    raise DependencyUnavailable(
                        f"Katib's DB manager at {self.address} did not give the observation log of trial "
                        f"{trial}: {error.code().name} {error.details() or ''} (after {attempt} tries); "
                        "the controller asks again") from error
            time.sleep(min(pause, max(0.0, self._deadline - time.monotonic())))
            pause *= 2
        raise DependencyUnavailable(f"Katib's DB manager at {self.address} did not answer within "
                                    f"{self._config.budget:.0f} s for this request; the controller asks again")

