"""The statelessness tax: our server's GetSuggestions against each library used directly, warm and cold.

For every algorithm, history size N and batch size k: a real ``katib-suggest
serve`` process answers GetSuggestions carrying N finished trials (sent as
pre-serialized bytes, so the client's encoding is not counted); the library
arms (benchmarks/tax_arms.py) ask the same library, with the same settings and
the same N trials, for k points: warm (a study, Trials or Optimizer already
holding the history) and cold (building and telling included). All arms of a
cell run in their own processes, interleaved round by round, so each ratio
compares times taken under the same load; ratios are medians of per-round
ratios. CPU time is the server's (every thread) or the worker's own, so load
from other processes counts less than in wall time. Peak RSS is each
process's VmHWM (the server's covers start-up, its warm-up call and the rounds).
It prints a table and appends JSON lines; it asserts nothing.

Run: python benchmarks/stateless_tax.py [--algorithms tpe,cmaes ...] [--sizes 100,1000] [--counts 1,4]
     [--rounds 5] [--server NAME=PATH/katib-suggest ...] [--out stateless-tax.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import signal
import statistics
import time
from pathlib import Path

import grpc
from katib_api import api_pb2 as pb
from katib_suggestion.blas_threads import one_blas_thread
from katib_suggestion.quality.latency import peak_mib, start_server
from tax_arms import worker

CASES = [("optuna", "tpe"), ("optuna", "multivariate-tpe"), ("optuna", "cmaes"), ("optuna", "random"),
         ("optuna", "sobol"), ("hyperopt", "tpe"), ("hyperopt", "random"), ("hyperopt", "anneal"),
         ("skopt", "bayesianoptimization")]
SIZES = {"skopt": [50, 200, 500]}
DEFAULT_SIZES = [100, 1000, 5000]
OPTIMIZERS = ["sgd", "adam", "rmsprop"]
# two doubles, a log-uniform double, an int and a categorical of 3 (the space)
SPACE = (("x1", pb.DOUBLE, pb.FeasibleSpace(min="-5", max="10")),
         ("x2", pb.DOUBLE, pb.FeasibleSpace(min="0", max="15")),
         ("lr", pb.DOUBLE, pb.FeasibleSpace(min="0.0001", max="0.1", distribution=pb.LOG_UNIFORM)),
         ("layers", pb.INT, pb.FeasibleSpace(min="1", max="12")),
         ("optimizer", pb.CATEGORICAL, pb.FeasibleSpace(list=OPTIMIZERS)))
METHOD = "/api.v1.beta1.Suggestion/GetSuggestions"


def request_bytes(algorithm: str, history: int, count: int) -> bytes:
    request = pb.GetSuggestionsRequest(current_request_number=count, total_request_number=history + count)
    experiment = request.experiment
    experiment.name = f"tax-{algorithm}"
    experiment.spec.objective.type = pb.MINIMIZE
    experiment.spec.objective.objective_metric_name = "loss"
    experiment.spec.algorithm.algorithm_name = algorithm
    experiment.spec.algorithm.algorithm_settings.add(name="random_state", value="7")
    experiment.spec.max_trial_count, experiment.spec.parallel_trial_count = 100_000, 4
    for name, kind, feasible in SPACE:
        experiment.spec.parameter_specs.parameters.add(name=name, parameter_type=kind, feasible_space=feasible)
    rng = random.Random(history)
    for index in range(history):
        x1, x2, lr = rng.uniform(-5, 10), rng.uniform(0, 15), 10 ** rng.uniform(-4, -1)
        layers, optimizer = rng.randint(1, 12), rng.choice(OPTIMIZERS)
        loss = (x2 - 5.1 / (4 * math.pi ** 2) * x1 ** 2 + 5 / math.pi * x1 - 6) ** 2 + 10 * math.cos(x1) \
            + (math.log10(lr) + 2.5) ** 2 + 0.05 * (layers - 6) ** 2 + OPTIMIZERS.index(optimizer) * 0.1
        trial = request.trials.add(name=f"tax-{index:05d}")
        for key, value in (("x1", repr(x1)), ("x2", repr(x2)), ("lr", repr(lr)), ("layers", str(layers)),
                           ("optimizer", optimizer)):
            trial.spec.parameter_assignments.assignments.add(name=key, value=value)
        trial.status.condition = pb.TrialStatus.TrialConditionType.SUCCEEDED
        trial.status.observation.metrics.add(name="loss", value=repr(loss))
    return request.SerializeToString()


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of a process, in nanosecond resolution (the server's threads live on)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks.iterdir()) / 1e9


class ServerArm:
    def __init__(self, name: str, command: tuple[str, ...] | None, backend: str):
        self.name = name
        self.process, address, _ = start_server(backend, command)
        self.channel = grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 256 << 20)])
        self.call = self.channel.unary_unary(METHOD)  # bytes in, bytes out

    def measure(self, data: bytes) -> tuple[float, float]:
        cpu, wall = cpu_seconds(self.process.pid), time.perf_counter()
        self.call(data, timeout=600)
        return time.perf_counter() - wall, cpu_seconds(self.process.pid) - cpu

    def close(self) -> float:
        peak = peak_mib(self.process.pid)
        self.channel.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return peak


class LibraryArm:
    def __init__(self, mode: str, backend: str, data: bytes):
        self.name = f"library-{mode}"
        self.connection, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=worker, args=(child, backend, data, mode))
        self.process.start()

    def measure(self, count: int) -> tuple[float, float]:
        self.connection.send(count)
        return self.connection.recv()

    def close(self) -> float:
        self.connection.send(None)
        peak = self.connection.recv()
        self.process.join(60)
        return peak


def cell(backend: str, algorithm: str, history: int, counts: list[int], rounds: int, servers: dict) -> list[dict]:
    """Every arm for one (algorithm, N): rows per k with each arm's per-round (wall, CPU) and its peak."""
    data = {k: request_bytes(algorithm, history, k) for k in counts}
    arms = [ServerArm(name, command, backend) for name, command in servers.items()]
    arms += [LibraryArm(mode, backend, data[counts[0]]) for mode in ("warm", "cold")]
    load = [os.getloadavg()[0]]
    try:
        for arm in arms:  # warm-up, not counted: imports, first-call caches
            arm.measure(data[max(counts)] if isinstance(arm, ServerArm) else max(counts))
        times = {(arm.name, k): [] for arm in arms for k in counts}
        for round_ in range(rounds):
            for k in counts:
                for arm in arms[round_ % len(arms):] + arms[:round_ % len(arms)]:
                    times[arm.name, k].append(arm.measure(data[k] if isinstance(arm, ServerArm) else k))
    finally:
        peaks = {arm.name: arm.close() for arm in arms}
    load.append(os.getloadavg()[0])
    return [{"backend": backend, "algorithm": algorithm, "history": history, "count": k, "load": load,
             "peak_mib": peaks, "times": {name: times[name, k] for name in peaks}} for k in counts]


def ratio(row: dict, ours: str, library: str, column: int) -> float:
    pairs = zip(row["times"][ours], row["times"][library], strict=True)
    return statistics.median(a[column] / b[column] for a, b in pairs)


def lines(row: dict, servers: list[str]) -> list[str]:
    median_ms = {name: [1000 * statistics.median(t[i] for t in values) for i in (0, 1)]
                 for name, values in row["times"].items()}
    out = []
    for ours in servers:
        cells = [row["backend"], row["algorithm"], str(row["history"]), str(row["count"]), ours]
        cells += [f"{median_ms[name][0]:.0f} / {median_ms[name][1]:.0f}"
                  for name in (ours, "library-warm", "library-cold")]
        cells += [f"{ratio(row, ours, lib, 0):.2f} / {ratio(row, ours, lib, 1):.2f}"
                  for lib in ("library-warm", "library-cold")]
        cells += [f"{row['peak_mib'][name]:.0f}" for name in (ours, "library-warm", "library-cold")]
        cells.append("-".join(f"{value:.1f}" for value in row["load"]))
        out.append("| " + " | ".join(cells) + " |")
    return out


HEADER = ("| backend | algorithm | N | k | server | ours ms wall / CPU | warm ms | cold ms | ours/warm wall / CPU "
          "| ours/cold wall / CPU | peak MiB ours | warm | cold | load |\n" + "|---" * 14 + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", help="comma-separated BACKEND:ALGORITHM or ALGORITHM (default: all)")
    parser.add_argument("--sizes", help="history sizes (default 100,1000,5000; skopt 50,200,500)")
    parser.add_argument("--counts", default="1,4", help="points asked per call (default 1,4)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per cell (default 5)")
    parser.add_argument("--server", action="append", metavar="NAME=COMMAND",
                        help="a server arm: NAME=path/to/katib-suggest, {backend} replaced (repeatable; "
                             "default: ours=this interpreter's)")
    parser.add_argument("--out", default="stateless-tax.jsonl", help="JSON lines appended here")
    args = parser.parse_args()
    one_blas_thread()  # as serve does: every arm computes with one BLAS thread
    wanted = args.algorithms.split(",") if args.algorithms else None
    cases = [c for c in CASES if wanted is None or c[1] in wanted or ":".join(c) in wanted]
    servers = {"ours": None}
    if args.server:
        servers = dict(item.split("=", 1) for item in args.server)
    counts = [int(k) for k in args.counts.split(",")]
    print(HEADER, flush=True)
    with open(args.out, "a") as out:
        for backend, algorithm in cases:
            sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else SIZES.get(backend, DEFAULT_SIZES)
            commands = {name: None if command is None else (command.format(backend=backend),)
                        for name, command in servers.items()}
            for history in sizes:
                for row in cell(backend, algorithm, history, counts, args.rounds, commands):
                    out.write(json.dumps(row) + "\n")
                    print("\n".join(lines(row, list(servers))), flush=True)


if __name__ == "__main__":
    main()
