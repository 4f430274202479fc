"""The reference arm: nevergrad's DE used directly, one optimizer for the whole run, as without Katib."""

from __future__ import annotations

import nevergrad as ng
import numpy as np
from katib_suggestion.plugin import Experiment, Point

from katib_suggest_nevergrad.backend import dimension, is_fixed, katib_value, optimizer


class DirectDE:
    """nevergrad's DifferentialEvolution used directly: one optimizer for the whole run, ask/tell.

    ask() hands out candidates, tell() gives each its loss once its trial ends (failed: dropped).
    """

    def __init__(self, experiment: Experiment, seed: int):
        self.space = experiment.space
        self.free = [p for p in self.space if not is_fixed(p)]
        parametrization = ng.p.Dict(**{p.name: dimension(p) for p in self.free})
        parametrization.random_state = np.random.RandomState(seed)
        self.optimizer = optimizer(experiment, parametrization)
        self.asked: list = []

    def ask(self, count: int) -> list[Point]:
        candidates = [self.optimizer.ask() for _ in range(count)]
        self.asked += candidates
        return [{p.name: katib_value(p, c.value[p.name]) if p in self.free else p.snap(p.low) if p.is_numeric
                 else p.value_at(0) for p in self.space} for c in candidates]

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        for index, loss in results:
            if loss is not None:
                self.optimizer.tell(self.asked[index], loss)
