"""katib-suggest katib-config: merge into a live katib-config, keep everything else, idempotent, valid."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import yaml
from katib_suggestion.cli import main
from katib_suggestion.deploy.early_stopping import default_selection, early_stopping_names
from katib_suggestion.deploy.entries import declared_resources
from katib_suggestion.deploy.routes import PREFIXED, UPSTREAM, routes
from katib_suggestion.images import backend_of, image_for
from katib_validators.catalog import BACKENDS, served_by
from test_manifests import kubernetes_validate, without

DATA = Path(__file__).resolve().parent / "data"
# `kubectl get configmap katib-config -n kubeflow -o yaml` of a standalone Katib v0.19.0 and of a
# Kubeflow platform one (katib-with-kubeflow: cert-manager, no certGenerator), made from upstream's files
LIVE = {"standalone": DATA / "katib-config" / "standalone-v0.19.0.yaml",
        "kubeflow": DATA / "katib-config" / "kubeflow-cert-manager-v0.19.0.yaml"}
SERVER_FIELDS = {"uid", "resourceVersion", "creationTimestamp"}


def run(capsys, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    previous = sys.stdin
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    try:
        code = main(["katib-config", *args])
    finally:
        sys.stdin = previous
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def inner(config_map: dict) -> dict:
    return yaml.safe_load(config_map["data"]["katib-config.yaml"])


@pytest.fixture(scope="module")
def merged(tmp_path_factory) -> dict[tuple[str, str], str]:
    """(live config, selection) -> the command's output, computed once."""
    outputs = {}
    for live, path in LIVE.items():
        for selection in (UPSTREAM, PREFIXED):
            out = tmp_path_factory.mktemp("out") / "merged.yaml"
            assert main(["katib-config", str(path), "--algorithms", selection, "-o", str(out)]) == 0
            outputs[live, selection] = out.read_text()
    return outputs


@pytest.mark.parametrize("live", sorted(LIVE))
@pytest.mark.parametrize("selection", [UPSTREAM, PREFIXED])
def test_merge_keeps_every_other_setting(merged, live, selection):
    before = yaml.safe_load(LIVE[live].read_text())
    after = yaml.safe_load(merged[live, selection])
    routed = routes(selection)
    # the ConfigMap: same identity, labels and other annotations; nothing the API server wrote
    assert {k: v for k, v in after.items() if k != "data"} == {
        **{k: v for k, v in before.items() if k not in ("data", "metadata")},
        "metadata": {k: v for k, v in before["metadata"].items() if k not in SERVER_FIELDS | {"annotations"}}}
    # the KatibConfig: init, collectors and every entry we do not route, as they were
    stopping = early_stopping_names(default_selection(selection))
    assert without(inner(after), routed, stopping) == without(inner(before), routed, stopping)
    entries = inner(after)["runtime"]["suggestions"]
    names = [e["algorithmName"] for e in entries]
    assert len(names) == len(set(names))
    for entry in entries:
        if entry["algorithmName"] in routed:
            assert entry["image"] == image_for(routed[entry["algorithmName"]])
    assert set(routed) <= set(names)
    # an upstream entry we replace keeps its place in the list
    old_order = [e["algorithmName"] for e in inner(before)["runtime"]["suggestions"]]
    assert names[:len(old_order)] == old_order


def test_upstream_routes_every_name_we_serve_with_upstreams_backend():
    chosen = routes(UPSTREAM)
    assert set(chosen) == {name for backend in BACKENDS for name in served_by(backend)}
    assert chosen["tpe"] == chosen["random"] == "hyperopt" and chosen["cmaes"] == chosen["sobol"] == "optuna"
    assert all(name.startswith(f"{backend}-") for name, backend in routes(PREFIXED).items())


@pytest.mark.parametrize("live", sorted(LIVE))
@pytest.mark.parametrize("selection", [UPSTREAM, PREFIXED])
def test_merge_is_idempotent(capsys, merged, live, selection, tmp_path):
    path = tmp_path / "once.yaml"
    path.write_text(merged[live, selection])
    code, out, err = run(capsys, str(path), "--algorithms", selection)
    assert code == 0 and out == merged[live, selection]
    code, out, err = run(capsys, str(path), "--algorithms", selection, "--diff")
    assert code == 0 and out == "" and "nothing to change" in err


def test_the_kubeflow_install_keeps_cert_manager(merged):
    """katib-with-kubeflow has no certGenerator (cert-manager owns the webhook certificate)."""
    config = inner(yaml.safe_load(merged["kubeflow", UPSTREAM]))
    assert "certGenerator" not in config["init"]
    assert inner(yaml.safe_load(merged["standalone", UPSTREAM]))["init"]["certGenerator"] == {"enable": True}


def test_merged_objects_validate_strictly(merged, tmp_path):
    """The ConfigMaps, and a suggestion pod Katib would build from each distinct entry of ours."""
    documents = [yaml.safe_load(text) for text in merged.values()]
    containers = {}
    for config_map in documents:
        for entry in inner(config_map)["runtime"]["suggestions"]:
            if backend_of(entry["image"]):  # corev1.Container inline (pkg/apis/config/v1beta1)
                container = {k: v for k, v in entry.items() if k != "algorithmName"}
                containers[yaml.safe_dump(container)] = container
    pods = [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"suggestion-{index}"}, "spec": {"containers": [
        {**container, "name": "suggestion", "ports": [{"name": "suggestion-api", "containerPort": 6789}]}]}}
        for index, container in enumerate(containers.values())]
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump_all(documents + pods))
    output = kubernetes_validate(path)
    assert output.count("passed for resource configmap/katib-config") == len(documents)
    assert output.count("passed for resource pod/") == len(pods) == len(BACKENDS)


def test_diff_against_upstreams_default_shows_only_suggestion_and_early_stopping_entries(capsys):
    code, out, err = run(capsys, str(LIVE["standalone"]), "--diff")
    assert code == 1  # changes, as diff says so
    changed = [line for line in out.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert "-    image: ghcr.io/kubeflow/katib/suggestion-goptuna:v0.19.0" in changed
    assert f"+    image: {image_for('optuna')}" in changed
    assert changed and not any("metricsCollectors" in line or "certGenerator" in line for line in changed)
    assert "-    image: ghcr.io/kubeflow/katib/earlystopping-medianstop:v0.19.0" in changed
    assert f"+    image: {image_for('early-stopping')}" in changed
    assert ("8 entries replaced (random, tpe, grid, bayesianoptimization, cmaes, sobol, multivariate-tpe, "
            "medianstop)") in err
    assert err.rstrip().endswith("percentile, asha); every other setting kept")


def test_stdin_registry_tag_and_patches(capsys):
    code, out, _ = run(
        capsys, "--algorithms", "tpe=optuna,cmaes", "--registry", "registry.example.com:5000/ml/", "--tag", "0.1.0-rc1",
        "--resources", "skopt={limits: {memory: 512Mi}}", "--resources", "{requests: {cpu: 10m}}",
        "--security-context", '{"runAsUser": null, "runAsGroup": null}', "--image-pull-policy", "Always",
        "--service-account", "katib-suggest-puller",
        stdin=LIVE["kubeflow"].read_text())
    assert code == 0
    entries = {e["algorithmName"]: e for e in inner(yaml.safe_load(out))["runtime"]["suggestions"]}
    ours = {name: e for name, e in entries.items() if backend_of(e["image"])}
    assert set(ours) == {"tpe", "cmaes"}
    assert ours["tpe"]["image"] == "registry.example.com:5000/ml/katib-suggest-optuna:0.1.0-rc1"
    for entry in ours.values():
        assert entry["resources"]["requests"]["cpu"] == "10m"
        assert entry["resources"]["limits"]["memory"] == declared_resources("optuna")["limits"]["memory"]
        assert "runAsUser" not in entry["securityContext"] and entry["securityContext"]["runAsNonRoot"] is True
        assert entry["imagePullPolicy"] == "Always" and entry["serviceAccountName"] == "katib-suggest-puller"
    assert entries["random"]["image"] == "ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.19.0"


def test_a_backend_patch_applies_to_that_backend_only(capsys):
    code, out, _ = run(capsys, str(LIVE["standalone"]), "--resources", "skopt={limits: {memory: 512Mi}}")
    assert code == 0
    limits = {e["algorithmName"]: e.get("resources", {}).get("limits", {}).get("memory")
              for e in inner(yaml.safe_load(out))["runtime"]["suggestions"]}
    assert limits["bayesianoptimization"] == limits["skopt-bayesianoptimization"] == "512Mi"
    assert limits["tpe"] == declared_resources("hyperopt")["limits"]["memory"] and limits["enas"] == "400Mi"


def test_save_original_is_reappliable(capsys, tmp_path):
    original = tmp_path / "katib-config.orig.yaml"
    code, out, _ = run(capsys, str(LIVE["standalone"]), "--save-original", str(original))
    assert code == 0 and out
    before, saved = yaml.safe_load(LIVE["standalone"].read_text()), yaml.safe_load(original.read_text())
    assert inner(saved) == inner(before)
    assert not SERVER_FIELDS & set(saved["metadata"]) and "annotations" not in saved["metadata"]


def test_a_katib_config_file_keeps_its_header_and_duplicates_collapse(capsys, tmp_path):
    config = yaml.safe_load((DATA / "upstream-katib/manifests/v1beta1/installs/katib-standalone/"
                                     "katib-config.yaml").read_text())
    config["runtime"]["suggestions"].append({"algorithmName": "tpe", "image": "example.com/other-tpe:1"})
    path = tmp_path / "katib-config.yaml"
    path.write_text("# our platform's katib-config\n# (kept)\n" + yaml.safe_dump(config, sort_keys=False))
    code, out, _ = run(capsys, str(path), "--algorithms", "tpe")
    assert code == 0 and out.startswith("# our platform's katib-config\n# (kept)\napiVersion:")
    tpe = [e for e in yaml.safe_load(out)["runtime"]["suggestions"] if e["algorithmName"] == "tpe"]
    assert [e["image"] for e in tpe] == [image_for("hyperopt")]  # Katib would take the last: one entry, ours


@pytest.mark.parametrize("args,stdin,message", [
    (["--algorithms", "hyperband"], None, "hyperband is one of upstream Katib's own algorithms"),
    (["--algorithms", "tpee"], None, "katib-suggest does not serve 'tpee'; choose from anneal,"),
    (["--algorithms", "tpe=skopt"], None, "tpe is served by hyperopt, optuna, not 'skopt'"),
    (["--resources", "[1, 2]"], None, "--resources '[1, 2]': give a mapping"),
    ([], "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n", "has no data.katib-config.yaml"),
    ([], "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\n", "expected the katib-config ConfigMap or a"),
    ([], "kind: [", "not valid YAML"),
])
def test_unusable_input_is_refused_with_the_reason(capsys, args, stdin, message):
    code, out, err = run(capsys, *args, "-", stdin=stdin if stdin is not None else LIVE["standalone"].read_text())
    assert code == 2 and out == "" and message in err, err


@pytest.mark.parametrize(("algorithms", "expected"), [
    (UPSTREAM, "all"), (f"{UPSTREAM},nevergrad-de", "all"), (f" nevergrad-de , {UPSTREAM}", "all"),
    (PREFIXED, "new"), ("tpe,random", "new")])
def test_early_stopping_follows_a_drop_in_of_upstreams_names_even_beside_a_plugins(algorithms, expected):
    assert default_selection(algorithms) == expected
