"""Render the algorithm settings reference (Markdown) from the catalog, so README cannot drift.

Regenerate README's table with ``python -m katib_validators.reference --write README.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from katib_validators.algorithm import Algorithm
from katib_validators.catalog import ALGORITHMS
from katib_validators.settings import Setting

START = "<!-- settings-reference:start -->"
END = "<!-- settings-reference:end -->"


def render(algorithms: tuple[Algorithm, ...] = ALGORITHMS) -> str:
    """One table per algorithm: its names, backend, distributions and every setting."""
    blocks = ["Generated from the settings schemas by `python -m katib_validators.reference --write README.md`; "
              "do not edit by hand."]
    for algorithm in algorithms:
        names = ", ".join(f"`{name}`" for name in algorithm.names)
        distributions = ", ".join(sorted(d.value for d in algorithm.distributions))
        lines = [f"### {algorithm.backend}: {algorithm.names[0]}", "",
                 f"{algorithm.summary}. algorithmName: {names}; distributions: {distributions}.", ""]
        if algorithm.schema.settings:
            lines += ["| setting | aliases | type and range | default | meaning |", "|---|---|---|---|---|"]
            lines += [_row(setting) for setting in algorithm.schema.settings]
        else:
            lines.append("No settings.")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _row(setting: Setting) -> str:
    aliases = ", ".join(f"`{a}`" for a in setting.aliases) or "-"
    shown = str(setting.default).lower() if isinstance(setting.default, bool) else setting.default
    default = "unset" if setting.default is None else f"`{shown}`"
    cells = (f"`{setting.name}`", aliases, setting.describe(), default, setting.help)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def replace_between_markers(text: str, table: str) -> str:
    """``text`` with the part between the markers replaced; ValueError when a marker is missing."""
    start, end = text.index(START) + len(START), text.index(END)
    return f"{text[:start]}\n{table}{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="README", help="replace the table between the markers in this file")
    args = parser.parse_args(argv)
    if not args.write:
        sys.stdout.write(render())
        return 0
    path = Path(args.write)
    path.write_text(replace_between_markers(path.read_text(encoding="utf-8"), render()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
