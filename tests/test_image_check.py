"""The image check's pure parts: entries turned into engine flags, the declarations, confinement, the table."""

from __future__ import annotations

import resource
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from katib_suggestion.deploy.early_stopping import early_stopping_entry
from katib_suggestion.deploy.entries import SECURITY_CONTEXT, entry
from katib_suggestion.image_check.base import apt_mirror
from katib_suggestion.image_check.container import Inside
from katib_suggestion.image_check.engine import Engine, podman_settings
from katib_suggestion.image_check.katib_pod import KatibPod
from katib_suggestion.image_check.pod import UnsupportedSetting, memory_limit, quantity, run_flags
from katib_suggestion.image_check.run import CheckFailed, _check_confinement, _check_wrote_nothing, entry_arguments
from katib_suggestion.image_check.service_account import MOUNT, make_service_account
from katib_suggestion.image_check.stopping_workloads import SettingsValidation, StoppingRules, refused_value
from katib_suggestion.image_check.targets import IMAGES
from katib_suggestion.image_check.workloads import Examples, LargestCall
from katib_suggestion.images import image_for
from katib_suggestion.served import SERVED
from katib_suggestion.stopping.declaration import EARLY_STOPPING
from katib_validators.catalog import BACKENDS
from katib_validators.early_stopping import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]
PODMAN, DOCKER = Engine("podman", {}), Engine("docker", {})


def pairs(flags: list[str]) -> list[tuple[str, str]]:
    return [(flags[i], flags[i + 1]) for i in range(len(flags) - 1)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_flags_apply_every_setting_of_our_entry(backend):
    written = entry("x", backend)
    flags = run_flags(PODMAN, written, ["--publish", "127.0.0.1:40123:6789"])
    assert ("--publish", "127.0.0.1:40123:6789") in pairs(flags)
    # readOnlyRootFilesystem, and no tmpfs at /tmp (Katib cannot mount one; podman would add it)
    assert "--read-only" in flags and "--read-only-tmpfs=false" in flags
    assert ("--user", "65532:65532") in pairs(flags) and ("--cap-drop", "ALL") in pairs(flags)
    assert ("--security-opt", "no-new-privileges") in pairs(flags)
    limit = str(memory_limit(written))
    assert ("--memory", limit) in pairs(flags) and ("--memory-swap", limit) in pairs(flags)
    assert ("--cpus", "1") in pairs(flags)
    assert "--read-only-tmpfs=false" not in run_flags(DOCKER, written, [])  # docker adds no tmpfs


def test_a_setting_the_check_cannot_apply_is_refused_not_skipped():
    with pytest.raises(UnsupportedSetting, match="procMount"):
        run_flags(PODMAN, {**entry("x", "optuna"), "securityContext": {**SECURITY_CONTEXT, "procMount": "Unmasked"}},
                  [])
    with pytest.raises(UnsupportedSetting, match="volumeMountPath"):
        run_flags(PODMAN, {**entry("x", "optuna"), "volumeMountPath": "/opt/katib/data"}, [])


@pytest.mark.parametrize(("text", "value"), [("128Mi", 128 * 2 ** 20), ("1Gi", 2 ** 30), ("500m", 0.5), ("1", 1),
                                             ("100M", 10 ** 8), ("64Ki", 65536)])
def test_kubernetes_quantities(text, value):
    assert quantity(text) == pytest.approx(value)


@given(st.integers(min_value=1, max_value=2 ** 20))
def test_mebibytes_are_read_exactly(mib):
    assert quantity(f"{mib}Mi") == mib * 2 ** 20


def written_entry(target) -> dict:
    """The entry the check asks the image for, computed here from the same function."""
    module, _, attribute = target.entry[0].partition(":")
    function = getattr(__import__(module, fromlist=[attribute]), attribute)
    return function(*entry_arguments(target, image_for(target.name)))


def test_every_released_image_is_checked_and_every_entry_names_the_built_image():
    assert set(SERVED) <= set(IMAGES)
    for name, target in IMAGES.items():  # the example plugin too: it declares no image, the check names it
        assert written_entry(target)["image"] == image_for(name)


def test_every_declared_workload_file_exists_and_largest_calls_fit_their_experiment():
    for target in IMAGES.values():
        for workload in target.workloads:
            if isinstance(workload, Examples):
                assert all((ROOT / name).is_file() for name in workload.files), target.name
            elif not target.in_pod:
                assert isinstance(workload, LargestCall)
                message = workload.message(ROOT)
                assert message.spec.max_trial_count == workload.trials + workload.count
        if target.plugin_source:
            assert (ROOT / target.plugin_source / "pyproject.toml").is_file()


def test_confinement_problems_are_named():
    context = entry("x", "optuna")["securityContext"]
    fine = Inside(uid=65532, gid=65532, cap_eff="0000000000000000", no_new_privs="1", peak_kib=1, oom_kills=0,
                  writable=[])
    _check_confinement(fine, context)
    bad = Inside(uid=0, gid=0, cap_eff="00000000a80425fb", no_new_privs="0", peak_kib=1, oom_kills=0,
                 writable=["/tmp"])
    with pytest.raises(CheckFailed) as raised:
        _check_confinement(bad, context)
    for words in ("runs as root", "capabilities", "no_new_privs", "create files in ['/tmp']"):
        assert words in str(raised.value)


def test_podman_settings_stay_within_the_hosts_hard_limits(tmp_path, monkeypatch):
    monkeypatch.delenv("CONTAINERS_CONF", raising=False)
    conf = Path(podman_settings(tmp_path)["CONTAINERS_CONF"]).read_text()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = min(hard, 1 << 20) if hard != resource.RLIM_INFINITY else 1 << 20
    assert f'"nofile={wanted}:{wanted}"' in conf
    monkeypatch.setenv("CONTAINERS_CONF", "/etc/mine.conf")
    assert podman_settings(tmp_path) == {}  # the caller's own settings win


def test_the_debian_mirror_is_read_from_either_sources_format(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    assert apt_mirror(tmp_path) == "http://deb.debian.org/debian"
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n")
    assert apt_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://other.example/debian bookworm main\n")
    assert apt_mirror(tmp_path) == "http://other.example/debian"


def test_the_wheelhouse_downloads_for_the_images_python():
    from katib_suggestion.image_check.build import IMAGE_PYTHON
    from test_dockerfiles import LOCK

    assert IMAGE_PYTHON == LOCK.PYTHON


def test_a_peak_near_the_limit_fails_with_the_place_to_raise_it():
    from katib_suggestion.image_check.run import MEMORY_HEADROOM, Outcome, _check_headroom

    limit = 160 * 2 ** 20
    _check_headroom(Outcome(peak_kib=int(MEMORY_HEADROOM * limit / 1024) - 1, limit_bytes=limit))
    with pytest.raises(CheckFailed, match="builtin.py"):
        _check_headroom(Outcome(peak_kib=154 * 1024, limit_bytes=limit))  # hyperopt's largest call at 160Mi


def test_the_table_has_one_row_per_image_and_short_failures():
    from katib_suggestion.image_check.build import Built
    from katib_suggestion.image_check.report import Row, table
    from katib_suggestion.image_check.run import Outcome

    rows = [Row("optuna", Built("img:1", 63.0, 290_000_000), Outcome(0.7, 117_760, 160 * 2 ** 20), "ok"),
            Row("skopt", None, Outcome(), "FAILED: exit 137")]
    lines = table(rows).splitlines()
    assert len(lines) == 4 and lines[0].startswith("| image")
    assert [cell.strip() for cell in lines[2].strip("|").split("|")] == [
        "img:1", "290 MB", "63 s", "0.7 s", "115 MiB / 160 MiB", "ok"]
    assert "FAILED: exit 137" in lines[3]


# --- the early-stopping image: Katib's earlyStoppings entry has no securityContext ---


def test_the_early_stopping_image_is_declared_from_its_declaration():
    target = IMAGES[EARLY_STOPPING.name]
    assert target.build_args == {"BACKEND": EARLY_STOPPING.name}
    assert (target.port, target.health, target.in_pod) == (EARLY_STOPPING.port, EARLY_STOPPING.health_names, True)
    written = written_entry(target)
    assert written == early_stopping_entry(EARLY_STOPPING.algorithms[0])
    assert written["resources"] == EARLY_STOPPING.resources and "securityContext" not in written
    [validation] = [w for w in target.workloads if isinstance(w, SettingsValidation)]
    assert validation.algorithms == EARLY_STOPPING.algorithms
    assert {w.metric for w in target.workloads if isinstance(w, StoppingRules)} == {"loss", "accuracy"}  # both ways


def test_the_early_stopping_container_joins_its_pod_as_the_image_defines_it(tmp_path):
    pod = KatibPod(PODMAN, "img", "n", EARLY_STOPPING.port, tmp_path)
    flags = run_flags(PODMAN, written_entry(IMAGES[EARLY_STOPPING.name]), pod.member_flags())
    # Katib sets no securityContext on it: the image's USER, a writable root, the runtime's defaults
    assert not {"--read-only", "--user", "--cap-drop", "--security-opt", "--publish"} & set(flags)
    limit = str(memory_limit({"resources": EARLY_STOPPING.resources}))
    assert ("--memory", limit) in pairs(flags) and ("--cpus", "0.5") in pairs(flags)
    # what the kubelet adds: the pod's network, the service account's files, the API's address
    assert ("--network", "container:n-pod") in pairs(flags)
    assert ("--volume", f"{pod.account.folder}:{MOUNT}:ro") in pairs(flags)
    assert ("--env", "KUBERNETES_SERVICE_HOST=127.0.0.1") in pairs(flags)
    assert pod.reach.db_manager_address == "katib-db-manager.kubeflow:6789"  # Katib's default
    assert len(set(pod.ports)) == 3


def test_the_pods_service_account_is_what_a_pod_reads(tmp_path):
    account = make_service_account(tmp_path)
    assert sorted(p.name for p in account.folder.iterdir()) == ["ca.crt", "namespace", "token"]
    assert (account.folder / "token").read_text() == account.token
    assert (account.folder / "namespace").read_text() == account.namespace
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(account.ca_file), str(account.serving / "tls.crt")],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    # readable by the containers' non-root user; the CA's key stays out of both mounted folders
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in [*account.folder.iterdir(), *account.serving.iterdir()])
    assert not any(p.suffix == ".key" and p.name != "tls.key" for p in account.serving.iterdir())


def test_without_a_security_context_the_images_user_is_checked():
    fine = Inside(uid=65532, gid=65532, cap_eff="0000000000000000", no_new_privs="0", peak_kib=1, oom_kills=0,
                  writable=[])
    _check_confinement(fine, {}, "65532:65532")  # no_new_privs and a writable root are what Katib gives it
    for inside, image_user, words in [
        (replace(fine, uid=0, gid=0), "0:0", "runs as root"),
        (replace(fine, uid=1000), "65532:65532", "runs as 1000:65532, the image's USER says 65532:65532"),
        (fine, "nonroot", "numeric non-root uid:gid"),
        (replace(fine, cap_eff="0000000000000400"), "65532:65532", "although it does not run as root"),
    ]:
        with pytest.raises(CheckFailed, match=words):
            _check_confinement(inside, {}, image_user)


PODMAN_OWN = [("C", "/etc"), ("C", "/etc/group"), ("C", "/etc/passwd"), ("A", "/run/secrets/kubernetes.io"),
              ("A", "/run/secrets/kubernetes.io/serviceaccount")]  # podman diff of a container that wrote nothing


def test_a_writable_root_must_stay_unwritten():
    _check_wrote_nothing(PODMAN_OWN, (MOUNT, *PODMAN.own_changes))
    with pytest.raises(CheckFailed, match=r"wrote to its root filesystem: C /tmp, A /tmp/x"):
        _check_wrote_nothing([*PODMAN_OWN, ("C", "/tmp"), ("A", "/tmp/x")], (MOUNT, *PODMAN.own_changes))
    with pytest.raises(CheckFailed, match="C /var/tmp"):  # a named file written and removed leaves its folder
        _check_wrote_nothing([("C", "/var/tmp")], ())
    with pytest.raises(CheckFailed, match="/etc/passwd"):  # docker leaves /etc/passwd alone: a change is the server's
        _check_wrote_nothing(PODMAN_OWN, (MOUNT, *DOCKER.own_changes))


@pytest.mark.parametrize("algorithm", EARLY_STOPPING.algorithms)
def test_each_value_the_check_sends_as_refused_is_refused_by_the_schema(algorithm):
    for setting in SCHEMAS[algorithm].settings:
        setting.parse(str(setting.default))
        with pytest.raises(ValueError, match=setting.name):
            setting.parse(refused_value(setting))
