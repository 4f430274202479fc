"""Katib's Suggestion service: decode nothing itself, hand each call to the shared gRPC edge (edge.py)."""

from __future__ import annotations

import grpc
from katib_api import api_pb2
from katib_suggestion.edge import CallEdge, parsed
from katib_suggestion.observability import CallMetrics
from katib_suggestion.pipeline import Suggester
from katib_suggestion.scheduler import FairExecutor
from katib_suggestion.wire import experiment_name, raw_request
from katib_validators.budget import MAX_EXPERIMENT_BYTES


def add_to_server(servicer: SuggestionServicer, server: grpc.Server) -> None:
    """Register like the generated helper does, but with request parsers that never raise."""
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            getattr(servicer, name),
            request_deserializer=raw_request(request_type, max_bytes),
            response_serializer=reply_type.SerializeToString)
        for name, request_type, reply_type, max_bytes in (
            ("GetSuggestions", api_pb2.GetSuggestionsRequest, api_pb2.GetSuggestionsReply, None),
            # carries nothing but the Experiment
            ("ValidateAlgorithmSettings", api_pb2.ValidateAlgorithmSettingsRequest,
             api_pb2.ValidateAlgorithmSettingsReply, MAX_EXPERIMENT_BYTES),
        )
    }
    service = api_pb2.DESCRIPTOR.services_by_name["Suggestion"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))


class SuggestionServicer:
    """Katib's Suggestion service over one Suggester, for a grpc.aio server.

    The handlers run on the event loop, which also answers health checks, so
    they only queue the blocking work: GetSuggestions on the suggestion pool,
    ValidateAlgorithmSettings on a pool of its own (always cheap, it never
    waits behind a long suggestion). Both pools take turns between experiments.
    """

    def __init__(self, suggester: Suggester, metrics: CallMetrics | None = None, *,
                 suggest_pool: FairExecutor, validate_pool: FairExecutor):
        self._suggester = suggester
        self._edge = CallEdge(metrics, size_fact="history")
        self._suggest_pool = suggest_pool
        self._validate_pool = validate_pool

    async def GetSuggestions(self, request, context):
        return await self._edge.call("GetSuggestions", request, context, self._suggest_pool, self._suggest,
                                     experiment_name)

    async def ValidateAlgorithmSettings(self, request, context):
        return await self._edge.call("ValidateAlgorithmSettings", request, context, self._validate_pool,
                                     self._validate, experiment_name, fail_closed=True)

    def _suggest(self, data: bytes, facts: dict):
        request = parsed(api_pb2.GetSuggestionsRequest, data)
        facts["count"] = request.current_request_number
        return self._suggester.suggest(request, facts)

    def _validate(self, data: bytes, facts: dict):
        request = parsed(api_pb2.ValidateAlgorithmSettingsRequest, data)
        facts["algorithm"] = request.experiment.spec.algorithm.algorithm_name
        self._suggester.validate(request.experiment)
        return api_pb2.ValidateAlgorithmSettingsReply()
