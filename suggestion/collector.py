"""The garbage collector's settings in a server, once its backend is loaded."""

from __future__ import annotations

import gc

# Collections of the youngest objects: every 10,000 new containers instead of Python's 700. A call
# builds tens of thousands that live until it ends (trials, their parameters), and each collection
# walks them again: measured in one process, settings alternating, 5,000 trials, one point, median
# of 9: hyperopt tpe 361 -> 308 ms of CPU, optuna multivariate TPE 151 -> 140, cmaes at 1,000 trials
# 50 -> 47. Cyclic garbage waits a little longer to be collected, well under 1 MiB of it.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Freeze what is loaded (it lives as long as the process, so full collections stop rescanning
    it: a third of a 5,000-trial hyperopt replay went to the collector) and collect less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
