"""`katib-suggest benchmark --early-stopping`: steps and final regret per stopping arm, on learning curves."""

from __future__ import annotations

import sys
from pathlib import Path

from katib_suggestion.quality.journal import Journal, finished
from katib_suggestion.quality.stopping.arms import ARMS
from katib_suggestion.quality.stopping.bench import ALGORITHMS, StopResult, StopTask, run_all
from katib_suggestion.quality.stopping.curves import CURVE_PROBLEMS
from katib_suggestion.quality.stopping.reference_pruners import OPTUNA_ARMS
from katib_suggestion.quality.stopping.report import markdown, rows

DEFAULT_SEEDS = 20
ALL_ARMS = (*ARMS, *OPTUNA_ARMS)


def run_stopping(args) -> int:
    problems = args.problems or list(CURVE_PROBLEMS)
    algorithms = args.algorithms or list(ALGORITHMS)
    unknown = [p for p in problems if p not in CURVE_PROBLEMS] + [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        print(f"katib-suggest benchmark --early-stopping: unknown {', '.join(unknown)}; problems: "
              f"{', '.join(CURVE_PROBLEMS)}; algorithms: {', '.join(ALGORITHMS)}", file=sys.stderr)
        return 2
    # the arms of one seed run one after another: their trials share configurations (and cached curves)
    tasks = [StopTask(problem, algorithm, arm, seed) for problem in problems for algorithm in algorithms
             for seed in range(args.seeds or DEFAULT_SEEDS) for arm in ALL_ARMS]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "stopping-runs.jsonl"
    resumed = finished(path, tasks, StopResult.from_json) if args.resume else {}
    kept = list(resumed.values())
    tasks = [t for t in tasks if t not in resumed]
    journal = Journal(path, keep=args.resume)  # every run as it ends: --resume keeps them
    done = [0]

    def progress(result) -> None:
        done[0] += 1
        journal.write(result)
        t = result.task
        print(f"[{done[0]}/{len(tasks)}] {t.problem} {t.algorithm} {t.arm} seed {t.seed}: epochs {result.epochs}, "
              f"final {result.final:.6g}, stopped {result.stopped}", file=sys.stderr, flush=True)

    try:
        results = kept + run_all(tasks, args.workers, progress)
    finally:
        journal.close()
    table = markdown(rows(results))
    (out / "stopping.md").write_text(table + "\n")
    print(table)
    return 0

