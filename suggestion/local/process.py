"""Trials on this machine: the trial template's command with parameters substituted, or a built-in function.

Metrics are read from the trial's stdout the way Katib's StdOut collector reads
them: lines that mention a metric name, matched with the collector's filters
(default ``name=value``), one value per metric chosen by its metric strategy.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Names a built-in benchmark function in an Experiment's metadata.annotations (katib-suggest run).
FUNCTION_ANNOTATION = "katib-suggest.kubeflow.org/function"
# Katib's default StdOut filter (pkg/metricscollector/v1beta1/common): name=value, value a plain number.
DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
_REFERENCE = re.compile(r"\$\{trialParameters\.(.+?)\}")
_STRATEGIES = {"min": min, "max": max, "latest": lambda values: values[-1]}


@dataclass
class Outcome:
    value: float | None  # the objective metric, None when the trial failed
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""


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
        seen: dict[str, list[float]] = {}
        patterns = [re.compile(f) for f in self.filters]
        for line in stdout.splitlines():
            if not any(name in line for name in self.strategies):
                continue  # as Katib: only lines that mention a metric are matched
            for pattern in patterns:
                for match in pattern.finditer(line):
                    name, value = match.group(1).strip(), _number(match.group(2))
                    if name in self.strategies and value is not None:
                        seen.setdefault(name, []).append(value)
        return {name: _STRATEGIES[self.strategies[name]](values) for name, values in seen.items()}


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


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


def run_command(template: CommandTemplate, collector: Collector, assignments: Mapping[str, str], trial: str,
                cwd: Path, timeout: float, log: Path, processes: set) -> Outcome:
    """Run one trial's process (no shell: arguments are passed as they are) and read its metrics."""
    argv, env = template.render(assignments, trial)
    try:
        process = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
    except OSError as error:
        log.write_text(f"$ {argv}\n{error}\n")
        return Outcome(None, message=f"cannot start {argv[0]}: {error}")
    processes.add(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        message = f"timed out after {timeout:g} s"
    else:
        message = "" if process.returncode == 0 else f"exit status {process.returncode}"
    finally:
        processes.discard(process)
    log.write_text(f"$ {argv}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- {message or 'exit status 0'}\n")
    metrics = collector.parse(stdout)
    if message or collector.objective not in metrics:
        return Outcome(None, metrics, message or f"no {collector.objective}=<number> line in stdout")
    return Outcome(metrics[collector.objective], metrics)
