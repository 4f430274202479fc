"""Stop rules: Katib's collector semantics (RuleTracker) and the algorithms' thresholds, as properties."""

from __future__ import annotations

import statistics

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from katib_suggestion.model import Direction, Objective
from katib_suggestion.stopping import asha, medianstop, percentile
from katib_suggestion.stopping.algorithms import ALGORITHMS
from katib_suggestion.stopping.rules import Comparison, Curve, CurveState, RuleTracker, StopRule
from katib_validators.early_stopping import SCHEMAS

LOSS = Objective(Direction.MINIMIZE, "loss")
ACC = Objective(Direction.MAXIMIZE, "acc")
values = st.floats(-1e6, 1e6, allow_nan=False)
curves = st.lists(st.lists(values, min_size=1, max_size=12), min_size=1, max_size=15)


def _feed(tracker: RuleTracker, metric: str, reports) -> int | None:
    """The report number (1-based) at which the tracker stops the trial, or None."""
    for number, value in enumerate(reports, start=1):
        if tracker.report(metric, value):
            return number
    return None


def test_a_rule_with_start_step_is_judged_once_at_exactly_that_report():
    rule = StopRule("loss", 1.0, Comparison.GREATER, start_step=3)
    assert _feed(RuleTracker([rule], "loss", False), "loss", [5, 5, 5, 5]) == 3
    # at report 3 the best so far (0.5) is fine; later the rule is never judged again
    assert _feed(RuleTracker([rule], "loss", False), "loss", [0.5, 5, 5, 5, 5]) is None


def test_the_objective_is_judged_by_its_best_value_so_far_other_metrics_by_the_latest():
    objective = StopRule("loss", 1.0, Comparison.GREATER)
    assert _feed(RuleTracker([objective], "loss", False), "loss", [0.5, 3, 3]) is None
    other = StopRule("grad_norm", 1.0, Comparison.GREATER)
    assert _feed(RuleTracker([other], "loss", False), "grad_norm", [0.5, 3]) == 2


def test_rules_are_anded_and_a_met_rule_stays_met():
    tracker = RuleTracker([StopRule("loss", 1.0, Comparison.GREATER), StopRule("epoch", 2, Comparison.EQUAL)],
                          "loss", False)
    assert not tracker.report("loss", 5)  # first rule met and removed
    assert not tracker.report("loss", 0.1)
    assert tracker.report("epoch", 2)


def test_two_rules_on_one_metric_share_a_countdown_so_one_is_never_judged():
    rules = [StopRule("loss", 1.0, Comparison.GREATER, 2), StopRule("loss", 2.0, Comparison.GREATER, 2)]
    assert _feed(RuleTracker(rules, "loss", False), "loss", [9] * 10) is None


def test_no_rules_never_stop():
    assert _feed(RuleTracker([], "loss", False), "loss", [9] * 3) is None


def test_every_algorithm_has_a_schema_and_the_reverse():
    assert set(ALGORITHMS) == set(SCHEMAS)


def _curves(raw, state=CurveState.SUCCEEDED):
    return [Curve(f"t{i}", state, tuple(v)) for i, v in enumerate(raw)]


@given(curves, st.integers(1, 5), st.integers(0, 50))
def test_medianstop_is_the_median_of_the_averages_of_long_enough_curves(raw, step, created):
    settings = {"start_step": step, "min_trials_required": 1}
    long_enough = [sum(v[:step]) / step for v in raw if len(v) >= step]
    found = medianstop.rules(LOSS, settings, _curves(raw), created)
    if not long_enough:
        assert found == []
        return
    [rule] = found
    assert rule.start_step == step and rule.comparison is Comparison.GREATER
    assert np.isclose(rule.threshold, statistics.median(long_enough), rtol=1e-9, atol=1e-6)
    assert medianstop.rules(LOSS, settings, _curves(raw[::-1]), created + 7) == found  # order and time free


@given(curves, st.floats(0.5, 99.5), st.integers(1, 4))
def test_percentile_counts_from_the_best_end_as_optuna_does(raw, q, step):
    at_step = [v[step - 1] for v in raw if len(v) >= step]
    settings = {"percentile": q, "min_trials_required": 1, "start_step": step}
    minimizing = percentile.rules(LOSS, settings, _curves(raw), 0)
    maximizing = percentile.rules(ACC.__class__(Direction.MAXIMIZE, "loss"), settings, _curves(raw), 0)
    if not at_step:
        assert minimizing == maximizing == []
        return
    assert np.isclose(minimizing[0].threshold, np.percentile(at_step, q), atol=1e-6)
    assert np.isclose(maximizing[0].threshold, np.percentile(at_step, 100 - q), atol=1e-6)
    assert (minimizing[0].comparison, maximizing[0].comparison) == (Comparison.GREATER, Comparison.LESS)


@given(curves, st.integers(2, 4), st.integers(1, 3), st.integers(0, 20), st.booleans(),
       st.sampled_from(["lowest", "rotate"]))
def test_asha_keeps_the_best_fraction_of_the_trials_at_the_rung(raw, eta, r0, created, maximize, selection):
    settings = {"min_resource": r0, "reduction_factor": eta, "min_early_stopping_rate": 0, "min_trials_required": 1,
                "rung_selection": selection}
    objective = Objective(Direction.MAXIMIZE if maximize else Direction.MINIMIZE, "loss")
    found = asha.rules(objective, settings, _curves(raw), created)
    longest = max(len(v) for v in raw)
    if r0 >= longest:
        assert found == []
        return
    [rule] = found
    assert rule.start_step in asha.rungs(settings, longest)
    reached = [Curve("x", CurveState.SUCCEEDED, tuple(v)).best(rule.start_step, maximize)
               for v in raw if len(v) >= rule.start_step]
    stopped = [b for b in reached if (b < rule.threshold if maximize else b > rule.threshold)]
    assert rule.threshold in reached
    assert len(reached) - len(stopped) >= max(1, len(reached) // eta)  # the best 1/eta all go on
    # the same trials judged by the collector: stopped exactly when worse than the threshold at the rung
    for v in raw:
        if len(v) >= rule.start_step:
            stop_at = _feed(RuleTracker([rule], "loss", maximize), "loss", v)
            best = Curve("x", CurveState.SUCCEEDED, tuple(v)).best(rule.start_step, maximize)
            assert (stop_at == rule.start_step) == (best in stopped)


def test_asha_takes_the_lowest_rung_or_rotates_through_the_rungs_with_enough_trials():
    settings = {"min_resource": 1, "reduction_factor": 2, "min_early_stopping_rate": 0, "min_trials_required": 2,
                "rung_selection": "rotate"}
    raw = [[5, 4, 3, 2, 1, 0.5, 0.4, 0.3, 0.2]] * 3 + [[9, 9]] * 2
    steps = {asha.rules(LOSS, settings, _curves(raw), created)[0].start_step for created in range(8)}
    assert steps == {1, 2, 4, 8}
    lowest = {**settings, "rung_selection": "lowest"}
    assert {asha.rules(LOSS, lowest, _curves(raw), created)[0].start_step for created in range(8)} == {1}
