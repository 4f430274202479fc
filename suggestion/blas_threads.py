"""One BLAS and OpenMP thread for the processes that compute suggestions, asked for before numpy loads."""

from __future__ import annotations

import os

ONE_BLAS_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# joblib (under scikit-learn and skopt) checks at import whether it can run worker processes by
# creating a named semaphore in /dev/shm; every call here is computed in-process (n_jobs=1), so
# serial mode, which writes nothing (our containers run with a read-only root filesystem).
SERIAL_JOBLIB = ("JOBLIB_MULTIPROCESSING", "0")


def one_blas_thread() -> None:
    """One native thread unless the environment names a count (an explicit value still wins).

    Two measured reasons. BLAS starts a thread per core of the node, not of the
    pod's CPU limit (500m by default): an skopt call at 1,000 trials took 32-44 s
    instead of 6-8 s on two cores. And a process that loaded BLAS with two
    threads gave GP points that differed from another such process's from the
    7th digit on (Branin, parallelism 4, from trial 14 of 40), although
    threadpoolctl holds every skopt call to one thread; two processes started
    with one thread agreed bit for bit. Spawned benchmark workers inherit it.
    """
    for name in ONE_BLAS_THREAD:
        os.environ.setdefault(name, "1")
    os.environ.setdefault(*SERIAL_JOBLIB)
