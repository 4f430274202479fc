"""Upstream Katib's medianstop, correct: the true median, recomputed from the request on every call."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from katib_suggestion.model import Objective
from katib_suggestion.stopping.rules import Curve, CurveState, StopRule, worse

# Upstream reads succeeded trials only: a stopped trial's curve is cut short by the rule itself.
READS = frozenset({CurveState.SUCCEEDED})


def rules(objective: Objective, settings: Mapping[str, Any], curves: Sequence[Curve], created: int) -> list[StopRule]:
    """One rule: at report ``start_step``, stop a trial whose best value so far is worse than the
    median of the succeeded trials' averages over their first ``start_step`` reports.

    Upstream's intent ("median of the running averages") is kept, including the average over
    the first start_step reports; where upstream took the mean and divided by zero for a trial
    without logs, a trial with fewer than start_step reports is left out here.
    """
    step = settings["start_step"]
    averages = [math.fsum(c.values[:step]) / step for c in curves
                if c.state is CurveState.SUCCEEDED and len(c.values) >= step]
    if len(averages) < settings["min_trials_required"]:
        return []
    return [StopRule(objective.metric_name, statistics.median(averages), worse(objective.maximize), step)]
