"""The one place our container images are named: repository per backend, tag = package version."""

from __future__ import annotations

from katib_suggestion import __version__

REPOSITORY_PREFIX = "ghcr.io/katib-suggest/"
IMAGE_PREFIX = "katib-suggest-"


def image_for(backend: str, version: str = __version__) -> str:
    """Our published image for ``backend``, e.g. ghcr.io/katib-suggest/katib-suggest-optuna:0.1.0."""
    return f"{REPOSITORY_PREFIX}{IMAGE_PREFIX}{backend}:{version}"


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
