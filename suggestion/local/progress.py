"""Progress on stderr: a tqdm bar on a terminal (the `bench` extra), about ten plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack

_bars: list = []  # the tqdm bars on screen: a note goes above them instead of through them
TICK = 1.0  # seconds between redraws of an idle bar, so its elapsed time keeps moving during long trials


def note(text: str) -> None:
    """A line for the user on stderr while progress may be showing (e.g. what Ctrl-C does now)."""
    if _bars:
        _bars[-1].write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr, flush=True)


class Progress:
    def __init__(self, total: int, description: str, unit: str = "run"):
        self.total, self.done, self.description, self.status = total, 0, description, ""
        self.bar, self._printed, self._stack = None, 0, ExitStack()
        self._began, self._closed = time.monotonic(), threading.Event()
        if not sys.stderr.isatty():
            return  # a log file or CI: a redrawn bar would leave one copy of every state in it
        try:
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True)
        _bars.append(self.bar)
        self._stack.enter_context(logging_redirect_tqdm())  # log lines go above the bar, not through it
        # tqdm redraws only on update(): with hour-long trials the bar would sit still and look hung
        threading.Thread(target=self._tick, name="progress-tick", daemon=True).start()

    def _tick(self) -> None:
        while not self._closed.wait(TICK):
            self.bar.refresh()

    def update(self, status: str = "") -> None:
        self.done += 1
        self.status = status
        if self.bar is not None:
            if status:
                self.bar.set_postfix_str(status, refresh=False)
            self.bar.update(1)
        elif self.done == self.total or self.done % max(self.total // 10, 1) == 0:
            self._print()

    def close(self) -> None:
        """Leave the final state on screen once (a run that stops early did not print it yet)."""
        self._closed.set()
        if self.bar is not None:
            self._stack.close()
            self.bar.close()
            _bars.remove(self.bar)
        elif self.done and self._printed != self.done:
            self._print()

    def _print(self) -> None:
        self._printed = self.done
        elapsed = int(time.monotonic() - self._began)
        clock = f"{elapsed // 3600}:{elapsed // 60 % 60:02d}:{elapsed % 60:02d}"
        print(f"{self.description}: {self.done}/{self.total} {self.status} [{clock}]".replace("  [", " ["),
              file=sys.stderr, flush=True)
