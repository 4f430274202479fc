"""Waits in the main thread that a signal always interrupts, however the kernel delivers it."""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# How often a waiting main thread wakes to run a handler that is due. CPython runs Python
# signal handlers only in the main thread, when it next executes bytecode; the kernel may hand a
# process-directed signal to any thread of a process (gRPC's, the event loop's, a worker), and a
# main thread blocked in an untimed lock wait is then never woken (python/cpython#85300): the
# server would ignore Kubernetes' SIGTERM until SIGKILL, 30 s later by default.
WAKE_SECONDS = 0.2


class StopSignal:
    """Handlers for SIGTERM and SIGINT that only record the signal; ``wait()`` returns its name.

    Install it in the main thread. The handlers do nothing but set a flag, so nothing (logging
    included) runs inside a handler that may interrupt the main thread anywhere.
    """

    def __init__(self) -> None:
        self._received = threading.Event()
        self._signum: int | None = None
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._record)

    def _record(self, signum: int, _frame) -> None:
        if self._signum is None:
            self._signum = signum
        self._received.set()

    def wait(self) -> str:
        """Block until SIGTERM or SIGINT arrived (now or earlier); the signal's name."""
        while not self._received.wait(WAKE_SECONDS):
            pass
        return signal.Signals(self._signum).name


def first_completed(futures: Iterable[Future]) -> set[Future]:
    """The futures done once at least one is (``concurrent.futures.wait`` with FIRST_COMPLETED), waited
    for in slices so that Ctrl-C or SIGTERM reaches its handler in time (see WAKE_SECONDS)."""
    futures = set(futures)
    if not futures:
        return set()
    while True:
        done, _ = wait(futures, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
        if done:
            return done


def in_completion_order(futures: Iterable[Future]) -> Iterator[Future]:
    """Each future as it completes (``concurrent.futures.as_completed``), waited for in slices like
    first_completed; each future is watched once, so a wake-up costs the same for 2 or 2,000 of them."""
    finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
    futures = list(futures)
    for future in futures:
        future.add_done_callback(finished.put)
    for _ in futures:
        while True:
            try:
                future = finished.get(timeout=WAKE_SECONDS)
            except queue.Empty:
                continue
            yield future
            break
