"""The gate's report: a Markdown table, an HTML copy, and one convergence plot per problem."""

from __future__ import annotations

import html
from pathlib import Path

from katib_suggestion.quality.gate import Verdict
from katib_suggestion.quality.scoring import summarise

HEADER = ("algorithm", "problem", "AUC regret now", "AUC baseline", "final regret now", "final baseline",
          "p (AUC)", "p (final)", "verdict")


def rows(candidate: dict[str, dict], baseline: dict[str, dict], verdicts: list[Verdict]) -> list[list[str]]:
    table = []
    for verdict in verdicts:
        backend, algorithm, problem = verdict.cell.split("/")
        now, before = candidate.get(verdict.cell), baseline.get(verdict.cell)
        cells = [f"{backend}/{algorithm}", problem]
        for metric in ("auc", "final"):
            cells += [str(summarise(now[metric])) if now else "-", str(summarise(before[metric])) if before else "-"]
        cells += [_p(verdict, "auc"), _p(verdict, "final"), verdict.status]
        table.append(cells)
    return table


def _p(verdict: Verdict, metric: str) -> str:
    if verdict.status == "identical":
        return "="
    return f"{verdict.p[metric]:.2g}" if metric in verdict.p else "-"


def markdown(table: list[list[str]], title: str, notes: list[str]) -> str:
    lines = [f"# {title}", "", "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    lines += ["", "Scores are normalised regret (0: optimum found, 1: a typical random trial), mean over seeds "
              "with a 95% bootstrap interval; AUC is the mean of the best-so-far regret curve. p: one-sided "
              "Mann-Whitney U that the change is worse; '=' means bit-identical to the baseline.", ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def html_page(table: list[list[str]], title: str, notes: list[str], plots: list[Path]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td{' class=bad' if c == 'WORSE' else ''}>{html.escape(c)}</td>"
                                    for c in row) + "</tr>" for row in table)
    images = "".join(f'<p><img src="{html.escape(p.name)}" width="720"></p>' for p in plots)
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
            "<style>td,th{padding:2px 8px;font:13px sans-serif}.bad{color:#b00;font-weight:bold}</style>"
            f"<h1>{html.escape(title)}</h1><table><tr>{head}</tr>{body}</table><ul>{items}</ul>{images}")


def plot_problems(candidate: dict[str, dict], baseline: dict[str, dict], out: Path) -> list[Path]:
    """Mean best-so-far regret per algorithm: solid now, dashed baseline; one PNG per problem."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    paths = []
    for problem in sorted({cell.split("/")[2] for cell in candidate}):
        figure, axes = plt.subplots(figsize=(8, 4.5))
        for index, cell in enumerate(sorted(c for c in candidate if c.endswith(f"/{problem}"))):
            colour = plt.cm.tab10(index % 10)
            label = cell.rsplit("/", 1)[0]
            _curve(axes, candidate[cell]["curve"], colour, "-", label)
            if cell in baseline:
                _curve(axes, baseline[cell]["curve"], colour, "--", None)
        axes.set(title=f"{problem}: mean best-so-far regret (solid: now, dashed: baseline)",
                 xlabel="trial", ylabel="normalised regret (log scale)", yscale="log")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, ncol=2)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        figure.tight_layout()
        paths.append(out / f"regret-{problem}.png")
        figure.savefig(paths[-1], dpi=100)
        plt.close(figure)
    return paths


def _curve(axes, curve: list[float], colour, style: str, label: str | None) -> None:
    # log scale: regrets of 0 (optimum hit exactly) are drawn at a floor instead of vanishing
    axes.plot(range(1, len(curve) + 1), [max(v, 1e-4) for v in curve], style, color=colour, label=label)
