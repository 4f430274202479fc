"""The conformance kit for backends (built-in and plugins): contract checks, a pytest suite, a quality hook.

- ``conformance``: the checks (``check_*``); ``requests``: the fabricated experiments and histories they use;
- ``pytest_plugin.ConformanceTests``: all checks as a pytest class to subclass;
- ``quality``: compare an algorithm with a reference arm on the benchmark problems.
"""

from __future__ import annotations

_EXPORTS = {"ConformanceTests": "pytest_plugin", "Case": "requests", "compare": "quality"}


def __getattr__(name: str):
    # lazy, so `import katib_suggestion.testing.conformance` in a fresh process does not import pytest
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
