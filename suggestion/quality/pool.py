"""Benchmark runs in worker processes that one Ctrl-C stops within seconds, leaving no process behind.

A terminal's Ctrl-C reaches every process of the foreground group. Workers
ignore it, so only the parent decides: it cancels the runs not started, sends
each worker and everything it started (a ``--server-command`` server) SIGTERM,
which a worker turns into SystemExit so its servers stop in order, and SIGKILL
to whatever is left after ``GRACE`` seconds. Finished runs are already in the
journal, so the same command with --resume runs only the rest.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from katib_suggestion.stop_signal import in_completion_order

GRACE = 5.0  # seconds between SIGTERM and SIGKILL
_POLL = 0.05


def pool_results(work: Callable, items: Iterable, workers: int) -> Iterator:
    """``work(item)`` for every item in ``workers`` processes, results as they finish; on any exception here
    (KeyboardInterrupt above all) the workers and their children are ended before it propagates."""
    # spawn, not fork: forking a process that already runs gRPC threads can deadlock the child
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_signals)
    try:
        futures = [pool.submit(_in_worker, work, item) for item in items]
        for future in in_completion_order(futures):
            yield future.result()
    except BaseException:
        stop_workers(pool)
        raise
    pool.shutdown(wait=True)


class _Stopped(SystemExit):
    """The parent's SIGTERM, raised in the worker's main thread so a run's servers stop on the way out."""


def _worker_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C does
    signal.signal(signal.SIGTERM, _stop)


def _stop(signum: int, _frame) -> None:
    logging.disable(logging.WARNING)  # the calls the unwinding cancels are expected, not worth a line each
    raise _Stopped(128 + signum)


def _in_worker(work: Callable, item):
    """``work(item)``; once it has unwound from the parent's SIGTERM, the worker exits instead of taking the next
    item (the executor's worker loop would report the exit as this run's result and carry on)."""
    try:
        return work(item)
    except _Stopped as stopped:
        os._exit(stopped.code)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started; TERM the workers and their descendants, KILL what is left after GRACE.
    A second Ctrl-C meanwhile KILLs at once."""
    # ProcessPoolExecutor names its workers only privately before Python 3.14 (terminate_workers)
    workers = list(getattr(pool, "_processes", None) or {})
    doomed = workers + descendants(workers)
    previous = signal.signal(signal.SIGINT, lambda *_: _signal_all(doomed + descendants(workers), signal.SIGKILL))
    try:
        pool.shutdown(wait=False, cancel_futures=True)
        _signal_all(doomed, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while time.monotonic() < deadline and any(_alive(pid) for pid in doomed):
            time.sleep(_POLL)
        _signal_all(doomed + descendants(workers), signal.SIGKILL)
    finally:
        signal.signal(signal.SIGINT, previous)


def descendants(roots: list[int]) -> list[int]:
    """Every living process below ``roots`` (children, grandchildren ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            parent = int(rest.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # ended while we looked
        children.setdefault(parent, []).append(int(pid))
    found, todo = [], list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
