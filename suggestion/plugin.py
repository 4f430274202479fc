"""The public plugin interface (version 1): how a package adds a backend that katib-suggest serves.

A backend is declared by a ``BackendPlugin`` object registered under the
entry-point group ``katib_suggest.backends``; the entry-point name is the
backend name (``katib-suggest serve --backend NAME``). In ``pyproject.toml``::

    [project.entry-points."katib_suggest.backends"]
    nevergrad = "katib_suggest_nevergrad.declaration:PLUGIN"

The built-in optuna, hyperopt and skopt backends are registered the same way.

The declaration module must be cheap to import (no optimisation library): the
catalog reads every declaration whenever the CLI starts, to validate
experiments, render the settings reference and write katib-config entries. The
``backend`` string names the object that implements ``suggest`` (see
``katib_suggestion.backend.Backend``); it is imported only by a server that
serves this backend, after the server reports SERVING.

Contract of ``suggest``: see ``katib_suggestion.backend.Backend``, the one
place that says it (including who removes repeats and when a short batch is
allowed); ``katib_suggestion.testing`` checks it. Settings arrive parsed and
with defaults applied in ``request.experiment.settings`` (``random_state``
always set). Errors raised on purpose are ``SuggestionError``s (for example
``SearchSpaceExhausted``); a space rule returns ``Problem``s.

Versioning: ``interface`` is the version of this module a plugin was written
against. A host accepts the versions in ``SUPPORTED_INTERFACES``; a change that
would break a plugin (a renamed field of the model, a different ``suggest``
signature) raises ``INTERFACE_VERSION`` and keeps the old one supported for a
release where it can. Additions (new optional fields) keep the version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from katib_suggestion.backend import Backend
from katib_suggestion.errors import BackendUnavailable, SearchSpaceExhausted, SuggestionError
from katib_suggestion.model import (
    Direction,
    Distribution,
    Experiment,
    Kind,
    Objective,
    Parameter,
    Point,
    Proposal,
    SearchSpace,
    SuggestionRequest,
    Trial,
    TrialState,
    Value,
)
from katib_validators.algorithm import ALL_DISTRIBUTIONS, LINEAR, Algorithm, SpaceRule, names
from katib_validators.problems import Problem
from katib_validators.settings import RANDOM_STATE, SEED_ONLY, Setting, SettingsSchema

INTERFACE_VERSION = 1
SUPPORTED_INTERFACES = frozenset({1})
ENTRY_POINT_GROUP = "katib_suggest.backends"


class PluginError(BackendUnavailable):
    """An installed plugin cannot be used (import error, duplicate name, invalid declaration).

    Raised when the catalog is first read, so every command stops at start-up
    with a message that names the distribution to fix or uninstall.
    """


@dataclass(frozen=True)
class BackendPlugin:
    """One backend: its name, the algorithms it serves, and where its ``suggest`` lives.

    ``name`` is the backend name (lowercase letters, digits and dashes; it also
    names the image ``katib-suggest-NAME``) and must equal the entry-point name.
    ``algorithms`` declare every algorithmName with its settings schema; each
    has ``backend == name``. ``backend`` is ``"module:attribute"`` of an object
    with ``suggest(request) -> Proposal``. ``requires`` lists the import names
    of the libraries ``backend`` needs, checked at start-up without importing
    them; ``install`` is the command that installs them (default: reinstall the
    distribution). ``resources`` are the suggestion container's Kubernetes
    resources (``{"requests": {...}, "limits": {...}}``) when the backend needs
    more than Katib's defaults (limits: cpu 500m, memory 100Mi). ``reference``
    is ``"module:attribute"`` of the benchmark's reference arm, a factory
    ``(experiment, seed) -> Arm`` that drives the library directly (see
    ``katib_suggestion.quality.reference.Arm``; its docstring's first line is
    what the report says the arm does); without one, ``katib-suggest
    benchmark`` runs the plugin without a reference arm and says so.
    ``image`` is the repository of the plugin's suggestion image without a tag
    (``ghcr.io/you/katib-suggest-NAME``); ``katib-suggest katib-config`` tags it
    with the plugin distribution's version (``--image NAME=REF`` overrides it).
    """

    name: str
    algorithms: tuple[Algorithm, ...]
    backend: str
    interface: int
    requires: tuple[str, ...] = ()
    install: str = ""
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    reference: str = ""
    image: str = ""


__all__ = [
    "ALL_DISTRIBUTIONS", "ENTRY_POINT_GROUP", "INTERFACE_VERSION", "LINEAR", "RANDOM_STATE", "SEED_ONLY",
    "SUPPORTED_INTERFACES", "Algorithm", "Backend", "BackendPlugin", "Direction", "Distribution", "Experiment",
    "Kind", "Objective", "Parameter", "PluginError", "Point", "Problem", "Proposal", "SearchSpace",
    "SearchSpaceExhausted", "Setting", "SettingsSchema", "SpaceRule", "SuggestionError", "SuggestionRequest", "Trial",
    "TrialState", "Value", "names",
]
