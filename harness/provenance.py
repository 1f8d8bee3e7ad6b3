"""Where a run's numbers come from: the code version and the machine, for the manifest."""

from __future__ import annotations

import hashlib
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy
import torch

from harness.draws import philox_grid
from harness.noise import ufuncs
from harness.store import Store


def package_version() -> str:
    """The installed smoothbench version (``0+unknown`` from an uninstalled checkout)."""
    try:
        return version("smoothbench")
    except PackageNotFoundError:
        return "0+unknown"


def _git(args: list[str], where: Path) -> str | None:
    """git's output for ``args`` run in ``where``; None where git fails or is missing."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, cwd=where)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


#: ``git diff`` as plain text whatever the user's git settings (an external diff tool,
#: colours, other prefixes would name one edit otherwise, or an edited tree as clean).
_PLAIN_DIFF = ["diff", "--no-ext-diff", "--no-textconv", "--no-color", "--src-prefix=a/",
               "--dst-prefix=b/", "HEAD", "--", ":(top)*.py"]  # fmt: skip


def code_version(where: Path | None = None) -> str:
    """The package version, with the git commit when run from a checkout (``where``: a
    top-level package folder of it, by default this package's), and ``.dirty-`` with the
    first 12 hex digits of the sha256 of ``git diff HEAD`` over the Python files, and of
    the Python files git does not track yet (not those it ignores), where they differ from
    the commit (``.dirty-unknown`` where git cannot say): an edit that changes counts (a
    transform, a model's forward) then shows in the sessions' record, and the report's
    footnote says the code differs. An installed copy inside another repository (a
    virtual environment in a project's folder) is no checkout of this code: only its
    version is given."""
    where = Path(__file__).parent if where is None else where
    base = package_version()
    top = (_git(["rev-parse", "--show-toplevel"], where) or "").strip()
    if not top or Path(top).resolve() != where.resolve().parent:
        return base
    commit = (_git(["rev-parse", "--short", "HEAD"], where) or "").strip()
    if not commit:
        return base
    diff = _git(_PLAIN_DIFF, where)
    new = _git(
        ["ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", ":(top)*.py"],
        where,
    )
    if diff is None or new is None:
        return f"{base}+{commit}.dirty-unknown"  # git answered once, then not: not clean
    digest = hashlib.sha256(diff.encode())
    for name in sorted(filter(None, new.split("\0"))):  # Python files not yet added
        digest.update(f"\nnew file {name}\n".encode())
        digest.update((Path(top) / name).read_bytes())
    dirty = f".dirty-{digest.hexdigest()[:12]}" if diff or new else ""
    return f"{base}+{commit}{dirty}"


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's (a run on a Ray cluster's GPUs may have none here)."""
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "GPUs of the Ray cluster (none on this machine)"
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def fp32_precision() -> dict[str, str]:
    """What torch does with a float32 forward pass on a GPU: TF32 or full float32 for
    convolutions (cuDNN) and for matrix products (torch's defaults: TF32 convolutions on
    Ampere and later GPUs, full float32 products). It decides the model's rounding, as
    ``autocast`` does, and is recorded for each session."""
    conv = getattr(getattr(torch.backends.cudnn, "conv", None), "fp32_precision", None)
    matmul = getattr(torch.backends.cuda.matmul, "fp32_precision", None)
    # torch before 2.9 has only the allow_tf32 switches
    if conv is None:
        conv = "tf32" if torch.backends.cudnn.allow_tf32 else "ieee"
    if matmul is None:
        matmul = "tf32" if torch.backends.cuda.matmul.allow_tf32 else "ieee"
    return {"conv": str(conv), "matmul": str(matmul)}


def provenance(device: torch.device) -> dict[str, Any]:
    """Manifest fields that describe the code and the machine (not part of the identity a
    resumed run must share). On a CUDA device, also the grid of torch's random kernels
    (``harness.draws.philox_grid``: GPUs with other grids draw other base normals from
    one seed) and the float32 precision of the forward pass (``fp32_precision``), where
    this machine has the GPU (a Ray actor's own are in its session's ``workers``)."""
    record: dict[str, Any] = {
        "code_version": code_version(),
        "device": str(device),
        "device_name": device_name(device),
        "elementwise_math": ufuncs.math_path(device),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
    }
    grid = philox_grid(device)
    if grid is not None:  # a GPU of this machine (a Ray driver may have none: its actors say)
        record["philox_grid"] = grid
        record["fp32_precision"] = fp32_precision()
    return record


def sessions(
    recorded: list[dict] | None,
    device: torch.device,
    executor: str,
    counts_stored: int,
    batch_size: int | None = None,
    added: dict[str, list] | None = None,
) -> list[dict]:
    """The manifest's ``sessions``: the earlier sessions' records and this one's, its
    ``provenance`` with the executor, the batch size (``auto`` where the config names
    none), the UTC start and the (model, noise, image) count triples the store held when
    it began, and, for a session that extended the stored run, the models and noises it
    added (``added``, as ``harness.identity.check_resume`` returns them). A resumed run
    overwrites the top-level provenance fields; this list keeps each session's, so a store
    sampled in parts by different code, machines or batch sizes says so."""
    record = {
        **provenance(device),
        "executor": executor,
        "batch_size": "auto" if batch_size is None else int(batch_size),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts_stored_before": counts_stored,
    }
    if added and any(added.values()):
        record["added"] = added
    return [*(recorded or []), record]


def add_to_session(store: Store, entries: dict[str, Any]) -> None:
    """Write ``entries`` into this session's record (the last of the manifest's
    ``sessions``), where one is: what a session learns as it goes (the batches chosen,
    Ray's workers). A record only: a full disk, or a closed or replaced store, leaves it
    unwritten, so that the error that stopped the run is the one said."""
    try:
        sessions = store.get_manifest("sessions") or []
        if sessions:
            store.put_manifest({"sessions": [*sessions[:-1], {**sessions[-1], **entries}]})
    except (OSError, ValueError, sqlite3.Error):
        pass
