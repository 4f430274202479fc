"""Peak memory of `katib-suggest serve` per backend and algorithm, driven with fabricated 1,000-trial histories.

Starts the real server (the console script, as the container runs it) once per
algorithm, waits for SERVING, sends GetSuggestions calls carrying the whole
history the way the Katib controller does, and reads VmRSS/VmHWM from
/proc/<pid>/status. The numbers set `resources` in manifests/.

Run: /work/venv/bin/python benchmarks/server_memory.py [--backend optuna ...] [--trials 1000]
     [--calls 3] [--bin DIR] [--drop-cache]  (DIR: a venv's bin/ with only one backend installed, as in the image)

RSS counts the library files' pages the process maps, and files pip has just written sit in the page
cache in a form the kernel maps whole: the same server measured 10 MiB larger right after an install.
``--drop-cache`` flushes the environment's files and drops them from the page cache before each server
starts, so every server reads them from disk as a new pod does.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import free_port
from katib_validators.catalog import BACKENDS, served_by

Condition = pb.TrialStatus.TrialConditionType
KATIB_HEALTH = "manager.v1beta1.Suggestion"
OPTIMIZERS = ["sgd", "adam", "rmsprop"]
LEARNING_RATES = ["0.0001", "0.0003", "0.001", "0.003", "0.01", "0.03", "0.1"]

# Five parameters, one of each shape; grid needs every dimension finite, so it
# takes the learning rate from a list instead of a log-uniform range.
SPACE = {
    "lr": (pb.DOUBLE, dict(min="0.0001", max="0.1", distribution=pb.LOG_UNIFORM)),
    "dropout": (pb.DOUBLE, dict(min="0.0", max="0.5", step="0.05")),
    "layers": (pb.INT, dict(min="1", max="8")),
    "batch": (pb.INT, dict(min="16", max="256", step="16")),
    "optimizer": (pb.CATEGORICAL, dict(list=OPTIMIZERS)),
}
FINITE_LR = (pb.DISCRETE, dict(list=LEARNING_RATES))


def experiment(algorithm: str, trials: int, parallel: int) -> pb.Experiment:
    message = pb.Experiment(name=f"memory-{algorithm}")
    spec = message.spec
    spec.objective.type = pb.MINIMIZE
    spec.objective.objective_metric_name = "loss"
    spec.algorithm.algorithm_name = algorithm
    spec.algorithm.algorithm_settings.add(name="random_state", value="7")
    spec.parallel_trial_count, spec.max_trial_count = parallel, trials + 10 * parallel
    for name, (kind, space) in SPACE.items():
        if name == "lr" and algorithm.endswith("grid"):
            kind, space = FINITE_LR
        spec.parameter_specs.parameters.add(name=name, parameter_type=kind, feasible_space=pb.FeasibleSpace(**space))
    return message


def fabricated_values(rng: random.Random, finite_lr: bool) -> dict[str, str]:
    lr = rng.choice(LEARNING_RATES) if finite_lr else repr(10 ** rng.uniform(-4, -1))
    return {"lr": lr, "dropout": str(round(rng.randrange(11) * 0.05, 2)), "layers": str(rng.randint(1, 8)),
            "batch": str(16 * rng.randint(1, 16)), "optimizer": rng.choice(OPTIMIZERS)}


def loss(values: dict[str, str]) -> float:
    return ((math.log10(float(values["lr"])) + 2.5) ** 2 + (float(values["dropout"]) - 0.2) ** 2 * 4
            + (int(values["layers"]) - 5) ** 2 / 10 + OPTIMIZERS.index(values["optimizer"]) * 0.1)


def history(algorithm: str, trials: int, parallel: int) -> list[pb.Trial]:
    """``trials`` trials: the last ``parallel`` still running, about 5% failed, the rest succeeded."""
    rng = random.Random(trials)
    result = []
    for index in range(trials):
        values = fabricated_values(rng, algorithm.endswith("grid"))
        message = pb.Trial(name=f"memory-{algorithm}-{index}")
        for key, text in values.items():
            message.spec.parameter_assignments.assignments.add(name=key, value=text)
        if index >= trials - parallel:
            message.status.condition = Condition.RUNNING
        elif rng.random() < 0.05:
            message.status.condition = Condition.FAILED
        else:
            message.status.condition = Condition.SUCCEEDED
            message.status.observation.metrics.add(name="loss", value=repr(loss(values)))
        result.append(message)
    return result


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def wait_serving(address: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(service=KATIB_HEALTH), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    raise TimeoutError("server did not become SERVING")


def drop_cache(root: Path) -> None:
    """Write back and drop from the page cache every file under ``root`` (the environment's own files)."""
    for path in root.rglob("*"):
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue  # folders, sockets, broken links
        try:
            os.fsync(descriptor)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass
        finally:
            os.close(descriptor)


def measure(command: str, backend: str, algorithm: str, trials: int, calls: int, parallel: int,
            cold_files: bool = False) -> dict:
    """Fresh server for one algorithm (a Katib suggestion pod serves one experiment)."""
    if cold_files:
        drop_cache(Path(command).resolve().parent.parent)
    port = free_port()
    env = {**os.environ, "KATIB_SUGGEST_BACKEND": backend, "KATIB_SUGGEST_HOST": "127.0.0.1",
           "KATIB_SUGGEST_PORT": str(port), "KATIB_SUGGEST_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([command, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_serving(f"127.0.0.1:{port}", process)
        idle = memory_kib(process.pid)["VmRSS"]
        exp, past = experiment(algorithm, trials, parallel), history(algorithm, trials, parallel)
        seconds = []
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=[
                ("grpc.max_send_message_length", 64 << 20), ("grpc.max_receive_message_length", 64 << 20)]) as channel:
            stub = api_pb2_grpc.SuggestionStub(channel)
            for call in range(calls):
                request = pb.GetSuggestionsRequest(experiment=exp, trials=past, current_request_number=parallel,
                                                   total_request_number=trials + (call + 1) * parallel)
                start = time.perf_counter()
                stub.GetSuggestions(request, timeout=120)
                seconds.append(time.perf_counter() - start)
        status = memory_kib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"server exited {process.returncode}: {stderr.decode()[-2000:]}")
    return {"backend": backend, "algorithm": algorithm, "idle_mib": idle / 1024, "rss_mib": status["VmRSS"] / 1024,
            "peak_mib": status["VmHWM"] / 1024, "slowest_call_s": max(seconds)}


def algorithms(backend: str) -> list[str]:
    """Each distinct algorithm once, by its first (upstream) name."""
    return list(dict.fromkeys(a.names[0] for a in served_by(backend).values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", nargs="*", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--trials", type=int, default=1000, help="trials of history in every call (default 1000)")
    parser.add_argument("--calls", type=int, default=3, help="GetSuggestions calls per server (default 3)")
    parser.add_argument("--parallel", type=int, default=3, help="assignments asked per call (default 3)")
    parser.add_argument("--bin", type=Path, default=Path(sys.executable).parent,
                        help="directory holding katib-suggest (default: next to this interpreter)")
    parser.add_argument("--drop-cache", action="store_true",
                        help="read the environment's files from disk for every server, as a new pod does")
    args = parser.parse_args()
    command = str(args.bin / "katib-suggest")
    print(f"{'backend':9} {'algorithm':21} {'idle MiB':>9} {'RSS MiB':>8} {'peak MiB':>9} {'slowest s':>10}")
    for backend in args.backend:
        rows = [measure(command, backend, name, args.trials, args.calls, args.parallel, args.drop_cache)
                for name in algorithms(backend)]
        for row in rows:
            print(f"{row['backend']:9} {row['algorithm']:21} {row['idle_mib']:9.1f} {row['rss_mib']:8.1f} "
                  f"{row['peak_mib']:9.1f} {row['slowest_call_s']:10.2f}", flush=True)
        print(f"{backend:9} {'max over algorithms':21} {max(r['idle_mib'] for r in rows):9.1f} "
              f"{'':8} {max(r['peak_mib'] for r in rows):9.1f}", flush=True)


if __name__ == "__main__":
    main()
