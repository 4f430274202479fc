"""The stopping arms: none, ours (the service's code), and upstream Katib's medianstop as it computes (the mean)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from katib_suggestion.model import Objective
from katib_suggestion.stopping import plan
from katib_suggestion.stopping.rules import Curve, CurveState, StopRule, worse
from katib_suggestion.stopping.wire import RulesRequest

# (objective, the curves so far, trials created so far) -> the rules of the next trial
RuleSource = Callable[[Objective, Sequence[Curve], int], list[StopRule]]


@dataclass(frozen=True)
class Arm:
    name: str
    rules: RuleSource | None  # None: every trial runs to the end


def ours(algorithm: str, **settings: str) -> RuleSource:
    """GetEarlyStoppingRules of our service, with the DB manager's logs replaced by the curves."""
    pairs = tuple(settings.items())

    def rules(objective: Objective, curves: Sequence[Curve], created: int) -> list[StopRule]:
        values = {c.name: c.values for c in curves}
        request = RulesRequest("bench", algorithm, pairs, objective, tuple((c.name, c.state) for c in curves), "")
        return plan.stopping_rules(request, lambda: lambda name, _metric: values[name])

    return rules


def upstream_medianstop(min_trials_required: int = 3, start_step: int = 4) -> RuleSource:
    """Upstream Katib's medianstop (pkg/earlystopping/v1beta1/medianstop, read 2026-12): each succeeded
    trial's mean over its first start_step reports (fewer if it has fewer), then the MEAN of those, as
    one rule at start_step. Its process-kept state changes nothing here: one experiment, no restart."""

    def rules(objective: Objective, curves: Sequence[Curve], created: int) -> list[StopRule]:
        averages = [math.fsum(c.values[:start_step]) / len(c.values[:start_step]) for c in curves
                    if c.state is CurveState.SUCCEEDED and c.values]
        if len(averages) < min_trials_required:
            return []
        return [StopRule(objective.metric_name, sum(averages) / len(averages), worse(objective.maximize),
                         start_step)]

    return rules


ARMS: dict[str, Arm] = {arm.name: arm for arm in (
    Arm("none", None),
    Arm("upstream-medianstop", upstream_medianstop()),
    Arm("medianstop", ours("medianstop")),
    Arm("percentile", ours("percentile")),
    Arm("asha", ours("asha")),
    Arm("asha-rotate", ours("asha", rung_selection="rotate")),
)}
