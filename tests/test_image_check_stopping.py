"""The image check's early-stopping workloads against the service run here: they pass, and catch a wrong rule."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from katib_suggestion.image_check.katib_pod import PodReach
from katib_suggestion.image_check.service_account import make_service_account
from katib_suggestion.image_check.stopping_workloads import StoppingRules
from katib_suggestion.image_check.targets import IMAGES
from katib_suggestion.image_check.workloads import WorkloadFailed, run_workloads
from katib_suggestion.stopping import algorithms
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_suggestion.stopping.trial_status import TrialStatusWriter
from katib_suggestion.testing.dbmanager import db_manager
from katib_suggestion.testing.kubernetes_api import KubernetesDouble, https_server
from stopping_requests import stopping_server

ROOT = Path(__file__).resolve().parents[1]
TARGET = IMAGES[EARLY_STOPPING.name]
# the check's workloads, the large one (1,001 trials, run in the image) made small here, in both directions
WORKLOADS = [w for w in TARGET.workloads if getattr(w, "succeeded", 0) < 100] + [StoppingRules(13, 8, "accuracy")]


@pytest.fixture
def pod(tmp_path, monkeypatch):
    """The DB manager double and the HTTPS Kubernetes API double of the pod, here; the service's Trial-status
    writer reaches the API through a kubeconfig with the pod's token, CA and namespace."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    account = make_service_account(tmp_path)
    api = https_server(KubernetesDouble(token=account.token), "127.0.0.1", 0, str(account.serving / "tls.crt"),
                       str(account.serving / "tls.key"))
    threading.Thread(target=api.serve_forever, daemon=True).start()
    server = f"https://127.0.0.1:{api.server_port}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "pod",
        "clusters": [{"name": "pod", "cluster": {"server": server, "certificate-authority": str(account.ca_file)}}],
        "users": [{"name": "sa", "user": {"token": account.token}}],
        "contexts": [{"name": "pod", "context": {"cluster": "pod", "user": "sa", "namespace": account.namespace}}]}))
    try:
        with db_manager() as (db_address, _double):
            yield PodReach(db_address, db_address, server, account), lambda: TrialStatusWriter(str(kubeconfig))
    finally:
        api.shutdown()
        api.server_close()


def test_the_workloads_pass_against_the_service(pod):
    reach, writer = pod
    seen = []
    with stopping_server(writer_factory=writer) as address:
        notes = run_workloads(address, WORKLOADS, ROOT, seen.append, reach)
    assert seen == [w.label for w in WORKLOADS]
    assert any("marked EarlyStopped once" in note for note in notes)
    assert sum("every rule exact" in note for note in notes) == 2


def _mean_of_averages(objective, settings, curves, created):
    """Upstream Katib's medianstop: the mean where it says median."""
    rules = algorithms.medianstop.rules(objective, settings, curves, created)
    step = settings["start_step"]
    averages = [sum(c.values[:step]) / step for c in curves if len(c.values) >= step]
    return [type(rule)(rule.metric, sum(averages) / len(averages), rule.comparison, rule.start_step) for rule in rules]


def test_a_rule_that_is_not_the_median_fails_the_check(pod, monkeypatch):
    reach, writer = pod
    wrong = algorithms.StoppingAlgorithm(_mean_of_averages, algorithms.medianstop.READS)
    monkeypatch.setitem(algorithms.ALGORITHMS, "medianstop", wrong)
    with stopping_server(writer_factory=writer) as address, pytest.raises(WorkloadFailed, match="medianstop"):
        run_workloads(address, [StoppingRules(13, 8)], ROOT, lambda _label: None, reach)
