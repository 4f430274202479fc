"""A katib-config suggestion entry turned into container-engine flags, as the kubelet would apply it.

Every key of the entry is either applied or refused: a field added to our entries later
cannot be skipped by the check without the check saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from katib_suggestion.image_check.engine import Engine

# What Katib adds to the container it builds from the entry (pkg/controller.v1beta1/suggestion/composer):
# the port it dials and, for the pod, Kubernetes' default termination grace period.
TERMINATION_GRACE_SECONDS = 30
_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}
_DECIMAL = {"": 1, "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "m": 10 ** -3}


class UnsupportedSetting(ValueError):
    """The entry sets something the check cannot reproduce with a container engine."""


def quantity(text: Any) -> float:
    """A Kubernetes resource quantity (``128Mi``, ``500m``, ``1``) as a number of bytes or cores."""
    match = re.fullmatch(r"([0-9.]+)([KMGT]i|[kMGTm]?)", str(text).strip())
    if not match:
        raise UnsupportedSetting(f"resource quantity {text!r} is not one the check can read")
    number, suffix = float(match.group(1)), match.group(2)
    return number * (_BINARY.get(suffix) or _DECIMAL[suffix])


def memory_limit(entry: Mapping[str, Any]) -> int | None:
    limit = (entry.get("resources") or {}).get("limits", {}).get("memory")
    return None if limit is None else int(quantity(limit))


def run_flags(engine: Engine, entry: Mapping[str, Any], network: Sequence[str]) -> list[str]:
    """``<engine> run`` flags for a container built from ``entry`` (image excluded); ``network`` says
    where it listens: a published port, or a pod's network (image_check.katib_pod)."""
    known = {"algorithmName", "image", "imagePullPolicy", "resources", "securityContext", "env",
             "serviceAccountName"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise UnsupportedSetting(f"the entry sets {', '.join(unknown)}, which the image check does not apply")
    flags = ["--pull=never", *network]
    flags += _security_flags(engine, entry.get("securityContext") or {})
    flags += _resource_flags(entry.get("resources") or {})
    for variable in entry.get("env") or ():
        flags += ["--env", f"{variable['name']}={variable.get('value', '')}"]
    return flags


# securityContext values that need no flag: the engine's default already, or applied with
# runAsUser (runAsGroup), or verified once the container runs (runAsNonRoot: its uid is read)
_NO_FLAG = {("privileged", False), ("readOnlyRootFilesystem", False), ("allowPrivilegeEscalation", True),
            ("seccompProfile", "RuntimeDefault")}
_VERIFIED = ("runAsNonRoot", "runAsGroup")


def _security_flags(engine: Engine, context: Mapping[str, Any]) -> list[str]:
    flags: list[str] = []
    for key, value in context.items():
        plain = value.get("type") if key == "seccompProfile" and isinstance(value, Mapping) else value
        if key in _VERIFIED or (not isinstance(plain, Mapping) and (key, plain) in _NO_FLAG):
            continue
        if key == "readOnlyRootFilesystem" and value is True:
            # Kubernetes mounts nothing writable at /tmp; podman's --read-only alone would add tmpfs there
            flags += ["--read-only"] + (["--read-only-tmpfs=false"] if engine.podman else [])
        elif key == "allowPrivilegeEscalation" and value is False:
            flags += ["--security-opt", "no-new-privileges"]
        elif key == "capabilities":
            flags += [f for cap in value.get("drop", ()) for f in ("--cap-drop", cap)]
            flags += [f for cap in value.get("add", ()) for f in ("--cap-add", cap)]
        elif key == "runAsUser":
            flags += ["--user", f"{value}:{context.get('runAsGroup', value)}"]
        elif (key, plain) == ("seccompProfile", "Unconfined"):
            flags += ["--security-opt", "seccomp=unconfined"]
        else:
            raise UnsupportedSetting(f"securityContext.{key}: {value!r} is not applied by the image check")
    return flags


def _resource_flags(resources: Mapping[str, Any]) -> list[str]:
    limits = resources.get("limits") or {}
    flags = []
    if "memory" in limits:
        # no swap: Kubernetes nodes run without it by default, so the limit is the whole memory
        memory = str(int(quantity(limits["memory"])))
        flags += ["--memory", memory, "--memory-swap", memory]
    if "cpu" in limits:
        flags += ["--cpus", f"{quantity(limits['cpu']):g}"]
    # ephemeral-storage cannot be enforced by the engine: a read-only root makes it moot, and where an
    # entry leaves the root writable (early stopping) the check reads the container's changes instead
    return flags
