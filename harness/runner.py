"""The runner: config -> seeded counts in the store -> certificates.

After the sampling loop, the deterministic certifiers (``ibp``, ``crown``) certify every
model on the same images (``harness.deterministic``).

For every model and every image of the recorded index set, all noises share one
stream of base draws (``harness.draws``); their selection and estimation counts for
that image are written in one transaction. A killed run started again skips the
images already stored and, since draws are addressed by (seed, image, stream, chunk),
ends with exactly the store an uninterrupted run would have written.

Its parts live elsewhere: the models (``baselines.models``), the index set
(``baselines.datasets.select_indices``), the identity a resumed run must share
(``harness.identity``), provenance (``harness.provenance``) and certification
(``harness.certify``).
"""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from baselines.datasets import load_dataset, select_indices
from baselines.models import build_models
from harness.certify import certify_store
from harness.config import Config, NoiseEntry
from harness.deterministic import certify_deterministic, training_bounds
from harness.draws import resolve_device
from harness.identity import check_resume, identity
from harness.noise import Noise, noise_class
from harness.provenance import provenance
from harness.sampler import certify_counts
from harness.store import CountRow, Store


def build_noise(entry: NoiseEntry, sigma0: float, dim: int) -> Noise:
    """The noise of a config entry for a model trained with Gaussian ``sigma0``."""
    cls = noise_class(entry.family)
    try:
        if entry.matched:
            return cls.matched(sigma0, dim=dim, **entry.params)
        return cls(dim=dim, **entry.params)
    except TypeError as err:
        raise ValueError(f"noise {entry.family} with {entry.params}: {err}") from None


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
    data = load_dataset(cfg.dataset, cfg.data_root, download=cfg.download)
    models = build_models(cfg.models, data, verified_bounds=training_bounds())
    index_set = select_indices(data, cfg.index_stride, cfg.n_test)
    ident = identity(cfg, data.name, index_set, models, dev, data_checksum=data.checksum)
    processed = 0
    with Store(store_path) as store:
        check_resume(store, ident)
        store.put_manifest({**ident, "config": cfg.raw, **provenance(dev)})
        for entry in models:
            if entry.spec is not None and not entry.spec.smoothing:
                continue
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
        certify_deterministic(store, cfg, models, data, index_set, dev, progress=progress)
        if certify:
            certify_store(
                store,
                cfg.certifiers,
                cfg.norms,
                cfg.alphas,
                progress=progress,
                options=cfg.certifier_options,
            )
    return Path(store_path)
