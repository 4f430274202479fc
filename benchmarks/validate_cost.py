"""ValidateAlgorithmSettings on hostile requests: time and server memory above idle, per request.

Starts ``katib-suggest serve --backend B``, validates a typical experiment once (imports done), then
for each request resets the server's peak-RSS mark (/proc/PID/clear_refs), calls Validate and prints
the wall time, the answer and the server's peak above its resident size before the call. Targets
(issue 13): under 2 s and under 50 MiB above idle for any request. Prints numbers; asserts nothing.

    python benchmarks/validate_cost.py --backend optuna
"""

from __future__ import annotations

import argparse
import sys
import time

import grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import experiment, peak_mib, start_server


def _resident_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def _with(algorithm: str, settings=(), values: int = 0, parameters: int = 0, name: str = "") -> pb.Experiment:
    message = experiment(algorithm)
    for key, value in settings:
        message.spec.algorithm.algorithm_settings.add(name=key, value=value)
    if values:
        message.spec.parameter_specs.parameters.add(
            name="long", parameter_type=pb.CATEGORICAL, feasible_space=pb.FeasibleSpace(list=map(str, range(values))))
    for index in range(parameters):
        message.spec.parameter_specs.parameters.add(name=f"p{index}", parameter_type=pb.DOUBLE,
                                                    feasible_space=pb.FeasibleSpace(min="0", max="1"))
    if name:
        message.name = name
    return message


def _grid(points: int) -> pb.Experiment:
    message = pb.Experiment(name="grid")
    message.spec.objective.type, message.spec.objective.objective_metric_name = pb.MINIMIZE, "loss"
    message.spec.algorithm.algorithm_name = "grid"
    message.spec.parameter_specs.parameters.add(name="x", parameter_type=pb.INT,
                                                feasible_space=pb.FeasibleSpace(min="1", max=str(points)))
    return message


REQUESTS = {
    "optuna": [
        ("typical tpe", _with("tpe")),
        ("tpe n_ei_candidates 1e8", _with("tpe", [("n_ei_candidates", "100000000"), ("n_startup_trials", "0")])),
        ("multivariate-tpe n_ei_candidates 3e7", _with("multivariate-tpe", [("n_ei_candidates", "30000000")])),
        ("tpe n_ei_candidates 5000, 995 doubles", _with("tpe", [("n_ei_candidates", "5000")], parameters=995)),
        ("tpe at once, the most parameters accepted", _with("tpe", [("n_startup_trials", "0")], parameters=466)),
        ("multivariate-tpe at once, most candidates", _with("multivariate-tpe", [("n_startup_trials", "0"),
                                                                                  ("n_ei_candidates", "2000")])),
        ("grid of 1,000,000 points", _grid(1_000_000)),
        ("random, 100,000-value list", _with("random", values=99_996)),
        ("tpe, 100,000-value list", _with("tpe", values=99_996)),
        ("random, 3.7 MiB: a 500,000-value list", _with("random", values=500_000)),
        ("random, 1,000,000-value list", _with("random", values=1_000_000)),
        ("random, 100,000 parameters", _with("random", parameters=100_000)),
        ("random, 30 MiB name", _with("random", name="x" * (30 << 20))),
    ],
    "hyperopt": [
        ("typical tpe", _with("tpe")),
        ("tpe n_EI_candidates 1e8", _with("tpe", [("n_EI_candidates", "100000000"), ("n_startup_jobs", "0")])),
        ("tpe n_EI_candidates 5000, 995 doubles", _with("tpe", [("n_EI_candidates", "5000")], parameters=995)),
        ("tpe at once, the most parameters accepted", _with("tpe", [("n_startup_jobs", "0")], parameters=487)),
        ("tpe at once, most candidates", _with("tpe", [("n_startup_jobs", "0"), ("n_EI_candidates", "5000")])),
        ("tpe, 100,000-value list", _with("tpe", values=99_996)),
        ("anneal, 1,000,000-value list", _with("anneal", values=1_000_000)),
    ],
    "skopt": [
        ("typical GP", _with("bayesianoptimization")),
        ("RF, 995 doubles", _with("bayesianoptimization", [("base_estimator", "RF")], parameters=995)),
        ("GP, 24 input dimensions (the most)", _with("bayesianoptimization", parameters=16)),
        ("GP, 100,000-value list", _with("bayesianoptimization", values=99_996)),
    ],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=sorted(REQUESTS), default="optuna")
    args = parser.parse_args()
    process, address, _ = start_server(args.backend)
    options = [("grpc.max_send_message_length", 256 << 20)]
    try:
        with grpc.insecure_channel(address, options=options) as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=REQUESTS[args.backend][0][1]),
                                           timeout=120)
            print(f"{'request':42} {'seconds':>8} {'MiB above':>10}  answer")
            for label, message in REQUESTS[args.backend]:
                with open(f"/proc/{process.pid}/clear_refs", "w") as refs:
                    refs.write("5")
                before = _resident_mib(process.pid)
                began = time.perf_counter()
                try:
                    stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=message), timeout=300)
                    answer = "OK"
                except grpc.RpcError as error:
                    answer = f"{error.code().name}: {error.details()[:90]}"
                seconds = time.perf_counter() - began
                print(f"{label:42} {seconds:8.2f} {peak_mib(process.pid) - before:10.1f}  {answer}", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
