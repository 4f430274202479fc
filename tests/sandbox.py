"""Run a command where no file can be created, as our katib-config entries run the image: all mounts read-only."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from katib_suggestion.image_check.probe import WRITABLE_PLACES

# A private mount namespace (readOnlyRootFilesystem, no volume at /tmp, all capabilities dropped, as our
# entries say): every mount point remounted read-only with the flags it already has (a user namespace may
# not clear nosuid/nodev/noexec), then the command without any capability, so it cannot undo the remounts.
_SCRIPT = r"""
set -e
awk '{print $5, $6}' /proc/self/mountinfo | while read -r point flags; do
  extra=$(printf %s "$flags" | tr , '\n' | grep -E '^(nosuid|nodev|noexec)$' | paste -sd, -)
  mount -o "remount,bind,ro${extra:+,$extra}" "$(printf '%b' "$point")" 2>/dev/null || true
done
exec setpriv --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"
"""

_PROBE = WRITABLE_PLACES + "\nimport json\nprint(json.dumps(writable_places()))\n"


def read_only(argv: Sequence[str]) -> list[str]:
    """``argv`` wrapped in the sandbox (as root: a mount namespace; otherwise a user namespace too)."""
    namespaces = ["--mount"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--mount"]
    return ["unshare", *namespaces, "--propagation", "private", "sh", "-c", _SCRIPT, "read-only", *argv]


def writable_places(python: str | Path, env: Mapping[str, str], cwd: Path) -> list[str]:
    """The places where ``python`` inside the sandbox could still create a file (none, if it works)."""
    result = subprocess.run(read_only([str(python), "-c", _PROBE]), env=dict(env), cwd=cwd, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"the read-only sandbox does not start here (needs unshare and setpriv from " \
                                   f"util-linux, root or user namespaces): {result.stderr.strip()[-800:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])
