"""Where a field named like ``spec.parameters[0].feasibleSpace.min`` is written in YAML: its line number."""

from __future__ import annotations

import re

import yaml

_INDEX = re.compile(r"\[(\d+)\]")


def document_nodes(text: str) -> list[yaml.Node | None]:
    """The composed node of each document of ``text`` (None for an empty one); [] when it does not parse."""
    try:
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except Exception:  # noqa: BLE001 - the data loader reports the syntax error; lines are a nicety
        return []


def line_of(node: yaml.Node | None, path: str) -> int | None:
    """1-based line of ``path`` in ``node``; of its deepest written ancestor when the field itself is
    missing (a missing min points at its feasibleSpace); None without a node."""
    if node is None:
        return None
    written, rest = node, path  # the key (or list item) written last on the way down
    while rest:
        found = _step(node, rest)
        if found is None:
            break
        written, node, rest = found
    return written.start_mark.line + 1


def _step(node: yaml.Node, path: str) -> tuple[yaml.Node, yaml.Node, str] | None:
    """(where it is written, the child named at the start of ``path``, what is left of the path)."""
    index = _INDEX.match(path)
    if index and isinstance(node, yaml.SequenceNode):
        position = int(index.group(1))
        if position >= len(node.value):
            return None
        child = node.value[position]
        return child, child, path[index.end():].removeprefix(".")
    if not isinstance(node, yaml.MappingNode):
        return None
    # keys may hold dots (sidecar.istio.io/inject): the longest key that fits wins
    matches = [(key, value) for key, value in node.value if isinstance(key.value, str) and
               (path == key.value or path.startswith((f"{key.value}.", f"{key.value}[")))]
    if not matches:
        return None
    key, value = max(matches, key=lambda pair: len(pair[0].value))
    return key, value, path[len(key.value):].removeprefix(".")
