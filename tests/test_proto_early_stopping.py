"""The EarlyStopping and DBManager messages and services are wire-identical to Katib v1beta1 (read at 33c8ff4)."""

import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from katib_api import api_pb2

FIELDS = {  # EarlyStoppingRule is checked with the Suggestion messages (test_proto_contract.py)
    ("GetEarlyStoppingRulesRequest", "experiment"): (1, F.TYPE_MESSAGE),
    ("GetEarlyStoppingRulesRequest", "trials"): (2, F.TYPE_MESSAGE),
    ("GetEarlyStoppingRulesRequest", "db_manager_address"): (3, F.TYPE_STRING),
    ("GetEarlyStoppingRulesReply", "early_stopping_rules"): (1, F.TYPE_MESSAGE),
    ("ValidateEarlyStoppingSettingsRequest", "early_stopping"): (1, F.TYPE_MESSAGE),
    ("SetTrialStatusRequest", "trial_name"): (1, F.TYPE_STRING),
    ("GetObservationLogRequest", "trial_name"): (1, F.TYPE_STRING),
    ("GetObservationLogRequest", "metric_name"): (2, F.TYPE_STRING),
    ("GetObservationLogRequest", "start_time"): (3, F.TYPE_STRING),
    ("GetObservationLogRequest", "end_time"): (4, F.TYPE_STRING),
    ("GetObservationLogReply", "observation_log"): (1, F.TYPE_MESSAGE),
    ("ObservationLog", "metric_logs"): (1, F.TYPE_MESSAGE),
    ("MetricLog", "time_stamp"): (1, F.TYPE_STRING),
    ("MetricLog", "metric"): (2, F.TYPE_MESSAGE),
}
METHODS = {
    "EarlyStopping": {"GetEarlyStoppingRules": ("GetEarlyStoppingRulesRequest", "GetEarlyStoppingRulesReply"),
                      "SetTrialStatus": ("SetTrialStatusRequest", "SetTrialStatusReply"),
                      "ValidateEarlyStoppingSettings": ("ValidateEarlyStoppingSettingsRequest",
                                                        "ValidateEarlyStoppingSettingsReply")},
    "DBManager": {"ReportObservationLog": ("ReportObservationLogRequest", "ReportObservationLogReply"),
                  "GetObservationLog": ("GetObservationLogRequest", "GetObservationLogReply"),
                  "DeleteObservationLog": ("DeleteObservationLogRequest", "DeleteObservationLogReply")},
}


@pytest.mark.parametrize(("message", "field"), sorted(FIELDS))
def test_field_numbers_and_types(message, field):
    descriptor = api_pb2.DESCRIPTOR.message_types_by_name[message].fields_by_name[field]
    assert (descriptor.number, descriptor.type) == FIELDS[message, field]


def test_replies_without_fields_and_the_comparison_enum():
    for reply in ("SetTrialStatusReply", "ValidateEarlyStoppingSettingsReply"):
        assert not api_pb2.DESCRIPTOR.message_types_by_name[reply].fields
    comparison = api_pb2.DESCRIPTOR.enum_types_by_name["ComparisonType"]
    assert {v.name: v.number for v in comparison.values} == {"UNKNOWN_COMPARISON": 0, "EQUAL": 1, "LESS": 2,
                                                              "GREATER": 3}


@pytest.mark.parametrize("service", sorted(METHODS))
def test_services(service):
    methods = api_pb2.DESCRIPTOR.services_by_name[service].methods_by_name
    assert {name: (m.input_type.name, m.output_type.name) for name, m in methods.items()} == METHODS[service]
    assert api_pb2.DESCRIPTOR.services_by_name[service].full_name == f"api.v1.beta1.{service}"
