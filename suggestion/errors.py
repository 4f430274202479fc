"""The errors the service raises on purpose; edge.status_of maps each to a gRPC code."""

from __future__ import annotations

from katib_validators.problems import Problem, render


class SuggestionError(Exception):
    """Base of every error we raise on purpose; anything else is a bug (INTERNAL)."""


class InvalidExperiment(SuggestionError):
    """The experiment cannot be served as written. gRPC: INVALID_ARGUMENT."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(render(problems))


class InvalidRequest(SuggestionError):
    """The request itself is malformed (counts, not the experiment). gRPC: INVALID_ARGUMENT."""


class SearchSpaceExhausted(SuggestionError):
    """A finite space has fewer unseen points than requested. gRPC: FAILED_PRECONDITION."""

    def __init__(self, size: int, seen: int, wanted: int):
        self.size, self.seen, self.wanted = size, seen, wanted
        super().__init__(
            f"the search space has {size} distinct points and {seen} are already taken by trials, "
            f"so {wanted} new ones cannot be suggested without repeating a trial (a continuous double "
            f"counts as the doubles between its min and max); "
            f"lower maxTrialCount to at most {size} or widen the search space"
        )


class BackendUnavailable(SuggestionError):
    """The backend's library is not installed in this image. gRPC: FAILED_PRECONDITION."""


class ServerBusy(SuggestionError):
    """Too many calls are already waiting for a worker. gRPC: UNAVAILABLE (Katib retries it)."""


class DependencyUnavailable(SuggestionError):
    """Katib's DB manager or the Kubernetes API did not answer in time. gRPC: UNAVAILABLE (Katib retries)."""


class PermissionRefused(SuggestionError):
    """The Kubernetes API refused our service account (403). gRPC: PERMISSION_DENIED."""


class ResourceMissing(SuggestionError):
    """The Trial named in the request does not exist. gRPC: NOT_FOUND."""


class ConflictPersisted(SuggestionError):
    """The Trial kept changing under us through every retry (409). gRPC: ABORTED."""


class CallAbandoned(SuggestionError):
    """The client left (deadline passed or call cancelled) and the work stopped at a safe point.
    gRPC: CANCELLED (nobody is waiting for it; the code is for the log and the metrics)."""
