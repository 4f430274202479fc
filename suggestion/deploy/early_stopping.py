"""Our katib-config earlyStoppings entries, and which early-stopping names a katib-config sends to us."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from katib_suggestion.deploy.entries import EntryOptions, _patched, image_of
from katib_suggestion.deploy.katib_config import Change, merge_section
from katib_suggestion.deploy.routes import UPSTREAM
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_validators.early_stopping import ALGORITHMS

SECTION = "earlyStoppings"
UPSTREAM_NAMES = ("medianstop",)  # upstream Katib's early-stopping algorithms (image earlystopping-medianstop)
SELECTIONS = {"all": ALGORITHMS, "new": tuple(n for n in ALGORITHMS if n not in UPSTREAM_NAMES), "none": ()}


class EarlyStoppingRouteError(ValueError):
    """An --early-stopping selection that names something we do not serve."""


def early_stopping_names(selection: str) -> tuple[str, ...]:
    """``all`` (default: upstream's medianstop routed to us, and ours), ``new`` (only names upstream
    lacks: its medianstop entry stays), ``none``, or a comma-separated list of names."""
    if selection in SELECTIONS:
        return SELECTIONS[selection]
    names = tuple(filter(None, (part.strip() for part in selection.split(","))))
    unknown = [n for n in names if n not in ALGORITHMS]
    if unknown or not names:
        raise EarlyStoppingRouteError(f"--early-stopping: katib-suggest serves {', '.join(ALGORITHMS)}; give "
                                      f"all, new, none or a list of those (got {selection!r})")
    return names


def default_selection(algorithms: str) -> str:
    """Follow --algorithms: a drop-in of upstream's names (``upstream``, alone or with a plugin's names)
    takes medianstop too; otherwise upstream's stays."""
    return "all" if UPSTREAM in (part.strip() for part in algorithms.split(",")) else "new"


def early_stopping_entry(name: str, options: EntryOptions | None = None) -> dict[str, Any]:
    """The earlyStoppings entry for ``name`` (Katib's EarlyStoppingConfig: image, imagePullPolicy,
    resources; it has no securityContext or serviceAccountName)."""
    options = options or EntryOptions()
    return {"algorithmName": name, "image": image_of(EARLY_STOPPING.name, options),
            "imagePullPolicy": options.pull_policy,
            "resources": _patched(EARLY_STOPPING.resources, options.resources, EARLY_STOPPING.name)}


def merge_early_stoppings(config: Mapping[str, Any], names: tuple[str, ...],
                          options: EntryOptions) -> tuple[dict[str, Any], list[Change]]:
    """``config`` with our entry for each of ``names``; every other earlyStoppings entry kept."""
    if not names:
        return dict(config), []
    return merge_section(config, SECTION, {name: early_stopping_entry(name, options) for name in names})
