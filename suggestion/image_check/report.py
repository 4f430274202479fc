"""The image check's one table: image, size, build time, start to SERVING, peak RSS against the limit, result."""

from __future__ import annotations

from dataclasses import dataclass

from katib_suggestion.image_check.build import Built
from katib_suggestion.image_check.run import Outcome

MB = 1000 * 1000  # image sizes as registries and `podman images` print them
MIB = 1024 * 1024


@dataclass
class Row:
    name: str
    built: Built | None
    outcome: Outcome
    result: str

    @property
    def passed(self) -> bool:
        return self.result == "ok"

    def cells(self) -> list[str]:
        built, outcome = self.built, self.outcome
        peak = "-" if outcome.peak_kib is None else f"{outcome.peak_kib / 1024:.0f} MiB"
        limit = "none" if outcome.limit_bytes is None else f"{outcome.limit_bytes / MIB:.0f} MiB"
        return [built.image if built else self.name,
                f"{built.size_bytes / MB:.0f} MB" if built else "-",
                f"{built.seconds:.0f} s" if built and built.seconds else "-",
                "-" if outcome.serving_seconds is None else f"{outcome.serving_seconds:.1f} s",
                f"{peak} / {limit}", self.result]


HEADER = ["image", "size", "build", "start to SERVING", "peak RSS / limit", "result"]


def table(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal, pasteable into an issue)."""
    cells = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i].splitlines()[0]) if line[i] else 0 for line in cells) for i in range(len(HEADER) - 1)]

    def line(values: list[str]) -> str:
        first = [value.ljust(width) for value, width in zip(values, widths, strict=False)]
        return "| " + " | ".join([*first, " ".join(values[-1].split())]) + " |"

    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|---|",
                      *(line(c) for c in cells[1:])])
