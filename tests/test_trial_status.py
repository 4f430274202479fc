"""SetTrialStatus's Kubernetes side against an API double named in a kubeconfig: condition, idempotence, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from katib_suggestion.errors import (
    BackendUnavailable,
    ConflictPersisted,
    PermissionRefused,
    ResourceMissing,
)
from katib_suggestion.stopping.trial_status import CONFLICT_ATTEMPTS, TrialStatusWriter
from katib_suggestion.testing.kubernetes_api import kubernetes_api

RUNNING = {"type": "Running", "status": "True", "reason": "TrialRunning", "message": "Trial is running"}
NOW = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # never take the in-cluster path here
    with kubernetes_api(tmp_path, namespace="team-a") as (kubeconfig, double):
        double.add_trial("t-1", "team-a", [RUNNING])
        yield TrialStatusWriter(kubeconfig=str(kubeconfig)), double


def test_adds_upstreams_condition_with_a_merge_patch_of_the_status(api):
    writer, double = api
    assert writer.namespace == "team-a"  # from the kubeconfig context
    assert writer.mark_early_stopped("t-1", now=NOW) is True
    assert double.conditions("t-1", "team-a") == [RUNNING, {
        "type": "EarlyStopped", "status": "True", "reason": "TrialEarlyStopped",
        "message": "Trial is early stopped", "lastUpdateTime": "2026-03-01T12:30:05Z",
        "lastTransitionTime": "2026-03-01T12:30:05Z"}]
    get, patch = double.requests
    assert (get["method"], get["path"]) == ("GET", "/apis/kubeflow.org/v1beta1/namespaces/team-a/trials/t-1")
    assert (patch["method"], patch["path"], patch["content_type"]) == (
        "PATCH", "/apis/kubeflow.org/v1beta1/namespaces/team-a/trials/t-1/status", "application/merge-patch+json")
    assert get["authorization"] == "Bearer test-token"


def test_a_second_call_changes_nothing(api):
    writer, double = api
    writer.mark_early_stopped("t-1", now=NOW)
    assert writer.mark_early_stopped("t-1") is False
    assert [c["type"] for c in double.conditions("t-1", "team-a")] == ["Running", "EarlyStopped"]
    assert [r["method"] for r in double.requests] == ["GET", "PATCH", "GET"]


def test_conflicts_are_read_again_and_retried(api):
    writer, double = api
    double.conflicts = CONFLICT_ATTEMPTS - 1
    assert writer.mark_early_stopped("t-1", now=NOW) is True
    assert [c["type"] for c in double.conditions("t-1", "team-a")] == ["Running", "EarlyStopped"]
    assert [r["method"] for r in double.requests].count("GET") == CONFLICT_ATTEMPTS


def test_conflicts_without_end_give_up_with_a_clear_error(api):
    writer, double = api
    double.conflicts = CONFLICT_ATTEMPTS
    with pytest.raises(ConflictPersisted, match=f"changed during each of {CONFLICT_ATTEMPTS} attempts"):
        writer.mark_early_stopped("t-1")
    assert double.conditions("t-1", "team-a") == [RUNNING]


@pytest.mark.parametrize("verb", ["get", "patch"])
def test_403_names_the_missing_rbac_rule(api, verb):
    writer, double = api
    double.forbidden.add(verb)
    with pytest.raises(PermissionRefused) as caught:
        writer.mark_early_stopped("t-1")
    message = str(caught.value)
    assert f"refused to {verb} trial t-1 in namespace team-a (403" in message
    assert "resources: [trials, trials/status], verbs: [get, patch]" in message
    assert "serviceAccountName" in message


def test_401_names_the_token_not_rbac(api):
    writer, double = api
    double.token = "another-clusters-token"
    with pytest.raises(PermissionRefused) as caught:
        writer.mark_early_stopped("t-1")
    message = str(caught.value)
    assert "(401 Unauthorized): the service-account token is missing, expired" in message
    assert "verbs: [get, patch]" not in message
    double.token = "test-token"  # the kubeconfig's: accepted, whatever the case of the scheme
    assert writer.mark_early_stopped("t-1") is True


def test_a_missing_trial_is_not_found(api):
    writer, _double = api
    with pytest.raises(ResourceMissing, match="trial nope in namespace team-a does not exist"):
        writer.mark_early_stopped("nope")


def test_default_namespace_when_the_context_names_none(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with kubernetes_api(tmp_path, namespace=None) as (kubeconfig, double):
        double.add_trial("t-2")
        writer = TrialStatusWriter(kubeconfig=str(kubeconfig))
        assert writer.namespace == "default"
        assert writer.mark_early_stopped("t-2") is True


def test_no_configuration_at_all_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(BackendUnavailable, match="no Kubernetes configuration"):
        TrialStatusWriter(kubeconfig=str(tmp_path / "missing"))


def test_inside_a_cluster_the_pods_service_account_and_namespace_come_first(tmp_path, monkeypatch):
    """As in the suggestion pod: the service-account files and KUBERNETES_SERVICE_* win over any kubeconfig."""
    import kubernetes.config.incluster_config as incluster
    from katib_suggestion.stopping import trial_status

    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("not checked until a request is made")
    (account / "namespace").write_text("team-b\n")
    monkeypatch.setattr(incluster, "SERVICE_TOKEN_FILENAME", str(account / "token"))
    monkeypatch.setattr(incluster, "SERVICE_CERT_FILENAME", str(account / "ca.crt"))
    monkeypatch.setattr(trial_status, "NAMESPACE_FILE", account / "namespace")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "never-read"))
    writer = TrialStatusWriter()
    assert writer.namespace == "team-b"
    configuration = writer._api.api_client.configuration
    assert configuration.host == "https://10.0.0.1:443"
    assert configuration.api_key["BearerToken"] == "bearer pod-token"  # re-read as the token rotates
