"""A call's cancellation: set at the gRPC edge when its client has gone, checked by long loops at safe points."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from katib_suggestion.errors import CallAbandoned

T = TypeVar("T")


class CancelToken:
    """Whether the client of one call is still waiting for it, and how often its work asked.

    The event loop cancels (deadline passed, client cancelled, server stopping);
    the worker thread reads it at safe points: between model fits, between the
    points of a batch, between chunks of candidates. Only the decision to stop
    reads it, never the computation, so a call that completes gets the same
    answer whether or not anyone could have cancelled it. The counts and the
    worker's CPU seconds between safe points are kept for the log line of an
    abandoned call (and the test that bounds how long abandoned work runs on).
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self.safe_points = 0
        self.safe_points_at_cancel: int | None = None
        self.longest_gap = 0.0  # most CPU seconds of the worker between two safe points
        self._last_cpu: float | None = None

    def cancel(self) -> None:
        if not self._cancelled.is_set():
            self.safe_points_at_cancel = self.safe_points
            self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def start(self) -> None:
        self._last_cpu = time.thread_time()

    def reached(self) -> None:
        """A safe point of the worker: stop here if the client has gone."""
        now = time.thread_time()
        if self._last_cpu is not None:
            self.longest_gap = max(self.longest_gap, now - self._last_cpu)
        self._last_cpu = now
        self.safe_points += 1
        if self._cancelled.is_set():
            raise CallAbandoned(f"the client left (deadline or cancel); the work stopped at safe point "
                                f"{self.safe_points}")


_CURRENT: contextvars.ContextVar[CancelToken | None] = contextvars.ContextVar("katib_suggest_call", default=None)


def checkpoint() -> None:
    """A safe point: raises CallAbandoned when the running call's client has gone (else a flag read).

    Outside a server call (tests, the local runner, benchmarks) it does nothing.
    """
    token = _CURRENT.get()
    if token is not None:
        token.reached()


def run_cancellable(token: CancelToken, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` on this thread with ``token`` as the call that checkpoint() reads."""
    reset = _CURRENT.set(token)
    token.start()
    try:
        return function(*args)
    finally:
        _CURRENT.reset(reset)
