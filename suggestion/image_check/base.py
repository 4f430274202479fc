"""The Python base image the Dockerfile builds on: pulled when a registry answers, else made here with debootstrap."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from katib_suggestion.image_check.engine import Engine, EngineProblem

# docker/Dockerfile's default PYTHON_IMAGE, fully qualified (podman has no default registry)
UPSTREAM_BASE = "docker.io/library/python:3.11-slim"
# Debian bookworm's python3 is 3.11, the Python docker/lock.py pins for
LOCAL_BASE = "localhost/katib-suggest-base:bookworm"
SUITE = "bookworm"
PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# what a runtime never reads: package caches and lists, documentation, translations
LEFT_OUT = ("./var/cache/apt/archives", "./var/lib/apt/lists", "./usr/share/doc", "./usr/share/man",
            "./usr/share/info", "./usr/share/locale")
PULL_SECONDS = 120


def base_image(engine: Engine, wanted: str | None, log) -> str:
    """``wanted``, else python:3.11-slim when present or pullable, else a debootstrap image (built once)."""
    if wanted:
        return wanted
    for image in (UPSTREAM_BASE, LOCAL_BASE):
        if _present(engine, image):
            return image
    try:
        pulled = engine.run("pull", "--quiet", UPSTREAM_BASE, timeout=PULL_SECONDS, check=False)
        if pulled.returncode == 0:
            return UPSTREAM_BASE
        reason = (pulled.stderr or pulled.stdout).strip().splitlines()[-1:]
    except subprocess.TimeoutExpired:
        reason = [f"no answer in {PULL_SECONDS} s"]
    log(f"cannot pull {UPSTREAM_BASE} ({' '.join(reason)}): making {LOCAL_BASE} with debootstrap")
    make_local_base(engine, log)
    return LOCAL_BASE


def _present(engine: Engine, image: str) -> bool:
    return engine.run("image", "inspect", image, timeout=60, check=False).returncode == 0


def make_local_base(engine: Engine, log) -> None:
    """debootstrap a minimal Debian with Python into a folder and import it as LOCAL_BASE."""
    if shutil.which("debootstrap") is None:
        raise EngineProblem(f"no registry answers and debootstrap is not installed; install it "
                            f"(apt-get install debootstrap) or give --base with a {UPSTREAM_BASE} equivalent")
    with tempfile.TemporaryDirectory(prefix="katib-base-") as work:
        rootfs = Path(work) / "rootfs"
        mirror = apt_mirror()
        log(f"debootstrap {SUITE} from {mirror} (a few minutes)")
        result = subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(rootfs),
                                 mirror], capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            raise EngineProblem(f"debootstrap failed ({result.returncode}): {result.stderr.strip()[-1500:]}")
        excludes = [f"--exclude={path}" for path in LEFT_OUT]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), *excludes, "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run([engine.name, "import", "-", LOCAL_BASE], stdin=tar.stdout, env=engine.env,
                                  capture_output=True, text=True, timeout=1200)
        tar.stdout.close()
        if tar.wait() != 0 or imported.returncode != 0:
            raise EngineProblem(f"importing the base image failed: {imported.stderr.strip()[-1500:]}")


def apt_mirror(sources: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt is configured with (one-line or deb822 sources), else deb.debian.org."""
    files = [sources / "sources.list", *sorted((sources / "sources.list.d").glob("*"))]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"^(?:deb\s+(?:\[[^]]*\]\s+)?|URIs:\s*)(\S+)", text, re.MULTILINE):
            uri = match.group(1).rstrip("/")
            if uri.endswith("/debian"):
                return uri
    return DEFAULT_MIRROR
