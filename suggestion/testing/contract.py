"""Play a Scenario the way Katib's controller would, and check every answer against the contract.

The contract (see docs of the Suggestion API): when ValidateAlgorithmSettings
accepts an experiment, every later GetSuggestions answers OK with exactly the
requested count of assignments, each naming every parameter once, with values
inside the space and on its grid, printed as Katib substitutes them, never
repeating a trial Katib sent or another point of the batch, and the same
request gets the same answer from a fresh process. A rejection names fields
and is never a crash in disguise. The checks re-derive everything from the
texts of the request (exact decimal and integer arithmetic) rather than from
the service's own model, so they can disagree with it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from katib_api import api_pb2
from katib_suggestion import wire
from katib_suggestion.errors import InvalidExperiment
from katib_suggestion.pipeline import Suggester
from katib_suggestion.testing.adversarial import Outcome, Scenario
from katib_suggestion.testing.feasible import feasible_key, problem_of

Condition = api_pb2.TrialStatus.TrialConditionType
_LABEL = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
# a rejection that hides a crash instead of naming a field and a fix
_CRASH_WORDS = ("could not be checked", "could not check", "cannot run on this experiment", "at most 0")


@dataclass(frozen=True)
class Finding:
    kind: str  # e.g. "suggest-error", "outside-space", "repeat", "nondeterministic"
    detail: str
    call: int  # which GetSuggestions call (-1: ValidateAlgorithmSettings)


@dataclass
class Report:
    accepted: bool = False
    findings: list[Finding] = field(default_factory=list)
    validate_seconds: float = 0.0
    suggest_seconds: list[float] = field(default_factory=list)
    # process CPU seconds of the same calls: what an idle core would take, whatever the machine's load
    validate_cpu: float = 0.0
    suggest_cpu: list[float] = field(default_factory=list)
    last_request: api_pb2.GetSuggestionsRequest | None = None
    last_reply: api_pb2.GetSuggestionsReply | None = None


def run_scenario(scenario: Scenario, suggester: Suggester, fresh: Suggester | None = None) -> Report:
    """Validate, then every call of the scenario; ``fresh`` (another Suggester) answers the last again."""
    report = Report()
    experiment = wire.experiment_message(scenario.document)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        suggester.validate(experiment)
    except Exception as error:  # noqa: BLE001 - every rejection is inspected
        report.validate_seconds, report.validate_cpu = time.perf_counter() - start, time.process_time() - cpu
        report.findings += _rejection_findings(error)
        return report
    report.validate_seconds, report.validate_cpu = time.perf_counter() - start, time.process_time() - cpu
    report.accepted = True
    _play(scenario, suggester, experiment, report)
    if fresh is not None and report.last_reply is not None and not report.findings:
        again = fresh.suggest(report.last_request, {})
        if again != report.last_reply:
            report.findings.append(Finding("nondeterministic", "a fresh Suggester answered the last request "
                                           "differently", len(report.suggest_seconds) - 1))
    return report


def _play(scenario: Scenario, suggester: Suggester, experiment: api_pb2.Experiment, report: Report) -> None:
    trials: list[tuple[api_pb2.Trial, int, Outcome]] = []  # trial, call that created it, its fate
    total = scenario.offset
    for call, count in enumerate(scenario.counts):
        total += count
        request = api_pb2.GetSuggestionsRequest(experiment=experiment, current_request_number=count,
                                                total_request_number=total)
        request.trials.extend(t for t in (_as_seen(*entry, call) for entry in trials) if t is not None)
        start, cpu = time.perf_counter(), time.process_time()
        try:
            reply = suggester.suggest(request, {})
        except Exception as error:  # noqa: BLE001 - any error here is a finding
            _timed(report, start, cpu)
            report.findings.append(Finding("suggest-error", f"{type(error).__name__}: {error}", call))
            return
        _timed(report, start, cpu)
        report.last_request, report.last_reply = request, reply
        report.findings += [Finding(kind, detail, call) for kind, detail in check_reply(request, reply)]
        if report.findings:
            return
        _merge_settings(experiment, reply.algorithm)
        for assignment in reply.parameter_assignments:
            trial = api_pb2.Trial(name=f"{experiment.name}-{len(trials)}")
            trial.spec.parameter_assignments.assignments.extend(assignment.assignments)
            trials.append((trial, call, scenario.outcomes[len(trials) % len(scenario.outcomes)]))


def _timed(report: Report, start: float, cpu: float) -> None:
    report.suggest_seconds.append(time.perf_counter() - start)
    report.suggest_cpu.append(time.process_time() - cpu)


def _as_seen(trial: api_pb2.Trial, created: int, outcome: Outcome, call: int) -> api_pb2.Trial | None:
    """The trial as Katib sends it at ``call``: running for a while, then its final condition; trials
    without metrics, and early-stopped ones without an observation, are left out as Katib does."""
    seen = api_pb2.Trial()
    seen.CopyFrom(trial)
    if call - created - 1 < outcome.pending_calls:
        seen.status.condition = Condition.RUNNING
        return seen
    if outcome.condition == "METRICSUNAVAILABLE" or (outcome.condition == "EARLYSTOPPED" and outcome.value is None):
        return None
    seen.status.condition = Condition.Value(outcome.condition)
    if outcome.value is not None:
        seen.status.observation.metrics.add(name="loss", value=outcome.value)
        seen.status.observation.metrics.add(name="accuracy", value="0.5")
    return seen


def _merge_settings(experiment: api_pb2.Experiment, algorithm: api_pb2.AlgorithmSpec) -> None:
    """What Katib does with the reply's algorithm settings: same name replaced, new name appended."""
    current = experiment.spec.algorithm.algorithm_settings
    for setting in algorithm.algorithm_settings:
        for existing in current:
            if existing.name == setting.name:
                existing.value = setting.value
                break
        else:
            current.add(name=setting.name, value=setting.value)


def check_reply(request: api_pb2.GetSuggestionsRequest, reply: api_pb2.GetSuggestionsReply) -> list[tuple[str, str]]:
    """(kind, detail) for every way ``reply`` breaks the contract for ``request``."""
    specs = list(request.experiment.spec.parameter_specs.parameters)
    if len(reply.parameter_assignments) != request.current_request_number:
        return [("count", f"asked for {request.current_request_number}, got {len(reply.parameter_assignments)}")]
    taken = {feasible_key(specs, {a.name: a.value for a in t.spec.parameter_assignments.assignments})
             for t in request.trials}
    found: list[tuple[str, str]] = []
    for assignment in reply.parameter_assignments:
        values = {a.name: a.value for a in assignment.assignments}
        names = [a.name for a in assignment.assignments]
        if sorted(names) != sorted(s.name for s in specs):
            found.append(("names", f"assignment names {names}"))
            continue
        problems = [problem_of(spec, values[spec.name]) for spec in specs]
        found += [("outside-space", p) for p in problems if p]
        key = feasible_key(specs, values)
        if key in taken:
            found.append(("repeat", f"{values} repeats a trial or an earlier point of the batch"))
        taken.add(key)
        found += [("label", f"{k}={v}") for k, v in assignment.labels.items()
                  if not (_LABEL_KEY.fullmatch(k) and _LABEL.fullmatch(v))]
    return found


def _rejection_findings(error: Exception) -> list[Finding]:
    if not isinstance(error, InvalidExperiment):
        return [Finding("validate-crash", f"{type(error).__name__}: {error}", -1)]
    bad = [p for p in error.problems if not p.path or not p.message or any(w in p.message for w in _CRASH_WORDS)]
    return [Finding("validate-message", str(p), -1) for p in bad]


def fresh_process_replies(backend: str, requests: list[api_pb2.GetSuggestionsRequest],
                          timeout: float = 300) -> list[api_pb2.GetSuggestionsReply]:
    """The replies of a new Python process (nothing shared with this one) to ``requests``."""
    payload = "\n".join(r.SerializeToString().hex() for r in requests)
    code = "from katib_suggestion.testing.contract import answer_stdin; answer_stdin()"
    result = subprocess.run([sys.executable, "-c", code, backend], input=payload, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the fresh process failed:\n{result.stderr[-3000:]}")
    return [api_pb2.GetSuggestionsReply.FromString(bytes.fromhex(line)) for line in result.stdout.split()]


def answer_stdin(argv: list[str] | None = None, reader: Callable[[], str] = sys.stdin.read) -> None:
    """The fresh process: one hex-encoded request per line in, one hex-encoded reply per line out."""
    from katib_suggestion.registry import load_backend

    backend = (argv or sys.argv)[1]
    suggester = Suggester(backend, load_backend(backend))
    for line in reader().split():
        request = api_pb2.GetSuggestionsRequest.FromString(bytes.fromhex(line))
        print(suggester.suggest(request, {}).SerializeToString().hex())
