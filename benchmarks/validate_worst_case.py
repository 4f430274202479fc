"""ValidateAlgorithmSettings' worst case: time and memory per algorithm on adversarial settings and spaces.

    python benchmarks/validate_worst_case.py [--algorithms tpe,cmaes] [--repeat 2]

Every algorithm of the catalog is validated with each settings profile (every
setting at the low or the high end of its declared range, unbounded ones at
2**31-1 or 1e308, or defaults) crossed with spaces where arithmetic or size
hurts (64-bit ints, a few-ulp double, steps that almost divide, a grid of
2**63 points, hundreds of parameters, a 100,000-entry list). Validate includes
the dry run of one suggestion, so this is the whole call. Accepted or rejected,
each answer is timed (best of --repeat, wall and process CPU, without tracing;
CPU is what one idle core would take on a shared machine) and its allocations
peak measured with tracemalloc (numpy reports its buffers to it as well).
Targets (issue 13): under 2 s and under 50 MiB for any request.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc

from katib_suggestion import wire
from katib_suggestion.errors import InvalidExperiment
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_validators.catalog import ALGORITHMS

INT64 = 2**63 - 1


def _double(name, low, high, step=None, distribution=None):
    space = {"min": low, "max": high, **({"step": step} if step else {}),
             **({"distribution": distribution} if distribution else {})}
    return {"name": name, "parameterType": "double", "feasibleSpace": space}


def _int(name, low, high, step=None):
    return {"name": name, "parameterType": "int",
            "feasibleSpace": {"min": low, "max": high, **({"step": step} if step else {})}}


def _list(name, kind, values):
    return {"name": name, "parameterType": kind, "feasibleSpace": {"list": values}}


SPACES = {
    "mixed": [_double("lr", "1e-5", "1", distribution="logUniform"), _int("units", "1", "512"),
              _list("opt", "categorical", ["adam", "sgd", "rmsprop"]), _double("d", "0", "0.5", "0.05")],
    "int64": [_int("a", str(-INT64), str(INT64)), _int("b", str(INT64 - 7), str(INT64)),
              _double("c", "-1000000.0", "-999999.999999999"), _double("e", "1", "3.9999999999", "1", "logUniform")],
    "huge-grid": [_int("a", str(-INT64), str(INT64), "1"), _double("b", "-1e307", "1e307", "1e300")],
    "tiny-doubles": [_double("a", "5e-324", "1e-323", distribution="logUniform"), _double("b", "0", "5e-324"),
                     _double("c", "1e16", "10000000000000010", "2"), _int("n", "0", "1000")],
    "300-parameters": [_double(f"p{i}", "0", "1", "0.1" if i % 2 else None) for i in range(300)],
    "100k-list": [_list("big", "categorical", [f"v{i}" for i in range(100_000)]), _double("x", "0", "1")],
}


def _value(setting, end: str, numbers_only: bool = False) -> str | None:
    if setting.kind == "choice":
        return None if numbers_only else setting.choices[0 if end == "low" else -1]
    bound = setting.low if end == "low" else setting.high
    if bound is None:
        bound = (-(2**31) if end == "low" else 2**31 - 1) if setting.kind == "int" else \
            (-1e308 if end == "low" else 1e308)
    if setting.kind == "int":
        return str(int(bound) + (1 if end == "low" and setting.low_open else 0)
                   - (1 if end == "high" and setting.high_open else 0))
    bound = float(bound)
    if (end == "low" and setting.low_open) or (end == "high" and setting.high_open):
        bound = math.nextafter(bound, math.inf if end == "low" else -math.inf)  # the nearest legal double
    return repr(bound)


def profiles(algorithm) -> dict[str, list[dict]]:
    settings = algorithm.schema.settings
    return {"defaults": [], **{end: [{"name": s.name, "value": v} for s in settings
                                     if (v := _value(s, end)) is not None] for end in ("low", "high")}}


def document(algorithm, parameters, settings) -> dict:
    return {"metadata": {"name": "worst"}, "spec": {
        "parameters": parameters, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": algorithm.names[0], "algorithmSettings": settings},
        "maxTrialCount": 100, "parallelTrialCount": 10}}


def measure(suggester: Suggester, message, repeat: int) -> tuple[float, float, int, str]:
    """Best wall and CPU seconds of ``repeat`` calls, the traced allocation peak, the verdict."""
    best, cpu, verdict = float("inf"), float("inf"), "accepted"
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            suggester.validate(message)
        except InvalidExperiment as error:
            verdict = f"rejected: {str(error.problems[0])[:70]}"
        best, cpu = min(best, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    tracemalloc.start()
    try:
        suggester.validate(message)
    except InvalidExperiment:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, cpu, peak, verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", help="comma-separated algorithm keys (default: every one)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--spaces", help=f"comma-separated, some of {', '.join(SPACES)} (default: all)")
    args = parser.parse_args(argv)
    chosen = [a for a in ALGORITHMS if not args.algorithms or a.key in args.algorithms.split(",")]
    suggesters = {b: Suggester(b, load_backend(b)) for b in dict.fromkeys(a.backend for a in chosen)}
    worst_time, worst_cpu, worst_memory, failed = (0.0, ""), (0.0, ""), (0, ""), 0
    for algorithm in chosen:
        for profile, settings in profiles(algorithm).items():
            for space, parameters in SPACES.items():
                if args.spaces and space not in args.spaces.split(","):
                    continue
                message = wire.experiment_message(document(algorithm, parameters, settings))
                seconds, cpu, peak, verdict = measure(suggesters[algorithm.backend], message, args.repeat)
                where = f"{algorithm.backend}/{algorithm.key} settings={profile} space={space}"
                print(f"{seconds:7.3f} s {cpu:7.3f} s CPU {peak / 2**20:7.1f} MiB  {where}: {verdict}", flush=True)
                worst_time, worst_memory = max(worst_time, (seconds, where)), max(worst_memory, (peak, where))
                worst_cpu = max(worst_cpu, (cpu, where))
                failed += seconds >= 2 or peak >= 50 * 2**20
    print(f"slowest Validate: {worst_time[0]:.3f} s ({worst_time[1]})")
    print(f"most CPU in one Validate: {worst_cpu[0]:.3f} s ({worst_cpu[1]})")
    print(f"largest Validate allocation peak: {worst_memory[0] / 2**20:.1f} MiB ({worst_memory[1]})")
    print(f"over target (2 s or 50 MiB): {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
