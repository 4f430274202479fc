"""Latency, memory and start-up of real servers at a given history size: prints a table.

For each algorithm and history size a fresh ``katib-suggest serve`` process is
started (start-up time = process start to health SERVING). The history is
fabricated (feasible random points with a smooth objective) up to the size,
then calls are made the way the controller makes them: every trial in every
request, a batch of 4, the answers added as finished trials before the next
call. The first call of the process is reported as cold, the rest as warm.
Peak memory is the server's VmHWM. It prints numbers; it asserts nothing.
"""

from __future__ import annotations

import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc

BATCH = 4
Condition = pb.TrialStatus.TrialConditionType
# The 5-parameter mixed space of the targets: log double, stepped double, int, stepped int, categorical.
SPACE = (
    ("lr", pb.DOUBLE, pb.FeasibleSpace(min="0.0001", max="0.1", distribution=pb.LOG_UNIFORM)),
    ("dropout", pb.DOUBLE, pb.FeasibleSpace(min="0.0", max="0.5", step="0.01")),
    ("layers", pb.INT, pb.FeasibleSpace(min="1", max="12")),
    ("batch", pb.INT, pb.FeasibleSpace(min="16", max="512", step="16")),
    ("optimizer", pb.CATEGORICAL, pb.FeasibleSpace(list=["sgd", "adam", "rmsprop", "adagrad"])),
)


@dataclass
class Row:
    backend: str
    algorithm: str
    history: int
    startup: float
    cold: float
    warm: list[float]
    peak_mib: float

    def cells(self) -> list[str]:
        warm_median = statistics.median(self.warm) if self.warm else float("nan")
        warm_max = max(self.warm) if self.warm else float("nan")
        return [self.backend, self.algorithm, str(self.history), f"{self.startup:.2f}", f"{self.cold:.3f}",
                f"{warm_median:.3f}", f"{warm_max:.3f}", f"{self.peak_mib:.0f}"]


HEADER = ["backend", "algorithm", "history", "start-up s", "cold call s", "warm median s", "warm max s", "peak MiB"]


def experiment(algorithm: str) -> pb.Experiment:
    message = pb.Experiment(name=f"latency-{algorithm}")
    message.spec.objective.type = pb.MINIMIZE
    message.spec.objective.objective_metric_name = "loss"
    message.spec.algorithm.algorithm_name = algorithm
    message.spec.max_trial_count, message.spec.parallel_trial_count = 100_000, BATCH
    for name, kind, feasible in SPACE:
        message.spec.parameter_specs.parameters.add(name=name, parameter_type=kind, feasible_space=feasible)
    return message


def loss(values: dict[str, str]) -> float:
    return ((math.log10(float(values["lr"])) + 2.5) ** 2 + 3 * (float(values["dropout"]) - 0.2) ** 2
            + 0.05 * (int(values["layers"]) - 6) ** 2 + ((int(values["batch"]) - 128) / 256) ** 2
            + {"sgd": 0.3, "adam": 0.0, "rmsprop": 0.1, "adagrad": 0.2}[values["optimizer"]])


def fabricated_trial(index: int, rng: random.Random) -> pb.Trial:
    values = {"lr": f"{10 ** rng.uniform(-4, -1):.6g}", "dropout": f"{rng.randrange(51) / 100:.2f}",
              "layers": str(rng.randint(1, 12)), "batch": str(16 * rng.randint(1, 32)),
              "optimizer": rng.choice(["sgd", "adam", "rmsprop", "adagrad"])}
    return finished_trial(f"history-{index:06d}", values)


def finished_trial(name: str, values: dict[str, str]) -> pb.Trial:
    trial = pb.Trial(name=name)
    for key, value in values.items():
        trial.spec.parameter_assignments.assignments.add(name=key, value=value)
    trial.status.condition = Condition.SUCCEEDED
    trial.status.observation.metrics.add(name="loss", value=repr(loss(values)))
    return trial


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(backend: str, command: tuple[str, ...] | None = None) -> tuple[subprocess.Popen, str, float]:
    """A fresh ``katib-suggest serve`` (this interpreter's, or ``command``), its address and start-up seconds."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    start = time.monotonic()
    process = subprocess.Popen(
        [*(command or (sys.executable, "-m", "katib_suggestion")), "--log-level", "WARNING", "serve",
         "--backend", backend, "--host", "127.0.0.1", "--port", str(port), "--drain-period", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    request = health_pb2.HealthCheckRequest(service="manager.v1beta1.Suggestion")
    while process.poll() is None:
        # a fresh channel per try: a refused channel waits out gRPC's reconnect backoff
        with grpc.insecure_channel(address) as channel:
            try:
                if health_pb2_grpc.HealthStub(channel).Check(request, timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    return process, address, time.monotonic() - start
            except grpc.RpcError:
                pass
        time.sleep(0.02)
    raise RuntimeError(f"katib-suggest serve --backend {backend} exited with {process.returncode}")


def measure(backend: str, algorithm: str, history: int, warm_calls: int, seed: int = 0) -> Row:
    rng = random.Random(seed)
    trials = [fabricated_trial(i, rng) for i in range(history)]
    message = experiment(algorithm)
    process, address, startup = start_server(backend)
    timings = []
    try:
        with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 256 << 20)]) as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            for call in range(1 + warm_calls):
                request = pb.GetSuggestionsRequest(experiment=message, trials=trials, current_request_number=BATCH,
                                                   total_request_number=len(trials) + BATCH)
                began = time.perf_counter()
                reply = stub.GetSuggestions(request, timeout=120)
                timings.append(time.perf_counter() - began)
                for number, assignment in enumerate(reply.parameter_assignments):
                    values = {a.name: a.value for a in assignment.assignments}
                    trials.append(finished_trial(f"call-{call}-{number}", values))
        peak = peak_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    return Row(backend, algorithm, history, startup, timings[0], timings[1:], peak)


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)
