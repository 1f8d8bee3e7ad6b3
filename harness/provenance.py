"""Where a run's numbers come from: the code version and the machine, for the manifest."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from harness.noise import ufuncs


def package_version() -> str:
    """The installed smoothbench version (``0+unknown`` from an uninstalled checkout)."""
    try:
        return version("smoothbench")
    except PackageNotFoundError:
        return "0+unknown"


def code_version() -> str:
    """The package version, with the git commit when run from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    base = package_version()
    return f"{base}+{commit}" if commit else base


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's (a run on a Ray cluster's GPUs may have none here)."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "GPUs of the Ray cluster (none on this machine)"
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def provenance(device: torch.device) -> dict[str, str]:
    """Manifest fields that describe the code and the machine (not part of the identity a
    resumed run must share)."""
    return {
        "code_version": code_version(),
        "device": str(device),
        "device_name": device_name(device),
        "elementwise_math": ufuncs.math_path(device),
        "python": platform.python_version(),
    }


def sessions(
    recorded: list[dict] | None,
    device: torch.device,
    executor: str,
    counts_stored: int,
    batch_size: int | None = None,
) -> list[dict]:
    """The manifest's ``sessions``: the earlier sessions' records and this one's, its
    ``provenance`` with the executor, the batch size (``auto`` where the config names
    none), the UTC start and the (model, noise, image) count triples the store held when
    it began. A resumed run overwrites the top-level provenance fields; this list keeps
    each session's, so a store sampled in parts by different code, machines or batch
    sizes says so."""
    record = {
        **provenance(device),
        "executor": executor,
        "batch_size": "auto" if batch_size is None else int(batch_size),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts_stored_before": counts_stored,
    }
    return [*(recorded or []), record]
