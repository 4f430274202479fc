"""The gate's report: Markdown tables, an HTML copy, and one convergence plot per problem and parallelism."""

from __future__ import annotations

import html
from pathlib import Path

from katib_suggestion.quality.tables import Table, split

SCORES = ("Scores are normalised regret (0: optimum found, 1: a typical random trial), mean over seeds with a 95% "
          "bootstrap interval; AUC is the mean of the best-so-far regret curve. p: one-sided Mann-Whitney U that "
          "the first side is worse; '=' means identical (every seed scored the same, within floating-point noise "
          "of 1e-9 relative). degraded: answers labelled katib-suggest/degraded (a time budget cut the model's "
          "work) or katib-suggest/origin: uniform-fallback (a point drawn at random), out of all trials: a busy "
          "runner shows here before it shows as a regression. Every run also counts trials that repeat an earlier "
          "trial's assignments: one in our arm fails the gate.")


def markdown(title: str, tables: list[Table], notes: list[str]) -> str:
    lines = [f"# {title}", ""]
    for table in tables:
        lines += [f"## {table.title}", "", "| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
        lines += ["", *([table.legend, ""] if table.legend else [])]
    lines += [SCORES, ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def html_page(title: str, tables: list[Table], notes: list[str], plots: list[Path]) -> str:
    sections = []
    for table in tables:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
        body = "".join("<tr>" + "".join(f"<td{' class=bad' if c == 'WORSE' else ''}>{html.escape(c)}</td>"
                                        for c in row) + "</tr>" for row in table.rows)
        sections.append(f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>"
                        f"<p>{html.escape(table.legend)}</p>")
    images = "".join(f'<p><img src="{html.escape(p.name)}" width="720"></p>' for p in plots)
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
            "<style>td,th{padding:2px 8px;font:13px sans-serif}.bad{color:#b00;font-weight:bold}</style>"
            f"<h1>{html.escape(title)}</h1>{''.join(sections)}<p>{html.escape(SCORES)}</p><ul>{items}</ul>{images}")


def plot_problems(candidate: dict[str, dict], baseline: dict[str, dict], reference: dict[str, dict],
                  out: Path) -> list[Path]:
    """Mean best-so-far regret per algorithm: solid now, dashed baseline, dotted reference arm."""
    try:
        import matplotlib
    except ImportError:
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    paths = []
    for problem, parallel in sorted({split(cell)[1:] for cell in candidate}):
        figure, axes = plt.subplots(figsize=(8, 4.5))
        suffix = f"/{problem}/p{parallel}"
        for index, cell in enumerate(sorted(c for c in candidate if c.endswith(suffix))):
            colour = plt.cm.tab10(index % 10)
            _curve(axes, candidate[cell]["curve"], colour, "-", cell.removesuffix(suffix))
            for other, style in ((baseline, "--"), (reference, ":")):
                if cell in other:
                    _curve(axes, other[cell]["curve"], colour, style, None)
        axes.set(title=f"{problem}, {parallel} parallel: mean best-so-far regret "
                       "(solid: now, dashed: baseline, dotted: reference arm)",
                 xlabel="trial", ylabel="normalised regret (log scale)", yscale="log")
        axes.title.set_fontsize(9)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8, ncol=2)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        figure.tight_layout()
        paths.append(out / f"regret-{problem}-p{parallel}.png")
        figure.savefig(paths[-1], dpi=100)
        plt.close(figure)
    return paths


def _curve(axes, curve: list[float], colour, style: str, label: str | None) -> None:
    # log scale: regrets of 0 (optimum hit exactly) are drawn at a floor instead of vanishing
    axes.plot(range(1, len(curve) + 1), [max(v, 1e-4) for v in curve], style, color=colour, label=label)
