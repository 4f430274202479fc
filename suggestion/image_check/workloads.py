"""What a suggestion container is put through over the wire: the example experiments, the largest accepted calls."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import grpc
import yaml
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import experiment
from katib_suggestion.testing.histories import history
from katib_suggestion.testing.wire_check import validate_and_drive
from katib_suggestion.wire import experiment_message

if TYPE_CHECKING:
    from katib_suggestion.image_check.katib_pod import PodReach

# Generous: a loaded machine must not turn the check red; the seconds are printed, and speed is
# judged by the benchmarks (Katib itself cancels a GetSuggestions after 60 s).
CALL_SECONDS = 300.0
# Large requests: 10,000 trials of history are several MiB
CHANNEL_OPTIONS = [("grpc.max_send_message_length", 256 << 20), ("grpc.max_receive_message_length", 256 << 20)]


class WorkloadFailed(AssertionError):
    """The server answered wrongly or not at all; the message says which call."""


@dataclass(frozen=True)
class Reach:
    """What a workload reaches: the checked service, the repository, and the pod's doubles when it has some."""

    channel: grpc.Channel
    root: Path
    pod: PodReach | None = None


@dataclass(frozen=True)
class Examples:
    """Every Experiment in these files, validated and then driven to maxTrialCount as the controller does."""

    files: tuple[str, ...]  # paths from the repository root

    label = "example experiments"

    def run(self, reach: Reach) -> str:
        stub = api_pb2_grpc.SuggestionStub(reach.channel)
        trials = 0
        for name in self.files:
            doc = yaml.safe_load((reach.root / name).read_text())
            report = validate_and_drive(stub, doc, call_timeout=CALL_SECONDS)
            wanted = doc["spec"]["maxTrialCount"]
            if len(report.trials) != wanted or report.failed_calls:
                raise WorkloadFailed(f"{name}: {len(report.trials)} of {wanted} trials, failed calls "
                                     f"{report.failed_calls[:3]}")
            trials += len(report.trials)
        return f"{len(self.files)} experiments, {trials} trials"


@dataclass(frozen=True)
class LargestCall:
    """One GetSuggestions at the largest sizes Validate accepts: ``trials`` finished trials, ``count`` wanted."""

    label: str
    algorithm: str
    settings: Mapping[str, str] = field(default_factory=dict)
    trials: int = 10_000  # the history every memory budget is sized for (katib_validators.budget)
    count: int = 4
    experiment_file: str | None = None  # its parameters instead of the latency benchmark's 5-parameter space

    def run(self, reach: Reach) -> str:
        stub = api_pb2_grpc.SuggestionStub(reach.channel)
        message = self.message(reach.root)
        try:
            stub.ValidateAlgorithmSettings(pb.ValidateAlgorithmSettingsRequest(experiment=message),
                                           timeout=CALL_SECONDS)
        except grpc.RpcError as error:
            raise WorkloadFailed(f"{self.label}: Validate refused it ({error.code().name}: {error.details()}); "
                                 "declare a case it accepts") from error
        request = pb.GetSuggestionsRequest(experiment=message, trials=history(message, self.trials),
                                           current_request_number=self.count,
                                           total_request_number=self.trials + self.count)
        began = time.monotonic()
        try:
            reply = stub.GetSuggestions(request, timeout=CALL_SECONDS)
        except grpc.RpcError as error:
            raise WorkloadFailed(f"{self.label}: {error.code().name}: {error.details()}") from error
        if len(reply.parameter_assignments) != self.count:
            raise WorkloadFailed(f"{self.label}: {len(reply.parameter_assignments)} assignments, not {self.count}")
        return f"{self.label} in {time.monotonic() - began:.1f} s"

    def message(self, root: Path) -> pb.Experiment:
        if self.experiment_file:
            message = experiment_message(yaml.safe_load((root / self.experiment_file).read_text()))
            message.spec.algorithm.algorithm_name = self.algorithm
        else:
            message = experiment(self.algorithm)
        message.spec.max_trial_count = self.trials + self.count
        message.spec.parallel_trial_count = self.count
        for name, value in self.settings.items():
            message.spec.algorithm.algorithm_settings.add(name=name, value=value)
        return message


class Workload(Protocol):
    """What a checked container is put through: ``run`` makes the stubs it needs from ``reach``
    and returns a note for the log, raising WorkloadFailed when an answer is wrong."""

    label: str

    def run(self, reach: Reach) -> str: ...


def run_workloads(address: str, workloads: Sequence[Workload], root: Path, after_each: Callable[[str], None],
                  pod: PodReach | None = None) -> list[str]:
    """Run each workload against ``address``; ``after_each(label)`` checks the container in between."""
    notes = []
    with grpc.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        for workload in workloads:
            notes.append(workload.run(Reach(channel, root, pod)))
            after_each(workload.label)
    return notes
