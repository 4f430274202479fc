"""Check a backend declaration (built-in or plugin) before the catalog takes it: names, schemas, version."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from katib_suggestion.model import Distribution
from katib_suggestion.plugin import INTERFACE_VERSION, SUPPORTED_INTERFACES, BackendPlugin
from katib_validators.algorithm import Algorithm
from katib_validators.settings import Setting, SettingsSchema

# A backend name also names an image (katib-suggest-NAME) and an environment value.
BACKEND_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# algorithmName travels in the Experiment resource; no spaces, no upper case surprises.
ALGORITHM_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
KINDS = ("int", "float", "bool", "choice")
RESOURCE_KEYS = ("requests", "limits")


def declaration_problems(declared: Any, entry_name: str) -> list[str]:
    """Everything wrong with the object an entry point named ``entry_name`` registered; [] when usable."""
    if not isinstance(declared, BackendPlugin):
        return [f"registers {type(declared).__name__}, not a katib_suggestion.plugin.BackendPlugin"]
    if declared.interface not in SUPPORTED_INTERFACES:
        supported = ", ".join(map(str, sorted(SUPPORTED_INTERFACES)))
        return [f"is written for plugin interface {declared.interface!r}; this katib-suggest supports "
                f"{supported} (current {INTERFACE_VERSION}): install a release of the plugin for interface "
                f"{INTERFACE_VERSION}, or a katib-suggest that supports {declared.interface!r}"]
    problems = []
    if not isinstance(declared.name, str) or not BACKEND_NAME.match(declared.name):
        problems.append(f"backend name {declared.name!r} must be lowercase letters, digits and dashes, "
                        "starting with a letter (at most 40 characters)")
    elif declared.name != entry_name:
        problems.append(f"declares backend {declared.name!r} under the entry-point name {entry_name!r}; "
                        "make them equal")
    if not isinstance(declared.backend, str) or not re.match(r"^[\w.]+:[\w.]+$", declared.backend):
        problems.append(f"backend {declared.backend!r} must be 'module:attribute' of the object with suggest()")
    if not isinstance(declared.reference, str) or declared.reference and not re.match(r"^[\w.]+:[\w.]+$",
                                                                                       declared.reference):
        problems.append(f"reference {declared.reference!r} must be 'module:attribute' of the reference arm's "
                        "factory (experiment, seed) -> Arm, or empty")
    if not isinstance(declared.image, str) or declared.image and not re.match(
            r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9]$", declared.image) or ":" in declared.image.rsplit("/", 1)[-1]:
        problems.append(f"image {declared.image!r} must be an image repository without a tag, such as "
                        "'ghcr.io/you/katib-suggest-NAME' (the tag is the plugin's version), or empty")
    if not isinstance(declared.requires, tuple) or not all(isinstance(r, str) and r for r in declared.requires):
        problems.append("requires must be a tuple of import names, e.g. ('nevergrad',)")
    problems += _resource_problems(declared.resources)
    problems += _algorithms_problems(declared)
    return problems


def _resource_problems(resources: Any) -> list[str]:
    if not isinstance(resources, Mapping) or not set(resources) <= set(RESOURCE_KEYS) or not all(
            isinstance(v, Mapping) and all(isinstance(k, str) and isinstance(q, str) for k, q in v.items())
            for v in resources.values()):
        return ['resources must look like {"requests": {"memory": "128Mi"}, "limits": {"memory": "256Mi"}}']
    return []


def _algorithms_problems(declared: BackendPlugin) -> list[str]:
    if not isinstance(declared.algorithms, tuple) or not declared.algorithms:
        return ["algorithms must be a non-empty tuple of katib_suggestion.plugin.Algorithm"]
    problems, owner_of = [], {}
    for index, algorithm in enumerate(declared.algorithms):
        if not isinstance(algorithm, Algorithm):
            problems.append(f"algorithms[{index}] is {type(algorithm).__name__}, not an Algorithm")
            continue
        label = f"algorithm {algorithm.key!r}"
        problems += [f"{label}: {p}" for p in _algorithm_problems(algorithm, declared.name)]
        for name in algorithm.names if isinstance(algorithm.names, tuple) else ():
            if name in owner_of:
                problems.append(f"declares the algorithmName {name!r} twice (algorithms {owner_of[name]!r} and "
                                f"{algorithm.key!r}); keep it in one")
            owner_of[name] = algorithm.key
    return problems


def _algorithm_problems(algorithm: Algorithm, backend: str) -> list[str]:
    problems = []
    if algorithm.backend != backend:
        problems.append(f"has backend {algorithm.backend!r}; it must be {backend!r}, the declaring backend")
    if not isinstance(algorithm.key, str) or not algorithm.key:
        problems.append("key must be a non-empty string")
    if not isinstance(algorithm.names, tuple) or not algorithm.names:
        problems.append("names must be a non-empty tuple of algorithmNames, e.g. names(backend, key)")
    else:
        problems += [f"algorithmName {n!r} must be lowercase letters, digits, '.', '_' or '-'"
                     for n in algorithm.names if not isinstance(n, str) or not ALGORITHM_NAME.match(n)]
    if not isinstance(algorithm.summary, str) or not algorithm.summary.strip():
        problems.append("summary must say in one line what the algorithm does")
    if not algorithm.distributions or not all(isinstance(d, Distribution) for d in algorithm.distributions):
        problems.append("distributions must be a non-empty set of katib_suggestion.plugin.Distribution")
    if not all(callable(rule) for rule in algorithm.space_rules):
        problems.append("space_rules must be functions (space, spec) -> list[Problem]")
    if not isinstance(algorithm.schema, SettingsSchema):
        return problems + ["schema must be a katib_suggestion.plugin.SettingsSchema"]
    return problems + schema_problems(algorithm.schema)


def schema_problems(schema: SettingsSchema) -> list[str]:
    """What makes a settings schema unusable: bad kinds, ranges or defaults, names given twice."""
    problems, seen = [], set()
    for index, setting in enumerate(schema.settings):
        if not isinstance(setting, Setting):
            problems.append(f"settings[{index}] is {type(setting).__name__}, not a Setting")
            continue
        problems += [f"setting {setting.name!r}: {p}" for p in _setting_problems(setting)]
        for name in (setting.name, *setting.aliases):
            if name in seen:
                problems.append(f"setting name {name!r} is declared twice (as a name or an alias)")
            seen.add(name)
    if "random_state" not in seen:
        problems.append("declare the random_state setting (katib_suggestion.plugin.RANDOM_STATE): the server "
                        "returns the seed to Katib, which sends it back in every later request")
    if not all(callable(check) for check in schema.checks):
        problems.append("checks must be functions (settings) -> list[(setting name, message)]")
    return problems


def _setting_problems(setting: Setting) -> list[str]:
    if not isinstance(setting.name, str) or not re.match(r"^[A-Za-z][\w.-]*$", setting.name):
        return ["the name must start with a letter (letters, digits, '_', '.', '-')"]
    if setting.kind not in KINDS:
        return [f"kind {setting.kind!r} must be one of {', '.join(KINDS)}"]
    problems = []
    if not isinstance(setting.help, str) or not setting.help.strip():
        problems.append("help must say what the setting does (it is printed in the settings reference)")
    if not isinstance(setting.aliases, tuple) or not all(isinstance(a, str) and a for a in setting.aliases):
        problems.append("aliases must be a tuple of names")
    if setting.kind == "choice":
        if not setting.choices or not all(isinstance(c, str) and c for c in setting.choices):
            problems.append("a choice needs choices, a tuple of strings")
        elif setting.default is not None and setting.default not in setting.choices:
            problems.append(f"default {setting.default!r} is not one of {list(setting.choices)}")
        return problems
    if setting.kind == "bool":
        if setting.default is not None and not isinstance(setting.default, bool):
            problems.append(f"default {setting.default!r} is not True, False or None")
        if setting.low is not None or setting.high is not None or setting.choices:
            problems.append("a bool takes no low, high or choices")
        return problems
    bounds = [b for b in (setting.low, setting.high) if b is not None]
    if not all(isinstance(b, int | float) and not isinstance(b, bool) and math.isfinite(b) for b in bounds):
        return problems + ["low and high must be finite numbers or None"]
    if setting.low is not None and setting.high is not None and setting.low > setting.high:
        problems.append(f"low {setting.low} is above high {setting.high}")
    elif setting.default is not None and not _default_fits(setting):
        problems.append(f"default {setting.default!r} is not a valid value ({setting.describe()})")
    return problems


def _default_fits(setting: Setting) -> bool:
    if isinstance(setting.default, bool) or not isinstance(setting.default, int | float):
        return False
    try:
        return setting.parse(str(setting.default)) == setting.default
    except ValueError:
        return False
