"""manifests/: every kustomization renders and validates; its katib-config maps names only to images serving them."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from katib_suggestion.deploy.early_stopping import default_selection, early_stopping_names, merge_early_stoppings
from katib_suggestion.deploy.entries import EntryOptions
from katib_suggestion.deploy.katib_config import merge, read
from katib_suggestion.deploy.katib_config import render as render_config
from katib_suggestion.deploy.routes import PREFIXED, UPSTREAM_BACKENDS, routes
from katib_suggestion.deploy.routes import UPSTREAM as UPSTREAM_NAMES
from katib_suggestion.images import backend_of, image_for
from katib_validators.catalog import BACKENDS, served_by

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "manifests"
KUSTOMIZATIONS = ["base", "overlays/upstream-names", "overlays/prefixed-names", "network-policy"]
OVERLAYS = ["overlays/upstream-names", "overlays/prefixed-names"]
KATIB_NAMESPACE = "kubeflow"
# Upstream Katib's names and the image upstream serves each from; for drop-in,
# our upstream-names overlay keeps upstream's backend wherever we have it.
UPSTREAM = {"random": "hyperopt", "tpe": "hyperopt", "grid": "optuna", "multivariate-tpe": "optuna",
            "bayesianoptimization": "skopt", "cmaes": "goptuna", "sobol": "goptuna",
            "hyperband": "hyperband", "enas": "enas", "darts": "darts", "pbt": "pbt"}
# Katib v0.19.0's own katib-config of the standalone install (tests/data/upstream-katib/SOURCE.md)
UPSTREAM_DEFAULT = ROOT / "tests/data/upstream-katib/manifests/v1beta1/installs/katib-standalone/katib-config.yaml"
GENERATED = {"base": UPSTREAM_NAMES, "overlays/prefixed-names": PREFIXED}


def render(kustomization: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to render manifests/"
    result = subprocess.run([kubectl, "kustomize", str(MANIFESTS / kustomization)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return {name: render(name) for name in KUSTOMIZATIONS}


def katib_config(objects: list[dict]) -> dict:
    (config_map,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "katib-config"]
    assert config_map["metadata"]["namespace"] == KATIB_NAMESPACE
    assert set(config_map["data"]) == {"katib-config.yaml"}
    return yaml.safe_load(config_map["data"]["katib-config.yaml"])


def ours(config: dict) -> dict[str, dict]:
    """algorithmName -> entry, for the entries that run one of our images."""
    return {e["algorithmName"]: e for e in config["runtime"]["suggestions"] if backend_of(e["image"])}


def kubernetes_validate(path: Path) -> str:
    command = Path(sys.executable).with_name("kubernetes-validate")
    assert command.exists(), "kubernetes-validate missing: pip install '.[dev]'"
    result = subprocess.run([str(command), "--strict", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_renders_and_validates_strictly(name, rendered, tmp_path):
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(rendered[name]))
    output = kubernetes_validate(path)
    for obj in rendered[name]:
        group = obj["apiVersion"].rpartition("/")[0]
        if group.endswith("kubeflow.org"):  # Katib's CRDs have no published schema: a warning, not a pass
            continue
        assert f"passed for resource {obj['kind'].lower()}/{obj['metadata']['name']}" in output, output


def test_every_name_we_serve_is_ours_in_upstream_names(rendered):
    config = katib_config(rendered["overlays/upstream-names"])
    served = {name for backend in BACKENDS for name in served_by(backend)}
    assert set(ours(config)) == served
    for name, entry in ours(config).items():
        if UPSTREAM.get(name) in BACKENDS:  # an upstream name keeps upstream's backend (tpe, random: hyperopt)
            assert backend_of(entry["image"]) == UPSTREAM[name], name
    others = {e["algorithmName"]: e["image"] for e in config["runtime"]["suggestions"] if not backend_of(e["image"])}
    assert set(others) == {n for n in UPSTREAM if n not in served}  # hyperband, enas, darts, pbt still work


def test_prefixed_names_keep_upstream_untouched(rendered):
    config = katib_config(rendered["overlays/prefixed-names"])
    prefixed = {n for b in BACKENDS for n in served_by(b) if n.startswith(f"{b}-")}
    assert set(ours(config)) == prefixed
    upstream = {e["algorithmName"]: e["image"] for e in config["runtime"]["suggestions"] if not backend_of(e["image"])}
    assert set(upstream) == set(UPSTREAM)
    for name, image in upstream.items():
        assert image.startswith(f"ghcr.io/kubeflow/katib/suggestion-{UPSTREAM[name]}:"), (name, image)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_katib_config_names_only_what_our_images_serve(overlay, rendered):
    config = katib_config(rendered[overlay])
    assert config["apiVersion"] == "config.kubeflow.org/v1beta1" and config["kind"] == "KatibConfig"
    names = [e["algorithmName"] for e in config["runtime"]["suggestions"]]
    assert len(names) == len(set(names)), "Katib takes the last entry of a duplicated name: keep one"
    for name, entry in ours(config).items():
        backend = backend_of(entry["image"])
        assert name in served_by(backend), f"{entry['image']} does not serve {name}"
        assert entry["image"] == image_for(backend), "image names and tags come from suggestion/images.py"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_upstream_runtime_sections_are_kept(overlay, rendered):
    config = katib_config(rendered[overlay])
    assert {c["kind"] for c in config["runtime"]["metricsCollectors"]} == {"StdOut", "File", "TensorFlowEvent"}
    stopping = {e["algorithmName"]: e["image"] for e in config["runtime"]["earlyStoppings"]}
    assert list(stopping) == ["medianstop", "percentile", "asha"]
    # the drop-in routes upstream's medianstop to our image too; side by side keeps upstream's
    assert (stopping["medianstop"] == image_for("early-stopping")) == (overlay == "overlays/upstream-names")
    assert stopping["asha"] == stopping["percentile"] == image_for("early-stopping")
    assert config["init"]["controller"]["trialResources"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_our_entries_meet_the_restricted_pod_security_standard(overlay, rendered):
    for name, entry in ours(katib_config(rendered[overlay])).items():
        context = entry["securityContext"]
        # Katib sets no pod-level securityContext, so the container must carry every control
        assert context["allowPrivilegeEscalation"] is False, name
        assert context.get("privileged", False) is False, name
        assert "ALL" in context["capabilities"]["drop"], name
        assert set(context["capabilities"].get("add", [])) <= {"NET_BIND_SERVICE"}, name
        assert context["runAsNonRoot"] is True and context.get("runAsUser", 1) != 0, name
        assert context["seccompProfile"]["type"] in ("RuntimeDefault", "Localhost"), name
        assert context["readOnlyRootFilesystem"] is True, name  # beyond restricted: the image writes nothing
        assert not {"ports", "command", "args"} & set(entry), "Katib adds port 6789; the image's entrypoint runs"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resources_are_set_and_memory_limits_exceed_requests(overlay, rendered):
    for name, entry in ours(katib_config(rendered[overlay])).items():
        resources = entry["resources"]
        for kind in ("cpu", "memory", "ephemeral-storage"):
            assert kind in resources["requests"] and kind in resources["limits"], (name, kind)
        assert mebibytes(resources["limits"]["memory"]) > mebibytes(resources["requests"]["memory"]), name
        assert mebibytes(resources["limits"]["memory"]) > 100, f"{name}: above Katib's 100Mi default, measured"


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(quantity[:-2]) * units[quantity[-2:]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_suggestion_pods_built_from_our_entries_validate(overlay, rendered, tmp_path):
    """Each entry is a corev1.Container inline (pkg/apis/config/v1beta1): build the pod Katib would."""
    pods = []
    for name, entry in ours(katib_config(rendered[overlay])).items():
        container = {k: copy.deepcopy(v) for k, v in entry.items() if k != "algorithmName"}
        probe = {"grpc": {"port": 6789, "service": "manager.v1beta1.Suggestion"}, "initialDelaySeconds": 10}
        container.update(name="suggestion", ports=[{"name": "suggestion-api", "containerPort": 6789}],
                         readinessProbe=probe, livenessProbe={**probe, "periodSeconds": 120, "failureThreshold": 12})
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"suggestion-{name}"},
                     "spec": {"containers": [container]}})
    path = tmp_path / "pods.yaml"
    path.write_text(yaml.safe_dump_all(pods))
    output = kubernetes_validate(path)
    assert output.count("passed for resource pod/") == len(pods), output


def test_network_policy_admits_only_the_katib_controller_to_6789(rendered):
    (policy,) = [o for o in rendered["network-policy"] if o["kind"] == "NetworkPolicy"]
    assert "namespace" not in policy["metadata"], "applied per Experiment namespace with -n"
    spec = policy["spec"]
    assert spec["podSelector"] == {"matchExpressions": [{"key": "katib.kubeflow.org/suggestion",
                                                         "operator": "Exists"}]}
    assert spec["policyTypes"] == ["Ingress"]
    for rule in spec["ingress"]:
        ports = {p["port"] for p in rule["ports"]}
        if 6789 in ports:
            assert rule["from"] == [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": KATIB_NAMESPACE}}, "podSelector": {"matchLabels": {
                    "katib.kubeflow.org/component": "controller"}}}]
        else:
            assert ports == {6788}  # early stopping only: trial pods' metrics collectors report there
    (base_policy,) = [o for o in rendered["base"] if o["kind"] == "NetworkPolicy"]
    assert base_policy["metadata"]["namespace"] == KATIB_NAMESPACE and base_policy["spec"] == spec


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_katib_suggest_validate_accepts_the_rendered_katib_config(overlay, rendered, tmp_path):
    path = tmp_path / "katib-config.yaml"
    path.write_text(yaml.safe_dump_all(rendered[overlay]))
    command = Path(sys.executable).with_name("katib-suggest")
    result = subprocess.run([str(command), "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_katib_suggest_validate_catches_a_wrong_image(rendered, tmp_path):
    objects = copy.deepcopy(rendered["overlays/upstream-names"])
    config_map = next(o for o in objects if o["kind"] == "ConfigMap")
    config = yaml.safe_load(config_map["data"]["katib-config.yaml"])
    next(e for e in config["runtime"]["suggestions"] if e["algorithmName"] == "anneal")["image"] = image_for("optuna")
    config_map["data"]["katib-config.yaml"] = yaml.safe_dump(config)
    path = tmp_path / "katib-config.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    command = Path(sys.executable).with_name("katib-suggest")
    result = subprocess.run([str(command), "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "does not serve anneal" in result.stdout


def test_manifests_reference_nothing_in_examples():
    for path in MANIFESTS.rglob("*.yaml"):
        assert "examples/" not in path.read_text(), path


def without(config: dict, names, early_stopping_names=()) -> dict:
    """``config`` without the suggestion entries of ``names`` and the earlyStoppings entries of those."""
    result = copy.deepcopy(config)
    result["runtime"]["suggestions"] = [e for e in result["runtime"]["suggestions"] if e["algorithmName"] not in names]
    if early_stopping_names:
        result["runtime"]["earlyStoppings"] = [e for e in result["runtime"].get("earlyStoppings", [])
                                               if e["algorithmName"] not in early_stopping_names]
    return result


def test_our_map_of_upstream_is_upstreams():
    assert UPSTREAM_BACKENDS == UPSTREAM
    entries = yaml.safe_load(UPSTREAM_DEFAULT.read_text())["runtime"]["suggestions"]
    images = {e["algorithmName"]: e["image"] for e in entries}
    assert {name: image.rsplit("suggestion-", 1)[1].split(":")[0] for name, image in images.items()} == UPSTREAM


@pytest.mark.parametrize("folder", sorted(GENERATED))
def test_katib_config_files_are_what_the_merge_command_writes(folder):
    """Fresh-install files = `katib-suggest katib-config` on Katib v0.19.0's own file (no drift)."""
    path = MANIFESTS / folder / "katib-config.yaml"
    text = path.read_text()
    document = read(text)
    config, changes = merge(document.config, routes(GENERATED[folder]))
    options = EntryOptions()
    config, stopping_changes = merge_early_stoppings(config, early_stopping_names(default_selection(GENERATED[folder])),
                                                     options)
    assert not changes + stopping_changes and render_config(document, config) == text, (
        f"stale: katib-suggest katib-config {path.relative_to(ROOT)} --algorithms {GENERATED[folder]} -o "
        f"{path.relative_to(ROOT)}")
    routed = routes(GENERATED[folder])
    stopping = early_stopping_names(default_selection(GENERATED[folder]))
    assert without(config, routed, stopping) == without(yaml.safe_load(UPSTREAM_DEFAULT.read_text()), routed, stopping)
