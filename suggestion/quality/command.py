"""`katib-suggest benchmark` (quality mode): run a suite, judge it against the baseline and the reference arms."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from katib_suggestion.local.interrupt import INTERRUPTED
from katib_suggestion.local.progress import Progress
from katib_suggestion.quality import baseline as baselines
from katib_suggestion.quality.inputs import default_baseline, external, problems_with, resolve_algorithm, results_path
from katib_suggestion.quality.installed import installed_backends, serving_lines
from katib_suggestion.quality.journal import JOURNAL, Journal, finished
from katib_suggestion.quality.judge import Judgement, judge
from katib_suggestion.quality.runner import OURS, REFERENCE, RunsFailed, execute
from katib_suggestion.quality.suite import SUITES, Selection, cells, plan


def reproduce(args: argparse.Namespace) -> str:
    """The command line that repeats this benchmark, recorded in every results file."""
    words = ["katib-suggest", "benchmark", "--suite", args.suite, "--workers", str(args.workers)]
    for backend in args.backend or ():
        words += ["--backend", backend]
    for flag, value in (("--algorithms", args.algorithms), ("--problems", args.problems),
                        ("--parallel", args.parallel and [str(p) for p in args.parallel])):
        if value:
            words += [flag, ",".join(value)]
    if args.seeds is not None:
        words += ["--seeds", str(args.seeds)]
    if args.address:
        words += ["--address", args.address]
    if args.server_command:
        words += ["--server-command", args.server_command]
    if args.algorithm:
        words += ["--algorithm", args.algorithm]
    if args.settings:
        words += ["--settings", *args.settings]
    if not args.reference:
        words.append("--no-reference")
    return shlex.join(words)


def selection(args: argparse.Namespace) -> Selection:
    backends, algorithms = args.backend, args.algorithms
    if args.algorithm:
        algorithm, _ = resolve_algorithm(args.algorithm, args.backend)
        backends, algorithms = [algorithm.backend], [algorithm.key]
    return Selection(
        backends=tuple(backends) if backends else None, algorithms=tuple(algorithms) if algorithms else None,
        problems=tuple(args.problems) if args.problems else None,
        seeds=None if args.seeds is None else tuple(range(args.seeds)),
        parallel=tuple(args.parallel) if args.parallel else None, reference=args.reference,
        address=args.address, command=args.server_command, name=args.algorithm if external(args) else None,
        settings=tuple(tuple(item.split("=", 1)) for item in args.settings or ()))


def run_quality(args: argparse.Namespace) -> int:
    problems = problems_with(args)
    if problems:
        return _refuse(problems)
    if args.compare:
        return compare_folders(*args.compare, Path(args.out))
    refused, absent, available = installed_backends(args)
    if refused:
        return _refuse(refused)
    chosen = selection(args)
    if chosen.backends is None and available:
        chosen = replace(chosen, backends=available)
    tasks, skipped = plan(SUITES[args.suite], chosen)
    skipped = [*absent, *skipped]
    if not tasks:
        return _refuse(["nothing to run: check --backend, --algorithms, --problems and --parallel",
                        *(f"skipped {s}" for s in skipped)])
    if external(args):
        from katib_suggestion.quality.external import command_problems, server_problems

        ours = [t for t in tasks if t.arm == OURS]
        problems = server_problems(args.address, ours) if args.address else command_problems(args.server_command, ours)
        if problems:
            return _refuse(problems)
    for line in [*(f"skipped {note}" for note in absent), *serving_lines(args, tasks)]:
        print(f"katib-suggest benchmark: {line}", file=sys.stderr)
    return _run(args, tasks, skipped)


def _refuse(problems: list[str]) -> int:
    for problem in problems:
        print(f"katib-suggest benchmark: {problem}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace, tasks: list, skipped: list[str]) -> int:
    out = Path(args.out)
    began = time.perf_counter()
    try:
        results = _execute(args, tasks, out / JOURNAL)
    except KeyboardInterrupt:  # the workers are stopped already (quality.pool); what finished is in the journal
        kept = len(finished(out / JOURNAL, tasks))
        print(f"katib-suggest benchmark: interrupted: {kept} of {len(tasks)} runs finished and are kept in "
              f"{out / JOURNAL}; every worker was stopped. Run the same command with --resume to run the rest.",
              file=sys.stderr)
        return INTERRUPTED
    except RunsFailed as error:
        return _refuse([*(f"run {f.task.cell} ({f.task.arm}) seed {f.task.seed} failed: {f.error}"
                          for f in error.failures),
                        f"{len(tasks) - len(error.failures)} finished runs are kept in {out / JOURNAL}: "
                        "remove the cause and run the same command with --resume"])
    ours = cells([r for r in results if r.task.arm == OURS])
    reference = cells([r for r in results if r.task.arm == REFERENCE])
    server = f"{external(args)} ({args.algorithm})" if external(args) else None
    doc = baselines.document(args.suite, ours, reproduce(args), time.perf_counter() - began, reference, server,
                             run_seconds=sum(r.seconds for r in results))
    baselines.save(out / "results.json", doc)
    target = args.write_baseline or args.update_baseline
    if target:
        if args.update_baseline and Path(target).exists():
            doc = baselines.merge(baselines.load(Path(target)), doc)
        baselines.save(Path(target), doc)
        print(f"wrote baseline {target}: {len(ours) + len(reference)} cells from {len(tasks)} runs in "
              f"{time.perf_counter() - began:.0f} s ({len(doc['cells'])} cells in the file)")
        return 0
    judgement = _judgement(args, ours, reference, server, tasks, skipped)
    failed = judge(judgement, out / "report")
    if args.mlflow is not None:
        from katib_suggestion.quality.mlflow_log import default_uri, log_benchmark

        uri = args.mlflow or default_uri(out)
        print(f"MLflow: run {log_benchmark(uri, out, args.suite, results, failed)} in {uri}")
    return 1 if failed else 0


def _execute(args: argparse.Namespace, tasks: list, path: Path) -> list:
    """Every task's result; with --resume, runs already in the journal are not run again."""
    done = finished(path, tasks) if args.resume else {}
    todo = [task for task in tasks if task not in done]
    if done:
        print(f"resuming: {len(done)} of {len(tasks)} runs are in {path}", file=sys.stderr)
    progress, journal = Progress(len(todo), f"{args.suite} suite runs"), Journal(path, keep=args.resume)

    def record(result) -> None:
        journal.write(result)
        progress.update(result.task.cell)

    try:
        done.update((r.task, r) for r in execute(todo, args.workers, args.ray, record))
    finally:
        progress.close()
        journal.close()
    return [done[task] for task in tasks]


def _judgement(args: argparse.Namespace, ours: dict, reference: dict, server: str | None, tasks: list,
               skipped: list[str]) -> Judgement:
    """What to judge the run against: the baseline (not for another server unless --baseline) and the references."""
    judgement = Judgement(f"Quality gate ({args.suite} suite)", ours, reference=reference,
                          notes=[f"skipped {s}" for s in skipped])
    if server:
        judgement.title = f"Quality of {server} ({args.suite} suite)"
        judgement.notes.insert(0, f"server under test: {server}")
    if args.baseline or not server:
        path = Path(args.baseline) if args.baseline else default_baseline(args.suite)
        before = baselines.load(path)
        judgement.before = before["cells"]
        judgement.notes.insert(0, f"baseline: {path}, produced by {baselines.provenance(before)}")
    judgement.notes += _references(tasks)
    return judgement


def _references(tasks: list) -> list[str]:
    """One note per algorithm naming the library call its reference arm makes."""
    from katib_suggestion.quality.reference import describe

    seen = {(t.backend, t.algorithm): t for t in tasks if t.arm == REFERENCE}
    return [f"reference arm of {backend}/{key}: {describe(backend, key, dict(task.settings))}"
            for (backend, key), task in sorted(seen.items())]


def compare_folders(before: str, after: str, out: Path) -> int:
    """AFTER's cells against BEFORE's with the gate's statistics; 1 when AFTER is significantly worse."""
    first, second = (baselines.load(results_path(folder)) for folder in (before, after))
    notes = [f"before: {results_path(before)}, produced by {baselines.provenance(first)}",
             f"after: {results_path(after)}, produced by {baselines.provenance(second)}"]
    judgement = Judgement(f"Comparison of {after} against {before}", second["cells"], first["cells"],
                          sides=("after", "before"), notes=notes)
    return 1 if judge(judgement, out / "report") else 0
