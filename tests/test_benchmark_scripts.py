"""Every script in benchmarks/ imports: they are run by hand, so a renamed helper would otherwise
break them silently (three imported quality.latency's ``_start`` after it became ``start_server``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.stem)
def test_the_script_imports(monkeypatch, script):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import their neighbours (tax_arms)
    spec = importlib.util.spec_from_file_location(f"benchmark_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)) or script.stem == "tax_arms"
