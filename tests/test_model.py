"""Parameter and SearchSpace arithmetic: feasibility, formatting, enumeration."""

import math
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from katib_suggestion.model import Distribution, Kind, Parameter, SearchSpace
from katib_validators.search_space import parse_search_space

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def numeric_parameters(draw):
    """Parameters built from YAML-like texts by the real parser, as the server builds them."""
    kind = draw(st.sampled_from(["int", "double"]))
    log = draw(st.booleans())
    if kind == "int":
        low = draw(st.integers(1 if log else -1000, 1000))
        high = draw(st.integers(low + 1, low + 5000))
        step = draw(st.one_of(st.none(), st.integers(1, high - low)))
        texts = (str(low), str(high), None if step is None else str(step))
    else:
        decimals = draw(st.integers(0, 6))
        low = round(draw(st.floats(1e-6 if log else -1e6, 1e6, allow_nan=False)), decimals)
        high = round(low + draw(st.floats(10.0 ** -decimals, 1e6, allow_nan=False)), decimals)
        step = draw(st.one_of(st.none(), st.floats(10.0 ** -decimals, max(high - low, 10.0 ** -decimals))))
        texts = (repr(low), repr(high), None if step is None else repr(round(step, decimals)))
    feasible = {"min": texts[0], "max": texts[1], "distribution": "logUniform" if log else "uniform"}
    if texts[2] is not None:
        feasible["step"] = texts[2]
    space, problems = parse_search_space([{"name": "p", "parameterType": kind, "feasibleSpace": feasible}])
    assume(not problems)
    return space.parameters[0]


def _feasible(p: Parameter, value) -> bool:
    if p.choices:
        return value in p.choices
    if not p.low <= value <= p.high:
        return False
    if p.kind is Kind.INT and not isinstance(value, int):
        return False
    if p.step is not None and p.kind is Kind.DOUBLE:
        # on the grid as Katib sees it: the nearest double to min + i * step, in decimal arithmetic
        low, step = Decimal(repr(float(p.low))), Decimal(repr(float(p.step)))
        index = ((Decimal(p.format(value)) - low) / step).to_integral_value()
        return float(low + index * step) == value
    if p.step is not None:
        return (value - p.low) % p.step == 0
    return True


@settings(max_examples=300, deadline=None)
@given(numeric_parameters(), unit)
def test_from_unit_is_always_feasible(parameter, u):
    assert _feasible(parameter, parameter.from_unit(u))


@settings(max_examples=300, deadline=None)
@given(numeric_parameters(), st.floats(-1e8, 1e8, allow_nan=False))
def test_snap_is_always_feasible(parameter, x):
    assert _feasible(parameter, parameter.snap(x))


@settings(max_examples=200, deadline=None)
@given(numeric_parameters(), unit)
def test_formatted_values_parse_back_to_themselves(parameter, u):
    value = parameter.from_unit(u)
    text = parameter.format(value)
    assert parameter.format(parameter.parse(text)) == text
    if parameter.kind is Kind.INT:
        assert "." not in text and "e" not in text


def test_stepped_doubles_print_without_float_noise():
    p = Parameter("d", Kind.DOUBLE, 0.0, 0.5, 0.1)
    assert [p.format(p.value_at(i)) for i in range(p.cardinality())] == ["0.0", "0.1", "0.2", "0.3", "0.4", "0.5"]


def test_cardinality_counts_a_step_that_does_not_divide_the_range():
    assert Parameter("i", Kind.INT, 0, 10, 3).cardinality() == 4  # 0 3 6 9
    assert Parameter("d", Kind.DOUBLE, 0.0, 1.0, 0.3).cardinality() == 4
    assert Parameter("d", Kind.DOUBLE, 0.0, 1.0).cardinality() == 0x3FF0_0000_0000_0000 + 1  # doubles in [0, 1]


def test_discrete_values_keep_their_written_form():
    p = Parameter("m", Kind.DISCRETE, choices=("0.10", "1e-3", "5"))
    assert p.parse("0.1") == "0.10"
    assert p.parse("0.001") == "1e-3"
    assert p.format(p.from_unit(0.99)) == "5"
    with pytest.raises(ValueError):
        p.parse("0.2")


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "11", "-1", "2.5"])
def test_parse_rejects_values_outside_the_space(text):
    with pytest.raises(ValueError):
        Parameter("i", Kind.INT, 0, 10).parse(text)


def test_point_at_and_index_of_are_inverse():
    space = SearchSpace((
        Parameter("a", Kind.INT, 1, 3),
        Parameter("b", Kind.CATEGORICAL, choices=("x", "y")),
        Parameter("c", Kind.DOUBLE, 0.0, 0.2, 0.1),
    ))
    assert space.cardinality() == 18
    keys = {space.key(space.point_at(i)) for i in range(18)}
    assert len(keys) == 18
    assert all(space.index_of(space.point_at(i)) == i for i in range(18))


def test_log_scale_spreads_over_decades():
    p = Parameter("lr", Kind.DOUBLE, 1e-4, 1e-1, distribution=Distribution.LOG_UNIFORM)
    assert math.isclose(p.from_unit(0.5), math.sqrt(1e-4 * 1e-1))
    assert math.isclose(p.to_unit(p.from_unit(0.3)), 0.3)


def test_unit_mapping_of_a_range_wider_than_the_largest_double():
    # high - low overflows to inf here; the mapping must not (nevergrad's plugin and sobol use it)
    p = Parameter("x", Kind.DOUBLE, -1.7e308, 1.7e308)
    assert [p.from_unit(u) for u in (0.0, 0.5, 1.0)] == [-1.7e308, 0.0, 1.7e308]
    assert [p.to_unit(v) for v in (-1.7e308, 0.0, 1.7e308)] == [0.0, 0.5, 1.0]
    assert all(-1.7e308 <= p.from_unit(u / 16) <= 1.7e308 for u in range(17))
