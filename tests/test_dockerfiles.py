"""The image and its release: docker/Dockerfile lints clean and is correct by construction; the workflow lints."""

from __future__ import annotations

import configparser
import importlib.util
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# what the wheel is built from: the packages of setup.cfg plus the build metadata
PACKAGE_SOURCES = {"pyproject.toml", "setup.cfg", "README.md", "proto/", "suggestion/", "validators/"}
PLUGIN_WHEELS = "docker/plugins/"  # the only other thing the build context sends
CONSTRAINTS = "docker/constraints/"  # pinned versions per backend, written by docker/lock.py


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def env(self, **args: str) -> dict[str, str]:
        """ENV of this stage, ``${NAME}`` filled from ``args`` (build args) or left for the caller."""
        result: dict[str, str] = {}
        for line in self.all("ENV"):
            for word in shlex.split(line):
                key, _, value = word.partition("=")
                result[key] = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), value)
        return result

    def entrypoint(self) -> list[str]:
        (line,) = self.all("ENTRYPOINT")
        return json.loads(line)  # exec form is JSON; a shell-form string would not parse as a list


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction; comments dropped, continuation lines joined."""
    logical, pending = [], ""
    for raw in path.read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if line:
            keyword, _, args = line.partition(" ")
            logical.append((keyword.upper(), args.strip()))
    return logical


def stages(path: Path = DOCKERFILE) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the build stages in order."""
    global_args: dict[str, str] = {}
    result: list[Stage] = []
    for keyword, args in instructions(path):
        if keyword == "FROM":
            words = args.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: global_args.get(m.group(1), m.group(0)), words[0])
            result.append(Stage(base, words[2] if len(words) > 2 and words[1].upper() == "AS" else None))
        elif not result and keyword == "ARG":
            name, _, default = args.partition("=")
            global_args[name] = default
        elif result:
            result[-1].instructions.append((keyword, args))
    return global_args, result


def runtime_stage() -> Stage:
    return stages()[1][-1]


def tool(name: str) -> str:
    """A test tool from the dev extra, installed next to this interpreter."""
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{name} missing: pip install '.[dev]'"
    return str(path)


def test_hadolint_passes():
    result = subprocess.run([tool("hadolint"), str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_slim_runtime():
    global_args, all_stages = stages()
    assert len(all_stages) >= 2
    assert all(stage.base == global_args["PYTHON_IMAGE"] for stage in all_stages)  # one interpreter for venv and run
    assert global_args["PYTHON_IMAGE"] == "python:3.11-slim"
    runtime = all_stages[-1]
    # the runtime stage gets the finished venv only: no sources, no wheel, no pip runs
    assert [args for args in runtime.all("COPY")] == ["--from=venv /opt/venv /opt/venv"]
    assert not runtime.all("RUN")


def test_wheel_is_built_from_the_package_sources_only():
    wheel_stage = next(s for s in stages()[1] if s.name == "wheel")
    copied = {word for line in wheel_stage.all("COPY") for word in line.split()[:-1]}
    assert copied == PACKAGE_SOURCES
    assert any("pip wheel" in line and "--no-deps" in line for line in wheel_stage.all("RUN"))
    # BuildKit's per-Dockerfile ignore file: everything out, the sources back in
    ignore = [w for w in (ROOT / "docker" / "Dockerfile.dockerignore").read_text().split("\n")
              if w and not w.startswith("#")]
    sent = {w[1:] for w in ignore if w.startswith("!")}
    assert ignore[0] == "*" and sent == PACKAGE_SOURCES | {PLUGIN_WHEELS, CONSTRAINTS}


# the base image's pip installs into the venv, which gets no pip or setuptools of its own
PIP_INSTALL = "pip --python /opt/venv/bin/python install"


def install_lines() -> list[str]:
    return [line for s in stages()[1] for line in s.all("RUN") if PIP_INSTALL in line]


def test_each_image_installs_only_its_own_extra_or_its_plugin():
    installs = install_lines()
    assert len(installs) == 1
    # the install targets are the wheel (set as $1 from its glob) with one extra, or the wheel and the plugin
    # the install targets ("$@") come last, after the options
    assert re.search(PIP_INSTALL + r' (--\S+ (\S+ )?)*"\$@"', installs[0]), "install exactly the targets chosen below"
    assert "set -- /dist/katib_suggest-*.whl" in installs[0]
    assert 'if [ -n "${PLUGIN}" ]; then set -- "$1" "${PLUGIN}"; else set -- "$1[${BACKEND}]"; fi' in installs[0], \
        "install exactly the image's backend extra (never [all]), or the plugin that brings its own libraries"
    venv_stage = next(s for s in stages()[1] if s.name == "venv")
    assert {"BACKEND", 'PLUGIN=""'} <= set(venv_stage.all("ARG")) and 'test -n "${BACKEND}"' in installs[0]
    assert "--find-links /plugins" in installs[0] and "docker/plugins/ /plugins/" in venv_stage.all("COPY")
    assert "check_loads" in installs[0], "the build fails when the backend (or early-stopping service) does not import"


def test_plugin_build_installs_the_wheel_and_the_plugin_with_the_same_runtime():
    """The install line's shell, run for a plugin and for a built-in backend, picks the right targets."""
    line = install_lines()[0]
    choose = next(part.strip() for part in line.split("&&") if part.strip().startswith("if "))
    for plugin, backend, expected in (("katib-suggest-nevergrad==0.1.0", "nevergrad",
                                       ["/dist/katib_suggest-0.1.0-py3-none-any.whl",
                                        "katib-suggest-nevergrad==0.1.0"]),
                                      ("", "optuna", ["/dist/katib_suggest-0.1.0-py3-none-any.whl[optuna]"])):
        script = f'set -- /dist/katib_suggest-0.1.0-py3-none-any.whl; {choose}; printf "%s\\n" "$@"'
        result = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=30,
                                env={"PLUGIN": plugin, "BACKEND": backend, "PATH": "/usr/bin:/bin"})
        assert result.stdout.split("\n")[:-1] == expected, result.stderr
    assert runtime_stage().all("COPY") == ["--from=venv /opt/venv /opt/venv"]  # a plugin image's runtime is the same


def test_the_venv_carries_only_what_the_server_imports():
    """No pip or setuptools in the venv, no test suites or C sources of dependencies, and the import
    check runs after the cut: an image whose backend needs something cut fails to build."""
    (install,) = install_lines()
    steps = [step.strip() for step in install.split("&&")]
    assert "python -m venv --without-pip /opt/venv" in steps
    cut = next(i for i, step in enumerate(steps) if "-name tests" in step and "rm -rf" in step)
    assert '-path "*/site-packages/*"' in steps[cut], "only inside installed packages"
    assert any("-delete" in step and '"*.pyx"' in step for step in steps)
    assert cut < next(i for i, step in enumerate(steps) if "check_loads" in step)
    # downloads shared between the builds of every backend, never left in a layer
    assert install.startswith("--mount=type=cache,target=/root/.cache/pip")


def test_no_pythonpath_no_shell_wrapper():
    text = DOCKERFILE.read_text()
    assert "PYTHONPATH" not in text
    assert ".sh" not in text and not list((ROOT / "docker").glob("*.sh"))


def test_runs_the_console_script_as_numeric_non_root_on_6789():
    runtime = runtime_stage()
    (user,) = runtime.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0 and int(gid) > 0
    assert runtime.all("EXPOSE") == ["6789"]
    entrypoint = runtime.entrypoint()
    assert entrypoint == ["katib-suggest", "serve"]
    scripts = configparser.ConfigParser()
    scripts.read(ROOT / "setup.cfg")
    assert entrypoint[0] in scripts["options.entry_points"]["console_scripts"]
    env = runtime.env(BACKEND="optuna")
    assert env["KATIB_SUGGEST_BACKEND"] == "optuna" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow):
    result = subprocess.run([tool("actionlint"), "-shellcheck=", "-pyflakes=", str(workflow)],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_release_takes_image_names_from_images_py():
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    assert "katib_suggestion.images" in text and "image_for" in text
    assert "ghcr.io/katib-suggest" not in text, "image names live in suggestion/images.py only"
    assert "docker/Dockerfile" in text and "BACKEND=" in text


def _lock_module():
    spec = importlib.util.spec_from_file_location("docker_lock", ROOT / "docker" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOCK = _lock_module()


def test_each_image_installs_with_its_backends_constraints():
    venv_stage = next(s for s in stages()[1] if s.name == "venv")
    assert f"{CONSTRAINTS} /constraints/" in venv_stage.all("COPY")
    (install,) = [line for line in venv_stage.all("RUN") if PIP_INSTALL in line]
    # our backends' pins; a plugin may bring /plugins/<backend>.constraints.txt, else it installs unpinned
    assert 'constraints="/constraints/${BACKEND}.txt"' in install and '--constraint "${constraints}"' in install
    global_args, _ = stages()
    assert global_args["PYTHON_IMAGE"] == f"python:{LOCK.PYTHON}-slim", "lock for the image's Python"
    extras = configparser.ConfigParser()
    extras.read(ROOT / "setup.cfg")
    assert set(LOCK.BACKENDS) <= set(extras["options.extras_require"])
    assert {p.stem for p in (ROOT / CONSTRAINTS).glob("*.txt")} == set(LOCK.BACKENDS)


def pins(path: Path) -> dict[str, str]:
    """name -> pinned version of the lines that apply to the image (Python 3.11 on Linux)."""
    environment = {**default_environment(), "python_version": LOCK.PYTHON, "python_full_version": f"{LOCK.PYTHON}.7",
                   "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    result = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned"
        if requirement.marker is None or requirement.marker.evaluate(environment):
            name = canonicalize_name(requirement.name)
            assert name not in result, f"{path.name}: {requirement.name} pinned twice"
            result[name] = specifier.version
    return result


@pytest.mark.parametrize("backend", LOCK.BACKENDS)
def test_constraints_are_current_with_setup_cfg(backend):
    path = ROOT / CONSTRAINTS / f"{backend}.txt"
    recorded = [line for line in path.read_text().splitlines() if line.startswith(LOCK.HASH_PREFIX)]
    assert recorded == [LOCK.HASH_PREFIX + LOCK.inputs_hash(backend)], (
        f"{path.relative_to(ROOT)} is stale against setup.cfg: run `pip install uv && python docker/lock.py`")
    pinned = pins(path)
    for line in LOCK.inputs(backend):
        requirement = Requirement(line)
        version = pinned.get(canonicalize_name(requirement.name))  # ruamel.yaml is pinned as ruamel-yaml
        assert version is not None, f"{path.name} pins no {requirement.name}"
        assert requirement.specifier.contains(version, prereleases=True), (path.name, line, version)
