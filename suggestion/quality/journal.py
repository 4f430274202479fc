"""Every finished run appended to OUT/runs.jsonl as it ends, so an interrupted benchmark resumes where it stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from katib_suggestion.quality.runner import RunResult, Task

JOURNAL = "runs.jsonl"


def from_json(line: dict) -> RunResult:
    task = dict(line["task"])
    task["settings"] = tuple(tuple(pair) for pair in task["settings"])
    return RunResult(**{**line, "task": Task(**task)})


def finished(path: Path, tasks: list, parse: Callable[[dict], RunResult] = from_json) -> dict:
    """Runs of ``tasks`` already in the journal, each line read by ``parse`` (a line cut short by an
    interruption is ignored). The early-stopping benchmark keeps its runs the same way."""
    wanted, done = set(tasks), {}
    if not path.exists():
        return done
    for text in path.read_text().splitlines():
        try:
            result = parse(json.loads(text))
        except (ValueError, TypeError, KeyError):
            continue
        if result.task in wanted:
            done[result.task] = result
    return done


class Journal:
    """Appends results (anything with ``to_json``), one JSON line each, flushed at once."""

    def __init__(self, path: Path, keep: bool):
        if not keep:
            path.unlink(missing_ok=True)
        cut = path.exists() and not path.read_bytes().endswith(b"\n") and path.stat().st_size > 0
        self.file = path.open("a")
        if cut:  # an interrupted write: the next result must start a line of its own
            self.file.write("\n")

    def write(self, result) -> None:
        self.file.write(json.dumps(result.to_json()) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()
