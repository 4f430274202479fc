"""Blocking suggestion work on a few threads, taking turns between experiments."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from katib_suggestion.errors import ServerBusy

# Calls of one experiment waiting for a worker: Katib has one call of an experiment in
# flight, and repeats it after its deadline; more is a client gone astray.
KEY_WAITING = 8
# Request bytes waiting for a worker in all: every waiting call holds its request in
# memory, and a flood must not grow the server past its memory limit. A call that
# finds nothing waiting is taken whatever its size.
WAITING_BYTES = 64 * 1024 * 1024


class FairExecutor:
    """A thread pool with one queue per key (the experiment), served in turn.

    A plain FIFO pool lets one experiment that sends many heavy calls (Katib
    repeats a call after its 60 s deadline) keep every worker busy while an
    unrelated experiment's one-point call waits behind all of them. Here the
    next job comes from the key that has started the fewest jobs, a key that
    arrives starting level with the one served last (start-time fair queuing
    with one unit per job, so nobody banks turns while idle): a call waits for
    at most one job of each other busy experiment. A job whose future was cancelled
    before it started (the caller gave up: deadline or disconnect) is dropped
    unrun. The number of workers also bounds how many calls hold their working
    memory at once, and the waiting room is bounded too (ServerBusy beyond it).
    """

    def __init__(self, workers: int, name: str):
        if workers < 1:
            raise ValueError(f"{name} needs at least one worker, got {workers}")
        self._queues: dict[str, deque] = {}  # in arrival order, which breaks ties
        self._turns: dict[str, int] = {}  # jobs started per key with work waiting or running
        self._running: dict[str, int] = {}
        self._clock = 0  # the turns of the key served last
        self._waiting_bytes = 0
        self._ready = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{index}", daemon=True)
                         for index in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, key: str, size: int, function: Callable[..., Any], *args: Any) -> Future:
        """Queue ``function(*args)`` as one of ``key``'s jobs; ``size`` is the request's bytes."""
        future: Future = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the executor is shut down")
            self._check_room(key, size)
            if key not in self._queues:
                self._queues[key] = deque()
                self._turns.setdefault(key, self._clock)  # a key with a job running keeps its count
            self._queues[key].append((key, future, function, args, size))
            self._waiting_bytes += size
            self._ready.notify()
        return future

    def _check_room(self, key: str, size: int) -> None:
        waiting = len(self._queues.get(key, ()))
        if waiting >= KEY_WAITING:
            raise ServerBusy(f"{waiting} calls of this experiment are already waiting for the suggestion worker; "
                             "retry when they are answered")
        if self._queues and self._waiting_bytes + size > WAITING_BYTES:
            raise ServerBusy(f"{self._waiting_bytes >> 20} MiB of requests are already waiting for the suggestion "
                             "worker; retry shortly")

    def waiting(self) -> int:
        """Jobs queued and not yet started (for tests and metrics)."""
        with self._ready:
            return sum(len(jobs) for jobs in self._queues.values())

    def shutdown(self) -> None:
        """Stop taking work; workers finish the queue and exit."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def _next(self):
        with self._ready:
            while not self._queues and not self._closed:
                self._ready.wait()
            if not self._queues:
                return None
            key = min(self._queues, key=self._turns.__getitem__)
            self._clock, self._turns[key] = self._turns[key], self._turns[key] + 1
            jobs = self._queues[key]
            job = jobs.popleft()
            self._waiting_bytes -= job[-1]
            self._running[key] = self._running.get(key, 0) + 1
            if not jobs:
                del self._queues[key]
            return job

    def _done(self, key: str) -> None:
        with self._ready:
            self._running[key] -= 1
            if not self._running[key]:
                del self._running[key]
                if key not in self._queues:
                    del self._turns[key]

    def _work(self) -> None:
        while (job := self._next()) is not None:
            key, future, function, args, _ = job
            try:
                if future.set_running_or_notify_cancel():
                    future.set_result(function(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(error)
            finally:
                self._done(key)
