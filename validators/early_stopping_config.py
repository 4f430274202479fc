"""Check a KatibConfig's runtime.earlyStoppings: an entry with our early-stopping image names an algorithm it serves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.images import backend_of, image_for
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_validators.early_stopping import ALGORITHMS
from katib_validators.problems import Problem

PATH = "runtime.earlyStoppings"


def check_early_stopping_entries(entries: Any) -> list[Problem]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        return [Problem(PATH, "list the early-stopping services as {algorithmName, image}", entries)]
    problems = []
    for index, entry in enumerate(entries):
        where = f"{PATH}[{index}]"
        name = entry.get("algorithmName") if isinstance(entry, Mapping) else None
        image = entry.get("image") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name or not isinstance(image, str) or not image:
            problems.append(Problem(where, "each entry needs algorithmName and image", entry))
        elif backend_of(image) == EARLY_STOPPING.name and name not in ALGORITHMS:
            problems.append(Problem(f"{where}.algorithmName", f"{image_for(EARLY_STOPPING.name)} serves "
                                                              f"{', '.join(ALGORITHMS)}", name))
        elif backend_of(image) not in (None, EARLY_STOPPING.name):
            problems.append(Problem(f"{where}.image", f"this is a suggestion image; early stopping is served by "
                                                      f"{image_for(EARLY_STOPPING.name)}", image))
    return problems
