"""One native thread while skopt computes, so an answer never depends on the machine's core count."""

from __future__ import annotations

import threading

from threadpoolctl import threadpool_limits  # a dependency of scikit-learn


class _OneThread:
    """While any skopt call runs, BLAS and OpenMP use one thread in this process.

    Multi-threaded BLAS splits sums across threads and the rounding then depends
    on the thread count: the same request got points differing in the last
    digits (and, after L-BFGS, in the 8th) from a server in a test process (one
    thread per core) and from `katib-suggest serve` (OMP_NUM_THREADS=1). The
    limit is process-wide, so concurrent calls share it: the first call sets it,
    the last restores what was there.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._limits: threadpool_limits | None = None

    def __enter__(self) -> None:
        with self._lock:
            if self._calls == 0:
                self._limits = threadpool_limits(limits=1)
            self._calls += 1

    def __exit__(self, *_exc) -> None:
        with self._lock:
            self._calls -= 1
            if self._calls == 0 and self._limits is not None:
                self._limits.restore_original_limits()
                self._limits = None


ONE_THREAD = _OneThread()
