"""The doubles of Katib's DB manager (gRPC) and the Kubernetes API (HTTP) the tests start on loopback.

One double each, shipped in katib_suggestion.testing so the image check runs the same ones in the
early-stopping image's pod.
"""

from katib_suggestion.testing.dbmanager import DBManagerDouble, db_manager
from katib_suggestion.testing.kubernetes_api import TRIAL_PATH, KubernetesDouble, kubernetes_api

__all__ = ["TRIAL_PATH", "DBManagerDouble", "KubernetesDouble", "db_manager", "kubernetes_api"]
