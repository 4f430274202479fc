"""Doubles of Katib's DB manager (gRPC) and the Kubernetes API (HTTP), started by the tests on loopback."""

from __future__ import annotations

import copy
import json
import threading
from concurrent import futures
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from katib_api import api_pb2, api_pb2_grpc
from katib_suggestion.deploy.entries import merge_patch

TRIAL_PATH = "/apis/kubeflow.org/v1beta1/namespaces/{namespace}/trials/{name}"


class DBManagerDouble(api_pb2_grpc.DBManagerServicer):
    """Logs held as Katib's DB manager holds them: per trial, in time order, values as text."""

    def __init__(self):
        self.logs: dict[str, list[tuple[str, str, str]]] = {}  # trial -> [(time, metric, value)]
        self.failures: list[grpc.StatusCode] = []  # answered to the next calls, in order
        self.hang = threading.Event()  # while set, every call waits for release
        self.release = threading.Event()
        self.calls: list[tuple[str, str]] = []

    def report(self, trial: str, metric: str, values, start: int = 0) -> None:
        entries = self.logs.setdefault(trial, [])
        for offset, value in enumerate(values):
            stamp = f"2026-01-01T00:{(start + offset) // 60:02d}:{(start + offset) % 60:02d}Z"
            entries.append((stamp, metric, str(value)))
        entries.sort(key=lambda e: e[0])

    def GetObservationLog(self, request, context):
        self.calls.append((request.trial_name, request.metric_name))
        if self.hang.is_set():
            self.release.wait(30)
        if self.failures:
            context.abort(self.failures.pop(0), "injected by the test")
        logs = [api_pb2.MetricLog(time_stamp=t, metric=api_pb2.Metric(name=m, value=v))
                for t, m, v in self.logs.get(request.trial_name, [])
                if (not request.metric_name or m == request.metric_name)
                and (not request.start_time or t >= request.start_time)
                and (not request.end_time or t <= request.end_time)]
        return api_pb2.GetObservationLogReply(observation_log=api_pb2.ObservationLog(metric_logs=logs))


@contextmanager
def db_manager():
    """A started DB manager double; yields (address, double)."""
    double = DBManagerDouble()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    api_pb2_grpc.add_DBManagerServicer_to_server(double, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", double
    finally:
        double.release.set()
        server.stop(None).wait()


class KubernetesDouble:
    """The part of the Kubernetes API a Trial status update uses: GET a Trial, merge-PATCH its status."""

    def __init__(self):
        self.trials: dict[tuple[str, str], dict] = {}
        self.forbidden: set[str] = set()  # verbs answered 403
        self.conflicts = 0  # PATCHes answered 409 (another writer changed the Trial first)
        self.requests: list[dict] = []
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
            parts = path.split("?")[0].strip("/").split("/")
            # apis/kubeflow.org/v1beta1/namespaces/NS/trials/NAME[/status]
            if len(parts) < 7 or parts[:3] != ["apis", "kubeflow.org", "v1beta1"] or parts[5] != "trials":
                return 404, _status(404, "NotFound", f"no route {path}")
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


@contextmanager
def kubernetes_api(tmp_path, namespace: str | None = "default"):
    """A started Kubernetes API double and a kubeconfig naming it; yields (kubeconfig path, double)."""
    double = KubernetesDouble()

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

        do_GET = do_PATCH = _answer

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = {"cluster": "double", "user": "tester"}
    if namespace:
        context["namespace"] = namespace
    kubeconfig = tmp_path / "kubeconfig"
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
