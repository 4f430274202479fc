"""The one place our container images are named: repository per backend, tag = package version."""

from __future__ import annotations

from katib_suggestion import __version__

REGISTRY = "ghcr.io/katib-suggest"  # registry and path the release workflow pushes to
IMAGE_PREFIX = "katib-suggest-"


def image_for(backend: str, version: str = __version__, registry: str = REGISTRY) -> str:
    """Our image for ``backend``, e.g. ghcr.io/katib-suggest/katib-suggest-optuna:0.1.0; ``registry``
    names a mirror (``registry.example.com/ml``) that holds the same images under the same names."""
    return f"{registry.rstrip('/')}/{IMAGE_PREFIX}{backend}:{version}"


def backend_of(image: str) -> str | None:
    """B when ``image`` is ours for backend B (last path segment ``katib-suggest-B``, any
    registry, organisation or tag); None for anyone else's image. B need not exist."""
    if not isinstance(image, str):
        return None
    repository = image.split("@", 1)[0]
    last = repository.rsplit("/", 1)[-1].split(":", 1)[0]  # a ':' before the last '/' is a registry port
    if last.startswith(IMAGE_PREFIX) and len(last) > len(IMAGE_PREFIX):
        return last[len(IMAGE_PREFIX):]
    return None


def has_tag(reference: str) -> bool:
    """Whether an image reference pins a tag or digest (a ':' before the last '/' is a registry port)."""
    return "@" in reference or ":" in reference.rsplit("/", 1)[-1]


def tagged(reference: str, tag: str) -> str:
    """``reference`` as given when it has a tag or digest, else with ``tag``."""
    return reference if has_tag(reference) else f"{reference}:{tag}"
