"""Adversarial campaign: thousands of generated experiments through every algorithm, findings minimised.

    python benchmarks/adversarial_campaign.py --experiments 2000
    python benchmarks/adversarial_campaign.py --experiments 300 --algorithms tpe,cmaes --foreign all

Each experiment is validated and, when accepted, driven for several
GetSuggestions calls the way Katib drives it (katib_suggestion.testing). The
report lists experiments per backend and algorithm, every distinct finding
with a minimal reproducer, and the slowest Validate and GetSuggestions calls.
Classes owned elsewhere (katib_suggestion.testing.adversarial.FOREIGN) stay
off unless named with --foreign.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace

from hypothesis import HealthCheck, Phase, given, seed, settings
from katib_suggestion.pipeline import Suggester
from katib_suggestion.registry import load_backend
from katib_suggestion.testing.adversarial import FOREIGN, Outcome, Scenario, scenarios
from katib_suggestion.testing.contract import Report, fresh_process_replies, run_scenario
from katib_validators.catalog import ALGORITHMS

SUGGEST_CPU_LIMIT = 30.0  # "every accepted GetSuggestions under 30 s on one core"
VALIDATE_CPU_LIMIT = 2.0  # "ValidateAlgorithmSettings under 2 s"
BUDGET_SETTING = "time_budget_seconds"  # skopt's own budget: its calls are held to it, not to the general limit


def call_budget(scenario: Scenario) -> float:
    """CPU seconds one GetSuggestions of this experiment may take: skopt's setting (or its default), else the limit."""
    algorithm = next((a for a in ALGORITHMS if a.backend == scenario.backend), None)
    declared = algorithm.schema.defaults() if algorithm else {}
    if BUDGET_SETTING not in declared:
        return SUGGEST_CPU_LIMIT
    given = {s["name"]: s["value"] for s in scenario.document["spec"]["algorithm"]["algorithmSettings"]}
    return float(given.get(BUDGET_SETTING, declared[BUDGET_SETTING]))


def signature(report: Report) -> str | None:
    """A finding's class: its kind and message with the numbers taken out."""
    if not report.findings:
        return None
    finding = report.findings[0]
    return f"{finding.kind}: {re.sub(r'-?[0-9][0-9.]*(e[+-]?[0-9]+)?', '#', finding.detail)[:90]}"


def explore(algorithm, count: int, foreign: frozenset[str], base_seed: int, suggesters, stats) -> None:
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @seed(base_seed)
    @given(scenarios(algorithm, foreign))
    def run(scenario: Scenario) -> None:
        report = run_scenario(scenario, suggesters[scenario.backend])
        stats.record(algorithm, scenario, report)

    run()


class Stats:
    def __init__(self) -> None:
        self.experiments: Counter = Counter()
        self.accepted: Counter = Counter()
        self.calls = 0
        self.slowest_validate = (0.0, "")
        self.slowest_suggest = (0.0, "")
        self.cpu_validate = (0.0, "")  # process CPU seconds: the load of a shared machine left out
        self.cpu_suggest = (0.0, "")
        self.findings: dict[str, tuple[str, Scenario]] = {}
        self.finding_counts: Counter = Counter()
        self.fresh_samples: dict[str, list] = defaultdict(list)
        self.seconds: Counter = Counter()
        self.slowest: dict[str, float] = defaultdict(float)
        # issue 13's targets and skopt's own budgets, in CPU seconds of the serving process (the
        # Suggester runs in this process: what the server's worker spends, whatever the load)
        self.over_budget: list[dict] = []
        self.worst_cpu: dict[str, tuple[float, float, str]] = {}  # backend -> (cpu, its budget, call)

    def record(self, algorithm, scenario: Scenario, report: Report) -> None:
        name = f"{algorithm.backend}/{algorithm.key}"
        self.experiments[name] += 1
        self.accepted[name] += report.accepted
        self.calls += len(report.suggest_seconds)
        self.slowest_validate = max(self.slowest_validate, (report.validate_seconds, name))
        self.cpu_validate = max(self.cpu_validate, (report.validate_cpu, name))
        budget = call_budget(scenario)
        for call, (seconds, cpu) in enumerate(zip(report.suggest_seconds, report.suggest_cpu, strict=True)):
            where = f"{name}, call {call + 1} for {scenario.counts[call]} points"
            self.slowest_suggest = max(self.slowest_suggest, (seconds, where))
            self.cpu_suggest = max(self.cpu_suggest, (cpu, where))
            self.slowest[name] = max(self.slowest[name], seconds)
            self.worst_cpu[scenario.backend] = max(self.worst_cpu.get(scenario.backend, (0.0, budget, "")),
                                                   (cpu, budget, where))
            if cpu > budget:
                self.over_budget.append({"call": where, "cpu_seconds": round(cpu, 2), "budget": budget,
                                         "document": scenario.document, "counts": scenario.counts,
                                         "offset": scenario.offset})
        if report.validate_cpu > VALIDATE_CPU_LIMIT:
            self.over_budget.append({"call": f"{name}, ValidateAlgorithmSettings",
                                     "cpu_seconds": round(report.validate_cpu, 2), "document": scenario.document})
        self.seconds[name] += report.validate_seconds + sum(report.suggest_seconds)
        key = signature(report)
        if key is not None:
            self.finding_counts[(name, key)] += 1
            self.findings.setdefault(f"{name} {key}", (name, scenario))
        elif report.last_request is not None and len(self.fresh_samples[scenario.backend]) < 5:
            self.fresh_samples[scenario.backend].append((report.last_request, report.last_reply))


def minimise(scenario: Scenario, suggester: Suggester, target: str, budget: int = 60) -> Scenario:
    """Greedy: drop parameters, settings, calls and outcomes while the same finding remains."""
    for _ in range(budget):
        for candidate in _smaller(scenario):
            if signature(run_scenario(candidate, suggester)) == target:
                scenario = candidate
                break
        else:
            return scenario
    return scenario


def _smaller(scenario: Scenario):
    spec = scenario.document["spec"]
    for index in range(len(spec["parameters"])):
        if len(spec["parameters"]) > 1:
            yield _with_spec(scenario, parameters=spec["parameters"][:index] + spec["parameters"][index + 1:])
    settings_ = spec["algorithm"]["algorithmSettings"]
    for index in range(len(settings_)):
        yield _with_spec(scenario, algorithm={**spec["algorithm"],
                                              "algorithmSettings": settings_[:index] + settings_[index + 1:]})
    if len(scenario.counts) > 1:
        yield replace(scenario, counts=scenario.counts[:-1])
    if any(c > 1 for c in scenario.counts):
        yield replace(scenario, counts=tuple(max(1, c // 2) for c in scenario.counts))
    if scenario.offset:
        yield replace(scenario, offset=0)
    if len(scenario.outcomes) > 1 or scenario.outcomes[0] != Outcome("SUCCEEDED", "1"):
        yield replace(scenario, outcomes=(Outcome("SUCCEEDED", "1"),))


def _with_spec(scenario: Scenario, **changes) -> Scenario:
    document = {**scenario.document, "spec": {**scenario.document["spec"], **changes}}
    return replace(scenario, document=document)


def check_fresh_processes(stats: Stats) -> list[str]:
    """The sampled last requests of each backend, answered again by a new process."""
    problems = []
    for backend, samples in stats.fresh_samples.items():
        replies = fresh_process_replies(backend, [request for request, _ in samples])
        problems += [f"{backend}: a fresh process answered differently:\n{request}"
                     for (request, reply), again in zip(samples, replies, strict=True) if reply != again]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=2000, help="generated experiments in all")
    parser.add_argument("--algorithms", help="comma-separated algorithm keys (default: every one)")
    parser.add_argument("--foreign", default="", help=f"classes to switch on: all or some of {', '.join(FOREIGN)}")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)
    foreign = frozenset(FOREIGN) if args.foreign == "all" else frozenset(filter(None, args.foreign.split(",")))
    chosen = [a for a in ALGORITHMS if not args.algorithms or a.key in args.algorithms.split(",")]
    suggesters = {b: Suggester(b, load_backend(b)) for b in dict.fromkeys(a.backend for a in chosen)}
    stats, started = Stats(), time.perf_counter()
    for index, algorithm in enumerate(chosen):
        share = args.experiments // len(chosen) + (index < args.experiments % len(chosen))
        explore(algorithm, share, foreign, args.seed + index, suggesters, stats)
        print(f"{algorithm.backend}/{algorithm.key}: {stats.experiments[f'{algorithm.backend}/{algorithm.key}']} "
              f"experiments, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    fresh = check_fresh_processes(stats)
    return _print(stats, suggesters, fresh, time.perf_counter() - started, args.json)


def _print(stats: Stats, suggesters, fresh: list[str], seconds: float, path: str | None) -> int:
    print(f"{sum(stats.experiments.values())} experiments ({sum(stats.accepted.values())} accepted), "
          f"{stats.calls} GetSuggestions calls, {seconds:.0f} s")
    for name in sorted(stats.experiments):
        print(f"  {name:28} {stats.experiments[name]:5} experiments, {stats.accepted[name]:5} accepted, "
              f"{stats.seconds[name]:7.1f} s in calls, slowest GetSuggestions {stats.slowest[name]:6.2f} s")
    print(f"slowest ValidateAlgorithmSettings: {stats.slowest_validate[0]:.2f} s ({stats.slowest_validate[1]})")
    print(f"slowest GetSuggestions: {stats.slowest_suggest[0]:.2f} s ({stats.slowest_suggest[1]})")
    print(f"most CPU in one ValidateAlgorithmSettings: {stats.cpu_validate[0]:.2f} s ({stats.cpu_validate[1]})")
    print(f"most CPU in one GetSuggestions: {stats.cpu_suggest[0]:.2f} s ({stats.cpu_suggest[1]})")
    print(f"fresh-process replays: {sum(len(s) for s in stats.fresh_samples.values())}, differing: {len(fresh)}")
    reproducers = {}
    for key, (name, scenario) in sorted(stats.findings.items()):
        target = key.split(" ", 1)[1]
        small = minimise(scenario, suggesters[scenario.backend], target)
        reproducers[key] = {"count": stats.finding_counts[(name, target)], "document": small.document,
                            "counts": small.counts, "offset": small.offset,
                            "outcomes": [o.__dict__ for o in small.outcomes]}
    print(f"findings: {len(reproducers)} distinct, {sum(stats.finding_counts.values())} experiments")
    for backend, (cpu, budget, where) in sorted(stats.worst_cpu.items()):
        print(f"most CPU in one GetSuggestions of {backend}: {cpu:.2f} s (budget {budget:g} s; {where})")
    print(f"calls over budget (GetSuggestions above its budget: skopt's {BUDGET_SETTING}, else "
          f"{SUGGEST_CPU_LIMIT:g} s; Validate > {VALIDATE_CPU_LIMIT:g} s; CPU seconds of the serving process): "
          f"{len(stats.over_budget)}")
    for entry in stats.over_budget:
        print(f"- {entry['call']}: {entry['cpu_seconds']} s (budget {entry.get('budget', VALIDATE_CPU_LIMIT)} s)"
              f"\n  {json.dumps(entry['document'])}")
    for key, reproducer in reproducers.items():
        print(f"- {key} ({reproducer['count']} experiments)\n  {json.dumps(reproducer)}")
    if path:
        with open(path, "w") as handle:
            json.dump({"experiments": dict(stats.experiments), "accepted": dict(stats.accepted),
                       "slowest_validate": stats.slowest_validate, "slowest_suggest": stats.slowest_suggest,
                       "cpu_validate": stats.cpu_validate, "cpu_suggest": stats.cpu_suggest,
                       "worst_cpu": stats.worst_cpu,
                       "findings": reproducers, "fresh": fresh, "over_budget": stats.over_budget}, handle, indent=1)
    return 1 if reproducers or fresh or stats.over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
