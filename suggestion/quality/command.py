"""`katib-suggest benchmark` (quality mode): run a suite, compare with the baseline, write the report."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import katib_suggestion
from katib_suggestion.local.progress import Progress
from katib_suggestion.quality import baseline as baselines
from katib_suggestion.quality import report
from katib_suggestion.quality.gate import compare
from katib_suggestion.quality.runner import execute
from katib_suggestion.quality.suite import SUITES, cells, plan


def default_baseline(suite: str) -> Path:
    """benchmarks/baseline/<suite>.json here, else in the source tree this package runs from."""
    relative = Path("benchmarks", "baseline", f"{suite}.json")
    source_tree = Path(katib_suggestion.__file__).resolve().parent.parent
    return next((p for p in (relative, source_tree / relative) if p.exists()), relative)


def reproduce(args: argparse.Namespace) -> str:
    """The command line that repeats this benchmark, recorded in every results file."""
    words = ["katib-suggest", "benchmark", "--suite", args.suite, "--workers", str(args.workers)]
    for flag, value in (("--backend", args.backend), ("--algorithms", args.algorithms),
                        ("--problems", args.problems)):
        if value:
            words += [flag, ",".join(value)] if flag != "--backend" else [w for b in value for w in (flag, b)]
    if args.seeds is not None:
        words += ["--seeds", str(args.seeds)]
    return shlex.join(words)


def run_quality(args: argparse.Namespace) -> int:
    tasks, skipped = plan(SUITES[args.suite], args.backend, args.algorithms, args.problems,
                          None if args.seeds is None else range(args.seeds))
    if not tasks:
        print("katib-suggest benchmark: nothing to run (check --backend, --algorithms, --problems)", file=sys.stderr)
        return 2
    out = Path(args.out)
    (out / "report").mkdir(parents=True, exist_ok=True)
    progress = Progress(len(tasks), f"{args.suite} suite runs")
    began = time.perf_counter()
    try:
        results = execute(tasks, args.workers, args.ray, lambda r: progress.update(r.task.cell))
    finally:
        progress.close()
    table = cells(results)
    doc = baselines.document(args.suite, table, reproduce(args), time.perf_counter() - began)
    baselines.save(out / "results.json", doc)
    target = args.write_baseline or args.update_baseline
    if target:
        if args.update_baseline and Path(target).exists():
            doc = baselines.merge(baselines.load(Path(target)), doc)
        baselines.save(Path(target), doc)
        print(f"wrote baseline {target}: {len(table)} cells from {len(tasks)} runs in "
              f"{time.perf_counter() - began:.0f} s ({len(doc['cells'])} cells in the file)")
        return 0
    failed = _gate(args, out, table, skipped)
    if args.mlflow is not None:
        from katib_suggestion.quality.mlflow_log import default_uri, log_benchmark

        uri = args.mlflow or default_uri(out)
        print(f"MLflow: run {log_benchmark(uri, out, args.suite, results, failed)} in {uri}")
    return 1 if failed else 0


def _gate(args: argparse.Namespace, out: Path, table: dict, skipped: list[str]) -> bool:
    """Write the report and print it; True when a cell is significantly worse than the baseline."""
    path = Path(args.baseline) if args.baseline else default_baseline(args.suite)
    before = baselines.load(path)
    verdicts = compare(table, before["cells"])
    worse = [v.cell for v in verdicts if v.failed]
    missing = [v.cell for v in verdicts if v.status == "missing"]
    verdicts = [v for v in verdicts if v.status != "missing"]  # not run here (filters): no row
    title = f"Quality gate ({args.suite} suite): {'FAILED' if worse else 'passed'}"
    notes = [f"baseline: {path}, produced by {baselines.provenance(before)}",
             *(f"worse than the baseline: {cell}" for cell in worse), *(f"skipped {s}" for s in skipped)]
    if missing:
        notes.append(f"{len(missing)} baseline cells not run here (--backend/--algorithms/--problems)")
    rows = report.rows(table, before["cells"], verdicts)
    plots = report.plot_problems(table, before["cells"], out / "report")
    if not plots:
        notes.append("no plots: install matplotlib with pip install 'katib-suggest[bench]'")
    markdown = report.markdown(rows, title, notes)
    (out / "report" / "report.md").write_text(markdown)
    (out / "report" / "index.html").write_text(report.html_page(rows, title, notes, plots))
    print(markdown)
    print(f"report: {out / 'report' / 'index.html'}")
    return bool(worse)
