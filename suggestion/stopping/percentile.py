"""optuna's PercentilePruner as one Katib rule: judged once, at report start_step."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from katib_suggestion.model import Objective
from katib_suggestion.stopping.rules import Curve, CurveState, StopRule, worse

READS = frozenset({CurveState.SUCCEEDED})  # optuna: COMPLETE trials only


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rules(objective: Objective, settings: Mapping[str, Any], curves: Sequence[Curve], created: int) -> list[StopRule]:
    """Stop a trial whose best value by report ``start_step`` is worse than the ``percentile``-th
    best of the succeeded trials' values at that report (optuna counts percentiles from the best
    end: the q-th for minimize, the (100-q)-th for maximize)."""
    step = settings["start_step"]
    at_step = [c.values[step - 1] for c in curves if c.state is CurveState.SUCCEEDED and len(c.values) >= step]
    if len(at_step) < settings["min_trials_required"]:
        return []
    q = 100 - settings["percentile"] if objective.maximize else settings["percentile"]
    return [StopRule(objective.metric_name, percentile(at_step, q), worse(objective.maximize), step)]
