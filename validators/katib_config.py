"""Check a KatibConfig: every algorithm mapped to one of our images is served by that image."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.images import backend_of, image_for
from katib_validators.catalog import BACKENDS, backends_serving, served_by
from katib_validators.early_stopping_config import check_early_stopping_entries
from katib_validators.problems import Problem, guarded

API_VERSION = "config.kubeflow.org/v1beta1"
KIND = "KatibConfig"
PATH = "runtime.suggestions"


def check_katib_config(config: Any) -> list[Problem]:
    """Problems of a KatibConfig document (the value of katib-config.yaml); never raises."""
    return guarded(PATH, lambda: _check(config))


def _check(config: Any) -> list[Problem]:
    runtime = config.get("runtime") if isinstance(config, Mapping) else None
    suggestions = runtime.get("suggestions") if isinstance(runtime, Mapping) else None
    if not isinstance(suggestions, list):
        return [Problem(PATH, "list the suggestion services as {algorithmName, image}", suggestions)]
    problems = []
    for index, entry in enumerate(suggestions):
        problems += _check_entry(entry, f"{PATH}[{index}]")
    return problems + check_early_stopping_entries(runtime.get("earlyStoppings"))


def _check_entry(entry: Any, where: str) -> list[Problem]:
    if not isinstance(entry, Mapping):
        return [Problem(where, "each entry needs algorithmName and image", entry)]
    name, image = entry.get("algorithmName"), entry.get("image")
    problems = []
    if not isinstance(name, str) or not name:
        problems.append(Problem(f"{where}.algorithmName", "name the algorithm this image serves", name))
    if not isinstance(image, str) or not image:
        problems.append(Problem(f"{where}.image", "give the image that serves this algorithm", image))
    backend = backend_of(image)
    if problems or backend is None:
        return problems  # someone else's image (upstream hyperband, enas, ...): not ours to judge
    if backend not in BACKENDS:
        images = ", ".join(image_for(b) for b in BACKENDS)
        return [Problem(f"{where}.image", f"katib-suggest has no {backend} image; ours are {images}", image)]
    if name in served_by(backend):
        return []
    owners = backends_serving(name)
    fix = f"use {' or '.join(image_for(b) for b in owners)}" if owners else \
        f"this image serves {', '.join(sorted(served_by(backend)))}"
    return [Problem(f"{where}.image", f"the {backend} image does not serve {name}; {fix}", image)]
