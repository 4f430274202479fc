"""Early-stopping algorithm name -> rule function and the trials it reads; settings live in katib_validators."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from katib_suggestion.model import Objective
from katib_suggestion.stopping import asha, medianstop, percentile
from katib_suggestion.stopping.rules import Curve, CurveState, StopRule

RuleFunction = Callable[[Objective, Mapping[str, Any], Sequence[Curve], int], list[StopRule]]


@dataclass(frozen=True)
class StoppingAlgorithm:
    """``rules(objective, settings, curves, created)``: the rules for the next trials, from the
    curves of the trials in ``reads`` states; ``created`` counts the trials in the request (Katib sends
    every trial made so far, less those with unavailable metrics or stopped without a value)."""

    rules: RuleFunction
    reads: frozenset[CurveState]


ALGORITHMS: dict[str, StoppingAlgorithm] = {
    "medianstop": StoppingAlgorithm(medianstop.rules, medianstop.READS),
    "percentile": StoppingAlgorithm(percentile.rules, percentile.READS),
    "asha": StoppingAlgorithm(asha.rules, asha.READS),
}
