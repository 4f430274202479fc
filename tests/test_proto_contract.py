"""Our messages are wire-identical to Katib v1beta1: package, field numbers, types and enums."""

import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from katib_api import api_pb2

# (message, field) -> (number, type), from ../shared/katib-contract.md section 1.
FIELDS = {
    ("Experiment", "name"): (1, F.TYPE_STRING),
    ("Experiment", "spec"): (2, F.TYPE_MESSAGE),
    ("ExperimentSpec", "parameter_specs"): (1, F.TYPE_MESSAGE),
    ("ExperimentSpec", "objective"): (2, F.TYPE_MESSAGE),
    ("ExperimentSpec", "algorithm"): (3, F.TYPE_MESSAGE),
    ("ExperimentSpec", "early_stopping"): (4, F.TYPE_MESSAGE),
    ("ExperimentSpec", "parallel_trial_count"): (5, F.TYPE_INT32),
    ("ExperimentSpec", "max_trial_count"): (6, F.TYPE_INT32),
    ("ExperimentSpec", "nas_config"): (7, F.TYPE_MESSAGE),
    ("ExperimentSpec.ParameterSpecs", "parameters"): (1, F.TYPE_MESSAGE),
    ("ParameterSpec", "name"): (1, F.TYPE_STRING),
    ("ParameterSpec", "parameter_type"): (2, F.TYPE_ENUM),
    ("ParameterSpec", "feasible_space"): (3, F.TYPE_MESSAGE),
    ("FeasibleSpace", "max"): (1, F.TYPE_STRING),
    ("FeasibleSpace", "min"): (2, F.TYPE_STRING),
    ("FeasibleSpace", "list"): (3, F.TYPE_STRING),
    ("FeasibleSpace", "step"): (4, F.TYPE_STRING),
    ("FeasibleSpace", "distribution"): (5, F.TYPE_ENUM),
    ("ObjectiveSpec", "type"): (1, F.TYPE_ENUM),
    ("ObjectiveSpec", "goal"): (2, F.TYPE_DOUBLE),
    ("ObjectiveSpec", "objective_metric_name"): (3, F.TYPE_STRING),
    ("ObjectiveSpec", "additional_metric_names"): (4, F.TYPE_STRING),
    ("AlgorithmSpec", "algorithm_name"): (1, F.TYPE_STRING),
    ("AlgorithmSpec", "algorithm_settings"): (2, F.TYPE_MESSAGE),
    ("AlgorithmSetting", "name"): (1, F.TYPE_STRING),
    ("AlgorithmSetting", "value"): (2, F.TYPE_STRING),
    ("EarlyStoppingSpec", "algorithm_name"): (1, F.TYPE_STRING),
    ("EarlyStoppingSpec", "algorithm_settings"): (2, F.TYPE_MESSAGE),
    ("NasConfig", "graph_config"): (1, F.TYPE_MESSAGE),
    ("NasConfig", "operations"): (2, F.TYPE_MESSAGE),
    ("GraphConfig", "num_layers"): (1, F.TYPE_INT32),
    ("GraphConfig", "input_sizes"): (2, F.TYPE_INT32),
    ("GraphConfig", "output_sizes"): (3, F.TYPE_INT32),
    ("Operation", "operation_type"): (1, F.TYPE_STRING),
    ("Operation", "parameter_specs"): (2, F.TYPE_MESSAGE),
    ("Trial", "name"): (1, F.TYPE_STRING),
    ("Trial", "spec"): (2, F.TYPE_MESSAGE),
    ("Trial", "status"): (3, F.TYPE_MESSAGE),
    ("TrialSpec", "objective"): (2, F.TYPE_MESSAGE),
    ("TrialSpec", "parameter_assignments"): (3, F.TYPE_MESSAGE),
    ("TrialSpec", "labels"): (4, F.TYPE_MESSAGE),
    ("ParameterAssignment", "name"): (1, F.TYPE_STRING),
    ("ParameterAssignment", "value"): (2, F.TYPE_STRING),
    ("TrialStatus", "start_time"): (1, F.TYPE_STRING),
    ("TrialStatus", "completion_time"): (2, F.TYPE_STRING),
    ("TrialStatus", "condition"): (3, F.TYPE_ENUM),
    ("TrialStatus", "observation"): (4, F.TYPE_MESSAGE),
    ("Observation", "metrics"): (1, F.TYPE_MESSAGE),
    ("Metric", "name"): (1, F.TYPE_STRING),
    ("Metric", "value"): (2, F.TYPE_STRING),
    ("GetSuggestionsRequest", "experiment"): (1, F.TYPE_MESSAGE),
    ("GetSuggestionsRequest", "trials"): (2, F.TYPE_MESSAGE),
    ("GetSuggestionsRequest", "current_request_number"): (4, F.TYPE_INT32),
    ("GetSuggestionsRequest", "total_request_number"): (5, F.TYPE_INT32),
    ("GetSuggestionsReply", "parameter_assignments"): (1, F.TYPE_MESSAGE),
    ("GetSuggestionsReply", "algorithm"): (2, F.TYPE_MESSAGE),
    ("GetSuggestionsReply", "early_stopping_rules"): (3, F.TYPE_MESSAGE),
    ("GetSuggestionsReply.ParameterAssignments", "assignments"): (1, F.TYPE_MESSAGE),
    ("GetSuggestionsReply.ParameterAssignments", "trial_name"): (2, F.TYPE_STRING),
    ("GetSuggestionsReply.ParameterAssignments", "labels"): (3, F.TYPE_MESSAGE),
    ("EarlyStoppingRule", "name"): (1, F.TYPE_STRING),
    ("EarlyStoppingRule", "value"): (2, F.TYPE_STRING),
    ("EarlyStoppingRule", "comparison"): (3, F.TYPE_ENUM),
    ("EarlyStoppingRule", "start_step"): (4, F.TYPE_INT32),
    ("ValidateAlgorithmSettingsRequest", "experiment"): (1, F.TYPE_MESSAGE),
}

ENUMS = {
    "ParameterType": {"UNKNOWN_TYPE": 0, "DOUBLE": 1, "INT": 2, "DISCRETE": 3, "CATEGORICAL": 4},
    "Distribution": {"DISTRIBUTION_UNSPECIFIED": 0, "UNIFORM": 1, "LOG_UNIFORM": 2, "NORMAL": 3, "LOG_NORMAL": 4},
    "ObjectiveType": {"UNKNOWN": 0, "MINIMIZE": 1, "MAXIMIZE": 2},
    "ComparisonType": {"UNKNOWN_COMPARISON": 0, "EQUAL": 1, "LESS": 2, "GREATER": 3},
    "TrialStatus.TrialConditionType": {"CREATED": 0, "RUNNING": 1, "SUCCEEDED": 2, "KILLED": 3, "FAILED": 4,
                                       "METRICSUNAVAILABLE": 5, "EARLYSTOPPED": 6, "UNKNOWN": 7},
}


def _message(path: str):
    descriptor = api_pb2.DESCRIPTOR.message_types_by_name[path.split(".")[0]]
    for nested in path.split(".")[1:]:
        descriptor = descriptor.nested_types_by_name[nested]
    return descriptor


def test_package_and_services():
    assert api_pb2.DESCRIPTOR.package == "api.v1.beta1"
    suggestion = api_pb2.DESCRIPTOR.services_by_name["Suggestion"]
    assert suggestion.full_name == "api.v1.beta1.Suggestion"
    methods = {m.name: (m.input_type.name, m.output_type.name) for m in suggestion.methods}
    assert methods == {
        "GetSuggestions": ("GetSuggestionsRequest", "GetSuggestionsReply"),
        "ValidateAlgorithmSettings": ("ValidateAlgorithmSettingsRequest", "ValidateAlgorithmSettingsReply"),
    }


@pytest.mark.parametrize(("message", "field"), sorted(FIELDS))
def test_field_number_and_type(message, field):
    descriptor = _message(message).fields_by_name[field]
    assert (descriptor.number, descriptor.type) == FIELDS[(message, field)]


def test_removed_fields_stay_unused():
    assert 3 not in _message("GetSuggestionsRequest").fields_by_number
    assert 1 not in _message("TrialSpec").fields_by_number


@pytest.mark.parametrize("enum", sorted(ENUMS))
def test_enum_values(enum):
    if "." in enum:
        outer, inner = enum.split(".")
        descriptor = _message(outer).enum_types_by_name[inner]
    else:
        descriptor = api_pb2.DESCRIPTOR.enum_types_by_name[enum]
    assert {v.name: v.number for v in descriptor.values} == ENUMS[enum]
