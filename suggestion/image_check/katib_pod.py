"""The pod Katib runs the early-stopping container in: one network namespace shared with its DB manager and API doubles.

A Kubernetes pod is a pause container that holds the network namespace and the containers that
join it. Here the holder is a container of the image under check that only waits; it publishes
the pod's ports on the host's loopback (nothing else is bound on the host) and names Katib's DB
manager (``katib-db-manager.kubeflow``, Katib's default db_manager_address) in the pod's hosts
file. The doubles (katib_suggestion.testing) run from the same image and join it, and the
early-stopping container joins it with what the kubelet adds: the service-account mount and the
API's address. ``--network container:<holder>`` works alike in docker and podman (podman's own
pods need a pause image, which a machine without a registry has to build from catatonit).
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from katib_suggestion.image_check.container import serving
from katib_suggestion.image_check.engine import Engine, EngineProblem
from katib_suggestion.image_check.service_account import API_HOST, MOUNT, ServiceAccount, make_service_account
from katib_suggestion.quality.latency import free_port
from katib_suggestion.testing.dbmanager import KATIB_PORT as DB_MANAGER_PORT
from katib_suggestion.testing.kubernetes_api import HTTPS_PORT as API_PORT

DB_MANAGER_HOST = "katib-db-manager.kubeflow"  # Katib's default: katib-db-manager.kubeflow:6789
SERVING_INSIDE = "/etc/katib-image-check/api-serving"
READY_SECONDS = 120.0
# PID 1 of the holder: wait, and leave at once on SIGTERM (PID 1 ignores signals it does not handle)
_HOLD = "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); signal.pause()"


@dataclass(frozen=True)
class PodReach:
    """How the check reaches the pod's doubles from the host, and what the service is told."""

    db_manager: str  # host:port of the DB manager double's published port
    db_manager_address: str  # the address the service gets in GetEarlyStoppingRules (inside the pod)
    api: str  # https://127.0.0.1:port of the Kubernetes API double's published port
    account: ServiceAccount

    def api_call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
        """One request to the API double as the pod's service account; (status, JSON body)."""
        request = urllib.request.Request(self.api + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.account.token}", "Content-Type": "application/json"})
        context = ssl.create_default_context(cafile=str(self.account.ca_file))
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as answer:
                return answer.status, json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


class KatibPod:
    """The holder, the DB manager and Kubernetes API doubles; ``member_flags`` for the container under check."""

    def __init__(self, engine: Engine, image: str, name: str, service_port: int, work: Path):
        self.engine, self.image, self.name, self.service_port = engine, image, name, service_port
        self.holder, self.doubles = f"{name}-pod", {"dbmanager": f"{name}-dbmanager", "api": f"{name}-kubernetes"}
        self.ports = _distinct_ports(3)  # host ports: the service, the DB manager, the API
        self.account = make_service_account(work / "pod")
        self.reach = PodReach(f"127.0.0.1:{self.ports[1]}", f"{DB_MANAGER_HOST}:{DB_MANAGER_PORT}",
                              f"https://{API_HOST}:{self.ports[2]}", self.account)

    @property
    def address(self) -> str:
        """Where the host reaches the container under check."""
        return f"127.0.0.1:{self.ports[0]}"

    @property
    def mounts(self) -> tuple[str, ...]:
        """Paths the engine mounts into a member (they appear in its filesystem diff, not written by it)."""
        return (MOUNT,)

    def member_flags(self) -> list[str]:
        """Flags that put a container in the pod as Katib's early-stopping container is: the pod's network,
        the service-account mount and the API's address (the kubelet's service environment variables)."""
        return ["--network", f"container:{self.holder}", "--volume", f"{self.account.folder}:{MOUNT}:ro",
                "--env", f"KUBERNETES_SERVICE_HOST={API_HOST}", "--env", f"KUBERNETES_SERVICE_PORT={API_PORT}"]

    def start(self) -> None:
        """The holder, then both doubles; EngineProblem unless both answer within READY_SECONDS."""
        self.remove()
        service, db, api = self.ports
        self._run(self.holder, "--publish", f"127.0.0.1:{service}:{self.service_port}",
                  "--publish", f"127.0.0.1:{db}:{DB_MANAGER_PORT}", "--publish", f"127.0.0.1:{api}:{API_PORT}",
                  "--add-host", f"{DB_MANAGER_HOST}:127.0.0.1", command=["-c", _HOLD])
        joined = ["--network", f"container:{self.holder}"]
        self._run(self.doubles["dbmanager"], *joined,
                  command=["-m", "katib_suggestion.testing.dbmanager", "--port", str(DB_MANAGER_PORT)])
        self._run(self.doubles["api"], *joined, "--volume", f"{self.account.folder}:{MOUNT}:ro",
                  "--volume", f"{self.account.serving}:{SERVING_INSIDE}:ro",
                  command=["-m", "katib_suggestion.testing.kubernetes_api", "--port", str(API_PORT),
                           "--cert", f"{SERVING_INSIDE}/tls.crt", "--key", f"{SERVING_INSIDE}/tls.key",
                           "--token-file", f"{MOUNT}/token"])
        began = time.monotonic()
        while not (serving(self.reach.db_manager, "") and self._api_ready()):
            if time.monotonic() - began > READY_SECONDS:
                raise EngineProblem(f"the pod's doubles did not answer within {READY_SECONDS:.0f} s; logs:\n"
                                    f"{self.logs()}")
            time.sleep(0.2)

    def _api_ready(self) -> bool:
        try:
            return self.reach.api_call("GET", "/readyz")[0] == 200
        except OSError:
            return False

    def _run(self, name: str, *flags: str, command: list[str]) -> None:
        self.engine.run("run", "--detach", "--name", name, "--pull=never", *flags, "--entrypoint", "python",
                        self.image, *command, timeout=300)

    def logs(self) -> str:
        parts = []
        for name in (self.holder, *self.doubles.values()):
            result = self.engine.run("logs", "--tail", "20", name, check=False, timeout=60)
            parts.append(f"[{name}] {(result.stdout + result.stderr).strip()}")
        return "\n".join(parts)

    def remove(self) -> None:
        for name in (*self.doubles.values(), self.holder):  # the members first: they use the holder's network
            self.engine.run("rm", "--force", name, check=False, timeout=120)


def _distinct_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
