"""The per-call fast paths (parser, unit map, point keys) agree with the general rules they stand in for."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from katib_suggestion.model import Kind, Parameter, SearchSpace
from katib_validators.search_space import parse_search_space
from test_model import numeric_parameters

LIST_PARAMETER = parse_search_space([{"name": "d", "parameterType": "discrete",
                                      "feasibleSpace": {"list": ["0.1", "2", "1e-3"]}}])[0].parameters[0]


def _texts(p: Parameter):
    """Texts a request may carry for ``p``: its values written several ways, neighbours, junk."""
    inside = st.floats(p.low, p.high, allow_nan=False) if p.choices == () else st.nothing()
    numbers = st.one_of(inside, st.floats(allow_nan=True, allow_infinity=True),
                        st.integers(-(2**70), 2**70), st.sampled_from([p.low, p.high]))
    written = numbers.flatmap(lambda x: st.sampled_from([repr(x), str(x), f"{x:.3e}" if isinstance(x, float) else
                                                         str(x), f" {x} ", f"{x}.0", str(x).replace("e", "E")]))
    return st.one_of(written, st.text(max_size=6), st.sampled_from(["", "nan", "-0.0", "1_0", "0x10", "inf"]))


def _outcome(function, text):
    try:
        return "value", function(text)
    except ValueError:
        return "error", None


def _same(a, b) -> bool:
    if a[0] != b[0]:
        return False
    x, y = a[1], b[1]
    return type(x) is type(y) and (x == y or x != x and y != y) and math.copysign(1, x) == math.copysign(1, y) \
        if isinstance(x, float) else (type(x) is type(y) and x == y)


@settings(max_examples=300, deadline=None)
@given(numeric_parameters().flatmap(lambda p: st.tuples(st.just(p), _texts(p))))
def test_parser_gives_what_the_general_rule_gives(case):
    p, text = case
    assert _same(_outcome(p.parser, text), _outcome(p._parse_number, text))


@given(_texts(LIST_PARAMETER))
def test_list_parser_is_the_choice_rule(text):
    assert _outcome(LIST_PARAMETER.parser, text) == _outcome(LIST_PARAMETER._parse_choice, text)


def _unit_by_definition(p: Parameter, value) -> float:
    """to_unit as it was written before it was specialised per parameter."""
    if p.cardinality() == 1:
        return 0.5
    if p.is_finite and not p.is_log:
        return (p.index_of(value) + 0.5) / p.cardinality()
    if p.is_log:
        return (math.log(value) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
    span = p.high - p.low
    if math.isinf(span):
        return (float(value) / 2 - p.low / 2) / (p.high / 2 - p.low / 2)
    return (float(value) - p.low) / span


@settings(max_examples=300, deadline=None)
@given(numeric_parameters(), st.floats(0, 1))
def test_unit_map_is_bit_for_bit_the_definition(p, u):
    value = p.from_unit(u)
    assert p.to_unit(value) == _unit_by_definition(p, value)


@settings(max_examples=200, deadline=None)
@given(numeric_parameters(), st.floats(0, 1), st.floats(0, 1), st.data())
def test_keys_are_equal_exactly_when_the_texts_are(p, u, v, data):
    space = SearchSpace((p, LIST_PARAMETER))
    points = []
    for w in (u, v):
        value = p.from_unit(w)
        # the same number as another type, negative zero, a neighbour: what a plugin may propose
        value = data.draw(st.sampled_from([value, float(value), np.float64(value), -0.0 * (value == 0) or value,
                                           math.nextafter(float(value), math.inf), float("nan")]))
        if p.kind is Kind.INT and isinstance(value, float) and not math.isfinite(value):
            value = int(p.low)
        points.append({p.name: value, "d": data.draw(st.sampled_from(list(LIST_PARAMETER.choices)))})
    a, b = points
    assert (space.key(a) == space.key(b)) == (space.format(a) == space.format(b))
    assert (hash(space.key(a)) == hash(space.key(b))) or space.key(a) != space.key(b)


@settings(max_examples=300, deadline=None)
@given(numeric_parameters(), st.floats(0, 1), st.integers(-3, 3))
def test_indexer_is_index_of(p, u, offset):
    value = p.from_unit(u)
    if p.kind is Kind.INT:  # near and beyond the ends too: both clamp
        value = value + offset * (p.step or 1) if isinstance(value, int) else value
    assert p.indexer(value) == p.index_of(value)


def _quantile_by_definition(p: Parameter, value: float) -> float:
    """hyperopt's unit coordinate as it was written before its constants were worked out per call."""
    from katib_suggestion.backends import hyperopt_space as hs

    low, high = hs._scale(p)
    value = min(max(value, p.low), p.high)
    y = math.log(value) if p.is_log else float(value)
    normal = hs._normal(p, low, high)
    if normal is not None:
        mu, sigma = normal
        u = (hs._STANDARD.cdf((y - mu) / sigma) - hs._P_LOW) / (hs._P_HIGH - hs._P_LOW)
    else:
        u = (y - low) / (high - low)
    return min(max(u, 0.0), 1.0)


def _with_distribution(p: Parameter, distribution: str) -> Parameter:
    feasible = {"min": repr(p.low), "max": repr(p.high), "distribution": distribution}
    space, problems = parse_search_space([{"name": "p", "parameterType": "double", "feasibleSpace": feasible}])
    return p if problems else space.parameters[0]


@settings(max_examples=300, deadline=None)
@given(numeric_parameters(), st.sampled_from(["uniform", "logUniform", "normal", "logNormal"]),
       st.floats(0, 1), st.floats(-1e-9, 1e-9))
def test_hyperopt_unit_coordinate_is_bit_for_bit_the_definition(p, distribution, u, nudge):
    from katib_suggestion.backends.hyperopt_space import codec_for

    if p.kind is Kind.DOUBLE and p.step is None:
        p = _with_distribution(p, distribution)
    codec = codec_for(p)
    value = p.from_unit(u)
    if codec.shape == "unit":
        value = float(value) + nudge * max(1.0, abs(float(value)))  # a rounding error outside, too
        assert codec.converter(value) == _quantile_by_definition(p, value)
    else:
        assert codec.converter(value) == p.index_of(value)
