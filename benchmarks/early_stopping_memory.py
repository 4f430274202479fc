"""Peak memory of `katib-suggest serve --backend early-stopping` giving rules for 1,000 trials, and a SetTrialStatus.

Starts the console script as the container runs it, a DB manager double holding 1,000 trials x
27 reports and a Kubernetes API double (both in this process, on loopback), asks for each
algorithm's rules and marks one Trial EarlyStopped, then reads VmHWM from /proc/<pid>/status.
The number sets the early-stopping entry's resources (katib_suggestion.stopping.declaration).

Run: python benchmarks/early_stopping_memory.py [--trials 1000] [--reports 27]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import free_port
from katib_suggestion.testing.dbmanager import db_manager
from katib_suggestion.testing.kubernetes_api import kubernetes_api
from katib_validators.early_stopping import ALGORITHMS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from stopping_requests import CONDITIONS, rules_request  # noqa: E402


def _peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=27)
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as folder, db_manager() as (db_address, db), \
            kubernetes_api(Path(folder)) as (kubeconfig, api):
        trials = {f"t-{i}": CONDITIONS.SUCCEEDED if i % 3 else CONDITIONS.EARLYSTOPPED for i in range(args.trials)}
        for name in trials:
            db.report(name, "loss", [rng.random() + 1 / (step + 1) for step in range(args.reports)])
        api.add_trial("t-0")
        port = free_port()
        env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        env.pop("KUBERNETES_SERVICE_HOST", None)
        process = subprocess.Popen([str(Path(sys.executable).with_name("katib-suggest")), "--log-level", "WARNING",
                                    "serve", "--backend", "early-stopping", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env)
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = api_pb2_grpc.EarlyStoppingStub(channel)
                began = time.perf_counter()
                for algorithm in ALGORITHMS:
                    reply = stub.GetEarlyStoppingRules(rules_request(trials, db_address, algorithm=algorithm),
                                                       timeout=60, wait_for_ready=True)
                    print(f"{algorithm}: {len(reply.early_stopping_rules)} rule(s)")
                stub.SetTrialStatus(pb.SetTrialStatusRequest(trial_name="t-0"), timeout=60)
                seconds = time.perf_counter() - began
            print(f"{args.trials} trials x {args.reports} reports: {len(ALGORITHMS)} rule calls and one "
                  f"SetTrialStatus in {seconds:.1f} s; peak RSS {_peak_mib(process.pid):.0f} MiB")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
