"""Start real suggestion servers for tests: in-process on a free port, or as the CLI process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_api import api_pb2_grpc
from katib_suggestion.quality.latency import free_port
from katib_suggestion.server import Config, make_server

KATIB_HEALTH = "manager.v1beta1.Suggestion"


@contextmanager
def in_process_server(backend: str = "optuna"):
    """A started server on 127.0.0.1:<free port>; yields (address, Running)."""
    running = make_server(Config(backend=backend, host="127.0.0.1", port=0))
    running.server.start()
    running.mark_serving()
    try:
        yield f"127.0.0.1:{running.port}", running
    finally:
        running.server.stop(None).wait()


def katib_suggest() -> str:
    """The installed console script next to this interpreter."""
    return str(Path(sys.executable).with_name("katib-suggest"))


class ServerProcess:
    """`katib-suggest serve` as a child process, exactly as the container runs it."""

    def __init__(self, backend: str = "optuna", port: int | None = None, extra=(), env=None, command=None):
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        args = [*(command or [katib_suggest()]), "serve", "--backend", backend, "--host", "127.0.0.1",
                "--port", str(self.port), *extra]
        # faulthandler: a server that does not stop is asked for every thread's stack (see terminate)
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})})

    def wait_serving(self, timeout: float = 30.0) -> float:
        """Seconds until the health check said SERVING (a fresh channel per try: a channel that
        was refused waits out gRPC's reconnect backoff, which would be measured instead)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.process.stdout.read()}")
            with grpc.insecure_channel(self.address) as channel:
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service=KATIB_HEALTH), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return time.monotonic() - start
                except grpc.RpcError:
                    pass
            time.sleep(0.02)
        raise TimeoutError("server did not become SERVING")

    def stub(self, channel):
        return api_pb2_grpc.SuggestionStub(channel)

    def terminate(self, timeout: float = 45.0) -> tuple[int, str]:
        """SIGTERM, as the kubelet sends it; (exit status, output). ``timeout`` covers the server's drain
        and grace periods (1 + 30 s). A server still running then fails the test with its threads' stacks."""
        self.process.send_signal(signal.SIGTERM)
        try:
            output, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack, then it dies
            output, _ = self.process.communicate(timeout=30)
            raise AssertionError(f"the server did not stop {timeout:g} s after SIGTERM:\n{output}") from None
        return self.process.returncode, output

    def kill(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=10)


def log_lines(output: str, pattern: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(pattern, line)]
