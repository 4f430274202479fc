"""Start a built image exactly as its katib-config entry tells Katib to, and check it end to end."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from katib_suggestion.image_check.container import KILLED, Container, Inside
from katib_suggestion.image_check.engine import Engine
from katib_suggestion.image_check.katib_pod import KatibPod
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
    function = target.entry[0]
    result = engine.run("run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", _ENTRY,
                        function, *entry_arguments(target, image), timeout=300)
    entry = json.loads(result.stdout.strip().splitlines()[-1])
    if entry.get("image") != image:
        raise CheckFailed(f"the entry names {entry.get('image')}, the build made {image}")
    return entry


def entry_arguments(target: ImageTarget, image: str) -> list[str]:
    """The entry function's arguments, ``{image}`` replaced by the image built."""
    return [argument.replace("{image}", image) for argument in target.entry[1]]


def run_as_shipped(engine: Engine, image: str, target: ImageTarget, entry: Mapping[str, Any], root: Path,
                   outcome: Outcome, work: Path) -> None:
    """Start, check, drive and stop one container; fills ``outcome``; CheckFailed on the first problem."""
    name = f"katib-image-check-{target.name}-{os.getpid()}"
    pod = KatibPod(engine, image, name, target.port, work) if target.in_pod else None
    container = Container(engine, image, entry, target.port, name, pod)
    context = entry.get("securityContext") or {}
    read_only = bool(context.get("readOnlyRootFilesystem"))
    outcome.limit_bytes = memory_limit(entry)
    try:
        if pod:
            pod.start()
        started = container.start()
        outcome.serving_seconds = container.wait_serving(target.health, started, limit=120)
        if outcome.serving_seconds > READY_WITHIN_SECONDS:
            raise CheckFailed(f"SERVING after {outcome.serving_seconds:.1f} s, later than Katib's first readiness "
                              f"probe ({READY_WITHIN_SECONDS:.0f} s)")
        _check_confinement(container.inside(places=read_only), context, engine.image_user(image))

        def after_each(label: str) -> None:
            if not container.running():
                code = container.exit_code()
                why = " (killed: out of memory, or SIGKILL)" if code == KILLED else ""
                raise CheckFailed(f"the server exited with {code}{why} during {label}; logs:\n{container.logs()}")
            inside = container.inside()
            outcome.peak_kib = inside.peak_kib
            if inside.oom_kills:
                raise CheckFailed(f"the memory cgroup OOM-killed {inside.oom_kills} process(es) during {label}")

        outcome.notes += run_workloads(container.address, target.workloads, root, after_each,
                                       pod.reach if pod else None)
        _check_headroom(outcome)
        code, seconds = container.terminate()
        if code != 0:
            raise CheckFailed(f"after SIGTERM: exit {code} in {seconds:.1f} s (want 0 within the grace period); "
                              f"logs:\n{container.logs()}")
        outcome.notes.append(f"SIGTERM -> exit 0 in {seconds:.1f} s")
        if not read_only:
            _check_wrote_nothing(container.changes(), (*(pod.mounts if pod else ()), *engine.own_changes))
            outcome.notes.append("root filesystem writable, as the entry leaves it: nothing written to it")
    finally:
        container.remove()
        if pod:
            pod.remove()


def _check_headroom(outcome: Outcome) -> None:
    if outcome.limit_bytes and outcome.peak_kib and outcome.peak_kib * 1024 > MEMORY_HEADROOM * outcome.limit_bytes:
        raise CheckFailed(f"peak RSS {outcome.peak_kib / 1024:.0f} MiB is above {MEMORY_HEADROOM:.0%} of the "
                          f"{outcome.limit_bytes / 2 ** 20:.0f} MiB limit: raise the entry's limit "
                          "(suggestion/backends/builtin.py, the plugin's declared resources, or "
                          "suggestion/stopping/declaration.py)")


def _check_confinement(inside: Inside, context: Mapping[str, Any], image_user: str = "") -> None:
    """The process runs as the entry says, or as the image's USER where the entry sets no user (Katib's
    earlyStoppings entries have no securityContext), never as root; and where the entry makes the root
    read-only, it cannot create a file anywhere."""
    problems = []
    if inside.uid == 0:
        problems.append("runs as root" + (" although runAsNonRoot is set" if context.get("runAsNonRoot") else ""))
    if "runAsUser" in context:
        wanted, source = (context["runAsUser"], context.get("runAsGroup", context["runAsUser"])), "the entry"
    else:
        numeric = re.fullmatch(r"(\d+)(?::(\d+))?", image_user)
        if not numeric:
            problems.append(f"the entry sets no user, so the image's USER {image_user!r} decides: make it a numeric "
                            "non-root uid:gid (Kubernetes can only check a number against runAsNonRoot)")
        wanted = (int(numeric.group(1)), int(numeric.group(2) or inside.gid)) if numeric else None
        source = "the image's USER"
    if wanted and (inside.uid, inside.gid) != wanted:
        problems.append(f"runs as {inside.uid}:{inside.gid}, {source} says {wanted[0]}:{wanted[1]}")
    dropped = "ALL" in (context.get("capabilities") or {}).get("drop", ())
    if int(inside.cap_eff, 16) and (dropped or inside.uid != 0):
        problems.append(f"has capabilities {inside.cap_eff} although "
                        + ("all are dropped" if dropped else "it does not run as root"))
    if context.get("allowPrivilegeEscalation") is False and inside.no_new_privs != "1":
        problems.append("may gain privileges (no_new_privs is not set)")
    if context.get("readOnlyRootFilesystem") and inside.writable:
        problems.append(f"can create files in {inside.writable}")
    if problems:
        raise CheckFailed("; ".join(problems))


def _check_wrote_nothing(changes: list[tuple[str, str]], engine_made: tuple[str, ...]) -> None:
    """Where the entry leaves the root writable, the container's changes against its image must all be
    the engine's: its mount points, its own files, and their parent folders."""
    ignored = set()
    for path in engine_made:
        # Debian's /var/run is a link to /run: engines report a mount under it at the link's target
        for alias in {path, re.sub(r"^/var/run/", "/run/", path)}:
            ignored |= {alias, *map(str, PurePosixPath(alias).parents)}
    written = [f"{kind} {path}" for kind, path in changes if path not in ignored]
    if written:
        raise CheckFailed(f"the server wrote to its root filesystem: {', '.join(written[:10])} (Katib leaves it "
                          "writable, but ephemeral storage is limited and lost on restart: write nothing)")
