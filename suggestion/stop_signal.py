"""Waits in the main thread that a signal always interrupts, however the kernel delivers it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable
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

    def received(self) -> bool:
        return self._received.is_set()

    def wait(self) -> str:
        """Block until SIGTERM or SIGINT arrived (now or earlier); the signal's name."""
        while not self._received.wait(WAKE_SECONDS):
            pass
        return signal.Signals(self._signum).name


def first_completed(futures: Iterable[Future]) -> set[Future]:
    """The futures done once at least one is (``concurrent.futures.wait`` with FIRST_COMPLETED), waited
    for in slices so that Ctrl-C or SIGTERM reaches its handler in time (see WAKE_SECONDS)."""
    futures = set(futures)
    while futures:
        done, _ = wait(futures, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
        if done:
            return done
    return set()
