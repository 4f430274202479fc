"""Trial processes as process groups: a timeout, Ctrl-C or the end of the experiment ends the whole tree.

A training script is often wrapped (``bash -c "python3 train.py; echo done"``):
ending only the direct child would orphan ``train.py``. Each trial starts in a
session of its own, so one signal reaches every process it started; TERM first
(a script may save a checkpoint), KILL after the grace period, and then the run
moves on whether or not the kernel has reaped everything (it never waits on a
process it has given up on).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path

DEFAULT_GRACE = 10.0  # seconds between TERM and KILL
_POLL = 0.05
_PROC = Path("/proc")
_REAP = 1.0  # seconds to wait for a killed direct child to be reaped before giving up on it


class Stopped(Exception):
    """The run is stopping: no new trial process may start."""


class End(Enum):
    EXITED = "exited"  # the direct child ended by itself
    TIMED_OUT = "timed out"
    STOPPED = "stopped"  # ended by end_all (Ctrl-C, or the experiment is over)
    EARLY_STOPPED = "early stopped"  # its early-stopping rules were met: ended like Katib's collector ends it


class ProcessGroups:
    """The live trial process groups of one run; thread-safe (trials run in worker threads)."""

    def __init__(self, grace: float = DEFAULT_GRACE):
        self.grace = grace
        self.reason = ""  # why end_all was called, for the trials it ends
        self._lock = threading.Lock()
        self._live: dict[int, subprocess.Popen] = {}
        self._stopping = False
        self._given_up = threading.Event()

    def start(self, argv: list[str], **popen) -> subprocess.Popen:
        """Popen in a new session (its own process group); raises Stopped once end_all has begun."""
        with self._lock:
            if self._stopping:
                raise Stopped(self.reason)
            process = subprocess.Popen(argv, start_new_session=True, **popen)
            self._live[process.pid] = process
        return process

    def wait(self, process: subprocess.Popen, timeout: float, stop: Callable[[], bool] | None = None) -> End:
        """Wait for the direct child, then end whatever is left of its group (background grandchildren).

        ``stop`` is asked between polls; when it says so the group is ended (TERM, KILL after the grace)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    process.wait(timeout=min(0.2, max(deadline - time.monotonic(), 0.001)))
                except subprocess.TimeoutExpired:
                    pass
                else:
                    if not self._stopping:
                        return End.EXITED
                    # a wrapper (bash -c) died of the TERM: its children keep their grace period
                    while _group_alive(process) and not self._given_up.wait(_POLL):
                        pass
                    return End.STOPPED
                if self._given_up.is_set():
                    return End.STOPPED
                if stop is not None and stop():
                    _end_groups([process], self.grace)
                    return End.EARLY_STOPPED
                if time.monotonic() >= deadline:
                    _end_groups([process], self.grace)
                    return End.STOPPED if self._stopping else End.TIMED_OUT
        finally:
            # what a script left behind (a background job) dies with it, as in a container; nothing waits for it
            _signal_group(process.pid, signal.SIGKILL)
            with self._lock:
                self._live.pop(process.pid, None)

    def end_all(self, reason: str) -> int:
        """Start no more processes; TERM every live group, KILL after the grace period. Returns how many."""
        with self._lock:
            self._stopping, self.reason = True, self.reason or reason
            live = list(self._live.values())
        _end_groups(live, self.grace)
        self._given_up.set()
        return len(live)

    def kill_all(self) -> None:
        """KILL every live group at once (a second Ctrl-C)."""
        with self._lock:
            self._stopping = True
            live = list(self._live.values())
        for process in live:
            _signal_group(process.pid, signal.SIGKILL)

    @property
    def stopping(self) -> bool:
        """end_all or kill_all has begun: no new trial process may start."""
        return self._stopping

    def running(self) -> int:
        with self._lock:
            return len(self._live)


def _end_groups(processes: list[subprocess.Popen], grace: float) -> None:
    """TERM each group, wait up to ``grace`` for all to vanish, then KILL what is left."""
    alive = [p for p in processes if _signal_group(p.pid, signal.SIGTERM)]
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(_POLL)
        alive = [p for p in alive if _group_alive(p)]
    for process in alive:
        _signal_group(process.pid, signal.SIGKILL)
    for process in alive:
        try:
            process.wait(timeout=_REAP)
        except subprocess.TimeoutExpired:
            pass  # stuck in the kernel: given up on, never waited for again


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the direct child, or its zombie keeps the group "alive"
    return _signal_group(process.pid, 0) and _has_live_member(process.pid)


def _has_live_member(pgid: int) -> bool:
    """Whether a process of the group is more than a zombie waiting to be reaped.

    Orphaned grandchildren are reaped by PID 1, which in a container or VM may be slow
    to do it (or never do it): their zombies must not hold the run for the grace period.
    """
    if not _PROC.is_dir():
        return True  # no /proc (macOS): zombies count as alive
    for stat in _PROC.glob("[0-9]*/stat"):
        try:
            state, _parent, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # ended while we looked
        if int(group) == pgid and state != "Z":
            return True
    return False


def _signal_group(pgid: int, signum: int) -> bool:
    """True when the group still had a process to signal."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        return False
    return True
