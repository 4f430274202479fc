"""Reference arms: each library used directly, driven by the same simulated controller as our servers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from katib_api import api_pb2
from katib_suggestion.local.driver import Condition, DriverReport, ExperimentDriver
from katib_suggestion.model import Point
from katib_suggestion.quality.judge import Judgement, judge
from katib_suggestion.quality.reference import ReferenceStub, describe, make_arm
from katib_suggestion.quality.runner import OURS, REFERENCE, Task, experiment_doc, run_one
from katib_suggestion.quality.suite import cells
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import ALGORITHMS
from katib_validators.experiment import parse_experiment

pytest.importorskip("scipy")
# short start-up so that every model-based arm models within the budget; skopt scores its candidates
# without L-BFGS refinement, which costs seconds per fit on a loaded machine and is not under test here
STARTUP = {"n_startup_trials": "4", "n_startup_jobs": "4", "n_initial_points": "4", "acq_optimizer": "sampling"}


def _task(algorithm, problem: str, seed: int = 0, budget: int = 8, parallel: int = 4, **extra) -> Task:
    settings = {s.name: STARTUP[s.name] for s in algorithm.schema.settings if s.name in STARTUP} | extra
    return Task(algorithm.backend, algorithm.key, problem, seed, budget, tuple(settings.items()), parallel, REFERENCE)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: f"{a.backend}-{a.key}")
def test_every_reference_arm_runs_a_mixed_space_deterministically(algorithm):
    """Every trial's assignment is feasible (no trial fails on parsing), and a seed repeats the run exactly."""
    task = _task(algorithm, "training-run")
    first, again = run_one(task), run_one(task)
    assert len(first.losses) == task.budget and None not in first.losses
    assert first.losses == again.losses
    assert first.calls < task.budget  # batches of up to 4 points, as at parallelism 4
    assert describe(algorithm.backend, algorithm.key)


def test_reference_arms_differ_by_seed():
    algorithm = next(a for a in ALGORITHMS if a.backend == "hyperopt" and a.key == "tpe")
    assert run_one(_task(algorithm, "branin", seed=0)).losses != run_one(_task(algorithm, "branin", seed=1)).losses


class RecordingArm:
    """A minimal arm that proposes fixed points and records what it is told."""

    def __init__(self):
        self.asks: list[int] = []
        self.told: list[tuple[int, float | None]] = []

    def ask(self, count: int) -> list[Point]:
        first = sum(self.asks)
        self.asks.append(count)
        return [{"x1": float(first + i) % 15 - 5, "x2": 1.0} for i in range(count)]

    def tell(self, results):
        self.told += results


class RepeatingArm(RecordingArm):
    """An arm that proposes the same point every time, as a library without a no-repeat rule can."""

    def ask(self, count: int) -> list[Point]:
        self.asks.append(count)
        return [{"x1": 1.0, "x2": 2.0}] * count


def test_a_repeat_is_the_same_assignments_in_any_order():
    def trial(*pairs):
        t = api_pb2.Trial()
        for name, value in pairs:
            t.spec.parameter_assignments.assignments.add(name=name, value=value)
        return t

    report = DriverReport([trial(("x1", "1"), ("x2", "2")), trial(("x2", "2"), ("x1", "1")),
                           trial(("x1", "1"), ("x2", "3"))])
    assert report.repeats() == 1
    assert report.assignments()[1] == (("x2", "2"), ("x1", "1"))  # as sent, for comparing runs


def test_a_repeated_point_is_counted_and_fails_the_gate_only_in_our_arm(monkeypatch, tmp_path):
    algorithm = next(a for a in ALGORITHMS if a.backend == "optuna" and a.key == "random")
    task = _task(algorithm, "branin", budget=6, parallel=2)
    assert run_one(task).repeated == 0
    monkeypatch.setattr("katib_suggestion.quality.reference.make_arm", lambda *args: RepeatingArm())
    repeating = run_one(task)
    assert repeating.repeated == 5
    as_ours = cells([replace(repeating, task=replace(task, arm=OURS))])
    reference = cells([repeating])
    assert reference["optuna/random/branin/p2"]["repeated"] == [5]
    for side in ("ours", "reference"):
        (tmp_path / side).mkdir()

    assert judge(Judgement("ours repeats", as_ours, reference=reference), tmp_path / "ours")
    assert "repeated 5 earlier points: optuna/random/branin/p2" in (tmp_path / "ours" / "report.md").read_text()
    monkeypatch.undo()
    assert not judge(Judgement("the reference repeats", cells([run_one(replace(task, seed=1))]),
                               reference=reference), tmp_path / "reference")
    assert "the reference arms repeated earlier points in 1 cells (optuna/random/branin/p2: 5)" in (
        tmp_path / "reference" / "report.md").read_text()


def test_the_stub_tells_each_result_once_and_asks_for_the_free_slots():
    algorithm = next(a for a in ALGORITHMS if a.backend == "optuna" and a.key == "random")
    task = _task(algorithm, "branin", budget=12, parallel=3)
    doc = experiment_doc(task)
    experiment, _ = parse_experiment(doc, "optuna")
    arm = RecordingArm()

    def evaluate(assignments):  # the third trial fails: failures reach the arm as None
        return None if assignments["x1"] == "-3.0" else float(assignments["x1"])

    stub = ReferenceStub(arm, experiment.space)
    report = ExperimentDriver(experiment_message(doc), lambda: stub, evaluate, seed=3).run()
    assert sum(arm.asks) == len(report.trials) == 12
    assert arm.asks[0] == 3 and all(1 <= n <= 3 for n in arm.asks)
    told = dict(arm.told)
    assert len(told) == len(arm.told)  # once each
    assert told[2] is None and told[0] == -5.0
    finished = {i for i, t in enumerate(report.trials) if t.status.condition != Condition.RUNNING}
    assert set(told) <= finished
    assert len(told) >= len(finished) - 3  # at most one round of results arrives after the last call


def test_cmaes_with_ipop_restarts_with_a_doubled_population():
    """optuna 5 ignores restart_strategy: the ipop reference is the cmaes library's own restart loop."""
    algorithm = next(a for a in ALGORITHMS if a.backend == "optuna" and a.key == "cmaes")
    task = _task(algorithm, "branin", budget=160, restart_strategy="ipop", popsize="4")
    doc = experiment_doc(task)
    experiment, problems = parse_experiment(doc, "optuna")
    assert not problems
    arm = make_arm("optuna", experiment, seed=0)
    # a flat objective: CMA-ES stops on equal function values after 10 + 30 * 2 / 4 generations
    stub = ReferenceStub(arm, experiment.space)
    report = ExperimentDriver(experiment_message(doc), lambda: stub, lambda _: 1.0, seed=0).run()
    assert len(report.trials) == 160
    assert arm.serial >= 1 and arm.optimizer.population_size == 4 * 2 ** arm.serial
    assert "IPOP" in describe("optuna", "cmaes", {"restart_strategy": "ipop"})
    for trial in report.trials:
        values = {a.name: float(a.value) for a in trial.spec.parameter_assignments.assignments}
        assert -5 <= values["x1"] <= 10 and 0 <= values["x2"] <= 15


def test_cmaes_reference_reads_sigma_as_goptuna_does():
    """sigma is absolute, in each parameter's units: on Branin's ranges (15 wide) sigma 1.5 is a tenth of each."""
    algorithm = next(a for a in ALGORITHMS if a.backend == "optuna" and a.key == "cmaes")
    experiment, _ = parse_experiment(experiment_doc(_task(algorithm, "branin", budget=20, sigma="1.5")), "optuna")
    arm = make_arm("optuna", experiment, seed=0)
    assert arm.study.sampler._sigma0 == pytest.approx(0.1)  # one step for both: optuna's sampler stands in
    # training-run's parameters differ in width: one sigma is a different fraction of each, which CmaEsSampler
    # cannot take, so the cmaes library (with a covariance) stands in, without restarts
    experiment, problems = parse_experiment(experiment_doc(_task(algorithm, "training-run", budget=20, sigma="0.5")),
                                            "optuna")
    assert not problems, problems
    arm = make_arm("optuna", experiment, seed=0)
    assert not arm.restarts and len(set(arm.steps)) > 1 and arm.optimizer._sigma == pytest.approx(max(arm.steps))
    assert "goptuna" in describe("optuna", "cmaes", {"sigma": "1.5"})
