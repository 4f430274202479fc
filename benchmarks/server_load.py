"""A real server flooded with heavy calls: how fast health and an unrelated one-point call are answered.

Starts ``katib-suggest serve`` (default workers), sends ``--heavy`` concurrent GetSuggestions of a
TPE experiment with ``--trials`` trials (from one experiment, or each from its own with
``--experiments many``), probes health every half second, and after two seconds makes one call of
another experiment. Prints latencies and the status codes of the flood (calls beyond the server's
waiting room are answered UNAVAILABLE, which Katib retries); asserts nothing.

    python benchmarks/server_load.py --heavy 50 --trials 5000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import experiment, fabricated_trial, peak_mib, start_server

KATIB_HEALTH = "manager.v1beta1.Suggestion"


def heavy_request(name: str, trials: int) -> pb.GetSuggestionsRequest:
    import random

    rng = random.Random(0)
    message = experiment("tpe")
    message.name = name
    history = [fabricated_trial(i, rng) for i in range(trials)]
    return pb.GetSuggestionsRequest(experiment=message, trials=history, current_request_number=4,
                                    total_request_number=trials + 4)


def _code(future) -> str:
    try:
        future.result()
    except grpc.RpcError as error:
        return error.code().name
    return "OK"


def probe_health(channel, stop: threading.Event, latencies: list, failures: list) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    while not stop.is_set():
        began = time.perf_counter()
        try:
            stub.Check(health_pb2.HealthCheckRequest(service=KATIB_HEALTH), timeout=10)
            latencies.append(time.perf_counter() - began)
        except grpc.RpcError as error:
            failures.append(error.code().name)
        stop.wait(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="optuna")
    parser.add_argument("--heavy", type=int, default=50, help="concurrent heavy calls (default 50)")
    parser.add_argument("--trials", type=int, default=5000, help="trials in each heavy call (default 5000)")
    parser.add_argument("--experiments", choices=("one", "many"), default="one",
                        help="the heavy calls come from one experiment or each from its own (default one)")
    parser.add_argument("--address", help="use this running server instead of starting one (no peak memory)")
    args = parser.parse_args()
    process, address = (None, args.address) if args.address else start_server(args.backend)[:2]
    requests = [heavy_request("heavy" if args.experiments == "one" else f"heavy-{i}", args.trials)
                for i in range(args.heavy)]
    light = pb.GetSuggestionsRequest(experiment=experiment("random"), current_request_number=1,
                                     total_request_number=1)
    light.experiment.name = "light"
    health, failures, stop = [], [], threading.Event()
    options = [("grpc.max_send_message_length", 256 << 20)]
    try:
        # the kubelet and another experiment's controller call have connections of their own
        with grpc.insecure_channel(address, options=options) as channel, grpc.insecure_channel(address) as probes, \
                grpc.insecure_channel(address) as other, ThreadPoolExecutor(args.heavy) as pool:
            stub = api_pb2_grpc.SuggestionStub(channel)
            prober = threading.Thread(target=probe_health, args=(probes, stop, health, failures))
            prober.start()
            began = time.perf_counter()
            heavy = [pool.submit(stub.GetSuggestions, request, timeout=600) for request in requests]
            time.sleep(2)
            light_began = time.perf_counter()
            api_pb2_grpc.SuggestionStub(other).GetSuggestions(light, timeout=600)
            light_seconds = time.perf_counter() - light_began
            codes = Counter(_code(future) for future in heavy)
            flood_seconds = time.perf_counter() - began
            stop.set()
            prober.join()
        peak = peak_mib(process.pid) if process else float("nan")
    finally:
        if process:
            process.terminate()
            process.wait(timeout=60)
    print(f"{args.heavy} heavy calls ({args.trials} trials, {args.experiments} experiment(s)): answered in "
          f"{flood_seconds:.1f} s, {dict(codes)}; server peak {peak:.0f} MiB")
    print(f"unrelated one-point call: {light_seconds:.2f} s")
    print(f"health: {len(health)} checks, median {statistics.median(health) * 1000:.1f} ms, "
          f"max {max(health) * 1000:.1f} ms, failed {len(failures)} {sorted(set(failures))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
