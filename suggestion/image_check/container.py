"""One container started from a katib-config entry: its health, what it may do inside, its memory, its stop."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from katib_suggestion.image_check.engine import Engine, EngineProblem
from katib_suggestion.image_check.pod import TERMINATION_GRACE_SECONDS, run_flags
from katib_suggestion.image_check.probe import WRITABLE_PLACES
from katib_suggestion.quality.latency import free_port

if TYPE_CHECKING:
    from katib_suggestion.image_check.katib_pod import KatibPod

KILLED = 137  # 128 + SIGKILL: how the kernel's OOM killer (or the grace period's end) shows in the exit code

# Run inside the container with its own user, capabilities and mounts: what PID 1 (the server)
# runs as, its peak resident memory, the memory cgroup's OOM kills, and with --places where a file
# can still be created (/dev/shm aside: Kubernetes mounts a writable tmpfs there too, not part of
# the root). The probe of places creates and deletes files: on a writable root it would change
# the container's filesystem, which the check of a writable root reads (run.py).
_INSIDE = WRITABLE_PLACES + r"""
import json, re, sys
def status(key):
    with open("/proc/1/status") as f:
        return next(line.split()[1:] for line in f if line.startswith(key + ":"))
def oom_kills():
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            found = re.search(r"^oom_kill (\d+)", open(path).read(), re.M)
        except OSError:
            continue
        if found:
            return int(found.group(1))
    return None
places = writable_places(skip=["/dev/shm"]) if "--places" in sys.argv else []
print(json.dumps({"uid": int(status("Uid")[0]), "gid": int(status("Gid")[0]), "cap_eff": status("CapEff")[0],
                  "no_new_privs": status("NoNewPrivs")[0], "peak_kib": int(status("VmHWM")[0]),
                  "oom_kills": oom_kills(), "writable": places}))
"""


@dataclass
class Inside:
    """What the container's PID 1 runs as and what it could write, read from inside."""

    uid: int
    gid: int
    cap_eff: str
    no_new_privs: str
    peak_kib: int
    oom_kills: int | None
    writable: list[str]


class Container:
    """``<engine> run -d`` of ``image`` with the entry's settings; stopped and removed by ``remove``."""

    def __init__(self, engine: Engine, image: str, entry: Mapping[str, Any], container_port: int, name: str,
                 pod: KatibPod | None = None):
        """Alone with ``container_port`` published on the host's loopback, or a member of ``pod``."""
        self.engine, self.image, self.name = engine, image, name
        if pod is None:
            port = free_port()
            network = ["--publish", f"127.0.0.1:{port}:{container_port}"]
            self.address = f"127.0.0.1:{port}"
        else:
            network, self.address = pod.member_flags(), pod.address
        self.flags = run_flags(engine, entry, network)

    def start(self) -> float:
        """Start it; returns the monotonic time of the start command."""
        self.engine.run("rm", "--force", self.name, check=False, timeout=120)
        started = time.monotonic()
        self.engine.run("run", "--detach", "--name", self.name, *self.flags, self.image, timeout=300)
        return started

    def wait_serving(self, services: Sequence[str], started: float, limit: float) -> float:
        """Seconds from ``started`` until every name in ``services`` reports SERVING; EngineProblem after ``limit``."""
        pending = list(services)
        while pending:
            if time.monotonic() - started > limit:
                raise EngineProblem(f"not SERVING for {pending} within {limit:.0f} s; logs:\n{self.logs()}")
            if not self.running():
                raise EngineProblem(f"exited with {self.exit_code()} before SERVING; logs:\n{self.logs()}")
            pending = [name for name in pending if not serving(self.address, name)]
            if pending:
                time.sleep(0.05)
        return time.monotonic() - started

    def inside(self, places: bool = False) -> Inside:
        """What PID 1 runs as and its memory; with ``places``, where a file can be created (see _INSIDE)."""
        result = self.engine.run("exec", self.name, "python", "-c", _INSIDE, *(["--places"] if places else []),
                                 timeout=120)
        return Inside(**json.loads(result.stdout.strip().splitlines()[-1]))

    def running(self) -> bool:
        state = self.engine.run("inspect", "--format", "{{.State.Running}}", self.name, check=False, timeout=60)
        return state.stdout.strip() == "true"

    def exit_code(self) -> int | None:
        state = self.engine.run("inspect", "--format", "{{.State.ExitCode}}", self.name, check=False, timeout=60)
        return int(state.stdout.strip()) if state.stdout.strip().lstrip("-").isdigit() else None

    def terminate(self, grace: float = TERMINATION_GRACE_SECONDS) -> tuple[int | None, float]:
        """SIGTERM, as the kubelet sends it; (exit code, seconds) once it exits or the grace period ends."""
        began = time.monotonic()
        self.engine.run("kill", "--signal", "TERM", self.name, timeout=60)
        while self.running():
            if time.monotonic() - began > grace:
                self.engine.run("kill", "--signal", "KILL", self.name, check=False, timeout=60)
                return None, time.monotonic() - began
            time.sleep(0.1)
        return self.exit_code(), time.monotonic() - began

    def logs(self, lines: int = 40) -> str:
        result = self.engine.run("logs", "--tail", str(lines), self.name, check=False, timeout=60)
        return (result.stdout + result.stderr).strip()

    def changes(self) -> list[tuple[str, str]]:
        """The container's filesystem changes against its image: (kind A/C/D, path)."""
        result = self.engine.run("diff", self.name, timeout=120)
        return [(line[0], line[2:]) for line in result.stdout.splitlines() if line[1:2] == " "]

    def remove(self) -> None:
        self.engine.run("rm", "--force", self.name, check=False, timeout=120)


def serving(address: str, service: str) -> bool:
    """Whether a health Check of ``service`` at ``address`` answers SERVING (as a kubelet gRPC probe asks)."""
    # a fresh channel per try: a refused channel would wait out gRPC's reconnect backoff
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                              timeout=1)  # the kubelet probe's default timeout
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING

