"""GPUs for local trials: each running trial gets its own share of this machine's GPUs (CUDA_VISIBLE_DEVICES).

On a cluster a trial pod that asks for ``nvidia.com/gpu: N`` gets N GPUs of its
own and waits (Pending) while none are free. A local run does the same: the
machine's GPUs are those CUDA_VISIBLE_DEVICES lists (else those ``nvidia-smi -L``
shows), each trial takes N of them for as long as it runs, and a trial that
finds too few free waits for one to end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from katib_suggestion.local.process import primary_container

GPU_RESOURCE = "nvidia.com/gpu"
VISIBLE = "CUDA_VISIBLE_DEVICES"
_WAIT = 0.2  # seconds between looks at the stop flag while a trial waits for a GPU


def gpus_per_trial(spec: Mapping[str, Any]) -> int:
    """What the primary container asks for (limits, else requests), as Katib's scheduler reads it."""
    try:
        resources = primary_container(spec.get("trialTemplate") or {}).get("resources") or {}
    except ValueError:
        return 0
    for kind in ("limits", "requests"):
        value = (resources.get(kind) or {}).get(GPU_RESOURCE)
        if value is not None:
            try:
                return max(int(str(value)), 0)
            except ValueError:
                return 0
    return 0


def machine_gpus(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The GPU ids trials may use: CUDA_VISIBLE_DEVICES as given, else every GPU nvidia-smi lists."""
    if VISIBLE in environ:
        return [d.strip() for d in environ[VISIBLE].split(",") if d.strip() and d.strip() != "-1"]
    tool = shutil.which("nvidia-smi", path=environ.get("PATH"))
    if tool is None:
        return []
    try:
        listed = subprocess.run([tool, "-L"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, _ in enumerate(line for line in listed.splitlines() if line.startswith("GPU "))]


class GpuShares:
    """Hands each trial ``per_trial`` GPUs nobody else holds; thread-safe, waits while too few are free."""

    def __init__(self, devices: list[str], per_trial: int):
        self.per_trial = per_trial
        self._free = list(devices)
        self._changed = threading.Condition()

    def take(self, stopping: Callable[[], bool]) -> list[str] | None:
        """``per_trial`` GPU ids, once free; None when ``stopping()`` turns true first."""
        with self._changed:
            while len(self._free) < self.per_trial:
                if stopping():
                    return None
                self._changed.wait(_WAIT)
            taken, self._free = self._free[:self.per_trial], self._free[self.per_trial:]
            return taken

    def give_back(self, devices: list[str]) -> None:
        with self._changed:
            self._free += devices
            self._changed.notify_all()


@dataclass(frozen=True)
class GpuPlan:
    shares: GpuShares | None  # None: trials keep this machine's environment as it is
    note: str  # what the user is told at the start ("" when trials ask for no GPU)


def plan(spec: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> GpuPlan:
    """How this run's trials get the GPUs their pods ask for."""
    wanted = gpus_per_trial(spec)
    if not wanted:
        return GpuPlan(None, "")
    devices = machine_gpus(environ)
    asked = f"each trial asks for {wanted} GPU{'s' if wanted > 1 else ''} ({GPU_RESOURCE})"
    if not devices:
        return GpuPlan(None, f"warning: {asked}, but this machine shows none ({VISIBLE} unset and no nvidia-smi): "
                             "trials run without a GPU")
    if wanted > len(devices):
        return GpuPlan(None, f"warning: {asked}, but this machine has {len(devices)} ({VISIBLE}="
                             f"{','.join(devices)}): every trial sees all of them, as none could start on a cluster")
    at_once = len(devices) // wanted
    parallel = int(spec.get("parallelTrialCount") or 1)
    waits = (f"; parallelTrialCount is {parallel}, so the others wait for a GPU as pods wait on a cluster"
             if at_once < parallel else "")
    return GpuPlan(GpuShares(devices, wanted), f"{asked}: each running trial gets its own through {VISIBLE} "
                                               f"(this machine: {','.join(devices)}), at most {at_once} at once{waits}")
