"""Build one image from docker/Dockerfile, as the release does, with the host's pip trust when it needs one."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from katib_suggestion.image_check.engine import Engine, EngineProblem
from katib_suggestion.image_check.targets import ImageTarget
from katib_suggestion.images import image_for

DOCKERFILE = "docker/Dockerfile"
PLUGINS = "docker/plugins"
BUILD_SECONDS = 1800
# where a build step finds the host's CA bundle (a bind mount: nothing of it stays in the image)
CA_INSIDE = "/etc/katib-image-check/ca.crt"


@dataclass(frozen=True)
class Built:
    image: str
    seconds: float
    size_bytes: int


def build(engine: Engine, target: ImageTarget, root: Path, base: str, work: Path) -> Built:
    """``target``'s image from ``root``'s Dockerfile on ``base``, tagged as our katib-config names it."""
    image = image_for(target.name)
    with _plugin_wheel(target, root) as wheel:
        args = {**target.build_args, "PYTHON_IMAGE": base}
        if wheel:
            args = {key: value.replace("{wheel}", wheel) for key, value in args.items()}
        command = ["build", "-f", str(root / DOCKERFILE), "-t", image, *_trust(engine, work)]
        for key, value in args.items():
            command += ["--build-arg", f"{key}={value}"]
        began = time.monotonic()
        engine.run(*command, str(root), timeout=BUILD_SECONDS)
        seconds = time.monotonic() - began
    size = engine.run("image", "inspect", "--format", "{{.Size}}", image, timeout=60).stdout.strip()
    return Built(image, seconds, int(size))


@contextmanager
def _plugin_wheel(target: ImageTarget, root: Path):
    """The plugin's wheel in docker/plugins/ for the duration of the build (its file name), or None.

    The Dockerfile copies docker/plugins/ to /plugins/, where the PLUGIN build argument names it."""
    if target.plugin_source is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="katib-plugin-wheel-") as scratch:
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                                 scratch, str(root / target.plugin_source)], capture_output=True, text=True,
                                timeout=600)
        if result.returncode != 0:
            raise EngineProblem(f"building the {target.name} plugin wheel failed: {result.stderr.strip()[-1500:]}")
        (wheel,) = Path(scratch).glob("*.whl")
        placed = root / PLUGINS / wheel.name
        placed.write_bytes(wheel.read_bytes())
    try:
        yield wheel.name
    finally:
        placed.unlink(missing_ok=True)


def _trust(engine: Engine, work: Path) -> list[str]:
    """Build flags that let pip inside the build trust what the host's pip trusts.

    Only where the host's pip names a CA bundle (a TLS-intercepting proxy, as on our CI machines);
    podman mounts it into the build steps and nothing of it stays in the image. An ordinary CI
    runner has no such setting and gets no flags.
    """
    bundle = host_pip_cert()
    if bundle is None:
        return []
    if not engine.podman:
        print(f"note: the host's pip trusts {bundle}; docker build cannot mount it, pip inside uses its own CAs",
              file=sys.stderr)
        return []
    config = work / "pip.conf"
    config.write_text(f"[global]\ncert = {CA_INSIDE}\n")
    return ["--volume", f"{bundle}:{CA_INSIDE}:ro", "--volume", f"{config}:/etc/pip.conf:ro"]


def host_pip_cert() -> str | None:
    """The CA bundle the host's pip is configured with (``pip config list``), or None."""
    result = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                            timeout=120)
    match = re.search(r"^\S*\.cert='([^']+)'", result.stdout, re.MULTILINE)
    return match.group(1) if match and Path(match.group(1)).is_file() else None
