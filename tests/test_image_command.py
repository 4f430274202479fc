"""The image's command, run from a wheel-built environment per backend: health, one call, clean SIGTERM.

No Docker engine here, so the test rebuilds what the Dockerfile does outside a
container: the wheel from the same sources, a venv with only that backend's
extra, and the runtime stage's ENV and ENTRYPOINT parsed from docker/Dockerfile.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

import grpc
import pytest
from conftest import experiment_doc
from katib_api import api_pb2 as pb
from katib_api import api_pb2_grpc
from katib_suggestion.wire import experiment_message
from katib_validators.catalog import BACKENDS, served_by
from sandbox import read_only, writable_places
from servers import ServerProcess, free_port, log_lines
from test_dockerfiles import CONSTRAINTS, PACKAGE_SOURCES, ROOT, runtime_stage

IMAGE_VENV = "/opt/venv"  # where the Dockerfile puts the environment

pytestmark = pytest.mark.slow


def pip(*args: str) -> None:
    """The pip of the environment running the tests (the one .ci/run installs with)."""
    result = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps`` over a copy of the sources the Dockerfile copies (keeps build/ out of the tree)."""
    work = tmp_path_factory.mktemp("wheel")
    for name in PACKAGE_SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / "src" / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (work / "src").mkdir(exist_ok=True)
            shutil.copy2(source, work / "src" / name)
    pip("wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(work / "src"))
    (built,) = (work / "dist").glob("katib_suggest-*.whl")
    return built


@pytest.fixture(scope="session")
def image_environments(wheel, tmp_path_factory):
    """backend -> venv with the wheel, only that extra and the image's pinned versions; built once per
    session, on first use."""
    cache: dict[str, Path] = {}

    def environment(backend: str) -> Path:
        if backend not in cache:
            target = tmp_path_factory.mktemp(f"venv-{backend}")
            venv.create(target, with_pip=False)
            pip("--python", str(target / "bin" / "python"), "install", "--quiet",
                "--constraint", str(ROOT / CONSTRAINTS / f"{backend}.txt"), f"{wheel}[{backend}]")
            cache[backend] = target
        return cache[backend]

    return environment


def image_process_env(backend: str, environment: Path, home: Path, port: int) -> dict[str, str]:
    """The image's ENV (venv path mapped to ours), a clean HOME and TMPDIR, the port overridden."""
    image_env = runtime_stage().env(BACKEND=backend, PATH=os.environ["PATH"])
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("KATIB_SUGGEST_", "PYTHON", "VIRTUAL_ENV"))}
    mapped = {k: v.replace(IMAGE_VENV, str(environment)) for k, v in image_env.items()}
    return {**base, **mapped, "HOME": str(home), "TMPDIR": str(home),
            "KATIB_SUGGEST_HOST": "127.0.0.1", "KATIB_SUGGEST_PORT": str(port)}


def files_under(path: Path) -> set[str]:
    return {str(p) for p in path.rglob("*")}


@pytest.mark.parametrize("backend", BACKENDS)
def test_image_command_serves_and_stops_cleanly(backend, image_environments, tmp_path):
    environment = image_environments(backend)
    home, workdir = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    workdir.mkdir()
    port = free_port()
    env = image_process_env(backend, environment, home, port)
    entrypoint = runtime_stage().entrypoint()
    program = shutil.which(entrypoint[0], path=env["PATH"])
    assert program == str(environment / "bin" / entrypoint[0]), "the console script comes from the image's venv"
    before = files_under(environment)

    code, output = serve_one_call_and_stop([program, *entrypoint[1:]], env, workdir, port, backend)
    assert code == 0, output
    assert log_lines(output, f"{backend} backend serving on 127.0.0.1:{port}")
    assert log_lines(output, "received SIGTERM")
    # a read-only root filesystem is possible: nothing written to the venv, HOME, TMPDIR or the working dir
    assert files_under(environment) == before
    assert not any(home.iterdir()) and not any(workdir.iterdir())


@pytest.mark.parametrize("backend", BACKENDS)
def test_image_command_serves_with_nothing_writable(backend, image_environments, tmp_path):
    """As our katib-config entries start the image: read-only root, no writable /tmp, HOME or TMPDIR, no
    capabilities. The sandbox is checked first (no place can take a file), then the server must reach
    SERVING, answer and stop with 0 (before the bind's temporary file went, it exited 2: "No usable
    temporary directory")."""
    environment = image_environments(backend)
    port = free_port()
    env = image_process_env(backend, environment, tmp_path, port)
    assert writable_places(environment / "bin" / "python", env, tmp_path) == []
    entrypoint = runtime_stage().entrypoint()
    program = shutil.which(entrypoint[0], path=env["PATH"])
    code, output = serve_one_call_and_stop(read_only([program, *entrypoint[1:]]), env, tmp_path, port, backend)
    assert code == 0, output
    assert log_lines(output, f"{backend} backend serving on 127.0.0.1:{port}")


def serve_one_call_and_stop(argv: list[str], env: dict[str, str], cwd: Path, port: int,
                            backend: str) -> tuple[int, str]:
    """Start ``argv`` (the image's command), wait for SERVING, make one call of 2, SIGTERM; (exit code, output)."""
    server = ServerProcess.__new__(ServerProcess)
    server.port, server.address = port, f"127.0.0.1:{port}"
    server.process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True)
    try:
        server.wait_serving(timeout=60)
        algorithm = next(iter(served_by(backend)))
        request = pb.GetSuggestionsRequest(experiment=experiment_message(experiment_doc(algorithm)),
                                           current_request_number=2, total_request_number=2)
        with grpc.insecure_channel(server.address) as channel:
            reply = api_pb2_grpc.SuggestionStub(channel).GetSuggestions(request, timeout=60)
        assert len(reply.parameter_assignments) == 2
        return server.terminate(timeout=60)  # fails with every thread's stack if it does not stop
    finally:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGKILL)
            server.process.communicate(timeout=10)


def test_image_environment_holds_only_its_backend(image_environments):
    """The optuna image cannot import hyperopt or skopt: each image installs only its own extra."""
    others = {"optuna": "optuna", "hyperopt": "hyperopt", "skopt": "skopt"}
    python = image_environments("optuna") / "bin" / "python"
    for backend, module in others.items():
        result = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, timeout=120,
                                env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
        assert (result.returncode == 0) == (backend == "optuna"), (backend, result.stderr[-500:])
