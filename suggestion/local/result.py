"""How a local run ended, by Katib's rules, and what it reports: the summary, trials.csv and the plot."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from katib_suggestion.local.driver import too_many_failures
from katib_suggestion.local.interrupt import INTERRUPTED, describe
from katib_suggestion.local.plot import convergence_plot
from katib_suggestion.local.trials import Finished, LocalTrials
from katib_suggestion.observability import iso_utc

SHOWN_FAILURES = 3  # distinct errors printed in the summary


@dataclass(frozen=True)
class Verdict:
    state: str  # Succeeded, Failed (Katib's), Interrupted, or Error (Katib would retry for ever)
    reason: str
    exit_status: int
    kill_reason: str  # the message of the trials still running, ended with the run


def decide(spec: Mapping[str, Any], trials: LocalTrials, goal_reached: bool, signum: int | None,
           error: str) -> Verdict:
    """Katib's order: goal, then maxFailedTrialCount, then maxTrialCount; otherwise why the run stopped."""
    completed = len(trials.completed)
    max_failed = spec.get("maxFailedTrialCount")
    if goal_reached:
        verdict = ("Succeeded", "the objective goal was reached", 0)
    elif too_many_failures(trials.failed, max_failed):
        verdict = ("Failed", f"{trials.failed} trials failed, maxFailedTrialCount is {max_failed}", 1)
    elif completed >= spec["maxTrialCount"]:
        verdict = ("Succeeded", "maxTrialCount reached", 0)
    elif signum is not None:
        return Verdict("Interrupted", f"stopped by {describe(signum)}", INTERRUPTED,
                       f"interrupted by {describe(signum)}")
    else:
        verdict = ("Error", f"{error or 'the run stopped early'}; Katib would retry and leave the Experiment "
                            "Running", 1)
    state, reason, status = verdict
    return Verdict(state, reason, status, f"ended with the experiment ({state})")


@dataclass
class LocalResult:
    name: str
    metric: str
    trials: LocalTrials
    verdict: Verdict

    def summary(self) -> str:
        trials, verdict = self.trials, self.verdict
        done = trials.completed
        stopped = sum(1 for f in done if f.outcome.early_stopped)
        line = (f"Experiment {self.name} {verdict.state}: {verdict.reason}; {len(done)} trials finished "
                f"({len(done) - trials.failed - stopped} succeeded, "
                f"{f'{stopped} early stopped, ' if stopped else ''}{trials.failed} failed)")
        if trials.killed:
            line += f", {trials.killed} {'interrupted' if verdict.state == 'Interrupted' else 'stopped'}"
        lines = [line]
        best = trials.best()
        if best is None:
            lines.append("no successful trial")
        else:
            lines.append(f"Best trial {best.name}: {self.metric}={best.outcome.value:.6g}")
            lines += [f"  {name} = {value}" for name, value in best.assignments.items()]
        return "\n".join(lines + _failures(done))

    def plot(self, path: Path) -> str:
        title = f"{self.name}: best {self.metric} so far"
        return convergence_plot(self.trials.completed, self.trials.maximize, self.metric, title, path)

    def write_csv(self, path: Path) -> None:
        """One row per trial in the order they ended, killed ones included; times in UTC, ISO 8601."""
        ended = self.trials.ended
        names = sorted({name for item in ended for name in item.assignments})
        metrics = sorted({name for item in ended for name in item.outcome.metrics})
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["trial", "status", "objective", *names, *metrics, "start", "end", "seconds",
                             "message"])
            for item in ended:
                o = item.outcome
                writer.writerow([item.name, o.status, "" if o.value is None else repr(o.value),
                                 *(item.assignments.get(n, "") for n in names),
                                 *(repr(o.metrics[m]) if m in o.metrics else "" for m in metrics),
                                 _iso(item.started), _iso(item.ended), f"{item.seconds:.3f}", _message(item)])


def _failures(done: list[Finished]) -> list[str]:
    """Each distinct error once, with the last lines the first trial that had it printed."""
    groups: dict[tuple[str, str], list[Finished]] = {}
    for item in done:
        if item.outcome.status == "Failed":
            tail = item.outcome.output_tail
            groups.setdefault((item.outcome.message, tail[-1] if tail else ""), []).append(item)
    lines = []
    for (message, _), items in list(groups.items())[:SHOWN_FAILURES]:
        first = items[0]
        more = f" (and {len(items) - 1} more trials)" if len(items) > 1 else ""
        lines.append(f"Failed trial {first.name}: {message}{more}")
        lines += [f"  | {line}" for line in first.outcome.output_tail]
    if len(groups) > SHOWN_FAILURES:
        lines.append(f"... {len(groups) - SHOWN_FAILURES} more distinct errors: see trials.csv")
    return lines


def _message(item: Finished) -> str:
    tail = item.outcome.output_tail
    return f"{item.outcome.message}: {tail[-1]}" if tail else item.outcome.message


def _iso(moment: datetime) -> str:
    return iso_utc(moment.timestamp())
