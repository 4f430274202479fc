"""README's settings reference is the one generated from the schemas."""

from pathlib import Path

import pytest
from katib_validators.catalog import ALGORITHMS
from katib_validators.reference import END, START, render, replace_between_markers

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_matches_the_schemas():
    text = README.read_text(encoding="utf-8")
    assert replace_between_markers(text, render()) == text, \
        "README.md is stale: run python -m katib_validators.reference --write README.md"


def test_every_algorithm_and_setting_is_in_the_table():
    table = render()
    for algorithm in ALGORITHMS:
        assert all(f"`{name}`" in table for name in algorithm.names)
        assert all(f"| `{s.name}` |" in table for s in algorithm.schema.settings)


def test_missing_markers_are_an_error():
    with pytest.raises(ValueError):
        replace_between_markers("no markers", render())
    assert replace_between_markers(f"a{START}old{END}b", "new\n") == f"a{START}\nnew\n{END}b"
