"""Trials on this machine: the trial template's command with parameters substituted, or a built-in function.

Metrics are read the way Katib's StdOut collector reads them: from stdout and
stderr together (Katib runs the command as ``... 1>/var/log/katib/metrics.log
2>&1``, so a metric logged through Python's logging counts), lines that mention
a metric name, matched with the collector's filters (default ``name=value``),
one value per metric chosen by its metric strategy.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from katib_suggestion.local.groups import End, ProcessGroups, Stopped
from katib_validators.numeric import finite

# Names a built-in benchmark function in an Experiment's metadata.annotations (katib-suggest run).
FUNCTION_ANNOTATION = "katib-suggest.kubeflow.org/function"
# Katib's default StdOut filter (pkg/metricscollector/v1beta1/common): name=value, value a plain number.
DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
_REFERENCE = re.compile(r"\$\{trialParameters\.(.+?)\}")
TAIL_LINES, TAIL_WIDTH = 5, 300  # what the summary shows of a failed trial's output
# variables the runner sets for its own process only (trials get the environment the user started it with)
OWN_ENVIRONMENT: set[str] = set()
_STRATEGIES = {"min": min, "max": max, "latest": lambda values: values[-1]}


class StopWatch(Protocol):
    """Applies a trial's early-stopping rules to its stdout while it runs (katib_suggestion.local.stopping)."""

    def follow(self, stdout: Path) -> Callable[[], bool]:
        """A check, asked between polls, that reads what the trial printed since and says whether to stop it."""

    def ended(self, objective_values: list[float], status: str) -> None:
        """The trial is over with ``status`` (Outcome.status); ``objective_values``: all it reported, in order."""


@dataclass
class Outcome:
    value: float | None  # the objective metric, None when the trial failed or was killed
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    output_tail: tuple[str, ...] = ()  # the last lines a failed trial printed (stdout and stderr together)
    killed: bool = False  # ended by the run (Ctrl-C, the experiment is over): neither succeeded nor failed
    early_stopped: bool = False  # ended by its early-stopping rules; ``value`` is what it reported until then

    @property
    def status(self) -> str:
        """Katib's name for the trial's final condition."""
        if self.early_stopped:
            return "EarlyStopped"
        return "Succeeded" if self.value is not None else "Killed" if self.killed else "Failed"


@dataclass(frozen=True)
class Collector:
    """Which metrics to read and how to reduce each one's values to one number."""

    objective: str
    strategies: dict[str, str]  # metric name -> min | max | latest
    filters: tuple[str, ...] = (DEFAULT_FILTER,)

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> Collector:
        objective = spec["objective"]
        # Katib's defaults: every metric follows the objective's direction unless a strategy is given
        default = {"minimize": "min", "maximize": "max"}.get(objective.get("type"), "latest")
        names = [objective["objectiveMetricName"], *(objective.get("additionalMetricNames") or [])]
        strategies = {name: default for name in names}
        strategies.update({s["name"]: s["value"] for s in objective.get("metricStrategies") or []
                           if s.get("name") in strategies})
        source = (spec.get("metricsCollectorSpec") or {}).get("source") or {}
        filters = tuple((source.get("filter") or {}).get("metricsFormat") or ()) or (DEFAULT_FILTER,)
        return cls(objective["objectiveMetricName"], strategies, filters)

    def parse(self, stdout: str) -> dict[str, float]:
        return self.summary(self.reports(stdout))

    def summary(self, reports: Mapping[str, list[float]]) -> dict[str, float]:
        """Each metric's reports reduced by its strategy (min, max or latest) to one value."""
        return {name: _STRATEGIES[self.strategies[name]](values) for name, values in reports.items()}

    def reports(self, stdout: str) -> dict[str, list[float]]:
        """Every value of every metric, in the order printed."""
        seen: dict[str, list[float]] = {}
        for line in stdout.splitlines():
            for name, value in self.line_values(line):
                seen.setdefault(name, []).append(value)
        return seen

    def line_values(self, line: str) -> list[tuple[str, float]]:
        """The (metric, value) pairs of one line, matched with the collector's filters."""
        if not any(name in line for name in self.strategies):
            return []  # as Katib: only lines that mention a metric are matched
        found = []
        for pattern in self._patterns:
            for match in pattern.finditer(line):
                name, value = match.group(1).strip(), finite(match.group(2))
                if name in self.strategies and value is not None:
                    found.append((name, value))
        return found

    @functools.cached_property
    def _patterns(self) -> list[re.Pattern]:
        return [re.compile(f) for f in self.filters]

    def missing(self) -> str:
        """Why no objective value was found, and where to look."""
        where = "stdout and stderr, read together as Katib's StdOut collector reads them"
        if self.filters == (DEFAULT_FILTER,):
            return (f"no {self.objective}=<number> line in the trial's output ({where}); if it prints the metric "
                    "in another form, describe that form in spec.metricsCollectorSpec.source.filter.metricsFormat")
        return (f"no line of the trial's output ({where}) mentions {self.objective} in a form that "
                "spec.metricsCollectorSpec.source.filter.metricsFormat matches; check those filters")


def primary_container(template: Mapping[str, Any]) -> Mapping[str, Any]:
    """The container named primaryContainerName (else the first) anywhere in trialSpec (Job, PyTorchJob...)."""
    containers = _containers(template.get("trialSpec") or {})
    if not containers:
        raise ValueError("spec.trialTemplate.trialSpec has no containers to take the command from")
    named = [c for c in containers if c.get("name") == template.get("primaryContainerName")]
    return (named or containers)[0]


def _containers(node: Any) -> list[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if isinstance(node.get("containers"), list):
            return [c for c in node["containers"] if isinstance(c, Mapping)]
        return next((found for value in node.values() if (found := _containers(value))), [])
    if isinstance(node, list):
        return next((found for value in node if (found := _containers(value))), [])
    return []


@dataclass(frozen=True)
class CommandTemplate:
    """argv and environment of the primary container, with ${trialParameters.*} still in them."""

    argv: tuple[str, ...]
    env: dict[str, str]
    references: dict[str, str]  # trial parameter name -> experiment parameter name

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> CommandTemplate:
        template = spec.get("trialTemplate") or {}
        container = primary_container(template)
        argv = tuple(str(word) for word in [*(container.get("command") or []), *(container.get("args") or [])])
        if not argv:
            raise ValueError(f"container {container.get('name')!r} has no command or args to run")
        env = {e["name"]: str(e["value"]) for e in container.get("env") or [] if "value" in e}
        references = {p["name"]: p.get("reference", p["name"]) for p in template.get("trialParameters") or []}
        unknown = sorted({m for word in [*argv, *env.values()] for m in _REFERENCE.findall(word)} - set(references))
        if unknown:
            raise ValueError(f"the command uses undeclared trialParameters: {', '.join(unknown)}")
        return cls(argv, env, references)

    def render(self, assignments: Mapping[str, str], trial: str) -> tuple[list[str], dict[str, str]]:
        def substitute(word: str) -> str:
            word = _REFERENCE.sub(lambda m: assignments[self.references[m.group(1)]], word)
            return word.replace("${trialSpec.Name}", trial)

        return [substitute(w) for w in self.argv], {k: substitute(v) for k, v in self.env.items()}


def _inherited_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in OWN_ENVIRONMENT}


def run_command(template: CommandTemplate, collector: Collector, assignments: Mapping[str, str], trial: str,
                cwd: Path, timeout: float, log: Path, groups: ProcessGroups,
                extra_env: Mapping[str, str] | None = None, watch: StopWatch | None = None) -> Outcome:
    """Run one trial's process group (no shell: arguments are passed as they are) and read its metrics.

    stdout and stderr go to one file next to the log while the trial runs (``tail -f`` it), as Katib's
    ``2>&1`` puts them in one, never to pipes: a grandchild holding a pipe open cannot keep the run waiting.
    ``extra_env`` (the trial's GPU share) comes between this process's environment and the container's.
    """
    argv, env = template.render(assignments, trial)
    live = log.with_suffix(".output")
    try:
        with live.open("wb") as output:
            process = groups.start(argv, cwd=cwd, env={**_inherited_environment(), **(extra_env or {}), **env},
                                   stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    except (Stopped, OSError) as error:
        live.unlink(missing_ok=True)
        if isinstance(error, Stopped):
            return Outcome(None, message=str(error), killed=True)
        log.write_text(f"$ {shlex.join(argv)}\n{error}\n")
        return Outcome(None, message=f"cannot start {argv[0]}: {error}")
    end = groups.wait(process, timeout, watch.follow(live) if watch else None)
    output = _take(live)
    message = {End.TIMED_OUT: f"timed out after {timeout:g} s", End.STOPPED: groups.reason,
               End.EARLY_STOPPED: "early stopped: every early-stopping rule was met"}.get(end) \
        or _exit_message(process.returncode)
    ending = "" if not output or output.endswith("\n") else "\n"
    log.write_text(f"$ {shlex.join(argv)}\n{output}{ending}--- {message or 'exit status 0'}\n")
    reports = collector.reports(output)
    outcome = _outcome(end, collector, reports, output, message)
    if watch is not None:
        watch.ended(reports.get(collector.objective, []), outcome.status)
    return outcome


def _outcome(end: End, collector: Collector, reports: Mapping[str, list[float]], output: str,
             message: str) -> Outcome:
    metrics = collector.summary(reports)
    if end is End.EARLY_STOPPED:
        return Outcome(metrics.get(collector.objective), metrics, message, early_stopped=True)
    if end is End.STOPPED:
        return Outcome(None, metrics, message, killed=True)
    if message or collector.objective not in metrics:
        return Outcome(None, metrics, message or collector.missing(), _tail(output))
    return Outcome(metrics[collector.objective], metrics)


def _take(path: Path) -> str:
    text = path.read_text(errors="replace")
    path.unlink()
    return text


def _exit_message(returncode: int) -> str:
    if returncode == 0:
        return ""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _tail(output: str) -> tuple[str, ...]:
    """The last lines the trial printed, where a Python traceback ends with the exception."""
    lines = [line.rstrip()[:TAIL_WIDTH] for line in output.splitlines() if line.strip()]
    return tuple(lines[-TAIL_LINES:])
