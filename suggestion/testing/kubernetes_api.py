"""A double of the Kubernetes API for Katib's Trials: create, get, merge-patch the status subresource.

Enough of the API server for what the early-stopping service's Trial-status writer does (GET a
Trial, PATCH ``/status`` with ``application/merge-patch+json`` and the resourceVersion it read,
answered 409 when the Trial changed meanwhile), plus POST to create Trials and ``/readyz``.
With a token it answers 401 to a request without ``Authorization: Bearer <token>``, as the API
does to a pod whose service-account token it does not know.

Tests use ``kubernetes_api()`` (plain HTTP, a kubeconfig naming it); the image check runs
``python -m katib_suggestion.testing.kubernetes_api`` inside the early-stopping image, in its pod,
serving HTTPS the way ``load_incluster_config`` reaches the API.
"""

from __future__ import annotations

import argparse
import copy
import json
import signal
import ssl
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from katib_suggestion.deploy.entries import merge_patch

TRIALS = "/apis/kubeflow.org/v1beta1/namespaces/{namespace}/trials"
TRIAL_PATH = TRIALS + "/{name}"
HTTPS_PORT = 6443  # the API server's usual secure port


class KubernetesDouble:
    """Trials by (namespace, name). ``forbidden`` verbs are answered 403; ``conflicts`` PATCHes
    409 (another writer changed the Trial first); ``requests`` records what was asked."""

    def __init__(self, token: str | None = None):
        self.trials: dict[tuple[str, str], dict] = {}
        self.forbidden: set[str] = set()
        self.conflicts = 0
        self.requests: list[dict] = []
        self.token = token
        self.lock = threading.Lock()

    def add_trial(self, name: str, namespace: str = "default", conditions=()) -> None:
        self.trials[(namespace, name)] = {
            "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
            "spec": {}, "status": {"conditions": [dict(c) for c in conditions]}}

    def conditions(self, name: str, namespace: str = "default") -> list[dict]:
        return self.trials[(namespace, name)]["status"]["conditions"]

    def handle(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.requests.append({"method": method, "path": path, "content_type": headers.get("Content-Type"),
                                  "authorization": headers.get("Authorization")})
            scheme, _, credentials = (headers.get("Authorization") or "").partition(" ")
            # the scheme is case-insensitive (RFC 9110): the Kubernetes client sends "bearer"
            if self.token is not None and (scheme.lower() != "bearer" or credentials.strip() != self.token):
                return 401, _status(401, "Unauthorized", "Unauthorized")
            parts = path.split("?")[0].strip("/").split("/")
            if parts == ["readyz"]:
                return 200, {"status": "ok"}
            # apis/kubeflow.org/v1beta1/namespaces/NS/trials[/NAME[/status]]
            if len(parts) < 6 or parts[:3] != ["apis", "kubeflow.org", "v1beta1"] or parts[5] != "trials":
                return 404, _status(404, "NotFound", f"no route {path}")
            if len(parts) == 6:
                return self._create(parts[4], method, body)
            key, subresource = (parts[4], parts[6]), parts[7] if len(parts) > 7 else None
            verb = "get" if method == "GET" else "patch"
            if verb in self.forbidden:
                return 403, _status(403, "Forbidden", f'trials.kubeflow.org "{key[1]}" is forbidden: cannot {verb}')
            trial = self.trials.get(key)
            if trial is None:
                return 404, _status(404, "NotFound", f'trials.kubeflow.org "{key[1]}" not found')
            if method == "GET":
                return 200, copy.deepcopy(trial)
            return self._patch(trial, subresource, headers, body)

    def _create(self, namespace: str, method: str, body: bytes) -> tuple[int, dict]:
        if method != "POST":
            return 405, _status(405, "MethodNotAllowed", "create Trials with POST")
        name = (json.loads(body or b"{}").get("metadata") or {}).get("name")
        if not name:
            return 422, _status(422, "Invalid", "metadata.name: Required value")
        if (namespace, name) in self.trials:
            return 409, _status(409, "AlreadyExists", f'trials.kubeflow.org "{name}" already exists')
        self.add_trial(name, namespace)
        return 201, copy.deepcopy(self.trials[(namespace, name)])

    def _patch(self, trial, subresource, headers, body):
        if subresource != "status" or headers.get("Content-Type") != "application/merge-patch+json":
            return 415, _status(415, "UnsupportedMediaType", "status patches here are merge patches")
        patch = json.loads(body)
        if self.conflicts:
            self.conflicts -= 1
            trial["metadata"]["resourceVersion"] = str(int(trial["metadata"]["resourceVersion"]) + 1)
        wanted = (patch.get("metadata") or {}).get("resourceVersion")
        if wanted is not None and wanted != trial["metadata"]["resourceVersion"]:
            return 409, _status(409, "Conflict", "the object has been modified; please apply your changes "
                                                 "to the latest version and try again")
        # a status subresource PATCH changes .status only
        trial["status"] = merge_patch(trial.get("status") or {}, patch.get("status") or {})  # RFC 7386
        trial["metadata"]["resourceVersion"] = str(int(trial["metadata"]["resourceVersion"]) + 1)
        return 200, copy.deepcopy(trial)


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
            "reason": reason, "code": code}


def http_server(double: KubernetesDouble, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering for ``double`` (not yet serving)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            code, payload = double.handle(self.command, self.path, self.headers, self.rfile.read(length))
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PATCH = do_POST = _answer

        def log_message(self, *_args):
            pass

    return ThreadingHTTPServer((host, port), Handler)


def https_server(double: KubernetesDouble, host: str, port: int, cert: str, key: str) -> ThreadingHTTPServer:
    """``http_server`` behind TLS with the certificate ``cert`` and its ``key`` (PEM files)."""
    server = http_server(double, host, port)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    return server


@contextmanager
def kubernetes_api(tmp_path, namespace: str | None = "default"):
    """A started Kubernetes API double (plain HTTP on loopback) and a kubeconfig naming it; yields
    (kubeconfig path, double)."""
    double = KubernetesDouble()
    server = http_server(double, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = {"cluster": "double", "user": "tester"}
    if namespace:
        context["namespace"] = namespace
    kubeconfig = Path(tmp_path) / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "double", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "tester", "user": {"token": "test-token"}}],
        "contexts": [{"name": "test", "context": context}]}))
    try:
        yield kubeconfig, double
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m katib_suggestion.testing.kubernetes_api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=HTTPS_PORT)
    parser.add_argument("--cert", required=True, help="the serving certificate (PEM), signed by the pods' ca.crt")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    parser.add_argument("--token-file", required=True, help="the only bearer token accepted (a service account's)")
    args = parser.parse_args(argv)
    double = KubernetesDouble(token=Path(args.token_file).read_text().strip())
    server = https_server(double, args.host, args.port, args.cert, args.key)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"Kubernetes API double serving https on {args.host}:{server.server_port}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
