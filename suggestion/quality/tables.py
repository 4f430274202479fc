"""The report's tables as rows of text: against a baseline, against the reference arms, parallel penalty."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from katib_suggestion.quality.gate import Verdict
from katib_suggestion.quality.scoring import summarise


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: list[list[str]]
    legend: str = ""


# Normalised regret at or below this is the optimum: rounding leaves losses there a few ulps either side.
AT_OPTIMUM = 1e-12


def split(cell: str) -> tuple[str, str, int]:
    """'optuna/tpe/branin/p4' -> ('optuna/tpe', 'branin', 4)."""
    backend, algorithm, problem, parallel = cell.split("/")
    return f"{backend}/{algorithm}", problem, int(parallel.removeprefix("p"))


def compared(title: str, sides: tuple[str, str], now: dict[str, dict], before: dict[str, dict],
             verdicts: list[Verdict], legend: str = "") -> Table:
    """One row per verdict: both sides' AUC and final regret with CIs, p-values, degraded answers, verdict."""
    a, b = sides
    header = ("algorithm", "problem", "parallel", f"AUC regret {a}", f"AUC {b}", f"final regret {a}", f"final {b}",
              "p (AUC)", "p (final)", f"degraded {a}", "verdict")
    rows = []
    for verdict in verdicts:
        algorithm, problem, parallel = split(verdict.cell)
        mine, theirs = now.get(verdict.cell), before.get(verdict.cell)
        row = [algorithm, problem, str(parallel)]
        for metric in ("auc", "final"):
            row += [_summary(mine, metric), _summary(theirs, metric)]
        row += [_p(verdict, "auc"), _p(verdict, "final"), degraded(mine), verdict.status]
        rows.append(row)
    return Table(title, header, rows, legend)


def _summary(cell: dict | None, metric: str) -> str:
    return str(summarise(cell[metric])) if cell else "-"


def _p(verdict: Verdict, metric: str) -> str:
    if verdict.status == "identical":
        return "="
    return f"{verdict.p[metric]:.2g}" if metric in verdict.p else "-"


def degraded(cell: dict | None) -> str:
    """Degraded answers of a cell, out of its trials ('-' when the results file predates the count)."""
    if not cell or "degraded" not in cell:
        return "-"
    count = sum(cell["degraded"])
    return "0" if count == 0 else f"{count}/{cell['budget'] * len(cell['seeds'])}"


def penalty(ours: dict[str, dict], reference: dict[str, dict]) -> Table | None:
    """Median final regret per parallelism, both arms, with the ratio to parallelism 1; None below two values."""
    levels = sorted({split(cell)[2] for cell in (*ours, *reference)})
    if len(levels) < 2:
        return None
    pairs = sorted({split(cell)[:2] for cell in (*ours, *reference)})
    header = ("algorithm", "problem", *(f"ours p{p}" for p in levels), *(f"reference p{p}" for p in levels))
    rows = [[algorithm, problem, *_medians(ours, algorithm, problem, levels),
             *_medians(reference, algorithm, problem, levels)] for algorithm, problem in pairs]
    legend = ("Median final regret over seeds at each parallelTrialCount; in brackets the ratio to the same "
              "arm's median at parallelism 1 (the parallel penalty: x1 means no loss from running trials in "
              "parallel).")
    return Table("Parallel penalty", header, rows, legend)


def _medians(table: dict[str, dict], algorithm: str, problem: str, levels: list[int]) -> list[str]:
    medians = {}
    for parallel in levels:
        cell = table.get(f"{algorithm}/{problem}/p{parallel}")
        medians[parallel] = statistics.median(cell["final"]) if cell else None
    base = medians.get(levels[0]) if levels[0] == 1 else None
    return [_ratio(medians[p], base, p) for p in levels]


def _ratio(value: float | None, base: float | None, parallel: int) -> str:
    if value is None:
        return "-"
    if base is None or parallel == 1:
        return f"{value:.4g}"
    if base <= AT_OPTIMUM:
        # a ratio to a regret of zero is no measure of loss (the full suite's svm-digits printed x-6e+13)
        return f"{value:.4g} (x1)" if value <= AT_OPTIMUM else f"{value:.4g} (p1 at the optimum)"
    return f"{value:.4g} (x{value / base:.3g})"
