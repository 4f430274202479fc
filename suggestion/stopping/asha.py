"""Asynchronous successive halving as Katib's collector can apply it: one rung per new trial."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from katib_suggestion.model import Objective
from katib_suggestion.stopping.rules import Curve, CurveState, StopRule, worse

# A rung is judged on every trial that reached it, whatever became of the trial later (ASHA).
READS = frozenset({CurveState.SUCCEEDED, CurveState.RUNNING, CurveState.STOPPED})


def rungs(settings: Mapping[str, Any], longest: int) -> list[int]:
    """Report counts of the rungs below the longest curve seen (a rung at the end saves nothing)."""
    eta = settings["reduction_factor"]
    rung = settings["min_resource"] * eta ** settings["min_early_stopping_rate"]
    found = []
    while rung < longest:
        found.append(rung)
        rung *= eta
    return found


def rules(objective: Objective, settings: Mapping[str, Any], curves: Sequence[Curve], created: int) -> list[StopRule]:
    """Stop a trial at its rung when its best value so far is worse than the best
    1/reduction_factor of the trials that reached that rung (their best values there).

    Katib's collector judges a rule once, at report ``start_step``, on the best value so far, and
    stops only when ALL rules are met; two rules on one metric even share a countdown. So a trial
    can carry one rung, not a ladder. ``rung_selection`` picks it among the rungs enough trials have
    reached: ``lowest`` (saves most), or ``rotate``: ``created mod (those rungs)``, taking the rungs
    in turn the way Hyperband takes its brackets (high rungs judge late bloomers fairly).
    """
    maximize = objective.maximize
    longest = max((len(c.values) for c in curves), default=0)
    eligible = []
    for rung in rungs(settings, longest):
        reached = [c.best(rung, maximize) for c in curves if len(c.values) >= rung]
        if len(reached) >= settings["min_trials_required"]:
            eligible.append((rung, reached))
    if not eligible:
        return []
    rung, reached = eligible[created % len(eligible) if settings["rung_selection"] == "rotate" else 0]
    kept = max(1, len(reached) // settings["reduction_factor"])
    threshold = sorted(reached, reverse=maximize)[kept - 1]
    return [StopRule(objective.metric_name, threshold, worse(maximize), rung)]
