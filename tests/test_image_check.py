"""The image check's pure parts: the katib-config entry turned into engine flags, the declarations, the table."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from katib_suggestion.deploy.entries import SECURITY_CONTEXT, entry
from katib_suggestion.image_check.base import apt_mirror
from katib_suggestion.image_check.container import Inside
from katib_suggestion.image_check.engine import Engine, podman_settings
from katib_suggestion.image_check.pod import UnsupportedSetting, memory_limit, quantity, run_flags
from katib_suggestion.image_check.run import CheckFailed, _check_confinement
from katib_suggestion.image_check.targets import IMAGES
from katib_suggestion.image_check.workloads import Examples, LargestCall
from katib_suggestion.images import image_for
from katib_validators.catalog import BACKENDS

ROOT = Path(__file__).resolve().parents[1]
PODMAN, DOCKER = Engine("podman", {}), Engine("docker", {})


def pairs(flags: list[str]) -> list[tuple[str, str]]:
    return [(flags[i], flags[i + 1]) for i in range(len(flags) - 1)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_flags_apply_every_setting_of_our_entry(backend):
    written = entry("x", backend)
    flags = run_flags(PODMAN, written, 6789, 40123)
    assert ("-p", "127.0.0.1:40123:6789") in pairs(flags)
    # readOnlyRootFilesystem, and no tmpfs at /tmp (Katib cannot mount one; podman would add it)
    assert "--read-only" in flags and "--read-only-tmpfs=false" in flags
    assert ("--user", "65532:65532") in pairs(flags) and ("--cap-drop", "ALL") in pairs(flags)
    assert ("--security-opt", "no-new-privileges") in pairs(flags)
    limit = str(memory_limit(written))
    assert ("--memory", limit) in pairs(flags) and ("--memory-swap", limit) in pairs(flags)
    assert ("--cpus", "1") in pairs(flags)
    assert "--read-only-tmpfs=false" not in run_flags(DOCKER, written, 6789, 1)  # docker adds no tmpfs


def test_a_setting_the_check_cannot_apply_is_refused_not_skipped():
    with pytest.raises(UnsupportedSetting, match="procMount"):
        run_flags(PODMAN, {**entry("x", "optuna"), "securityContext": {**SECURITY_CONTEXT, "procMount": "Unmasked"}},
                  6789, 1)
    with pytest.raises(UnsupportedSetting, match="volumeMountPath"):
        run_flags(PODMAN, {**entry("x", "optuna"), "volumeMountPath": "/opt/katib/data"}, 6789, 1)


@pytest.mark.parametrize(("text", "value"), [("128Mi", 128 * 2 ** 20), ("1Gi", 2 ** 30), ("500m", 0.5), ("1", 1),
                                             ("100M", 10 ** 8), ("64Ki", 65536)])
def test_kubernetes_quantities(text, value):
    assert quantity(text) == pytest.approx(value)


@given(st.integers(min_value=1, max_value=2 ** 20))
def test_mebibytes_are_read_exactly(mib):
    assert quantity(f"{mib}Mi") == mib * 2 ** 20


def test_every_released_backend_is_checked_and_its_entry_names_the_built_image():
    assert set(BACKENDS) <= set(IMAGES)
    for name in BACKENDS:
        function, arguments = IMAGES[name].entry
        module, _, attribute = function.partition(":")
        written = getattr(__import__(module, fromlist=[attribute]), attribute)(*arguments)
        assert written["image"] == image_for(name)


def test_every_declared_workload_file_exists_and_largest_calls_fit_their_experiment():
    for target in IMAGES.values():
        for workload in target.workloads:
            if isinstance(workload, Examples):
                assert all((ROOT / name).is_file() for name in workload.files), target.name
            else:
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
