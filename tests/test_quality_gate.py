"""The quality gate: scores, the statistical comparison, the quick suite against its baseline, a broken algorithm."""

from __future__ import annotations

import importlib
import importlib.util
import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from katib_suggestion.cli import main
from katib_suggestion.model import Kind, Proposal
from katib_suggestion.quality import functions
from katib_suggestion.quality.gate import bit_identical, compare
from katib_suggestion.quality.inputs import default_baseline
from katib_suggestion.quality.judge import Judgement, judge
from katib_suggestion.quality.problems import PROBLEMS, estimate_reference
from katib_suggestion.quality.scoring import Scores, regret_curve, summarise
from katib_suggestion.quality.tables import penalty

pytest.importorskip("scipy")
ROOT = Path(__file__).resolve().parent.parent
QUICK_BASELINE = default_baseline("quick")  # package data (suggestion/quality/baselines)


@pytest.mark.parametrize(("function", "point", "optimum"), [
    (functions.branin, {"x1": "3.141592653589793", "x2": "2.275"}, 0.397887),
    (functions.hartmann6, {"x1": "0.20169", "x2": "0.150011", "x3": "0.476874", "x4": "0.275332",
                           "x5": "0.311652", "x6": "0.6573"}, -3.32237),
    (functions.rosenbrock, {f"x{i}": "1" for i in range(1, 5)}, 0.0),
    (functions.training_run, {"lr": "0.001", "layers": "5", "dropout": "0.25", "batch": "64",
                              "optimizer": "adam"}, 0.1),
    (functions.boosting_run, {"trees": "100", "learning_rate": "0.2", "depth": "6", "subsample": "0.8",
                              "loss": "squared"}, 0.2),
    (functions.svm_digits, {"C": "5.411695265464633", "gamma": "0.0478630092322638", "kernel": "rbf"},
     0.08833333333333337),
])
def test_the_known_optima_are_where_the_problems_say(function, point, optimum):
    assert function(point) == pytest.approx(optimum, abs=1e-5)


@pytest.mark.parametrize("name", [n for n in PROBLEMS if n != "svm-digits"])
def test_reference_constants_are_the_median_of_random_points(name):
    problem = PROBLEMS[name]
    assert estimate_reference(problem) == pytest.approx(problem.reference, rel=1e-3)
    assert problem.normalised_regret(problem.optimum) == 0


def test_regret_curve_is_best_so_far_normalised_and_padded():
    problem = PROBLEMS["training-run"]
    losses = [None, problem.reference, 0.5, None, 0.6]
    curve = regret_curve("training-run", losses, budget=7)
    assert curve[0] == 1.0 and curve[1] == pytest.approx(1.0)
    assert curve[2:] == [pytest.approx(problem.normalised_regret(0.5))] * 5
    scores = Scores.of(curve)
    assert scores.final == curve[-1] and scores.auc == pytest.approx(sum(curve) / 7)


def test_the_parallel_penalty_is_no_ratio_to_a_regret_of_zero():
    """A parallelism-1 median at the optimum (a few ulps either side of 0) gives no ratio, not x-6e+13."""
    def cells(p1, p4, p8):
        return {f"optuna/tpe/{problem}/p{p}": {"final": [final] * 3}
                for problem, finals in (("svm-digits", (p1[0], p4[0], p8[0])), ("branin", (p1[1], p4[1], p8[1])))
                for p, final in zip((1, 4, 8), finals, strict=True)}

    table = penalty(cells((-8.652e-17, 0.01), (0.0026, 0.02), (1e-17, 0.005)), {})
    rows = {row[1]: row[2:] for row in table.rows}
    assert rows["svm-digits"] == ["-8.652e-17", "0.0026 (p1 at the optimum)", "1e-17 (x1)", "-", "-", "-"]
    assert rows["branin"] == ["0.01", "0.02 (x2)", "0.005 (x0.5)", "-", "-", "-"]


def test_bootstrap_interval_contains_the_mean_and_is_reproducible():
    values = [0.1, 0.3, 0.2, 0.5, 0.4]
    summary = summarise(values)
    assert summary.low <= summary.mean <= summary.high
    assert summarise(values) == summary


def _cell(values, fingerprint="x"):
    return {"seeds": list(range(len(values))), "losses": [fingerprint] * len(values), "final": values,
            "auc": values, "curve": [1.0], "budget": 1, "parallel": 4}


def test_gate_verdicts():
    rng = random.Random(1)
    base = [rng.uniform(0.1, 0.3) for _ in range(8)]
    noisy = [rng.uniform(0.1, 0.3) for _ in range(8)]
    worse = [v + 0.3 for v in base]
    verdicts = {v.cell: v.status for v in compare(
        {"a/x/p": _cell(base), "a/y/p": _cell(noisy, "y"), "a/z/p": _cell(worse, "z"), "a/n/p": _cell(base)},
        {"a/x/p": _cell(base), "a/y/p": _cell(base), "a/z/p": _cell(base), "a/m/p": _cell(base)})}
    assert verdicts == {"a/x/p": "identical", "a/y/p": "same", "a/z/p": "WORSE", "a/n/p": "new", "a/m/p": "missing"}


def test_floating_point_noise_is_identical_and_anything_larger_is_not(tmp_path):
    """Noise: every seed's AUC and final regret equal within 1e-9 relative (1e-12 absolute at a regret of 0)."""
    base = [0.1 + i / 100 for i in range(8)] + [0.0]
    noise = [v * (1 + 5e-10) for v in base[:-1]] + [5e-13]
    shifted = [v * (1 + 1e-6) for v in base[:-1]] + [0.0]
    off_zero = base[:-1] + [1e-9]
    verdicts = {v.cell: v.status for v in compare(
        {"a/n/p/p4": _cell(noise, "other"), "a/s/p/p4": _cell(shifted, "other"), "a/z/p/p4": _cell(off_zero, "z")},
        {"a/n/p/p4": _cell(base), "a/s/p/p4": _cell(base), "a/z/p/p4": _cell(base)})}
    assert verdicts == {"a/n/p/p4": "identical", "a/s/p/p4": "same", "a/z/p/p4": "same"}
    assert bit_identical(_cell(base), _cell(base)) and not bit_identical(_cell(noise, "other"), _cell(base))
    failed = judge(Judgement("Gate", {"a/n/p/p4": _cell(noise, "other")}, {"a/n/p/p4": _cell(base)}), tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert not failed and "| identical |" in report
    assert "1 identical cells are identical within floating-point noise, not bit for bit: a/n/p/p4" in report


def test_a_consistent_but_tiny_loss_does_not_fail_the_gate():
    base = [0.1 + i / 100 for i in range(8)]
    slightly = [v + 0.02 for v in base]  # below the minimum effect of 0.05
    assert [v.status for v in compare({"a/x/p": _cell(slightly, "s")}, {"a/x/p": _cell(base)})] == ["same"]


@dataclass
class CornerBackend:
    """A broken algorithm: ignores the history and samples the bottom tenth of every range."""

    def suggest(self, request):
        rng = random.Random(request.seed)
        return Proposal([{p.name: _corner(p, rng) for p in request.experiment.space} for _ in range(request.count)])


def _corner(parameter, rng):
    if parameter.is_finite:
        return parameter.value_at(0)
    if parameter.kind is Kind.INT:
        return parameter.parse(str(int(parameter.low) + rng.randint(0, int((parameter.high - parameter.low) / 10))))
    if parameter.is_log:
        return parameter.parse(repr(parameter.low * (parameter.high / parameter.low) ** rng.uniform(0, 0.1)))
    return parameter.parse(repr(parameter.low + rng.uniform(0, 0.1) * (parameter.high - parameter.low)))


def test_an_algorithm_that_ignores_the_history_fails_the_gate(monkeypatch, tmp_path, capsys):
    """Against the committed baseline and against its reference arm (optuna's TPESampler used directly)."""
    # every server in this process looks the backend up in its module: swap the optuna one
    monkeypatch.setattr(importlib.import_module("katib_suggestion.backends.optuna_backend"), "BACKEND",
                        CornerBackend())
    status = main(["--log-level", "ERROR", "benchmark", "--backend", "optuna", "--algorithms", "tpe",
                   "--workers", "1", "--out", str(tmp_path), "--baseline", str(QUICK_BASELINE)])
    output = capsys.readouterr().out
    assert status == 1, output
    assert "Quality gate (quick suite): FAILED" in output
    baseline_table, reference_table = output.split("## Against the reference arms")
    assert baseline_table.count("| WORSE |") == 2  # both problems
    assert reference_table.count("| WORSE |") == 2
    report = (tmp_path / "report" / "report.md").read_text()
    assert "worse than the baseline: optuna/tpe/branin/p4" in report
    assert "worse than its reference arm: optuna/tpe/branin/p4" in report
    assert "worse than its reference arm: optuna/tpe/training-run/p4" in report
    assert "reference arm of optuna/tpe: optuna" in report
    assert (tmp_path / "report" / "index.html").exists()


@pytest.mark.slow
def test_quick_suite_matches_its_committed_baseline(tmp_path, capsys):
    """Every algorithm of every backend, through real servers, in a 2-process pool (about 2 minutes)."""
    status = main(["--log-level", "ERROR", "benchmark", "--suite", "quick", "--workers", "2", "--out", str(tmp_path),
                   "--no-reference"])
    output = capsys.readouterr().out
    assert status == 0, output
    results = json.loads((tmp_path / "results.json").read_text())
    baseline = json.loads(QUICK_BASELINE.read_text())
    assert set(results["cells"]) == set(baseline["cells"])
    if importlib.util.find_spec("matplotlib"):  # plots are optional (the bench extra)
        assert (tmp_path / "report" / "regret-branin-p4.png").exists()
