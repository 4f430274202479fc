"""CPU seconds of a call as the cost tests compare them with a plan's prediction."""

from __future__ import annotations

import time


def least_cpu(call, *args):
    """CPU seconds of this thread for the call, the least of two runs (a neighbour's burst on a shared
    core inflates one run's CPU time too), and its result (the same both times: answers depend on the
    request only)."""
    times, results = [], []
    for _ in range(2):
        start = time.thread_time()
        results.append(call(*args))
        times.append(time.thread_time() - start)
    assert results[0] == results[1]
    return min(times), results[0]
