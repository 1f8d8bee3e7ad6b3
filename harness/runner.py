"""The runner: config -> seeded counts in the store -> certificates.

For every model and every image of the recorded index set, all noises share one
stream of base draws (``harness.draws``); their selection and estimation counts for
that image are written in one transaction. A killed run started again skips the
images already stored and, since draws are addressed by (seed, image, stream, chunk),
ends with exactly the store an uninterrupted run would have written.
"""

from __future__ import annotations

import platform
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

import certifiers
from baselines.datasets import Dataset, load_dataset
from certifiers.bounds import clopper_pearson_lower
from harness.config import Config, NoiseEntry
from harness.draws import CHUNK_ROWS, resolve_device
from harness.noise import Noise, from_spec, noise_class
from harness.sampler import certify_counts
from harness.store import CertificateRow, CountRow, Store


def _package_version() -> str:
    try:
        return version("smoothbench")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "0+unknown"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    model: torch.nn.Module
    sha256: str
    sigma0: float


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
    base = _package_version()
    return f"{base}+{commit}" if commit else base


def build_noise(entry: NoiseEntry, sigma0: float, dim: int) -> Noise:
    """The noise of a config entry for a model trained with Gaussian ``sigma0``."""
    cls = noise_class(entry.family)
    try:
        if entry.matched:
            return cls.matched(sigma0, dim=dim, **entry.params)
        return cls(dim=dim, **entry.params)
    except TypeError as err:
        raise ValueError(f"noise {entry.family} with {entry.params}: {err}") from None


def build_models(cfg: Config, data: Dataset) -> list[ModelEntry]:
    if cfg.checkpoint is not None:
        from baselines.training import file_sha256

        path = Path(cfg.checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"config key 'run.checkpoint': no file at {path}")
        model = torch.jit.load(str(path), map_location="cpu")
        return [ModelEntry(path.stem, model, file_sha256(path), cfg.train_sigmas[0])]
    from baselines.training import Recipe, load_or_train

    out = []
    for sigma in cfg.train_sigmas:
        trained = load_or_train(Recipe(cfg.arch, cfg.dataset, sigma), data)
        out.append(ModelEntry(trained.name, trained.model, trained.sha256, sigma))
    return out


def select_indices(cfg: Config, data: Dataset) -> list[int]:
    """The test images of this run: every ``index_stride``-th test image, ``n_test`` of them
    (Cohen et al. certify every 20th CIFAR-10 and every 100th ImageNet image)."""
    chosen = data.test_indices[:: cfg.index_stride][: cfg.n_test]
    if len(chosen) < cfg.n_test:
        raise ValueError(
            f"config key 'run.n_test' is {cfg.n_test} but {data.name} has only "
            f"{len(chosen)} test images at index_stride {cfg.index_stride}"
        )
    return [int(i) for i in chosen]


def identity(
    cfg: Config, data: Dataset, models: Sequence[ModelEntry], device: torch.device
) -> dict[str, Any]:
    """Manifest fields a resumed run must share with the stored one: everything that
    decides the counts (not the batch size, the certifiers or the report)."""
    run_section = {
        k: v for k, v in cfg.raw.get("run", {}).items() if k not in ("batch_size", "device")
    }
    return {
        "seed": cfg.seed,
        "n0": cfg.n0,
        "n": cfg.n,
        "dataset": data.name,
        "index_set": select_indices(cfg, data),
        "models": {m.name: {"sha256": m.sha256, "sigma0": m.sigma0} for m in models},
        "device_type": device.type,
        "torch_version": torch.__version__,
        "chunk_rows": CHUNK_ROWS,
        "sampling_config": {"run": run_section, "noises": cfg.raw.get("noises")},
    }


def _check_resume(store: Store, ident: dict) -> None:
    stored = {k: store.get_manifest(k) for k in ident}
    if all(v is None for v in stored.values()):
        return
    for key, value in ident.items():
        if stored[key] != value:
            raise ValueError(
                f"{store.path} holds a run whose manifest differs in '{key}' "
                f"(stored {str(stored[key])[:120]}, now {str(value)[:120]}); "
                "use a new --store path, or delete the old store"
            )


def run(
    cfg: Config,
    store_path: str | Path,
    *,
    device: str | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    certify: bool = True,
) -> Path:
    """Sample counts for every (model, image), then certify them. Resumable.

    ``stop_after`` processes at most that many new images and returns (for tests of
    resumption; a real interruption is just a kill).
    """
    dev = resolve_device(device or cfg.device)
    data = load_dataset(cfg.dataset, cfg.data_root)
    models = build_models(cfg, data)
    ident = identity(cfg, data, models, dev)
    index_set = ident["index_set"]
    processed = 0
    with Store(store_path) as store:
        _check_resume(store, ident)
        store.put_manifest(
            {
                **ident,
                "config": cfg.raw,
                "code_version": code_version(),
                "device": str(dev),
                "device_name": torch.cuda.get_device_name(dev)
                if dev.type == "cuda"
                else platform.processor() or platform.machine(),
                "python": platform.python_version(),
            }
        )
        for entry in models:
            model = entry.model.to(dev).eval()
            noises = [build_noise(e, entry.sigma0, data.dim) for e in cfg.noises]
            names = [nz.name for nz in noises]
            if len(set(names)) != len(names):
                raise ValueError(f"the config defines the same noise twice: {sorted(names)}")
            store.put_noises({nz.name: nz.spec() for nz in noises})
            done = store.done_keys()
            todo = [i for i in index_set if any((entry.name, nm, i) not in done for nm in names)]
            bar = tqdm(todo, desc=entry.name, unit="img", disable=not progress, mininterval=1.0)
            for image in bar:
                if stop_after is not None and processed >= stop_after:
                    bar.close()
                    return Path(store_path)
                missing = [nz for nz in noises if (entry.name, nz.name, image) not in done]
                x, label = data[image]
                t0 = time.perf_counter()
                counts = certify_counts(
                    model,
                    x,
                    missing,
                    cfg.n0,
                    cfg.n,
                    seed=cfg.seed,
                    index=image,
                    batch_size=cfg.batch_size,
                )
                seconds = (time.perf_counter() - t0) / len(missing)
                store.put_counts(
                    CountRow(
                        entry.name,
                        nz.name,
                        image,
                        label,
                        counts.selection[j],
                        counts.estimation[j],
                        seconds,
                    )
                    for j, nz in enumerate(missing)
                )
                processed += 1
        if certify:
            certify_store(store, cfg.certifiers, cfg.norms, cfg.alphas)
    return Path(store_path)


def resolve_certifiers(names: Iterable[str]) -> list[str]:
    names = list(names)
    if "all" in names:
        return certifiers.available()
    for name in names:
        certifiers.get(name)  # raises a clear error for unknown names
    return names


def top_class_bound(selection: np.ndarray, estimation: np.ndarray, alpha: float):
    """Cohen et al.'s CERTIFY: the class with most selection counts, and the one-sided
    Clopper-Pearson lower bound of its probability from the estimation counts."""
    top = selection.argmax(axis=1)
    count = estimation[np.arange(len(top)), top]
    n = estimation.sum(axis=1)
    return top, clopper_pearson_lower(count, n, alpha)


def certify_store(
    store: Store,
    certifier_names: Iterable[str] = ("all",),
    norms: Iterable[str] = certifiers.NORMS,
    alphas: Iterable[float] = (0.001,),
    progress: bool = True,
) -> int:
    """(Re)compute certificates from the stored counts; returns the rows written."""
    names = resolve_certifiers(certifier_names)
    norms = list(norms)
    specs = store.noise_specs()
    groups: dict[tuple[str, str], list[CountRow]] = defaultdict(list)
    for row in store.count_rows():
        groups[(row.model, row.noise)].append(row)
    written = 0
    items = sorted(groups.items())
    for (model, noise_name), rows in tqdm(
        items, desc="certify", unit="group", disable=not progress, mininterval=1.0
    ):
        noise = from_spec(specs[noise_name])
        selection = np.stack([r.selection for r in rows])
        estimation = np.stack([r.estimation for r in rows])
        labels = np.array([r.label for r in rows])
        images = [r.image for r in rows]
        out: list[CertificateRow] = []
        for alpha in alphas:
            top, p_lower = top_class_bound(selection, estimation, alpha)
            p_lower = np.atleast_1d(p_lower)
            prediction = np.where(p_lower > 0.5, top, -1)
            for cname in names:
                c = certifiers.get(cname)
                for norm in norms:
                    if not c.supports(noise, norm):
                        continue
                    radius = np.atleast_1d(c.radius(noise, p_lower, norm=norm))
                    spent = c.confidence_spent(noise, norm)
                    out.extend(
                        CertificateRow(
                            model,
                            noise_name,
                            images[i],
                            cname,
                            norm,
                            alpha,
                            int(prediction[i]),
                            float(p_lower[i]),
                            float(radius[i]),
                            bool(prediction[i] == labels[i]),
                            spent,
                        )
                        for i in range(len(rows))
                    )
        store.put_certificates(out)
        written += len(out)
    return written
