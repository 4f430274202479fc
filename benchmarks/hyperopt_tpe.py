"""hyperopt tpe driven like the Katib controller: duplicates in a 60-trial run, and call time vs history size.

Run: /work/venv/bin/python benchmarks/hyperopt_tpe.py [--trials 60] [--parallel 4] [--seeds 3]
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import time

from katib_api import api_pb2 as pb
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend

Condition = pb.TrialStatus.TrialConditionType

# five parameters, one of each shape the backend maps differently
SPACE = [
    ("lr", pb.DOUBLE, dict(min="0.0001", max="0.1", distribution=pb.LOG_UNIFORM)),
    ("dropout", pb.DOUBLE, dict(min="0.0", max="0.5", step="0.05")),
    ("layers", pb.INT, dict(min="1", max="8")),
    ("batch", pb.INT, dict(min="16", max="256", step="16")),
    ("optimizer", pb.CATEGORICAL, dict(list=["sgd", "adam", "rmsprop"])),
]


def experiment(name: str, seed: int, parallel: int, max_trials: int, algorithm: str = "tpe") -> pb.Experiment:
    message = pb.Experiment(name=name)
    spec = message.spec
    spec.objective.type = pb.MINIMIZE
    spec.objective.objective_metric_name = "loss"
    spec.algorithm.algorithm_name = algorithm
    spec.algorithm.algorithm_settings.add(name="random_state", value=str(seed))
    spec.parallel_trial_count, spec.max_trial_count = parallel, max_trials
    for pname, ptype, space in SPACE:
        spec.parameter_specs.parameters.add(name=pname, parameter_type=ptype, feasible_space=pb.FeasibleSpace(**space))
    return message


def loss(values: dict[str, str]) -> float:
    """A smooth bowl with a categorical offset, so TPE has something to find."""
    lr, dropout = math.log10(float(values["lr"])), float(values["dropout"])
    layers, batch = int(values["layers"]), int(values["batch"])
    offset = {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1}[values["optimizer"]]
    return (lr + 2.5) ** 2 + (dropout - 0.2) ** 2 * 4 + (layers - 5) ** 2 / 10 + (batch - 128) ** 2 / 20000 + offset


def trial(name: str, values: dict[str, str], condition: int, value: float | None = None) -> pb.Trial:
    message = pb.Trial(name=name)
    for key, text in values.items():
        message.spec.parameter_assignments.assignments.add(name=key, value=text)
    message.status.condition = condition
    if value is not None:
        message.status.observation.metrics.add(name="loss", value=repr(value))
    return message


def assignments(reply: pb.GetSuggestionsReply) -> list[dict[str, str]]:
    return [{a.name: a.value for a in p.assignments} for p in reply.parameter_assignments]


def run(suggester: Suggester, seed: int, max_trials: int, parallel: int, algorithm: str) -> tuple[int, float, int, int]:
    """One experiment; returns (duplicates, best loss, calls, points the core had to fill in)."""
    rng = random.Random(seed)
    exp = experiment(f"bench-{seed}", seed, parallel, max_trials, algorithm)
    trials: list[pb.Trial] = []
    running: list[tuple[float, int]] = []  # (finish time, index in trials)
    now, total, calls, filled = 0.0, 0, 0, 0
    while len(trials) < max_trials or running:
        free = min(parallel - len(running), max_trials - len(trials))
        if free > 0:
            total += free
            request = pb.GetSuggestionsRequest(experiment=exp, trials=trials, current_request_number=free,
                                               total_request_number=total)
            calls += 1
            reply = suggester.suggest(request, {})
            filled += sum(1 for p in reply.parameter_assignments if "katib-suggest/origin" in p.labels)
            for values in assignments(reply):
                trials.append(trial(f"t{len(trials)}", values, Condition.RUNNING))
                heapq.heappush(running, (now + rng.expovariate(1.0), len(trials) - 1))
        now, index = heapq.heappop(running)  # trials finish out of order
        _finish(trials[index], rng)
    keys = [tuple(sorted((a.name, a.value) for a in t.spec.parameter_assignments.assignments)) for t in trials]
    done = [t for t in trials if t.status.condition == Condition.SUCCEEDED]
    best = min(float(t.status.observation.metrics[0].value) for t in done)
    return len(keys) - len(set(keys)), best, calls, filled


def _finish(message: pb.Trial, rng: random.Random) -> None:
    values = {a.name: a.value for a in message.spec.parameter_assignments.assignments}
    draw = rng.random()
    if draw < 0.05:
        message.status.condition = Condition.FAILED
        return
    value = loss(values)
    # an early-stopped trial reports a worse, intermediate value
    message.status.condition = Condition.EARLYSTOPPED if draw < 0.10 else Condition.SUCCEEDED
    message.status.observation.metrics.add(name="loss", value=repr(value * (1.5 if draw < 0.10 else 1.0)))


def time_call(suggester: Suggester, history: int, parallel: int, repeats: int = 3) -> float:
    """Median seconds of one GetSuggestions (count = parallel) with ``history`` trials already there."""
    rng = random.Random(history)
    exp = experiment(f"bench-time-{history}", 7, parallel, history + parallel)
    trials = []
    for i in range(history):
        values = {"lr": repr(10 ** rng.uniform(-4, -1)), "dropout": str(round(rng.randrange(11) * 0.05, 2)),
                  "layers": str(rng.randint(1, 8)), "batch": str(16 * rng.randint(1, 16)),
                  "optimizer": rng.choice(["sgd", "adam", "rmsprop"])}
        pending = i >= history - parallel
        trials.append(trial(f"t{i}", values, Condition.RUNNING if pending else Condition.SUCCEEDED,
                            None if pending else loss(values)))
    request = pb.GetSuggestionsRequest(experiment=exp, trials=trials, current_request_number=parallel,
                                       total_request_number=history + parallel)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        suggester.suggest(request, {})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--algorithm", default="tpe", help="any hyperopt algorithm name")
    parser.add_argument("--history", type=int, nargs="*", default=[100, 1000])
    args = parser.parse_args()
    suggester = Suggester("hyperopt", load_backend("hyperopt"))
    for seed in range(args.seeds):
        start = time.perf_counter()
        duplicates, best, calls, filled = run(suggester, seed, args.trials, args.parallel, args.algorithm)
        print(f"{args.algorithm} seed={seed}: {args.trials} trials, {args.parallel} parallel, {calls} calls: "
              f"duplicates={duplicates} filled_by_core={filled} best_loss={best:.4f} "
              f"wall={time.perf_counter() - start:.2f}s")
    for history in args.history:
        print(f"GetSuggestions(count={args.parallel}) with {history} trials: "
              f"{time_call(suggester, history, args.parallel) * 1000:.0f} ms (median of 3)")


if __name__ == "__main__":
    main()
