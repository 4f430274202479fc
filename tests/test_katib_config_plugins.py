"""katib-config and plugins: a plugin's image comes from the plugin, its names are routed only when asked; --diff
exits 1 on changes and -o never overwrites silently (issue 24, items 11 and 16)."""

from __future__ import annotations

import os
import subprocess

import yaml
from katib_suggestion.images import image_for
from servers import katib_suggest
from test_katib_config_command import LIVE, inner, run
from test_plugins import GOOD, install_fake

WITH_IMAGE = GOOD.replace('"{module}:BACKEND", INTERFACE_VERSION)',
                          '"{module}:BACKEND", INTERFACE_VERSION, image="ghcr.io/walkers/katib-suggest-walker")')


def _katib_config(site, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([katib_suggest(), "katib-config", str(LIVE["standalone"]), *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(site)})


def _entries(output: str) -> dict[str, dict]:
    return {e["algorithmName"]: e for e in inner(yaml.safe_load(output))["runtime"]["suggestions"]}


def _merged(site, *args: str) -> dict[str, dict]:
    result = _katib_config(site, *args)
    assert result.returncode == 0, result.stderr
    return _entries(result.stdout)


def test_the_default_routing_adds_no_plugin_name_and_says_how_to(tmp_path):
    install_fake(tmp_path, "walker-plugin", "walker", WITH_IMAGE)
    result = _katib_config(tmp_path)
    assert result.returncode == 0, result.stderr
    assert not {"walk", "walker-walk"} & set(_entries(result.stdout))
    assert ("katib-suggest katib-config: note: the walker plugin's algorithms (walk, walker-walk) are not routed: "
            "list them to add them, e.g. --algorithms upstream,walker-walk") in result.stderr


def test_a_plugin_is_routed_to_its_own_image_and_version(tmp_path):
    install_fake(tmp_path, "walker-plugin", "walker", WITH_IMAGE)
    entries = _merged(tmp_path, "--algorithms", "upstream,walker-walk", "--registry", "mirror.example/ml",
                      "--tag", "9.9")
    # the plugin's declared repository with the plugin distribution's version; ours follow --registry/--tag
    assert entries["walker-walk"]["image"] == "ghcr.io/walkers/katib-suggest-walker:1.0"
    assert entries["tpe"]["image"] == "mirror.example/ml/katib-suggest-hyperopt:9.9"
    assert "walk" not in entries
    # --image sets one backend's image, its tag defaulting to that backend's version
    entries = _merged(tmp_path, "--algorithms", "walker-walk,cmaes", "--image", "walker=registry.local/walker",
                      "--image", "optuna=registry.local/opt:dev")
    assert entries["walker-walk"]["image"] == "registry.local/walker:1.0"
    assert entries["cmaes"]["image"] == "registry.local/opt:dev"


def test_a_plugin_without_an_image_is_refused_when_routed(tmp_path):
    install_fake(tmp_path, "walker-plugin", "walker", GOOD)
    result = _katib_config(tmp_path, "--algorithms", "walker-walk")
    assert result.returncode == 2 and result.stdout == ""
    assert ("the walker backend (walker-plugin 1.0) declares no image: give --image "
            "walker=REGISTRY/katib-suggest-walker[:TAG]") in result.stderr


def test_diff_exits_1_on_changes_and_0_once_merged(capsys, tmp_path):
    merged = tmp_path / "merged.yaml"
    assert run(capsys, str(LIVE["standalone"]), "-o", str(merged))[0] == 0
    code, out, err = run(capsys, str(merged), "--diff")
    assert (code, out) == (0, "") and "nothing to change" in err
    code, out, _ = run(capsys, str(LIVE["standalone"]), "--diff")
    assert code == 1 and f"+    image: {image_for('optuna')}" in out


def test_output_files_are_not_overwritten_without_force(capsys, tmp_path):
    target, original = tmp_path / "out.yaml", tmp_path / "orig.yaml"
    target.write_text("mine\n")
    original.write_text("the real original\n")
    for flag, path in (("-o", target), ("--save-original", original)):
        code, out, err = run(capsys, str(LIVE["standalone"]), flag, str(path))
        assert code == 2 and out == ""
        assert f"{flag}: {path} exists; choose another file, or add --force to overwrite it" in err
    assert target.read_text() == "mine\n" and original.read_text() == "the real original\n"
    assert run(capsys, str(LIVE["standalone"]), "-o", str(target), "--force")[0] == 0
    assert "katib-suggest-optuna" in target.read_text()


def test_declared_image_and_reference_strings_are_checked():
    from dataclasses import replace

    from katib_validators.plugin_checks import declaration_problems
    from test_plugins import _plugin

    assert declaration_problems(_plugin(image="ghcr.io/w/katib-suggest-walker", reference="w.ref:Arm"), "walker") == []
    tagged = declaration_problems(_plugin(image="ghcr.io/w/katib-suggest-walker:1.0"), "walker")
    assert any("must be an image repository without a tag" in p for p in tagged), tagged
    assert any("reference 'w.ref' must be 'module:attribute'" in p
               for p in declaration_problems(replace(_plugin(), reference="w.ref"), "walker"))
