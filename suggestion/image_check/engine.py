"""The container engine the check drives: docker when its daemon answers, else podman, set up to run here."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class EngineProblem(Exception):
    """Containers cannot be built or run on this machine; the message says why and what to do."""


@dataclass
class Engine:
    """One container engine command (``podman`` or ``docker``) and the environment it runs with."""

    name: str
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def run(self, *args: str, timeout: float = 600, check: bool = True, input: str | None = None
            ) -> subprocess.CompletedProcess:
        result = subprocess.run([self.name, *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise EngineProblem(f"`{self.name} {' '.join(args[:3])} ...` failed ({result.returncode}): "
                                f"{(result.stderr or result.stdout).strip()[-1500:]}")
        return result

    @property
    def podman(self) -> bool:
        return self.name == "podman"

    @property
    def own_changes(self) -> tuple[str, ...]:
        """Files the engine itself writes into a container: the network files and a marker of its own;
        podman also adds the container's user to /etc/passwd and /etc/group when the image has no
        entry for its uid (ours has none)."""
        mine = ("/etc/passwd", "/etc/group", "/run/.containerenv") if self.podman else ("/.dockerenv",)
        return ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", *mine)

    def image_user(self, image: str) -> str:
        """The image's USER (``uid:gid`` in ours), what a container runs as when nothing sets one."""
        return self.run("image", "inspect", "--format", "{{.Config.User}}", image, timeout=60).stdout.strip()

    def image_size(self, image: str) -> int:
        """The image's size in bytes, as the engine reports it."""
        return int(self.run("image", "inspect", "--format", "{{.Size}}", image, timeout=60).stdout.strip())


def find_engine(wanted: str | None, work: Path) -> Engine:
    """``wanted`` or the first engine that works: docker with a live daemon, then podman (its
    settings file goes to ``work``)."""
    names = [wanted] if wanted else ["docker", "podman"]
    tried = []
    for name in names:
        if shutil.which(name) is None:
            tried.append(f"{name}: not installed")
            continue
        engine = Engine(name)
        if engine.podman:
            engine.env.update(podman_settings(work))
        probe = engine.run("info", timeout=120, check=False)
        if probe.returncode == 0:
            return engine
        tried.append(f"{name}: {(probe.stderr or probe.stdout).strip().splitlines()[-1:] or ['no answer']}")
    raise EngineProblem("no container engine works here (" + "; ".join(tried) + "). Install podman "
                        "(apt-get install podman runc) or start docker's daemon.")


def podman_settings(work: Path) -> dict[str, str]:
    """CONTAINERS_CONF for podman on this host, unless the caller set one.

    Two defaults fail on hosts like our CI machines: crun refuses hybrid cgroups ("cgroups in hybrid
    mode not supported"), and podman's default nofile (1048576) is above the host's hard limit
    ("setrlimit RLIMIT_NOFILE: Operation not permitted"). runc works everywhere crun does, and
    ulimits equal to the host's hard limits change nothing a container could otherwise get.
    """
    if os.environ.get("CONTAINERS_CONF"):
        return {}
    lines = ["[containers]", f'default_ulimits = ["nofile={_limit(resource.RLIMIT_NOFILE)}", '
                             f'"nproc={_limit(resource.RLIMIT_NPROC, 32768)}"]']
    if shutil.which("runc"):
        lines += ["[engine]", 'runtime = "runc"']
    work.mkdir(parents=True, exist_ok=True)
    path = work / "containers.conf"
    path.write_text("\n".join(lines) + "\n")
    return {"CONTAINERS_CONF": str(path)}


def _limit(which: int, cap: int = 1 << 20) -> str:
    _, hard = resource.getrlimit(which)
    value = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
    return f"{value}:{value}"


def check_containers_run(engine: Engine, image: str) -> None:
    """Fail with a plain sentence when this machine cannot start a container at all."""
    result = engine.run("run", "--rm", "--network", "none", image, "true", timeout=300, check=False)
    if result.returncode != 0:
        raise EngineProblem(
            f"containers cannot run on this machine ({engine.name} run failed: "
            f"{(result.stderr or result.stdout).strip()[-800:]}). The image check needs a host that can "
            "start containers (namespaces and cgroups: root, or user namespaces enabled).")
