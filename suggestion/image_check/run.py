"""Start a built image exactly as its katib-config entry tells Katib to, and check it end to end."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from katib_suggestion.image_check.container import KILLED, Container, Inside
from katib_suggestion.image_check.engine import Engine
from katib_suggestion.image_check.pod import memory_limit
from katib_suggestion.image_check.targets import READY_WITHIN_SECONDS, ImageTarget
from katib_suggestion.image_check.workloads import run_workloads

# The peak resident memory may reach this share of the limit: the cgroup also counts page cache and
# kernel memory, and another node's kernel or allocator moves the peak by a few MiB.
MEMORY_HEADROOM = 0.9
_ENTRY = "import importlib, json, sys; m, f = sys.argv[1].split(':'); " \
         "print(json.dumps(getattr(importlib.import_module(m), f)(*sys.argv[2:])))"


class CheckFailed(AssertionError):
    """The image does not run as it ships; the message says what was seen."""


@dataclass
class Outcome:
    """What one container run showed."""

    serving_seconds: float | None = None
    peak_kib: int | None = None
    limit_bytes: int | None = None
    notes: list[str] = field(default_factory=list)


def entry_from_image(engine: Engine, image: str, target: ImageTarget) -> dict[str, Any]:
    """The katib-config entry, written by the image's own code (the same function katib-config calls)."""
    function, arguments = target.entry
    result = engine.run("run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", _ENTRY,
                        function, *arguments, timeout=300)
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    if entry.get("image") != image:
        raise CheckFailed(f"the entry names {entry.get('image')}, the build made {image}")
    return entry


def run_as_shipped(engine: Engine, image: str, target: ImageTarget, entry: Mapping[str, Any], root: Path,
                   outcome: Outcome) -> None:
    """Start, check, drive and stop one container; fills ``outcome``; CheckFailed on the first problem."""
    container = Container(engine, image, entry, target.port, f"katib-image-check-{target.name}-{os.getpid()}")
    outcome.limit_bytes = memory_limit(entry)
    try:
        started = container.start()
        outcome.serving_seconds = container.wait_serving(target.health, started, limit=120)
        if outcome.serving_seconds > READY_WITHIN_SECONDS:
            raise CheckFailed(f"SERVING after {outcome.serving_seconds:.1f} s, later than Katib's first readiness "
                              f"probe ({READY_WITHIN_SECONDS:.0f} s)")
        _check_confinement(container.inside(), entry.get("securityContext") or {})

        def after_each(label: str) -> None:
            if not container.running():
                code = container.exit_code()
                why = " (killed: out of memory, or SIGKILL)" if code == KILLED else ""
                raise CheckFailed(f"the server exited with {code}{why} during {label}; logs:\n{container.logs()}")
            inside = container.inside()
            outcome.peak_kib = inside.peak_kib
            if inside.oom_kills:
                raise CheckFailed(f"the memory cgroup OOM-killed {inside.oom_kills} process(es) during {label}")

        outcome.notes += run_workloads(container.address, target.workloads, root, after_each)
        _check_headroom(outcome)
        code, seconds = container.terminate()
        if code != 0:
            raise CheckFailed(f"after SIGTERM: exit {code} in {seconds:.1f} s (want 0 within the grace period); "
                              f"logs:\n{container.logs()}")
        outcome.notes.append(f"SIGTERM -> exit 0 in {seconds:.1f} s")
    finally:
        container.remove()


def _check_headroom(outcome: Outcome) -> None:
    if outcome.limit_bytes and outcome.peak_kib and outcome.peak_kib * 1024 > MEMORY_HEADROOM * outcome.limit_bytes:
        raise CheckFailed(f"peak RSS {outcome.peak_kib / 1024:.0f} MiB is above {MEMORY_HEADROOM:.0%} of the "
                          f"{outcome.limit_bytes / 2 ** 20:.0f} MiB limit: raise the entry's limit "
                          "(suggestion/backends/builtin.py, or the plugin's declared resources)")


def _check_confinement(inside: Inside, context: Mapping[str, Any]) -> None:
    """The process runs as the entry says, and cannot create a file anywhere."""
    problems = []
    if context.get("runAsNonRoot") and inside.uid == 0:
        problems.append("runs as root although runAsNonRoot is set")
    if "runAsUser" in context and (inside.uid, inside.gid) != (context["runAsUser"],
                                                               context.get("runAsGroup", context["runAsUser"])):
        problems.append(f"runs as {inside.uid}:{inside.gid}, the entry says {context['runAsUser']}")
    if "ALL" in (context.get("capabilities") or {}).get("drop", ()) and int(inside.cap_eff, 16):
        problems.append(f"has capabilities {inside.cap_eff} although all are dropped")
    if context.get("allowPrivilegeEscalation") is False and inside.no_new_privs != "1":
        problems.append("may gain privileges (no_new_privs is not set)")
    if context.get("readOnlyRootFilesystem") and inside.writable:
        problems.append(f"can create files in {inside.writable}")
    if problems:
        raise CheckFailed("; ".join(problems))
