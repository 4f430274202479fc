"""GetSuggestions latency and peak server memory of the skopt backend at 100, 500 and 1,000 trials."""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import free_port, peak_mib

SERVER = Path(sys.executable).with_name("katib-suggest")
BATCH = 4
LIST = ("sgd", "adam", "rmsprop")


def experiment(estimator: str) -> pb.Experiment:
    """A 5-parameter mixed space: log double, stepped double, int, stepped int, categorical."""
    message = pb.Experiment(name="skopt-latency")
    spec = message.spec
    spec.objective.type = pb.MINIMIZE
    spec.objective.objective_metric_name = "loss"
    spec.algorithm.algorithm_name = "bayesianoptimization"
    spec.algorithm.algorithm_settings.add(name="base_estimator", value=estimator)
    spec.max_trial_count, spec.parallel_trial_count = 100_000, BATCH
    add = spec.parameter_specs.parameters.add
    add(name="lr", parameter_type=pb.DOUBLE,
        feasible_space=pb.FeasibleSpace(min="0.0001", max="0.1", distribution=pb.LOG_UNIFORM))
    add(name="dropout", parameter_type=pb.DOUBLE, feasible_space=pb.FeasibleSpace(min="0", max="0.5", step="0.05"))
    add(name="layers", parameter_type=pb.INT, feasible_space=pb.FeasibleSpace(min="1", max="8"))
    add(name="batch", parameter_type=pb.INT, feasible_space=pb.FeasibleSpace(min="16", max="256", step="16"))
    add(name="optimizer", parameter_type=pb.CATEGORICAL, feasible_space=pb.FeasibleSpace(list=LIST))
    return message


def fabricated_trial(index: int, rng: random.Random, running: bool) -> pb.Trial:
    """A random feasible trial with a made-up loss (the optimiser is not run to build history)."""
    lr, dropout, layers = 10 ** rng.uniform(-4, -1), 0.05 * rng.randint(0, 10), rng.randint(1, 8)
    batch, optimizer = 16 * rng.randint(1, 16), rng.choice(LIST)
    trial = pb.Trial(name=f"trial-{index}")
    for name, value in (("lr", repr(lr)), ("dropout", repr(round(dropout, 2))), ("layers", str(layers)),
                        ("batch", str(batch)), ("optimizer", optimizer)):
        trial.spec.parameter_assignments.assignments.add(name=name, value=value)
    trial.status.condition = pb.TrialStatus.RUNNING if running else pb.TrialStatus.SUCCEEDED
    if not running:
        loss = (abs(lr - 0.01) * 50 + (dropout - 0.2) ** 2 + abs(layers - 4) / 8 + rng.gauss(0, 0.05))
        trial.status.observation.metrics.add(name="loss", value=repr(loss))
    return trial


def request(message: pb.Experiment, size: int, call: int) -> pb.GetSuggestionsRequest:
    rng = random.Random(size)
    trials = [fabricated_trial(i, rng, running=i >= size - BATCH) for i in range(size)]
    return pb.GetSuggestionsRequest(experiment=message, trials=trials, current_request_number=BATCH,
                                    total_request_number=size + BATCH * (call + 1))


def start_server(port: int, one_core: bool) -> subprocess.Popen:
    env = dict(os.environ)
    if one_core:  # the target is one core; BLAS would otherwise use every core
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([str(SERVER), "serve", "--backend", "skopt", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(stub, message: pb.Experiment, size: int, calls: int, pid: int) -> tuple[list[float], str]:
    times, labels = [], ""
    for call in range(calls):
        ask = request(message, size, call)
        started = time.perf_counter()
        reply = stub.GetSuggestions(ask, timeout=60)
        times.append(time.perf_counter() - started)
        assert len(reply.parameter_assignments) == BATCH
        labels = reply.parameter_assignments[0].labels.get("katib-suggest/degraded", "-")
    return times, labels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--calls", type=int, default=3, help="GetSuggestions calls per history size")
    parser.add_argument("--estimator", default="GP", choices=("GP", "RF", "ET", "GBRT"))
    parser.add_argument("--all-cores", action="store_true", help="let BLAS use every core")
    args = parser.parse_args()
    port = free_port()
    server = start_server(port, not args.all_cores)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)]) as ch:
            grpc.channel_ready_future(ch).result(timeout=60)
            stub = api_pb2_grpc.SuggestionStub(ch)
            message = experiment(args.estimator)
            print(f"skopt {args.estimator}, batch {BATCH}, 5-parameter mixed space, "
                  f"{'all cores' if args.all_cores else 'one BLAS thread'}; history fabricated "
                  "(random feasible points, made-up losses, last 4 running), not produced by the optimiser")
            print(f"{'trials':>7} {'median s':>9} {'max s':>7} {'peak RSS MiB':>13}  degraded label")
            for size in args.sizes:
                times, label = measure(stub, message, size, args.calls, server.pid)
                print(f"{size:>7} {statistics.median(times):>9.2f} {max(times):>7.2f} "
                      f"{peak_mib(server.pid):>13.1f}  {label}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
