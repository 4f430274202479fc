"""The cmaes library used directly with IPOP restarts: the reference for cmaes with restart_strategy ipop.

optuna 5 ignores ``restart_strategy``, so the closest honest reference is the
loop from the cmaes library's own IPOP example, made asynchronous the way a
user with a worker pool would: ask whenever a slot is free, tell a generation
once ``population_size`` of its points have results, drop late results of a
generation already told (optuna's CmaEsSampler drops them too).
"""

from __future__ import annotations

import math

import numpy as np
from cmaes import CMA
from katib_suggestion.model import Experiment, Point
from katib_validators.cmaes_rules import unit_steps

DESCRIPTION = "cmaes library: CMA in the unit cube, IPOP restarts (population x2, random mean), ask/tell"
PLAIN = "cmaes library: CMA in the unit cube, sigma per parameter as goptuna reads it, no restarts, ask/tell"


class CmaesIpopArm:
    def __init__(self, experiment: Experiment, seed: int, restarts: bool = True):
        self.space = experiment.space
        self.numeric = [p for p in self.space if p.is_numeric]
        settings = experiment.settings
        self.restarts = restarts
        # sigma is goptuna's (absolute, per parameter's units): the same reading of the setting as ours
        self.steps = np.array(unit_steps(settings["sigma"], self.numeric))
        popsize = settings["popsize"] or 4 + math.floor(3 * math.log(len(self.numeric)))
        self.rng = np.random.RandomState(seed)
        self.optimizer = self._new(np.full(len(self.numeric), 0.5), popsize)
        self.asked: list[tuple[int, np.ndarray]] = []  # (optimizer serial, x) per point asked
        self.serial = 0
        self.solutions: list[tuple[np.ndarray, float]] = []

    def _new(self, mean: np.ndarray, popsize: int) -> CMA:
        bounds = np.array([[0.0, 1.0]] * len(mean))
        top = float(self.steps.max())
        return CMA(mean=mean, sigma=top, bounds=bounds, population_size=popsize, cov=np.diag((self.steps / top) ** 2),
                   seed=int(self.rng.randint(2**31 - 1)))

    def ask(self, count: int) -> list[Point]:
        points = []
        for _ in range(count):
            x = self.optimizer.ask()
            self.asked.append((self.serial, x))
            point = {p.name: p.from_unit(u) for p, u in zip(self.numeric, x, strict=True)}
            for p in self.space:
                if p.choices:  # no model for lists: sampled uniformly, as optuna's independent sampler does
                    point[p.name] = p.choices[self.rng.randint(len(p.choices))]
            points.append({p.name: point[p.name] for p in self.space})
        return points

    def tell(self, results: list[tuple[int, float | None]]) -> None:
        for index, value in results:
            serial, x = self.asked[index]
            if value is None or serial != self.serial:
                continue
            self.solutions.append((x, value))
            if len(self.solutions) == self.optimizer.population_size:
                self._next_generation()

    def _next_generation(self) -> None:
        self.optimizer.tell(self.solutions)
        self.solutions = []
        if self.restarts and self.optimizer.should_stop():
            mean = self.rng.uniform(0, 1, len(self.numeric))
            self.optimizer = self._new(mean, self.optimizer.population_size * 2)
            self.serial += 1
