"""Properties of `katib-suggest init`: what our validators accept, upstream accepts and YAML carries unchanged."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from katib_suggestion.authoring.document import build, problems_of
from katib_suggestion.authoring.inputs import Inputs, suggest_name
from katib_suggestion.authoring.params import parse_param
from katib_suggestion.authoring.render import to_yaml
from katib_suggestion.authoring.trial import TRIAL_KINDS
from katib_validators.counts import check_name
from katib_webhook import experiment_errors

SEEDED = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
# any printable text, commas excepted (they separate list values)
words = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=","), min_size=1,
                max_size=12).filter(str.strip)
numbers = st.sampled_from(["1", "3", "0.5", "1e-5", "1e3", "16", "0.001", "255", "1.5e-2", "0", "-3"])
whole = st.sampled_from(["1", "3", "16", "255", "0", "-3"])


def bounds(values):
    return st.lists(values, min_size=2, max_size=2, unique=True).map(lambda pair: sorted(pair, key=float))


options = st.sampled_from(["", ":log", ":step=0.5", ":normal"])
forms = (st.tuples(bounds(numbers), options).map(lambda t: f"double:{t[0][0]}:{t[0][1]}{t[1]}")
         | st.tuples(bounds(whole), options).map(lambda t: f"int:{t[0][0]}:{t[0][1]}{t[1].replace('0.5', '2')}")
         | st.lists(numbers, min_size=1, max_size=4, unique=True).map(lambda v: f"discrete:{','.join(v)}")
         | st.lists(words | numbers, min_size=1, max_size=4, unique_by=str.strip)
         .map(lambda v: f"categorical:{','.join(v)}"))
names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
valid_names = st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)


@SEEDED
@given(st.text(max_size=60))
def test_suggested_names_always_pass_katib_rules(text):
    assert check_name(suggest_name(text)) == []


@SEEDED
@given(name=valid_names, image=words, command=st.lists(words, min_size=1, max_size=3),
       parameters=st.dictionaries(names, forms, min_size=1, max_size=4), metric=names,
       algorithm=st.sampled_from(["tpe", "random", "hyperopt-random", "bayesianoptimization", "grid", "cmaes"]),
       kind=st.sampled_from(sorted(TRIAL_KINDS)), max_trials=st.integers(1, 12), workers=st.integers(0, 3))
def test_what_validates_is_accepted_upstream_and_survives_yaml(name, image, command, parameters, metric, algorithm,
                                                               kind, max_trials, workers):
    inputs = Inputs(name=name, image=image, command=command, objective=metric, direction="maximize",
                    parameters=[parse_param(f"{n}={form}") for n, form in parameters.items()], algorithm=algorithm,
                    kind=kind, max_trials=max_trials, workers=0 if kind == "Job" else workers)
    doc = build(inputs)
    problems = problems_of(doc, inputs)
    assert all(line.split(": ")[0].startswith(("--", "input")) for line in problems)
    event("valid" if not problems else "refused")
    if not problems:
        assert experiment_errors(doc) == []
        assert yaml.safe_load(to_yaml(doc)) == doc
