"""Servers that are not ours: one running at an address, or one started afresh for every run from a command.

Upstream Katib's suggestion services keep the optimiser of the first
experiment they see in memory (Katib runs one service per experiment), so a
shared server would mix the suite's runs: ``--server-command`` (for example
``docker run --rm -p {port}:6789 IMAGE``) gives every run a server of its own.
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.quality.latency import free_port
from katib_suggestion.quality.runner import Task, experiment_doc
from katib_suggestion.wire import experiment_message

START_TIMEOUT = 300.0  # seconds: a first `docker run` may pull the image
STOP_TIMEOUT = 30.0


class ServerFailed(RuntimeError):
    """The server command exited, or never accepted a connection."""


@contextmanager
def started(template: str, timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Run ``template`` with {port} replaced by a free port; yield HOST:PORT once it accepts gRPC; stop it after."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(shlex.split(template.replace("{port}", str(port))), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            address = f"127.0.0.1:{port}"
            _wait_ready(process, address, timeout, log)
            yield address
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen, address: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace").strip()
            raise ServerFailed(f"the server command exited with status {process.returncode}"
                               + (f": {tail}" if tail else ""))
        with grpc.insecure_channel(address) as channel:  # a fresh channel: a refused one backs off for long
            try:
                grpc.channel_ready_future(channel).result(timeout=1)
                return
            except grpc.FutureTimeoutError:
                continue
    raise ServerFailed(f"the server command did not listen on {address} within {timeout:.0f} s")


def command_problems(template: str, tasks: list[Task]) -> list[str]:
    """Start the command once and ask its server to validate each problem's experiment."""
    if "{port}" not in template:
        return ["--server-command: write {port} where the command takes the port to listen on, e.g. "
                "'docker run --rm -p {port}:6789 IMAGE'"]
    try:
        with started(template) as address:
            return server_problems(address, tasks, option="--server-command")
    except (ServerFailed, OSError) as error:
        return [f"--server-command: {error}"]


def server_problems(address: str, tasks: list[Task], timeout: float = 10.0, option: str = "--address") -> list[str]:
    """A server that is not ours: reachable, and accepting each problem's experiment (ValidateAlgorithmSettings)."""
    with grpc.insecure_channel(address) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return [f"{option}: nothing answers at {address} after {timeout:.0f} s; check HOST:PORT "
                    "(e.g. kubectl port-forward svc/NAME 6789:6789)"]
        stub = api_pb2_grpc.SuggestionStub(channel)
        return [problem for task in {(t.problem, t.parallel): t for t in tasks}.values()
                for problem in _validate(stub, f"{option}: {address}", task)]


def _validate(stub, where: str, task: Task) -> list[str]:
    request = api_pb2.ValidateAlgorithmSettingsRequest(experiment=experiment_message(experiment_doc(task)))
    try:
        stub.ValidateAlgorithmSettings(request, timeout=60)
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN):
            return [f"{where} rejects {task.cell} with settings {dict(task.settings)}: "
                    f"{error.details()} (fix with --settings NAME=VALUE, or NAME= to leave a setting out)"]
        if error.code() != grpc.StatusCode.UNIMPLEMENTED:
            return [f"{where} failed to validate {task.cell}: {error.code().name} {error.details()}"]
    return []
