"""Calibrate the scikit-optimize cost model: measured against predicted CPU seconds, and the constants fitted.

    python benchmarks/skopt_cost.py --fit --write          # measure the fit grid, fit, write the constants
    python benchmarks/skopt_cost.py --check                # whole calls at the plan's edges against their budget
    python benchmarks/skopt_cost.py --fit --save m.jsonl   # keep the measurements (a rerun measures only new probes)
    python benchmarks/skopt_cost.py --fit --load benchmarks/skopt_cost.jsonl   # refit and reprint the shipped ones

Every probe is one GetSuggestions request answered by the Suggester (decoding,
the backend, deduplication and encoding: what a server's worker does) in a
fresh process with one BLAS thread, after a warm-up call; CPU seconds are
``time.process_time``. The fit grid forces the plan of each probe (window,
running trials told, model points, candidates, optimizer) so the constants are
measured over sizes the budget would never pick together; ``--check`` lets the
plan choose (the two recorded requests of issue 22 among them) and prints each
call's CPU seconds next to the plan's prediction and its budget. ``--fit``
sets each estimator's constants (the terms of skopt_budget.features) to the
tightest upper envelope of its probes: no probe of 0.3 s or more takes longer
than predicted, and the predictions are as small as that allows (a linear
program on relative error). They are upper bounds on this machine; the plan's
SAFETY covers a slower one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

PROBE_TIMEOUT = 900
CASES = Path(os.environ.get("KATIB_SUGGEST_CASES", "/work/shared/cases"))
CONSTANTS = Path(__file__).resolve().parents[1] / "suggestion" / "backends" / "skopt_costs.py"
COMMON = ("call", "trial_parameter", "point_parameter", "fit", "fit_parameter", "candidate", "candidate_parameter",
          "candidate_dim")
TERMS = {
    "GP": (*COMMON, "fit_obs2_dim", "fit_obs3", "candidate_obs_dim", "candidate_obs2", "lbfgs", "lbfgs_lcb",
           "lbfgs_obs_dim", "lbfgs_obs2", "hyperfit", "hyperfit_obs3", "hyperfit_obs2_dim"),
    **{tree: (*COMMON, "fit_obs_dim", "candidate_depth") for tree in ("RF", "ET", "GBRT")},
}
BASE = {"h": 50, "p": 0, "n": 4, "m": None, "d": 4, "L": 0, "c": 10_000, "opt": "auto", "acq": "gp_hedge",
        "init": 0, "budget": 20, "w": None}


def fit_probes(estimator: str) -> list[dict]:
    """Plans forced one factor at a time around 4 doubles, 50 trials, 4 model points, then corners."""
    gp = estimator == "GP"
    histories = (10, 150, 350) if gp else (10, 400, 2000)
    runs = [{}] + [{"h": h} for h in histories] + [{"n": 1}, {"n": 16}, {"c": 1000}, {"n": 16, "c": 1000}, {"p": 40}]
    runs += [{"d": 1}, {"d": 12}, {"d": 24}, {"d": 3, "L": 21}]
    # the smallest call; decoding many trials; a large random rest
    runs += [{"h": 10, "n": 1, "c": 1000}, {"h": 3000, "w": 40}, {"n": 1000, "m": 2}]
    runs += [{"h": 10_000, "w": 40, "d": d} for d in (1, 24)] + [{"n": 1000, "m": 2, "d": 24}]
    if gp:  # the kernel's fit once per call, L-BFGS per acquisition function, candidates per point
        runs += [{"acq": acq, "n": n} for acq in ("LCB", "PI") for n in (4, 16)] + [{"acq": "LCB", "h": 350}]
        runs += [{"opt": "sampling"}, {"acq": "EI"}, {"n": 16, "acq": "EI"}, {"n": 16, "opt": "sampling"},
                 {"h": 200, "n": 1}, {"h": 350, "n": 1, "acq": "EI"}, {"opt": "sampling", "n": 16, "h": 250}]
        runs += [{"h": h, "n": 1, "opt": "sampling"} for h in (10, 100, 350)]
        # L-BFGS's iterations depend on the data, not only on its size: more histories for its bound
        runs += [{"h": h} for h in (20, 30, 75, 100)] + [{"h": 30, "acq": "LCB"}]
        runs += [{"h": 350, "n": 8, "opt": "sampling", "c": 2000}]
    top = 350 if gp else 2000
    runs += [{"h": top, "d": 24, "n": 2}, {"h": top // 2, "d": 12, "n": 8, "p": 20, "c": 4000}]
    # large batches: the model grows by every point told back (where 1,000-point calls end)
    runs += [{"h": 10, "n": 64, "c": 1000, "opt": "sampling"}, {"h": top // 4, "n": 48, "c": 1000, "opt": "sampling"}]
    if gp:
        runs += [{"h": 10, "n": 300, "c": 1000, "opt": "sampling"}, {"h": 150, "n": 150, "c": 1000, "opt": "sampling"}]
    # the cheapest plan of the widest spaces: where the smallest budgets end
    floor = {"h": 100, "n": 1, "c": 1000, "opt": "sampling"}
    runs += [{**floor, "d": 24}, {**floor, "d": 1, "L": 23}]
    return [{**BASE, "est": estimator, "mode": "plan", **run} for run in runs]


def check_probes() -> list[dict]:
    """Whole calls the plan shapes itself, at the edges of what Validate accepts."""
    runs = []
    for estimator in ("GP", "RF", "ET", "GBRT"):
        top = 350 if estimator == "GP" else 2000
        edges = [{"h": 10, "n": 1000}, {"h": top, "d": 24}, {"h": 10_000, "n": 1000, "d": 24},
                 {"h": 400, "p": 600, "n": 50, "d": 3, "L": 21}, {"h": 30, "n": 4, "budget": 30},
                 {"h": 200, "n": 100, "budget": 1}, {"h": 20, "init": 2_000_000_000, "n": 1000}]
        runs += [{**BASE, "est": estimator, "mode": "call", **edge} for edge in edges]
    return runs + [{"mode": "case", "file": str(path)} for path in sorted(CASES.glob("*.GetSuggestionsRequest.bin"))]


def build_request(probe: dict):
    """The GetSuggestionsRequest of a probe: doubles, an optional categorical, random finished and running trials."""
    from katib_api import api_pb2 as pb

    if probe["mode"] == "case":
        return pb.GetSuggestionsRequest.FromString(Path(probe["file"]).read_bytes())
    message = pb.Experiment(name="skopt-cost")
    spec = message.spec
    spec.objective.type, spec.objective.objective_metric_name = pb.MINIMIZE, "loss"
    spec.algorithm.algorithm_name = "bayesianoptimization"
    for name, value in (("base_estimator", probe["est"]), ("acq_optimizer", probe["opt"]),
                        ("acq_func", probe["acq"]), ("n_initial_points", probe["init"]),
                        ("time_budget_seconds", probe["budget"]), ("random_state", 1)):
        spec.algorithm.algorithm_settings.add(name=name, value=str(value))
    for index in range(probe["d"]):
        spec.parameter_specs.parameters.add(name=f"x{index}", parameter_type=pb.DOUBLE,
                                            feasible_space=pb.FeasibleSpace(min="0", max="1"))
    values = [f"v{i}" for i in range(probe["L"])]
    if values:
        spec.parameter_specs.parameters.add(name="c", parameter_type=pb.CATEGORICAL,
                                            feasible_space=pb.FeasibleSpace(list=values))
    rng, trials = random.Random(0), []
    for index in range(probe["h"] + probe["p"]):
        trial = pb.Trial(name=f"t{index}")
        xs = [rng.random() for _ in range(probe["d"])]
        for i, x in enumerate(xs):
            trial.spec.parameter_assignments.assignments.add(name=f"x{i}", value=repr(x))
        if values:
            trial.spec.parameter_assignments.assignments.add(name="c", value=rng.choice(values))
        if index < probe["h"]:
            trial.status.condition = pb.TrialStatus.SUCCEEDED
            trial.status.observation.metrics.add(name="loss", value=repr(sum((x - 0.3) ** 2 for x in xs)))
        else:
            trial.status.condition = pb.TrialStatus.RUNNING
        trials.append(trial)
    total = len(trials) + probe["n"]
    return pb.GetSuggestionsRequest(experiment=message, trials=trials, current_request_number=probe["n"],
                                    total_request_number=total)


def measure_here(probe: dict) -> dict:
    """One probe in this process (a fresh child of ``measure``): CPU seconds and the plan it ran."""
    from dataclasses import asdict, replace

    from katib_suggestion.backends import skopt_backend
    from katib_suggestion.pipeline import Suggester
    from katib_suggestion.registry import load_backend

    planned, choose = [], skopt_backend.plan_of

    def plan_of(request, codec, told, count):
        plan = choose(request, codec, told, count)
        if probe["mode"] == "plan":  # the probe's sizes, whatever the budget would choose
            gp = plan.estimator == "GP"
            window = probe["w"] or len(told.finished)
            lbfgs = gp and probe["opt"] != "sampling"
            plan = replace(plan, count=probe["m"] or count, window=window, pending=len(told.pending),
                           fit_window=min(window, 200) if gp else 0, restarts=2 if gp else 0,
                           candidates=probe["c"], acq_optimizer="lbfgs" if lbfgs else "sampling", degraded=())
        planned.append(plan)
        return plan

    skopt_backend.plan_of = plan_of
    suggester = Suggester("skopt", load_backend("skopt"))
    request = build_request(probe)
    warm = type(request)()
    warm.CopyFrom(request)
    warm.current_request_number, warm.total_request_number = 1, 1
    del warm.trials[:]
    suggester.suggest(warm, {})
    planned.clear()
    start = time.process_time()
    reply = suggester.suggest(request, {})
    cpu = time.process_time() - start
    labels = dict(reply.parameter_assignments[0].labels) if reply.parameter_assignments else {}
    plans = [{"predicted": p.seconds(), "plan": {
        k: v for k, v in asdict(p).items() if k != "shape"}, "shape": asdict(p.shape)} for p in planned]
    return {"cpu": cpu, "plans": plans, "degraded": labels.get("katib-suggest/degraded", ""),
            "budget": _budget(request)}


def _budget(request) -> float:
    settings = {s.name: s.value for s in request.experiment.spec.algorithm.algorithm_settings}
    return float(settings.get("time_budget_seconds", 20))


def measure(probe: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, __file__, "--one", json.dumps(probe)], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {PROBE_TIMEOUT} s"}
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def plan_features(saved: dict) -> dict[str, float]:
    """The terms of a saved plan, under today's definition of them (so saved measurements can be refitted)."""
    from katib_suggestion.backends.skopt_budget import Plan, Shape, features

    plan = {**saved["plan"], "degraded": tuple(saved["plan"]["degraded"])}
    return features(Plan(Shape(**saved["shape"]), **plan))


def predicted(result: dict, constants: dict[str, dict[str, float]]) -> float:
    """The call's prediction under ``constants``: the sum over the plans it ran (one per backend round)."""
    return sum(sum(constants[p["shape"]["estimator"]].get(t, 0.0) * v for t, v in plan_features(p).items())
               for p in result["plans"])


def fit(rows: list[tuple[dict, dict]]) -> dict[str, dict[str, float]]:
    """Constants per estimator: the tightest upper envelope of the probes (a linear program).

    Least squares followed by one scale factor made the GP's typical prediction
    twice its measurement: L-BFGS's iterations depend on the data (a 30-trial
    history took 2.0 s where 20 and 50 took 0.9 and 1.4), and the one factor
    that covered it inflated every term. Here each constant is set so that no
    probe of 0.3 s or more takes longer than predicted, minimising the sum of
    the predictions relative to the measurements.
    """
    import numpy as np
    from scipy.optimize import linprog

    constants = {}
    for estimator, terms in TERMS.items():
        mine = [r for _, r in rows if r["plans"] and r["plans"][0]["shape"]["estimator"] == estimator]
        if not mine:
            continue
        features = np.array([[sum(plan_features(p).get(t, 0.0) for p in r["plans"]) for t in terms] for r in mine])
        measured = np.array([r["cpu"] for r in mine])
        large = measured >= 0.3
        relative = (features / np.maximum(measured, 0.05)[:, None]).sum(axis=0)
        solved = linprog(relative, A_ub=-features[large], b_ub=-measured[large], bounds=(0, None), method="highs")
        if solved.status:
            raise RuntimeError(f"{estimator}: no upper envelope fits these probes ({solved.message})")
        # rounded up, so the envelope still holds
        constants[estimator] = {t: _round_up(c) for t, c in zip(terms, solved.x, strict=True) if c > 0}
    return constants


def _round_up(value: float) -> float:
    exponent = math.floor(math.log10(value)) - 2
    return float(f"{math.ceil(value / 10 ** exponent) * 10 ** exponent:.3g}")


def write_constants(constants: dict[str, dict[str, float]], probes: int) -> None:
    lines = ['"""skopt cost constants, generated by `python benchmarks/skopt_cost.py --fit --write`: do not edit."""',
             "",
             f"# Fitted {date.today()} to {probes} probes ({platform.machine()}, Python {platform.python_version()}).",
             "# CPU seconds of one core per unit of each term of katib_suggestion.backends.skopt_budget.features,",
             "# upper bounds on the calibration machine (no probe of 0.3 s or more took longer than predicted).",
             "COSTS: dict[str, dict[str, float]] = {"]
    for estimator, terms in constants.items():
        lines.append(f'    "{estimator}": {{')
        lines += [f'        "{term}": {value!r},' for term, value in terms.items()]
        lines.append("    },")
    lines.append("}")
    CONSTANTS.write_text("\n".join(lines) + "\n")


def describe(probe: dict) -> str:
    if probe["mode"] == "case":
        return Path(probe["file"]).name.split(".")[0][:52]
    extra = "".join(f" {k}={probe[k]}" for k in ("p", "m", "L", "w", "init") if probe[k])
    return (f"{probe['est']:4} h={probe['h']} n={probe['n']} d={probe['d']} c={probe['c']} {probe['opt']} "
            f"{probe['acq']} b={probe['budget']}{extra}")[:52]


def report(rows: list[tuple[dict, dict]], constants) -> None:
    print(f"{'probe':52} {'plan (model pts, window+pending, candidates)':>44} {'meas s':>7} {'pred s':>7} "
          f"{'ratio':>6} {'budget':>6}")
    ratios: dict[str, dict[str, list[float]]] = {"fit grid (forced plans)": {}, "whole calls (planned)": {}}
    for probe, result in rows:
        plan = result["plans"][0] if result["plans"] else None
        guess = predicted(result, constants)
        shown = (f"{plan['plan']['count']} pts, {plan['plan']['window']}+{plan['plan']['pending']}, "
                 f"{plan['plan']['candidates']} {plan['plan']['acq_optimizer'][:5]} x{len(result['plans'])}"
                 if plan else "random only")
        ratio = result["cpu"] / guess if guess else float("nan")
        if plan and result["cpu"] >= 0.3:
            group = ratios["fit grid (forced plans)" if probe["mode"] == "plan" else "whole calls (planned)"]
            group.setdefault(plan["shape"]["estimator"], []).append(ratio)
        flag = " OVER BUDGET" if result["cpu"] > result["budget"] else ""
        print(f"{describe(probe):52} {shown:>44} {result['cpu']:7.2f} {guess:7.2f} {ratio:6.2f} "
              f"{result['budget']:6g}{flag}", flush=True)
    for name, group in ratios.items():
        if group:
            print(f"measured/predicted per estimator, {name}, probes of 0.3 s or more: " + ", ".join(
                f"{k} worst {max(v):.2f} median {statistics.median(v):.2f}" for k, v in sorted(group.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="measure the fit grid and fit the constants")
    parser.add_argument("--write", action="store_true", help="write the fitted constants for the plan")
    parser.add_argument("--check", action="store_true", help="measure whole calls the plan shapes itself")
    parser.add_argument("--only", help="comma-separated estimators (default: GP,RF,ET,GBRT)")
    parser.add_argument("--save", help="append every measurement to this JSON-lines file")
    parser.add_argument("--load", help="use the measurements of this file instead of measuring")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_here(json.loads(args.one))))
        return 0
    from katib_suggestion.backends.skopt_costs import COSTS

    estimators = args.only.split(",") if args.only else list(TERMS)
    probes = [p for e in estimators for p in fit_probes(e)] if args.fit else []
    probes += [p for p in check_probes() if p.get("est", "case") in (*estimators, "case")] if args.check else []
    rows = _rows(probes, args.load, args.save)
    constants = fit([(p, r) for p, r in rows if p["mode"] == "plan"]) if args.fit else COSTS
    if args.fit:
        constants = {**COSTS, **constants}
        print(json.dumps(constants, indent=1))
    report(rows, constants)
    if args.write:
        write_constants(constants, sum(p["mode"] == "plan" for p, _ in rows))
        print(f"wrote {CONSTANTS}")
    return 0


def _rows(probes: list[dict], load: str | None, save: str | None) -> list[tuple[dict, dict]]:
    """Measurements of ``probes``; with ``load``, that file's instead. A probe already in ``save`` is not
    measured again (an interrupted run resumes)."""
    if load:
        return [(p, r) for p, r in _read(load) if "error" not in r]
    done = {json.dumps(p, sort_keys=True): r for p, r in _read(save)} if save and Path(save).exists() else {}
    rows = []
    for probe in probes:
        known = done.get(json.dumps(probe, sort_keys=True))
        if known is not None and "error" not in known:
            rows.append((probe, known))
            continue
        result = measure(probe)
        if save:
            with open(save, "a") as out:
                out.write(json.dumps([probe, result]) + "\n")
        if "error" in result:
            print(f"{describe(probe)}: {result['error']}", file=sys.stderr, flush=True)
            continue
        rows.append((probe, result))
        print(f"measured {describe(probe)}: {result['cpu']:.2f} s", file=sys.stderr, flush=True)
    return rows


def _read(path: str) -> list[tuple[dict, dict]]:
    with open(path) as lines:
        return [tuple(json.loads(line)) for line in lines]


if __name__ == "__main__":
    sys.exit(main())
