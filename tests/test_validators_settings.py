"""Settings rules, tabled from every schema in the catalog (whatever backends it holds)."""

from __future__ import annotations

import pytest
from katib_validators.catalog import ALGORITHMS
from katib_validators.settings import SETTINGS_PATH, Setting, SettingsSchema


def _good(setting: Setting) -> str:
    if setting.default is not None:
        return str(setting.default)
    if setting.kind == "choice":
        return setting.choices[0]
    if setting.low is None:
        return "1"
    if not setting.low_open:
        return str(setting.low)
    if setting.high is not None:
        return str((setting.low + setting.high) / 2)
    return str(setting.low + 1)


def _out_of_range(setting: Setting) -> list[str]:
    if setting.kind == "choice":
        return ["no-such-choice"]
    values = []
    if setting.low is not None:
        values.append(str(setting.low) if setting.low_open else str(setting.low - 1))
    if setting.high is not None:
        values.append(str(setting.high) if setting.high_open else str(setting.high + 1))
    return values


def _unparsable(setting: Setting) -> list[str]:
    if setting.kind == "choice":
        return [""]
    return ["abc", "", "nan"] + (["1.5"] if setting.kind == "int" else [])


def _label(algorithm, setting) -> str:
    return f"{algorithm.backend}-{algorithm.key}-{setting.name}"


PAIRS = [(a, s) for a in ALGORITHMS for s in a.schema.settings]
# rule -> [(label, algorithm, [(name, value)], expected problem path or None)]
RULES: dict[str, list] = {
    "settings.known_names": [
        *[(f"{a.backend}-{a.key}-no-settings", a, [], None) for a in ALGORITHMS],
        *[(f"{a.backend}-{a.key}-unknown", a, [("no_such_setting", "1")], f"{SETTINGS_PATH}[0].name")
          for a in ALGORITHMS],
    ],
    "settings.parse": [
        *[(f"{_label(a, s)}-good", a, [(s.name, _good(s))], None) for a, s in PAIRS],
        *[(f"{_label(a, s)}-{v or 'empty'}", a, [(s.name, v)], f"{SETTINGS_PATH}[0].value")
          for a, s in PAIRS for v in _unparsable(s)],
    ],
    "settings.range": [
        *[(f"{_label(a, s)}-in-range", a, [(s.name, _good(s))], None) for a, s in PAIRS],
        *[(f"{_label(a, s)}-{v}", a, [(s.name, v)], f"{SETTINGS_PATH}[0].value")
          for a, s in PAIRS for v in _out_of_range(s)],
    ],
    "settings.aliases": [
        *[(f"{_label(a, s)}-alias-{alias}", a, [(alias, _good(s))], None)
          for a, s in PAIRS for alias in s.aliases],
        *[(f"{_label(a, s)}-twice", a, [(s.name, _good(s)), (s.name, _good(s))], f"{SETTINGS_PATH}[1].name")
          for a, s in PAIRS],
    ],
}
CASES = [pytest.param(algorithm, pairs, expected, id=f"{rule}/{label}")
         for rule, cases in RULES.items() for label, algorithm, pairs, expected in cases]


@pytest.mark.parametrize("algorithm, pairs, expected", CASES)
def test_setting_rule(algorithm, pairs, expected):
    values, problems = algorithm.schema.parse(pairs, algorithm.key)
    if expected is None:
        assert problems == [], [str(p) for p in problems]
        assert set(values) == {s.name for s in algorithm.schema.settings}
    else:
        assert expected in [p.path for p in problems], [str(p) for p in problems]


def test_unknown_setting_lists_the_known_ones():
    for algorithm in ALGORITHMS:
        _, problems = algorithm.schema.parse([("bogus", "1")], algorithm.key)
        assert all(s.name in problems[0].message for s in algorithm.schema.settings)


def _exclusive(values):
    both = values["low"] is not None and values["high"] is not None and values["low"] >= values["high"]
    return [("high", "high must exceed low")] if both else []


_COMBINED = SettingsSchema((Setting("low", "int", None, "", low=0), Setting("high", "int", None, "", low=0)),
                           checks=(_exclusive,))


@pytest.mark.parametrize("pairs, expected", [
    pytest.param([("low", "1"), ("high", "2")], None, id="settings.combination/consistent"),
    pytest.param([("low", "3"), ("high", "2")], f"{SETTINGS_PATH}[1]", id="settings.combination/contradictory"),
    pytest.param([("low", "3")], None, id="settings.combination/one-given"),
])
def test_cross_setting_checks(pairs, expected):
    _, problems = _COMBINED.parse(pairs, "test")
    assert [p.path for p in problems] == ([] if expected is None else [expected])


def test_catalog_cross_checks_pass_on_defaults():
    for algorithm in ALGORITHMS:
        assert algorithm.schema.parse([], algorithm.key)[1] == []
