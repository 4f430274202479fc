"""`katib-suggest benchmark --latency`: the latency/memory table of suggestion/latency_benchmark.py."""

from __future__ import annotations

import argparse

from katib_suggestion.cli import command
from katib_validators.catalog import ALGORITHMS, BACKENDS


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Benchmark real suggestion servers."
    parser.add_argument("--latency", action="store_true", required=True,
                        help="call time, peak memory and start-up per algorithm and history size")
    parser.add_argument("--backend", action="append", choices=BACKENDS,
                        help="backend to measure (repeatable; default: all)")
    parser.add_argument("--algorithms", type=_csv, help="comma-separated algorithm names (default: all but grid)")
    parser.add_argument("--sizes", type=lambda t: [int(x) for x in _csv(t)], default=[100, 1000, 5000],
                        help="history sizes (default 100,1000,5000)")
    parser.add_argument("--warm-calls", type=int, default=5, help="calls after the first, per server (default 5)")


def _plan(args: argparse.Namespace) -> list[tuple[str, str]]:
    plan = []
    for backend in args.backend or BACKENDS:
        for algorithm in ALGORITHMS:
            if algorithm.backend != backend or algorithm.space_rules and algorithm.key == "grid":
                continue
            if args.algorithms is None or algorithm.key in args.algorithms:
                plan.append((backend, algorithm.names[0]))
    return plan


@command("benchmark", _arguments)
def _benchmark(args: argparse.Namespace) -> int:
    from katib_suggestion.latency_benchmark import HEADER, markdown, measure

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
