"""Build one image from docker/Dockerfile, as the release does, with the host's pip trust when it needs one."""

from __future__ import annotations

import functools
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
WHEELHOUSE_INSIDE = "/katib-image-check-wheels"
IMAGE_PYTHON = "3.11"  # the Python of the base images (docker/lock.py pins for it)


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
        command = ["build", "-f", str(root / DOCKERFILE), "-t", image, *_pip_mounts(engine, target, root, work)]
        for key, value in args.items():
            command += ["--build-arg", f"{key}={value}"]
        began = time.monotonic()
        engine.run(*command, str(root), timeout=BUILD_SECONDS)
        seconds = time.monotonic() - began
    return Built(image, seconds, engine.image_size(image))


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


def _pip_mounts(engine: Engine, target: ImageTarget, root: Path, work: Path) -> list[str]:
    """podman build flags that give pip inside the build the host's trust and a shared wheelhouse.

    The host's CA bundle only where its pip names one (a TLS-intercepting proxy, as on our CI
    machines; an ordinary runner has none). The wheelhouse holds the pinned packages of every
    image built so far, downloaded once by the host: the Dockerfile's pip cache mount shares
    nothing where the index's answers are not cacheable (as behind that proxy). Both are mounts
    of the build steps only: nothing of them stays in the image. docker gets neither (no build
    mounts); its BuildKit cache mount does the sharing there.
    """
    if not engine.podman:
        return []
    wheelhouse = work / "wheelhouse"
    _download_pins(target, root, wheelhouse)
    lines = ["[global]", f"find-links = {WHEELHOUSE_INSIDE}"]
    flags = ["--volume", f"{wheelhouse}:{WHEELHOUSE_INSIDE}:ro"]
    bundle = host_pip_cert()
    if bundle is not None:
        lines.append(f"cert = {CA_INSIDE}")
        flags += ["--volume", f"{bundle}:{CA_INSIDE}:ro"]
    config = work / "pip.conf"
    config.write_text("\n".join(lines) + "\n")
    return [*flags, "--volume", f"{config}:/etc/pip.conf:ro"]


def _download_pins(target: ImageTarget, root: Path, wheelhouse: Path) -> None:
    """The wheels of the target's pinned packages (docker/constraints/<backend>.txt), into ``wheelhouse``."""
    wheelhouse.mkdir(exist_ok=True)
    pins = root / "docker" / "constraints" / f"{target.build_args.get('BACKEND')}.txt"
    if not pins.is_file():
        return  # a plugin without pins: pip inside the build finds its packages itself
    result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                             "--python-version", IMAGE_PYTHON, "--no-deps", "--dest", str(wheelhouse),
                             "--requirement", str(pins)],
                            capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:  # not fatal: pip inside the build downloads what is missing
        print(f"note: could not pre-download {pins.name}: {result.stderr.strip()[-300:]}", file=sys.stderr)


@functools.cache  # one pip subprocess per check, not per image: the host's configuration stays put
def host_pip_cert() -> str | None:
    """The CA bundle the host's pip is configured with (``pip config list``), or None."""
    result = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                            timeout=120)
    match = re.search(r"^\S*\.cert='([^']+)'", result.stdout, re.MULTILINE)
    return match.group(1) if match and Path(match.group(1)).is_file() else None
