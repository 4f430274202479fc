"""Our katib-config suggestion entries: image, measured resources and the restricted security context."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from katib_suggestion import __version__
from katib_suggestion.images import REGISTRY, image_for, tagged
from katib_validators.catalog import registered

# A backend that declares no resources (a plugin) gets the largest of ours; --resources overrides it.
UNMEASURED_LIKE = "skopt"

# Pod Security Standard "restricted", on the container: Katib builds the suggestion pod and
# offers no pod-level securityContext. uid/gid 65532 is the image's numeric USER.
SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}

ALL_BACKENDS = "*"  # the key of a patch that applies to every backend


@dataclass(frozen=True)
class EntryOptions:
    """What an operator may change in our entries. Patches are (backend or ALL_BACKENDS, JSON
    merge patch) pairs, applied in order (RFC 7386: a null value removes the key)."""

    registry: str = REGISTRY  # registry and tag of katib-suggest's own images
    tag: str = __version__
    images: tuple[tuple[str, str], ...] = ()  # (backend, image reference): that backend's image, ours or a plugin's
    pull_policy: str = "IfNotPresent"
    service_account: str | None = None  # e.g. one whose imagePullSecrets reach a private registry
    resources: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    security_context: tuple[tuple[str, Mapping[str, Any]], ...] = ()


def entry(name: str, backend: str, options: EntryOptions | None = None) -> dict[str, Any]:
    """The runtime.suggestions entry that serves ``name`` from our ``backend`` image."""
    options = options or EntryOptions()
    result = {
        "algorithmName": name,
        "image": image_of(backend, options),
        "imagePullPolicy": options.pull_policy,
        "resources": _patched(declared_resources(backend), options.resources, backend),
        "securityContext": _patched(SECURITY_CONTEXT, options.security_context, backend),
        "serviceAccountName": options.service_account,
    }
    return {key: value for key, value in result.items() if value not in (None, {})}


def entry_for_image(name: str, backend: str, image: str) -> dict[str, Any]:
    """What ``katib-suggest katib-config --image BACKEND=IMAGE`` writes for ``name``: how an operator
    routes a plugin that declares no image to the one they built (docker/plugins/README.md)."""
    return entry(name, backend, EntryOptions(images=((backend, image),)))


class NoImage(ValueError):
    """A plugin backend to route has no image: neither its declaration nor --image names one."""


def image_of(backend: str, options: EntryOptions) -> str:
    """``--image BACKEND=REF`` (tagged with the backend's version when REF has none); else ours, from
    --registry and --tag; else the plugin's declared repository, tagged with the plugin's version."""
    entry = registered().get(backend)
    version = __version__ if entry is None or entry.builtin else entry.version
    given = dict(options.images).get(backend)
    if given:
        return tagged(given, version)
    if entry is None or entry.builtin:
        return image_for(backend, options.tag, options.registry)
    if entry.plugin.image:
        return tagged(entry.plugin.image, version)
    raise NoImage(f"the {backend} backend ({entry.distribution}) declares no image: give --image "
                  f"{backend}=REGISTRY/katib-suggest-{backend}[:TAG] (build it from docker/Dockerfile with "
                  f"--build-arg BACKEND={backend}; docker/plugins/README.md)")


def declared_resources(backend: str) -> Mapping[str, Any]:
    """The container resources the backend's declaration asks for (ours: measured; see builtin.py)."""
    backends = registered()
    declared = backends[backend].plugin.resources if backend in backends else {}
    return declared or backends[UNMEASURED_LIKE].plugin.resources


def _patched(base: Mapping[str, Any], patches: tuple[tuple[str, Mapping[str, Any]], ...], backend: str) -> Any:
    value: Any = copy.deepcopy(dict(base))
    for target, patch in patches:
        if target in (ALL_BACKENDS, backend):
            value = merge_patch(value, patch)
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with the JSON merge patch ``patch`` applied (RFC 7386); inputs are left as they were."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
