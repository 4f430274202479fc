"""Judge a results table (against a baseline, against the reference arms) and write the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from katib_suggestion.quality import report
from katib_suggestion.quality.gate import bit_identical, compare
from katib_suggestion.quality.tables import Table, compared, penalty, split

REFERENCE_LEGEND = ("The reference arm of a cell is the same library used directly in one process (one study, "
                    "Trials or Optimizer for the whole run), driven by the same simulated controller: same "
                    "parallelism, completion order, failures and seeds. WORSE: ours is significantly worse than "
                    "the library it wraps.")


@dataclass
class Judgement:
    title: str  # e.g. "Quality gate (quick suite)"
    now: dict[str, dict]  # the cells under judgement
    before: dict[str, dict] | None = None  # baseline (or the earlier folder of --compare)
    reference: dict[str, dict] = field(default_factory=dict)
    sides: tuple[str, str] = ("now", "baseline")
    notes: list[str] = field(default_factory=list)


def judge(judgement: Judgement, out: Path) -> bool:
    """Write report.md, index.html and plots under ``out``, print the Markdown; True when a cell is WORSE."""
    tables, worse, notes = [], [], list(judgement.notes)
    if judgement.before is not None:
        verdicts = compare(judgement.now, judgement.before)
        missing = sum(1 for v in verdicts if v.status == "missing")
        verdicts = [v for v in verdicts if v.status != "missing"]  # not run here (filters): no row
        a, b = judgement.sides
        tables.append(compared(f"{a.capitalize()} against the {b}", judgement.sides, judgement.now,
                               judgement.before, verdicts))
        worse += [f"worse than the {b}: {v.cell}" for v in verdicts if v.failed]
        notes += _identity_notes(judgement.now, judgement.before, verdicts)
        notes += _settings_notes(judgement.now, judgement.before, b)
        if missing:
            notes.append(f"{missing} {b} cells not run here (--backend/--algorithms/--problems/--parallel)")
    if judgement.reference:
        verdicts = [v for v in compare(judgement.now, judgement.reference) if v.status != "missing"]
        for parallel in sorted({split(v.cell)[2] for v in verdicts}):  # one table per parallelism, as issue 12 asks
            tables.append(compared(f"Against the reference arms at parallelism {parallel} (the library used directly)",
                                   ("ours", "reference"), judgement.now, judgement.reference,
                                   [v for v in verdicts if split(v.cell)[2] == parallel], REFERENCE_LEGEND))
        worse += [f"worse than its reference arm: {v.cell}" for v in verdicts if v.failed]
    table = penalty(judgement.now, judgement.reference)
    if table:
        tables.append(table)
    # every suggestion of ours is new by construction (batch.suggest_unique): a repeat is a defect, not noise
    worse += [f"repeated {n} earlier points: {cell}" for cell, n in _repeated(judgement.now).items()]
    notes += _reference_repeat_notes(judgement.reference)
    notes += _degraded_notes(judgement.now)
    title = f"{judgement.title}: {'FAILED' if worse else 'passed'}"
    _write(out, title, tables, worse + notes, judgement)
    return bool(worse)


def _write(out: Path, title: str, tables: list[Table], notes: list[str], judgement: Judgement) -> None:
    plots = report.plot_problems(judgement.now, judgement.before or {}, judgement.reference, out)
    if not plots:
        notes = [*notes, "no plots: install matplotlib with pip install 'katib-suggest[bench]'"]
    markdown = report.markdown(title, tables, notes)
    (out / "report.md").write_text(markdown)
    (out / "index.html").write_text(report.html_page(title, tables, notes, plots))
    print(markdown)
    print(f"report: {out / 'index.html'}")


def _identity_notes(now: dict, before: dict, verdicts) -> list[str]:
    noisy = [v.cell for v in verdicts if v.status == "identical" and not bit_identical(now[v.cell], before[v.cell])]
    if not noisy:
        return []
    return [f"{len(noisy)} identical cells are identical within floating-point noise, not bit for bit: "
            + ", ".join(noisy)]


def _settings_notes(now: dict, before: dict, side: str) -> list[str]:
    differ = [cell for cell in now if cell in before and "settings" in before[cell]
              and now[cell].get("settings") != before[cell]["settings"]]
    return [f"run with other settings than the {side}: {cell} {now[cell].get('settings')} vs "
            f"{before[cell]['settings']}" for cell in differ]


def _degraded_notes(now: dict) -> list[str]:
    cells = [cell for cell, data in now.items() if sum(data.get("degraded", ())) > 0]
    if not cells:
        return []
    return [f"degraded answers in {len(cells)} cells ({', '.join(cells)}): a time budget or the random fill-in "
            "shaped some points, so these scores also measure the machine's load"]


def _repeated(table: dict) -> dict[str, int]:
    return {cell: sum(data["repeated"]) for cell, data in table.items() if sum(data.get("repeated", ())) > 0}


def _reference_repeat_notes(reference: dict) -> list[str]:
    repeated = _repeated(reference)
    if not repeated:
        return []
    return [f"the reference arms repeated earlier points in {len(repeated)} cells ("
            + ", ".join(f"{cell}: {n}" for cell, n in repeated.items())
            + "): the library used directly can spend a trial on a point it already has"]
