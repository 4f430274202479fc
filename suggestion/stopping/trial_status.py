"""The Kubernetes API, the one client of it: mark a Trial EarlyStopped the way upstream's service does."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from katib_suggestion.errors import (
    BackendUnavailable,
    ConflictPersisted,
    DependencyUnavailable,
    PermissionRefused,
    ResourceMissing,
)

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = "kubeflow.org", "v1beta1", "trials"
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
EARLY_STOPPED = "EarlyStopped"
REQUEST_TIMEOUT = 10.0  # seconds per API request; Katib's collector waits on SetTrialStatus
CONFLICT_ATTEMPTS = 5  # a Trial's status is also written by Katib's trial controller
RBAC_RULE = ("apiGroups: [kubeflow.org], resources: [trials, trials/status], verbs: [get, patch]")


def early_stopped_condition(now: datetime) -> dict[str, str]:
    """The condition upstream's medianstop appends (type, reason and message as Katib reads them)."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": EARLY_STOPPED, "status": "True", "reason": "TrialEarlyStopped",
            "message": "Trial is early stopped", "lastUpdateTime": stamp, "lastTransitionTime": stamp}


class TrialStatusWriter:
    """Adds the EarlyStopped condition to Trials of one namespace.

    Configuration as the Kubernetes client does it: the pod's service account inside a cluster,
    else the kubeconfig (``KUBECONFIG`` or ~/.kube/config). The namespace is the pod's (Katib runs
    the service in the Trials' namespace), else the kubeconfig context's, else "default".
    """

    def __init__(self, kubeconfig: str | None = None, namespace: str | None = None):
        try:  # only this module imports the kubernetes package
            from kubernetes import client, config
        except ImportError as error:
            raise BackendUnavailable("the kubernetes package is not installed; install katib-suggest[early-stopping] "
                                     "(the early-stopping image has it)") from error
        self._client = client
        try:
            configuration = client.Configuration()
            config.load_incluster_config(client_configuration=configuration)
            found = NAMESPACE_FILE.read_text().strip()
            api = client.ApiClient(configuration)
        except (config.ConfigException, OSError):
            try:
                api = config.new_client_from_config(config_file=kubeconfig or os.environ.get("KUBECONFIG"))
            except (config.ConfigException, OSError) as error:
                raise BackendUnavailable(f"no Kubernetes configuration: not inside a cluster, and no kubeconfig "
                                         f"({error}); run in the suggestion pod or set KUBECONFIG") from error
            found = _context_namespace(config, kubeconfig)
        self.namespace = namespace or found or "default"
        self._api = client.CustomObjectsApi(api)

    def mark_early_stopped(self, trial: str, now: datetime | None = None) -> bool:
        """Add the condition; False when the Trial already has it (a repeated call changes nothing)."""
        for _attempt in range(CONFLICT_ATTEMPTS):
            current = self._request("get", trial, lambda: self._api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, PLURAL, trial, _request_timeout=REQUEST_TIMEOUT))
            conditions = list((current.get("status") or {}).get("conditions") or [])
            if any(c.get("type") == EARLY_STOPPED and c.get("status") == "True" for c in conditions):
                return False
            # resourceVersion makes the merge-patch conditional: a Trial changed since the GET
            # answers 409 and is read again, so no condition written meanwhile is lost
            body = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]},
                    "status": {"conditions": [*conditions, early_stopped_condition(now or datetime.now(UTC))]}}
            try:
                self._request("patch", trial, lambda patch=body: self._api.patch_namespaced_custom_object_status(
                    GROUP, VERSION, self.namespace, PLURAL, trial, patch, _request_timeout=REQUEST_TIMEOUT))
                return True
            except _Conflict:
                log.info("trial %s changed while marking it EarlyStopped; reading it again", trial)
        raise ConflictPersisted(f"trial {trial} in namespace {self.namespace} changed during each of "
                                f"{CONFLICT_ATTEMPTS} attempts to mark it EarlyStopped; the collector may call again")

    def _request(self, verb: str, trial: str, call):
        where = f"trial {trial} in namespace {self.namespace}"
        try:
            return call()
        except self._client.ApiException as error:
            if error.status == 409 and verb == "patch":
                raise _Conflict from error
            if error.status == 401:
                raise PermissionRefused(
                    f"the Kubernetes API did not accept this pod's credentials to {verb} {where} (401 "
                    f"{error.reason}): the service-account token is missing, expired or from another cluster; "
                    "Katib's suggestion pod mounts it unless its service account sets "
                    "automountServiceAccountToken: false") from error
            if error.status == 403:
                raise PermissionRefused(
                    f"the Kubernetes API refused to {verb} {where} ({error.status} {error.reason}); the "
                    f"suggestion pod's service account needs a Role with {RBAC_RULE}. Katib creates it unless "
                    "the katib-config suggestion entry names its own serviceAccountName") from error
            if error.status == 404:
                raise ResourceMissing(f"{where} does not exist (404 on {verb})") from error
            raise DependencyUnavailable(f"the Kubernetes API answered {error.status} {error.reason} "
                                        f"to {verb} {where}") from error
        except Exception as error:  # noqa: BLE001 - urllib3 connection and timeout errors of many types
            raise DependencyUnavailable(f"the Kubernetes API did not answer the {verb} of {where}: "
                                        f"{type(error).__name__}: {error}") from error


class _Conflict(Exception):
    """409 on the status patch: read the Trial again."""


def _context_namespace(config, kubeconfig: str | None) -> str | None:
    try:
        _contexts, active = config.list_kube_config_contexts(config_file=kubeconfig or os.environ.get("KUBECONFIG"))
    except (config.ConfigException, OSError):
        return None
    return (active or {}).get("context", {}).get("namespace")
