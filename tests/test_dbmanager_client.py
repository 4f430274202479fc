"""The DB-manager client against a DBManager server started here: values, filters, retries, deadline."""

from __future__ import annotations

import grpc
import pytest
from katib_suggestion.errors import DependencyUnavailable, InvalidRequest
from katib_suggestion.quality.latency import free_port
from katib_suggestion.stopping.dbmanager import DBManagerConfig, ObservationLogs
from katib_suggestion.testing.dbmanager import db_manager

FAST = DBManagerConfig(call_timeout=5.0, attempts=3, backoff=0.01, budget=30.0)


def test_reads_one_metric_of_one_trial_in_time_order():
    with db_manager() as (address, db):
        db.report("t-1", "loss", ["0.9", "0.5", "unavailable", "0.4", "nan"])
        db.report("t-1", "accuracy", ["0.1", "0.2"])
        db.report("t-2", "loss", ["7"])
        with ObservationLogs(address, FAST) as logs:
            assert logs.values("t-1", "loss") == (0.9, 0.5, 0.4)  # text that is no finite number is left out
            assert logs.values("t-1", "accuracy") == (0.1, 0.2)
            assert logs.values("t-3", "loss") == ()
        assert db.calls == [("t-1", "loss"), ("t-1", "accuracy"), ("t-3", "loss")]


def test_unavailable_is_retried_a_bounded_number_of_times():
    with db_manager() as (address, db):
        db.report("t-1", "loss", [1, 2])
        db.failures = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]
        with ObservationLogs(address, FAST) as logs:
            assert logs.values("t-1", "loss") == (1.0, 2.0)
        db.failures = [grpc.StatusCode.UNAVAILABLE] * 3
        with ObservationLogs(address, FAST) as logs, pytest.raises(DependencyUnavailable, match="after 3 tries"):
            logs.values("t-1", "loss")
        assert len(db.calls) == 6


def test_other_errors_are_not_retried():
    with db_manager() as (address, db):
        db.failures = [grpc.StatusCode.INTERNAL]
        with ObservationLogs(address, FAST) as logs, pytest.raises(DependencyUnavailable, match="INTERNAL"):
            logs.values("t-1", "loss")
        assert len(db.calls) == 1


def test_a_db_manager_that_never_answers_ends_at_the_deadline():
    config = DBManagerConfig(call_timeout=0.2, attempts=2, backoff=0.01, budget=5.0)
    with db_manager() as (address, db):
        db.hang.set()
        with ObservationLogs(address, config) as logs, pytest.raises(DependencyUnavailable, match="DEADLINE_EXCEEDED"):
            logs.values("t-1", "loss")


def test_nobody_listening_is_unavailable_not_a_hang():
    address = f"127.0.0.1:{free_port()}"
    with ObservationLogs(address, FAST) as logs, pytest.raises(DependencyUnavailable, match=address):
        logs.values("t-1", "loss")


@pytest.mark.parametrize("address", ["", "katib-db-manager"])
def test_an_address_without_port_is_refused(address):
    with pytest.raises(InvalidRequest, match="is not host:port"):
        ObservationLogs(address)
