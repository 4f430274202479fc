"""Measure one model call per probe and print it next to the estimate of katib_validators.costs.

Each probe runs in a fresh process: the backend's own ``suggest`` (no gRPC, no
deduplication rounds) on a history of random points, after a warm-up call that
does the lazy imports. CPU seconds are ``time.process_time`` (one core, whatever
the machine's load); memory is the peak RSS of the call above its start
(/proc/self/clear_refs resets the high-water mark). A probe whose measurement
exceeds its estimate is marked UNDER: raise that algorithm's constants.

    python benchmarks/cost_model.py                     # every planned algorithm
    python benchmarks/cost_model.py --only optuna:tpe   # one algorithm
    python benchmarks/cost_model.py --fit               # also suggest time constants from these probes
    python benchmarks/cost_model.py --save m.jsonl      # keep the measurements; --load m.jsonl reprints them

--fit solves non-negative least squares on relative error for the time terms,
then scales the result up until no probe of 0.05 s or more exceeds it; memory
constants are set by hand from the probes that isolate each term.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import replace

PROBE_TIMEOUT = 600
# the grid of an int from -2**63 + 1 to 2**63 - 1 in steps of 10**10 (an adversarial campaign's)
WIDE_GRID = 1_844_674_408


def probes(key: str) -> list[dict]:
    """One-factor-at-a-time around 5 doubles, 1,000 trials, a batch of 4."""
    tpe = key.endswith("tpe")
    runs = [{"h": h} for h in (0, 250, 1000, 4000)]
    runs += [{"h": 1000, "d": d} for d in (1, 20)]
    runs += [{"h": h, "L": L, "d": 1} for L in (1000, 30000) for h in (0, 200)]
    runs += [{"h": 100, "n": n} for n in (16, 64)] + [{"h": 1000, "n": 256}]
    if tpe:
        runs += [{"h": 1000, "c": c} for c in (200, 1000)] + [{"h": 0, "c": 5000}, {"h": 100, "c": 5000},
                                                                {"h": 100, "c": 500, "L": 10000, "d": 1}]
        # stepped parameters whose grid is wider than the candidates (every candidate a distinct value)
        # and narrower (the library scores each distinct value once)
        runs += [{"h": h, "c": c, "d": 1, "s": s, "g": WIDE_GRID} for h, c, s in
                 ((124, 5000, 1), (124, 1000, 1), (400, 1000, 1), (100, 1000, 5), (1000, 200, 1))]
        runs += [{"h": 400, "c": 1000, "d": 1, "s": 1, "g": g} for g in (50, 500)]
        runs += [{"h": 4000, "c": 24, "d": 2, "s": 3, "g": 100}, {"h": 4000, "c": 1000, "d": 1, "s": 1, "g": 500}]
    return [{"h": 0, "n": 4, "d": 5, "L": 0, "c": 24, "s": 0, "g": 0, **run} for run in runs]


def _document(key: str, probe: dict) -> dict:
    backend, algorithm = key.split(":")
    params = [{"name": f"x{i}", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1"}}
              for i in range(probe["d"])]
    for i in range(probe.get("s", 0)):
        low = -(2 ** 63 - 1) if probe["g"] == WIDE_GRID else 0
        step = 10 ** 10 if probe["g"] == WIDE_GRID else 1
        params.append({"name": f"k{i}", "parameterType": "int", "feasibleSpace": {
            "min": str(low), "max": str(low + (probe["g"] - 1) * step), "step": str(step)}})
    if probe["L"]:
        params.append({"name": "c", "parameterType": "categorical",
                       "feasibleSpace": {"list": [f"v{i}" for i in range(probe["L"])]}})
    settings = {"tpe": {"n_startup_trials": 0, "n_ei_candidates": probe["c"]},
                "multivariate-tpe": {"n_startup_trials": 0, "n_ei_candidates": probe["c"]}}.get(algorithm, {})
    if backend == "hyperopt":
        settings = {"n_startup_jobs": 0, "n_EI_candidates": probe["c"]} if algorithm == "tpe" else {}
    return {"metadata": {"name": "cost-model"}, "spec": {
        "parameters": params, "objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "algorithm": {"algorithmName": algorithm,
                      "algorithmSettings": [{"name": k, "value": str(v)} for k, v in settings.items()]}}}


def _peak_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def measure_here(key: str, probe: dict) -> dict:
    """The probe in this process (called in a fresh child by ``measure``)."""
    from katib_suggestion.memory import return_large_allocations_to_the_os
    from katib_suggestion.model import Direction, Experiment, Objective, SuggestionRequest, Trial, TrialState
    from katib_suggestion.registry import load_backend
    from katib_validators.catalog import served_by
    from katib_validators.search_space import parse_search_space

    backend_name, key_name = key.split(":")
    # built without the validators: probes go past the limits the budget derives from them
    spec = _document(key, probe)["spec"]
    space, _ = parse_search_space(spec["parameters"])
    pairs = [(s["name"], s["value"]) for s in spec["algorithm"]["algorithmSettings"]]
    settings, _ = served_by(backend_name)[key_name].schema.parse(pairs, key_name)
    candidates = {name: int(value) for name, value in pairs if name.lower() == "n_ei_candidates"}
    experiment = Experiment("cost-model", key_name, space, Objective(Direction.MINIMIZE, "loss"),
                            {**settings, **candidates, "random_state": 1})
    rng = random.Random(0)
    history = []
    for index in range(probe["h"]):
        point = experiment.space.from_unit([rng.random() for _ in experiment.space])
        value = sum((float(v) - 0.3) ** 2 for name, v in point.items() if name != "c")
        history.append(Trial(f"t{index}", point, TrialState.COMPLETED, value))
    backend = load_backend(backend_name)
    return_large_allocations_to_the_os()
    request = SuggestionRequest(experiment, tuple(history), probe["n"], seed=7, suggested_before=len(history))
    backend.suggest(replace(request, history=(), count=1))  # lazy imports
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    start_mib, start_cpu = _peak_mib(), time.process_time()
    backend.suggest(request)
    return {"cpu": time.process_time() - start_cpu, "mib": _peak_mib() - start_mib}


def measure(key: str, probe: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, __file__, "--one", json.dumps([key, probe])], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {PROBE_TIMEOUT} s"}
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout)


TIME_TERMS = ("call_trial", "call_trial_parameter", "point", "parameter", "value", "trial", "trial_parameter",
              "trial_value", "candidate_parameter", "candidate_trial", "candidate_value", "stepped_pair")


def _sizes(cost, probe: dict):
    from katib_validators.budget import Sizes

    lists, stepped = probe["L"], probe.get("s", 0)
    candidates = probe["c"] if cost.candidates else 0
    return Sizes(probe["h"], probe["d"] + stepped + (1 if lists else 0), probe["d"] + stepped, lists, lists,
                 candidates, (probe.get("g", 0),) * stepped)


def estimate(cost, probe: dict) -> tuple[float, float]:
    sizes = _sizes(cost, probe)
    return cost.batch_seconds(sizes, probe["n"]), cost.mib(sizes.with_trials(probe["h"] + probe["n"]))


def fit(cost, rows: list[tuple[dict, dict]]) -> dict[str, float]:
    """Time constants for one algorithm: each term's feature is the model evaluated with that term alone at 1."""
    import numpy as np
    from scipy.optimize import nnls

    unit = {term: replace(cost, **{t: float(t == term) for t in TIME_TERMS}) for term in TIME_TERMS}
    features = np.array([[estimate(unit[t], probe)[0] for t in TIME_TERMS] for probe, _ in rows])
    measured = np.array([result["cpu"] for _, result in rows])
    weights = 1 / np.maximum(measured, 0.05)
    coefficients, _ = nnls(features * weights[:, None], measured * weights)
    predicted = features @ coefficients
    large = measured >= 0.05
    scale = max(1.0, float((measured[large] / np.maximum(predicted[large], 1e-12)).max())) if large.any() else 1.0
    return {t: float(f"{c * scale:.2g}") for t, c in zip(TIME_TERMS, coefficients, strict=True) if c > 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated backend:algorithm keys (default: every planned one)")
    parser.add_argument("--fit", action="store_true", help="print time constants fitted to these probes")
    parser.add_argument("--save", help="append every measurement to this JSON-lines file")
    parser.add_argument("--load", help="use the measurements of this file instead of measuring")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_here(*json.loads(args.one))))
        return 0
    from katib_validators.costs import COSTS

    keys = args.only.split(",") if args.only else [f"{b}:{a}" for b, a in COSTS]
    loaded: dict[str, list] = {}
    if args.load:
        with open(args.load) as lines:
            for line in lines:
                key, probe, result = json.loads(line)
                loaded.setdefault(key, []).append((probe, result))
    print("algorithm                trials  points  doubles  list  cand.  stepped (grid)   cpu s  est. s   MiB"
          "  est. MiB", flush=True)
    for key in keys:
        cost, rows = COSTS[tuple(key.split(":"))], []
        for probe, result in loaded.get(key) or ((p, None) for p in probes(key)):
            result = result or measure(key, probe)
            if args.save:
                with open(args.save, "a") as out:
                    out.write(json.dumps([key, probe, result]) + "\n")
            sizes = (f"{key:24} {probe['h']:6} {probe['n']:7} {probe['d']:8} {probe['L']:5} "
                     f"{probe['c'] if key.endswith('tpe') else '-':>5}  "
                     f"{probe.get('s', 0):7} ({probe.get('g', 0):>13,})")
            if "error" in result:
                print(f"{sizes}  {result['error']}", flush=True)
                continue
            rows.append((probe, result))
            seconds, mib = estimate(cost, probe)
            under = " UNDER" if seconds < result["cpu"] >= 0.05 or result["mib"] > mib else ""
            print(f"{sizes} {result['cpu']:7.2f} {seconds:7.2f} {result['mib']:5.1f} {mib:9.1f}{under}", flush=True)
        if args.fit and rows:
            print(f"{key} fitted time constants: {fit(cost, rows)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
