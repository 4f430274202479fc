"""The kit's quality hook: an algorithm against references (served by us, or a library driven directly)."""

from __future__ import annotations

import random

from katib_suggestion.testing.quality import compare, markdown

ARMS = []


class UniformArm:
    """The simplest reference arm: uniform points, remembering what it was told."""

    def __init__(self, experiment, seed: int):
        self.space, self.rng = experiment.space, random.Random(seed)
        self.asked, self.told = 0, []
        ARMS.append(self)

    def ask(self, count):
        self.asked += count
        return [self.space.from_unit([self.rng.random() for _ in self.space]) for _ in range(count)]

    def tell(self, results):
        self.told += results


def test_compare_runs_ours_and_each_reference_under_the_same_controller():
    rows = compare("optuna", "tpe", UniformArm, ("optuna", "random"), problems=("branin",), seeds=range(2), budget=8)
    assert [r.arm for r in rows] == ["optuna/tpe", "UniformArm (reference)", "optuna/random"]
    for row in rows:  # the best-so-far curve only falls, so its area is at least its end
        assert 0 <= row.final.low <= row.final.mean <= row.final.high and row.final.mean <= row.auc.mean
    assert len(ARMS) == 2 and all(arm.asked == 8 for arm in ARMS)
    for arm in ARMS:  # results are told before each ask: all but those ending after the last call, once each
        told = [i for i, _ in arm.told]
        assert len(set(told)) == len(told) and set(told) < set(range(8)) and len(told) >= 4
    assert markdown(rows).splitlines()[2].startswith("| branin | optuna/tpe | ")
