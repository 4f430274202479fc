"""Ctrl-C and SIGTERM during a local run: the first stops it and keeps the results, a second ends it at once."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)
INTERRUPTED = 128 + signal.SIGINT  # 130: the shell's status for Ctrl-C
_DESCRIPTION = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


def describe(signum: int) -> str:
    return _DESCRIPTION.get(signum, signal.Signals(signum).name)


class Interrupt:
    """Installs handlers for SIGINT and SIGTERM while the run lasts (main thread only).

    ``stop(signum)`` runs in a thread of its own: a handler must return quickly, and
    printing from inside one can collide with the progress bar's own write.
    ``now()`` runs in the handler of the second signal, just before the process exits.
    """

    def __init__(self, stop: Callable[[int], None], now: Callable[[], None]):
        self.stop, self.now = stop, now
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def exit_status(self) -> int:
        # 130 for Ctrl-C and SIGTERM alike (issue 14): either way the run was interrupted and its
        # results were kept, and scripts that call `run` need one status to test for
        return INTERRUPTED

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *_exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum: int, _frame) -> None:
        if self.signum is None:
            self.signum = signum
            threading.Thread(target=self.stop, args=(signum,), name="interrupt", daemon=True).start()
            return
        os.write(2, f"\n{describe(signum)} again: ending now, without results\n".encode())
        self.now()
        os._exit(128 + signum)
