"""Merge our suggestion entries into an existing katib-config, leaving every other setting as it was."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from katib_suggestion.deploy.entries import EntryOptions, entry

CONFIG_KEY = "katib-config.yaml"
API_VERSION, KIND = "config.kubeflow.org/v1beta1", "KatibConfig"
# Written by the API server; a re-applied copy must not carry them (a stale resourceVersion
# makes `kubectl apply` fail with a conflict), and apply rewrites the annotation itself.
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
DEFAULTS = EntryOptions()
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same result, faster


class KatibConfigError(ValueError):
    """The input is not a katib-config this command can merge into; the message says why."""


@dataclass(frozen=True)
class Document:
    """A katib-config as read: the KatibConfig, and the ConfigMap around it (None for a bare file)."""

    config: dict[str, Any]
    config_map: dict[str, Any] | None = None
    header: str = ""  # leading comment lines of a bare file, kept as they were


@dataclass(frozen=True)
class Change:
    name: str
    before: str | None  # the image that served the name, None when the name is new
    after: str


def read(text: str) -> Document:
    """Parse ``kubectl get configmap katib-config -o yaml`` (or -o json) output, or a KatibConfig file."""
    try:
        documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as error:
        raise KatibConfigError(f"not valid YAML: {' '.join(str(error).split())}") from error
    if len(documents) != 1 or not isinstance(documents[0], Mapping):
        raise KatibConfigError(f"expected one ConfigMap or KatibConfig, found {len(documents)} documents")
    document = documents[0]
    if document.get("kind") == KIND:
        return Document(_checked(document, "the file"), None, _header(text))
    if document.get("kind") != "ConfigMap":
        raise KatibConfigError(f"expected the katib-config ConfigMap or a KatibConfig, got kind "
                               f"{document.get('kind')!r}")
    data = document.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get(CONFIG_KEY), str):
        raise KatibConfigError(f"the ConfigMap has no data.{CONFIG_KEY}; is it Katib's katib-config (v0.16 or "
                               "later)?")
    try:
        config = yaml.load(data[CONFIG_KEY], Loader=_Loader)
    except yaml.YAMLError as error:
        raise KatibConfigError(f"data.{CONFIG_KEY} is not valid YAML: {' '.join(str(error).split())}") from error
    return Document(_checked(config, f"data.{CONFIG_KEY}"), dict(document))


def _checked(config: Any, where: str) -> dict[str, Any]:
    if not isinstance(config, Mapping) or config.get("kind") != KIND:
        raise KatibConfigError(f"{where} is not a {API_VERSION} {KIND}")
    runtime = config.get("runtime", {})
    if not isinstance(runtime, Mapping) or not isinstance(runtime.get("suggestions", []), list):
        raise KatibConfigError(f"{where}: runtime.suggestions must be a list")
    return dict(config)


def _header(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def merge(config: Mapping[str, Any], routes: Mapping[str, str],
          options: EntryOptions = DEFAULTS) -> tuple[dict[str, Any], list[Change]]:
    """``config`` with an entry of ours for every routed name: an existing entry of that name is
    replaced where it stands (a duplicate, which Katib would shadow, is dropped), a new name is
    appended. Every other key and entry is left exactly as it was; ``config`` is not modified."""
    wanted = {name: entry(name, backend, options) for name, backend in routes.items()}
    return merge_section(config, "suggestions", wanted)


def merge_section(config: Mapping[str, Any], section: str,
                  wanted: Mapping[str, dict[str, Any]]) -> tuple[dict[str, Any], list[Change]]:
    """``merge`` for any ``runtime`` list of ``{algorithmName, image, ...}`` entries (suggestions, earlyStoppings)."""
    result = copy.deepcopy(dict(config))
    runtime = result.setdefault("runtime", {})
    old = runtime.get(section) or []
    placed: set[str] = set()
    merged, changes = [], []
    for item in old:
        name = item.get("algorithmName") if isinstance(item, Mapping) else None
        if name not in wanted:
            merged.append(item)
        elif name not in placed:
            placed.add(name)
            merged.append(wanted[name])
            if item != wanted[name]:
                changes.append(Change(name, item.get("image"), wanted[name]["image"]))
    for name, new in wanted.items():
        if name not in placed:
            merged.append(new)
            changes.append(Change(name, None, new["image"]))
    runtime[section] = merged
    return result, changes


def render(document: Document, config: Mapping[str, Any]) -> str:
    """``document`` with ``config`` in it: the ConfigMap without server-written fields, or the file."""
    if document.config_map is None:
        return document.header + dump(config)
    config_map = copy.deepcopy(document.config_map)
    metadata = config_map.get("metadata")
    if isinstance(metadata, dict):
        for key in SERVER_FIELDS:
            metadata.pop(key, None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED, None)
            if not annotations:
                metadata.pop("annotations")
    config_map.pop("status", None)
    config_map["data"] = {**config_map["data"], CONFIG_KEY: dump(config)}
    return dump(config_map)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """A unified diff of the two KatibConfigs, both in the form ``render`` writes."""
    return "".join(difflib.unified_diff(dump(before).splitlines(keepends=True),
                                        dump(after).splitlines(keepends=True),
                                        f"{CONFIG_KEY} (now)", f"{CONFIG_KEY} (with katib-suggest)"))


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """kubectl's block style (libyaml's emitter when present: 200x faster, same text), no anchors,
    multi-line strings as ``|``."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _string)


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True,
                     width=4096)
