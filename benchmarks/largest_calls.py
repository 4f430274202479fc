"""GetSuggestions at the largest sizes and settings Validate accepts: seconds and server memory per call.

Starts ``katib-suggest serve --backend B`` and, for each case, validates the experiment (a case that
Validate refuses is printed with the refusal and skipped: the budget works either way), then makes one
GetSuggestions call with a fabricated history and prints its wall time, the server's CPU seconds
during the call (user + system, all threads: the single-core figure the 30 s target is about), its
peak RSS above the resident size before the call, and the degradation label of the answer. Targets
(issue 13): every accepted call under 30 s of one core. Prints numbers; asserts nothing.

    python benchmarks/largest_calls.py --backend optuna
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import experiment, peak_mib, start_server
from katib_suggestion.testing.histories import history


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _resident_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def _case(algorithm: str, settings=(), doubles: int = 0, values: int = 0) -> pb.Experiment:
    message = experiment(algorithm)
    for key, value in settings:
        message.spec.algorithm.algorithm_settings.add(name=key, value=value)
    for index in range(doubles):
        message.spec.parameter_specs.parameters.add(name=f"p{index}", parameter_type=pb.DOUBLE,
                                                    feasible_space=pb.FeasibleSpace(min="0", max="1"))
    if values:
        message.spec.parameter_specs.parameters.add(
            name="long", parameter_type=pb.CATEGORICAL, feasible_space=pb.FeasibleSpace(list=map(str, range(values))))
    return message


CASES = {
    "optuna": [
        ("tpe, 5,000 candidates, 10,000 trials, 4 points", _case("tpe", [("n_ei_candidates", "5000")]), 10_000, 4),
        ("tpe, 10,000 trials, 1,000 points", _case("tpe"), 10_000, 1000),
        ("multivariate-tpe, 11 trials, 1,000 points", _case("multivariate-tpe", [("n_startup_trials", "0")]),
         11, 1000),
        ("multivariate-tpe, 2,400 candidates, 5,000 trials", _case("multivariate-tpe", [("n_ei_candidates", "2400")]),
         5_000, 4),
        ("multivariate-tpe, 360 doubles, 1,000 trials", _case("multivariate-tpe", doubles=355), 1_000, 4),
        ("tpe, 470 doubles, 1,000 trials", _case("tpe", [("n_startup_trials", "0")], doubles=465), 1_000, 4),
        ("tpe, 22,000-value list, 1,000 trials", _case("tpe", values=22_000), 1_000, 4),
        ("random, 100,000-value list, 10,000 trials, 1,000 points", _case("random", values=99_996), 10_000, 1000),
        ("sobol, 10,000 trials, 1,000 points", _case("sobol"), 10_000, 1000),
        ("cmaes, 10,000 trials", _case("cmaes"), 10_000, 4),
    ],
    "hyperopt": [
        ("tpe, 5,000 candidates, 10,000 trials, 4 points",
         _case("tpe", [("n_EI_candidates", "5000"), ("n_startup_jobs", "0")]), 10_000, 4),
        ("tpe, 11 trials, 1,000 points", _case("tpe", [("n_startup_jobs", "0")]), 11, 1000),
        ("tpe, 10,000 trials, 1,000 points", _case("tpe"), 10_000, 1000),
        ("tpe, 400 doubles, 1,000 trials", _case("tpe", [("n_startup_jobs", "0")], doubles=395), 1_000, 4),
        ("tpe, 100,000-value list, 1,000 trials", _case("tpe", values=99_996), 1_000, 4),
        ("anneal, 10,000 trials, 1,000 points", _case("anneal"), 10_000, 1000),
        ("random, 10,000 trials, 1,000 points", _case("random"), 10_000, 1000),
    ],
    "skopt": [
        ("GP, 24 input dimensions, 300 trials", _case("bayesianoptimization", doubles=16), 300, 4),
        ("GP, 1,000 trials, 4 points", _case("bayesianoptimization"), 1_000, 4),
        ("RF, 24 input dimensions, 1,000 trials", _case("bayesianoptimization", [("base_estimator", "RF")],
                                                        doubles=16), 1_000, 4),
        ("GP, 100 trials, 1,000 points", _case("bayesianoptimization"), 100, 1000),
    ],
}


def _call(stub, pid: int, message: pb.Experiment, trials: int, count: int) -> str:
    try:
        stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=message), timeout=120)
    except grpc.RpcError as error:
        return f"{'-':>8} {'-':>8} {'-':>10}  Validate {error.code().name}: {error.details()[:100]}"
    request = pb.GetSuggestionsRequest(experiment=message, trials=history(message, trials),
                                       current_request_number=count, total_request_number=trials + count)
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")
    before, cpu, began = _resident_mib(pid), _cpu_seconds(pid), time.perf_counter()
    try:
        reply = stub.GetSuggestions(request, timeout=300)
        labels = {v for p in reply.parameter_assignments for k, v in p.labels.items() if k.endswith("degraded")}
        answer = f"OK {len(reply.parameter_assignments)} points {'/'.join(sorted(labels)) or 'full model'}"
    except grpc.RpcError as error:
        answer = f"{error.code().name}: {error.details()[:100]}"
    seconds, cpu = time.perf_counter() - began, _cpu_seconds(pid) - cpu
    return f"{seconds:8.2f} {cpu:8.2f} {peak_mib(pid) - before:10.1f}  {answer}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=sorted(CASES), default="optuna")
    args = parser.parse_args()
    process, address, _ = start_server(args.backend)
    options = [("grpc.max_send_message_length", 256 << 20), ("grpc.max_receive_message_length", 256 << 20)]
    try:
        with grpc.insecure_channel(address, options=options) as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            print(f"{'case':56} {'wall s':>8} {'cpu s':>8} {'MiB above':>10}  answer")
            for label, message, trials, count in CASES[args.backend]:
                print(f"{label:56} {_call(stub, process.pid, message, trials, count)}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
