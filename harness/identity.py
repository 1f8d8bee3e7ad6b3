"""A run's identity: the manifest fields that decide its counts, which a resumed run must
share with the stored one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from baselines.models import ModelEntry
from harness.config import Config
from harness.draws import CHUNK_ROWS, draw_method
from harness.store import Store


def identity(
    cfg: Config,
    dataset: str,
    index_set: Sequence[int],
    models: Sequence[ModelEntry],
    device: torch.device,
    data_checksum: str | None = None,
) -> dict[str, Any]:
    """Everything that decides the counts (not the batch size, the executor, the
    certifiers or the report): the draw method and the device type among them, the named
    index subset (``run.subset``) and a digest of the data files read (``data_checksum``,
    e.g. the md5 of CIFAR-10's test batch)."""
    run_section = {
        k: v
        for k, v in cfg.raw.get("run", {}).items()
        if k not in ("batch_size", "device", "download")
    }
    return {
        "seed": cfg.seed,
        "n0": cfg.n0,
        "n": cfg.n,
        "dataset": dataset,
        "index_set": [int(i) for i in index_set],
        "subset": cfg.subset,
        "data_checksum": data_checksum,
        "models": {
            m.name: {
                "sha256": m.sha256,
                "sigma0": m.sigma0,
                "smoothing": m.spec.smoothing if m.spec is not None else True,
            }
            for m in models
        },
        "device_type": device.type,
        "torch_version": torch.__version__,
        "chunk_rows": CHUNK_ROWS,
        "draw_method": draw_method(device),
        "sampling_config": {"run": run_section, "noises": cfg.raw.get("noises")},
    }


def check_resume(store: Store, ident: dict[str, Any]) -> None:
    """Refuse to continue a stored run whose identity differs, naming the key."""
    stored = {k: store.get_manifest(k) for k in ident}
    if all(v is None for v in stored.values()):
        return
    if stored.get("draw_method") is None and "draw_method" in ident:
        raise ValueError(
            f"{store.path} holds counts sampled with the earlier base draws (float32 "
            "torch.randn, Box-Muller on 24-bit uniforms, which never reach |G| > 5.77); "
            f"this version draws {ident['draw_method']}, so those counts cannot be "
            "continued: use a new --store path, or delete the old store"
        )
    for key, value in ident.items():
        if stored[key] != value:
            raise ValueError(
                f"{store.path} holds a run whose manifest differs in '{key}' "
                f"(stored {str(stored[key])[:120]}, now {str(value)[:120]}); "
                "use a new --store path, or delete the old store"
            )
