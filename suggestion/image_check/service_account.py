"""What the kubelet gives a pod's containers to reach the Kubernetes API, made here for the early-stopping pod.

Katib runs the early-stopping container in the suggestion pod under a service account whose Role
may patch Trials' status. Kubernetes mounts that account's token, the cluster's ``ca.crt`` and the
pod's ``namespace`` read-only at ``/var/run/secrets/kubernetes.io/serviceaccount`` and sets
``KUBERNETES_SERVICE_HOST``/``PORT``: everything ``load_incluster_config`` reads. Here the API is
a double in the same pod, serving HTTPS with a certificate this module signs with that ca.crt
(``openssl``, on the host; the keys stay in a scratch folder and leave with it).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from katib_suggestion.image_check.engine import EngineProblem

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
NAMESPACE = "katib-image-check"  # Katib runs the suggestion pod in the Experiment's namespace
API_HOST = "127.0.0.1"  # the API double listens in the pod's own network namespace
_SERVER_EXTENSIONS = (f"subjectAltName=IP:{API_HOST},DNS:kubernetes.default.svc\n"
                      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                      "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")


@dataclass(frozen=True)
class ServiceAccount:
    """``folder`` holds what a pod sees at MOUNT (token, ca.crt, namespace); ``serving`` the API
    double's own certificate and key (tls.crt, tls.key), mounted into the double only."""

    folder: Path
    serving: Path
    token: str
    namespace: str = NAMESPACE

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.crt"


def make_service_account(work: Path) -> ServiceAccount:
    """A fresh token, namespace file, CA and API serving certificate under ``work``."""
    if shutil.which("openssl") is None:
        raise EngineProblem("the early-stopping check signs the Kubernetes API double's certificate with openssl, "
                            "which is not installed (apt-get install openssl)")
    folder, serving = work / "serviceaccount", work / "api-serving"
    for place in (folder, serving):
        place.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    (folder / "token").write_text(token)
    (folder / "namespace").write_text(NAMESPACE)
    ca_key = work / "ca.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", "/CN=katib-image-check-ca", "-keyout", ca_key, "-out", folder / "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    request, extensions = work / "api.csr", work / "api.ext"
    extensions.write_text(_SERVER_EXTENSIONS)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", "/CN=kube-apiserver", "-keyout", serving / "tls.key", "-out", request)
    _openssl("x509", "-req", "-in", request, "-CA", folder / "ca.crt", "-CAkey", ca_key,
             "-set_serial", f"0x{secrets.token_hex(8)}", "-days", "2", "-extfile", extensions,
             "-out", serving / "tls.crt")  # a serial given, so no serial file lands in the mounted folder
    # the containers run as the image's non-root user: it must read these (scratch folders are 0700)
    for place in (work, folder, serving):
        place.chmod(0o755)
    for file in [*folder.iterdir(), *serving.iterdir()]:
        file.chmod(0o644)
    return ServiceAccount(folder, serving, token)


def _openssl(*args) -> None:
    result = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise EngineProblem(f"openssl {args[0]} failed: {result.stderr.strip()[-800:]}")
