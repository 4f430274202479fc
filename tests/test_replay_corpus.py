"""Replay changes keep every answer: each corpus request gets the reply it got when the corpus was written."""

from __future__ import annotations

import pytest
from katib_api import api_pb2 as pb
from replay_corpus import answer, load, request_of

ENTRIES = load()


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["id"] for entry in ENTRIES])
def test_same_reply_as_when_the_corpus_was_written(entry):
    assert answer(entry["backend"], request_of(entry)) == entry["reply"]


def test_corpus_covers_every_replayed_algorithm_and_state():
    covered = {(entry["backend"], request_of(entry).experiment.spec.algorithm.algorithm_name) for entry in ENTRIES}
    assert {("optuna", "tpe"), ("optuna", "multivariate-tpe"), ("optuna", "cmaes"), ("hyperopt", "tpe"),
            ("hyperopt", "anneal")} <= covered
    conditions = {trial.status.condition for entry in ENTRIES for trial in request_of(entry).trials}
    assert len(conditions) == len(pb.TrialStatus.TrialConditionType.values())  # every condition Katib has
