"""What the early-stopping container is put through over the wire, as Katib's controller and collector call it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.image_check import curves
from katib_suggestion.image_check.workloads import Reach, WorkloadFailed
from katib_suggestion.testing.kubernetes_api import TRIAL_PATH, TRIALS
from katib_validators.early_stopping import SCHEMAS
from katib_validators.settings import Setting

# Katib gives GetEarlyStoppingRules the deadline of GetSuggestions
RULES_SECONDS = 60.0
CALL_SECONDS = 30.0
_COMPARISON = {False: pb.GREATER, True: pb.LESS}  # maximize -> "worse than the threshold"


def refused_value(setting: Setting) -> str:
    """A value just outside what ``setting`` accepts."""
    if setting.kind in ("choice", "bool"):
        return "none-of-these"
    if setting.low is not None:
        edge = setting.low if setting.low_open else setting.low - 1
    elif setting.high is not None:
        edge = setting.high if setting.high_open else setting.high + 1
    else:
        return "not-a-number"
    return str(int(edge)) if setting.kind == "int" else repr(float(edge))


def _code(call, request, timeout: float = CALL_SECONDS) -> tuple[grpc.StatusCode, str, object]:
    try:
        return grpc.StatusCode.OK, "", call(request, timeout=timeout)
    except grpc.RpcError as error:
        return error.code(), error.details() or "", None


def _spec(algorithm: str, pairs) -> pb.ValidateEarlyStoppingSettingsRequest:
    return pb.ValidateEarlyStoppingSettingsRequest(early_stopping=pb.EarlyStoppingSpec(
        algorithm_name=algorithm, algorithm_settings=[pb.EarlyStoppingSetting(name=n, value=v) for n, v in pairs]))


@dataclass(frozen=True)
class SettingsValidation:
    """Every algorithm with no settings and with each setting at its default: OK; each setting just out
    of range, and an unknown algorithm: INVALID_ARGUMENT naming it (what fails the Experiment in Katib)."""

    algorithms: tuple[str, ...]
    label = "ValidateEarlyStoppingSettings"

    def run(self, reach: Reach) -> str:
        validate = api_pb2_grpc.EarlyStoppingStub(reach.channel).ValidateEarlyStoppingSettings
        calls = []
        for algorithm in self.algorithms:
            settings = SCHEMAS[algorithm].settings
            calls += [(algorithm, (), grpc.StatusCode.OK, ""),
                      (algorithm, tuple((s.name, str(s.default)) for s in settings), grpc.StatusCode.OK, "")]
            calls += [(algorithm, ((s.name, refused_value(s)),), grpc.StatusCode.INVALID_ARGUMENT, s.name)
                      for s in settings]
        calls.append(("median-stop", (), grpc.StatusCode.INVALID_ARGUMENT, "algorithmName"))
        for algorithm, pairs, wanted, named in calls:
            code, details, _ = _code(validate, _spec(algorithm, pairs))
            if code != wanted or named not in details:
                raise WorkloadFailed(f"ValidateEarlyStoppingSettings {algorithm} {dict(pairs)}: {code.name} "
                                     f"{details!r}; want {wanted.name}" + (f" naming {named}" if named else ""))
        return f"{len(calls)} validations of {', '.join(self.algorithms)}"


@dataclass(frozen=True)
class StoppingRules:
    """Trials' reports sent to the pod's DB manager (ReportObservationLog), then every algorithm's rule
    asked for with db_manager_address naming it inside the pod; each rule must be the one computed here."""

    succeeded: int  # odd, and 1 + a multiple of 4: medians and quartiles fall on one trial (exact values)
    reports: int
    metric: str = "loss"

    @property
    def label(self) -> str:
        return f"GetEarlyStoppingRules, {self.succeeded} trials x {self.reports} reports ({self.metric})"

    def run(self, reach: Reach) -> str:
        made = curves.trials(f"{self.metric}-{self.succeeded}", self.succeeded, self.reports)
        with grpc.insecure_channel(reach.pod.db_manager) as db_channel:
            report = api_pb2_grpc.DBManagerStub(db_channel).ReportObservationLog
            for index, trial in enumerate(made):
                code, details, _ = _code(report, curves.report_request(trial, index))
                if code != grpc.StatusCode.OK:
                    raise WorkloadFailed(f"the DB manager double refused {trial.name}'s reports: {code.name} {details}")
        rules = api_pb2_grpc.EarlyStoppingStub(reach.channel).GetEarlyStoppingRules
        seconds = []
        for algorithm, (settings, expected) in curves.CASES.items():
            request = curves.rules_request(f"check-{algorithm}", made, self.metric, algorithm, settings,
                                           reach.pod.db_manager_address)
            began = time.monotonic()
            code, details, reply = _code(rules, request, RULES_SECONDS)
            seconds.append(time.monotonic() - began)
            value, step = expected(made, self.metric, settings)
            wanted = [(self.metric, repr(value), _COMPARISON[curves.METRICS[self.metric]], step)]
            got = [(r.name, r.value, r.comparison, r.start_step) for r in reply.early_stopping_rules] if reply else []
            if code != grpc.StatusCode.OK or got != wanted:
                raise WorkloadFailed(f"GetEarlyStoppingRules {algorithm} over {len(made)} trials: {code.name} "
                                     f"{details} {got}; want {wanted}")
        return f"{self.label}: every rule exact, {max(seconds):.1f} s at most"


@dataclass(frozen=True)
class UnreachableDBManager:
    """A DB manager that nobody answers at: UNAVAILABLE naming its address within Katib's deadline."""

    health: tuple[str, ...]
    label = "GetEarlyStoppingRules, DB manager unreachable"

    def run(self, reach: Reach) -> str:
        made = curves.trials("unreachable", 5, 4)
        address = reach.pod.db_manager_address.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
        settings, _ = curves.CASES["medianstop"]
        request = curves.rules_request("check-unreachable", made, "loss", "medianstop", settings, address)
        began = time.monotonic()
        code, details, _ = _code(api_pb2_grpc.EarlyStoppingStub(reach.channel).GetEarlyStoppingRules, request,
                                 RULES_SECONDS)
        if code != grpc.StatusCode.UNAVAILABLE or address not in details:
            raise WorkloadFailed(f"with no DB manager at {address}: {code.name} {details!r}; "
                                 "want UNAVAILABLE naming it")
        _still_serving(reach, self.health)
        return f"UNAVAILABLE naming {address} in {time.monotonic() - began:.1f} s, still SERVING"


@dataclass(frozen=True)
class TrialStatusUpdate:
    """SetTrialStatus as Katib's metrics collector calls it, the service configured the way a pod is (its
    service account's token, ca.crt and namespace): the Trial gets upstream's EarlyStopped condition, once."""

    health: tuple[str, ...]
    label = "SetTrialStatus through the Kubernetes API"

    def run(self, reach: Reach) -> str:
        pod, trial = reach.pod, "check-early-stopped"
        namespace = pod.account.namespace
        created, body = pod.api_call("POST", TRIALS.format(namespace=namespace), json.dumps({
            "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial", "metadata": {"name": trial}}).encode())
        if created != 201:
            raise WorkloadFailed(f"the Kubernetes API double did not create the Trial: {created} {body}")
        set_status = api_pb2_grpc.EarlyStoppingStub(reach.channel).SetTrialStatus
        for attempt in ("first", "repeated"):
            code, details, _ = _code(set_status, pb.SetTrialStatusRequest(trial_name=trial))
            stopped = self._early_stopped(pod, trial, namespace)
            if code != grpc.StatusCode.OK or len(stopped) != 1:
                raise WorkloadFailed(f"{attempt} SetTrialStatus({trial}): {code.name} {details!r}; the Trial's "
                                     f"EarlyStopped conditions: {stopped} (want exactly one)")
        code, details, _ = _code(set_status, pb.SetTrialStatusRequest(trial_name="no-such-trial"))
        if code != grpc.StatusCode.NOT_FOUND or "no-such-trial" not in details or namespace not in details:
            raise WorkloadFailed(f"SetTrialStatus(no-such-trial): {code.name} {details!r}; want NOT_FOUND naming "
                                 f"the trial and namespace {namespace}")
        _still_serving(reach, self.health)
        return f"{trial} in {namespace} marked EarlyStopped once (called twice); a missing Trial NOT_FOUND"

    @staticmethod
    def _early_stopped(pod, trial: str, namespace: str) -> list[dict]:
        status, body = pod.api_call("GET", TRIAL_PATH.format(namespace=namespace, name=trial))
        if status != 200:
            raise WorkloadFailed(f"reading the Trial back: {status} {body}")
        return [c for c in (body.get("status") or {}).get("conditions") or [] if c.get("type") == "EarlyStopped"
                and c.get("status") == "True" and c.get("reason") == "TrialEarlyStopped"]


def _still_serving(reach: Reach, names: tuple[str, ...]) -> None:
    health = health_pb2_grpc.HealthStub(reach.channel)
    for name in names:
        reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=CALL_SECONDS)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise WorkloadFailed(f"health for {name!r} is {reply.status} after an error answer, not SERVING")
