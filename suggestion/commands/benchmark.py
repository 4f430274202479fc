"""`katib-suggest benchmark`: the quality gate (default) or, with --latency, the latency/memory table."""

from __future__ import annotations

import argparse
import os

from katib_suggestion.blas_threads import one_blas_thread
from katib_suggestion.commands import command
from katib_validators.catalog import ALGORITHMS, BACKENDS


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _ints(text: str) -> list[int]:
    try:
        return [int(item) for item in _csv(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Benchmark real suggestion servers. Default: the optimisation-quality gate (a suite of "
                          "problems with known optima, every algorithm, many seeds, compared with the committed "
                          "baseline and with each library used directly; exit 1 on a significant loss). "
                          "--latency: call time and memory instead.")
    parser.add_argument("--latency", action="store_true",
                        help="call time, peak memory and start-up per algorithm and history size")
    parser.add_argument("--early-stopping", action="store_true",
                        help="training epochs and final regret per early-stopping rule on learning-curve problems "
                             "(uses --problems, --seeds, --algorithms, --workers, --out)")
    parser.add_argument("--backend", action="append", choices=BACKENDS,
                        help="backend to measure (repeatable; default: all)")
    parser.add_argument("--algorithms", type=_csv,
                        help="comma-separated algorithm names (default: all; --latency: all but grid)")
    latency = parser.add_argument_group("latency mode")
    latency.add_argument("--sizes", type=_ints, default=[100, 1000, 5000],
                         help="history sizes (default 100,1000,5000)")
    latency.add_argument("--warm-calls", type=int, default=5, help="calls after the first, per server (default 5)")
    _quality_arguments(parser.add_argument_group("quality mode (default)"))


def _quality_arguments(quality) -> None:  # an argument group
    quality.add_argument("--suite", choices=("quick", "full"), default="quick",
                         help="quick: 2 cheap problems at 4 parallel trials, for pull requests; full: every "
                              "problem at 1, 4 and 8 parallel trials (default quick)")
    quality.add_argument("--problems", type=_csv, help="comma-separated problem names (default: the suite's)")
    quality.add_argument("--seeds", type=int, help="seeds 0..N-1 (default: the suite's)")
    quality.add_argument("--parallel", type=_ints, metavar="N[,N...]",
                         help="parallelTrialCount values, e.g. 1,4,8 (default: the suite's)")
    quality.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                         help="also run each cell's reference arm (the library used directly) and fail when "
                              "ours is significantly worse (default: on)")
    quality.add_argument("--address", metavar="HOST:PORT",
                         help="benchmark the Katib suggestion server running there instead of fresh servers of "
                              "ours; it must answer from the request alone, as ours does (upstream Katib's keep "
                              "one experiment per process: use --server-command); needs --algorithm")
    quality.add_argument("--server-command", metavar="CMD",
                         help="start a server under test for every run with this command, {port} replaced by the "
                              "port it must listen on, e.g. 'docker run --rm -p {port}:6789 IMAGE'; needs "
                              "--algorithm")
    quality.add_argument("--algorithm", metavar="NAME",
                         help="the algorithmName to benchmark (with --address/--server-command: the one sent)")
    quality.add_argument("--settings", nargs="+", action="extend", metavar="NAME=VALUE",
                         help="algorithm settings added to the suite's (NAME= leaves a suite setting out)")
    quality.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                         help="compare two result folders with the gate's statistics, run nothing; "
                              "exit 1 when AFTER is significantly worse")
    quality.add_argument("--workers", type=int, default=2, help="local worker processes (default 2; 1: in-process)")
    quality.add_argument("--ray", metavar="ADDRESS",
                         help="run on an existing Ray cluster (ray://host:10001, host:6379) or 'local'")
    quality.add_argument("--mlflow", metavar="URI", nargs="?", const="",
                         help="log every run, metric and plot to MLflow (default URI: sqlite:///OUT/mlflow.db)")
    quality.add_argument("--out", default="quality-report", help="output folder (default ./quality-report)")
    quality.add_argument("--resume", action="store_true",
                         help="keep the runs an interrupted benchmark recorded in OUT/runs.jsonl; run the rest")
    quality.add_argument("--baseline", help="baseline to compare with (default: the SUITE baseline shipped with "
                                            "katib-suggest, katib_suggestion/quality/baselines/SUITE.json; "
                                            "with --address: none unless given)")
    baseline = quality.add_mutually_exclusive_group()
    baseline.add_argument("--write-baseline", metavar="PATH", help="write the results as a baseline; no comparison")
    baseline.add_argument("--update-baseline", metavar="PATH",
                          help="replace the cells this run made in a baseline, keep the others; no comparison")


def _plan(args: argparse.Namespace) -> list[tuple[str, str]]:
    plan = []
    for backend in args.backend or BACKENDS:
        for algorithm in ALGORITHMS:
            if algorithm.backend != backend or algorithm.space_rules and algorithm.key == "grid":
                continue
            if args.algorithms is None or algorithm.key in args.algorithms:
                plan.append((backend, algorithm.names[0]))
    return plan


@command("benchmark", "measure optimisation quality (the regression gate) or latency and memory", _arguments)
def _benchmark(args: argparse.Namespace) -> int:
    one_blas_thread()  # as `serve` does: the servers measured here, and the reference arms, run in this process tree
    if args.log_level != "DEBUG":  # gRPC's C core logs closed connections ("Got goaway"); grpcio reads this
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # on import only, so before anything imports grpc
    if args.early_stopping:
        from katib_suggestion.quality.stopping.command import run_stopping

        return run_stopping(args)
    if not args.latency:
        from katib_suggestion.quality.command import run_quality

        return run_quality(args)
    from katib_suggestion.quality.latency import HEADER, markdown, measure

    rows = []
    print("  ".join(HEADER), flush=True)
    for backend, algorithm in _plan(args):
        for size in args.sizes:
            row = measure(backend, algorithm, size, args.warm_calls)
            rows.append(row)
            print("  ".join(row.cells()), flush=True)
    print()
    print(markdown(rows))
    return 0
