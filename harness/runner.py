"""The runner: config -> seeded counts in the store -> certificates.

After the sampling loop, the deterministic certifiers (``ibp``, ``crown``) certify every
model on the same images (``harness.deterministic``).

For every model and every image of the recorded index set, all noises share one
stream of base draws (``harness.draws``); their selection and estimation counts for
that image are written in one transaction. A killed run started again skips the
images already stored and, since draws are addressed by (seed, image, stream, chunk),
ends with exactly the store an uninterrupted run would have written.

The sampling work, one task per (model, image), is done by an executor
(``harness.executors``): in this process (``local``, the default) or on Ray actors
(``ray``); either way this process is the store's single writer.

Its parts live elsewhere: the models (``baselines.models``), the index set
(``baselines.datasets.select_indices``), the identity a resumed run must share
(``harness.identity``), provenance (``harness.provenance``) and certification
(``harness.certify``).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from baselines.datasets import content_sha256, load_dataset, select_indices
from baselines.models import build_models
from harness import host_memory
from harness.certify import certify_store
from harness.config import Config, build_noise
from harness.deterministic import certify_deterministic, training_bounds
from harness.draws import draw_distance
from harness.executors import ImageTask, ModelWork, SamplingPlan, make_executor
from harness.identity import check_resume, describe_added, identity
from harness.noise.base import approximation_distance
from harness.noise.preflight import check_perturb
from harness.provenance import add_to_session, provenance, sessions
from harness.store import Store, StoreError, check_not_busy
from smoothbench import plugins


def _say_training(name: str, path: Path) -> None:
    print(f"training {name} (once: kept in {path.parent})", file=sys.stderr, flush=True)


def _check_stored_run(path: str | Path, ident: dict[str, Any], model_names: list[str]) -> None:
    """``check_resume`` against the store at ``path``, where one is (read only)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        store = Store.open_existing(path, readonly=True)
    except (StoreError, OSError, sqlite3.Error):
        return  # the writable open judges it (or makes it a store: an SQLite file with no table)
    with store:
        check_resume(store, ident, model_names)


def _say_extending(path: str | Path, added: dict[str, list], stored: int) -> None:
    """The line a run that adds models or noises to a store prints before sampling."""
    print(
        f"extending {path}: adding {describe_added(added)}; the {stored:,} (model, noise, image) "
        "counts stored are kept, and only those missing are sampled",
        file=sys.stderr,
        flush=True,
    )


def run(
    cfg: Config,
    store_path: str | Path,
    *,
    device: str | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    certify: bool = True,
    executor: str = "local",
    address: str | None = None,
    workers: int | None = None,
    keep_freed_memory: bool = False,
) -> Path:
    """Sample counts for every (model, image), then certify them. Resumable.

    ``stop_after`` processes at most that many new images and returns (for tests of
    resumption; a real interruption is just a kill). ``executor``: ``"local"`` or
    ``"ray"`` (``address``: a Ray cluster to join; ``workers``: how many actors).
    ``keep_freed_memory``: the sampling processes keep freed host memory for the next
    batch (``harness.host_memory``; process-wide, so off unless asked, as the CLI does)."""
    if keep_freed_memory:
        host_memory.keep_freed_memory()
    check_not_busy(store_path)  # before the data and the models, not after them
    exe = make_executor(executor, address=address, workers=workers)
    stored_all = False  # every step's work is in the store (what is left: closing)
    try:
        dev = exe.device(device if device is not None else cfg.device)
        here = exe.local_device(dev)  # this process's own work: checks, deterministic rows
        data = load_dataset(cfg.dataset, cfg.data_root, download=cfg.download)
        index_set = select_indices(data, cfg.index_stride, cfg.n_test)
        data_sha256 = content_sha256(data, index_set)
        # a stored run this config cannot continue is refused before any model is built
        # (training one takes up to a minute): all of the identity but the models here
        before_models = identity(
            cfg, data.name, index_set, [], dev, data_checksum=data.checksum,
            data_sha256=data_sha256,
        )  # fmt: skip
        del before_models["models"]
        _check_stored_run(
            store_path, before_models, [m.display_name(data.name) for m in cfg.models]
        )
        said = _say_training if progress else None
        models = build_models(cfg.models, data, verified_bounds=training_bounds(), on_training=said)
        ident = identity(
            cfg,
            data.name,
            index_set,
            models,
            dev,
            data_checksum=data.checksum,
            data_sha256=data_sha256,
        )
        options = cfg.sampler_options()
        plan = SamplingPlan(
            cfg.seed, cfg.n0, cfg.n, cfg.batch_size, options, keep_freed_memory=keep_freed_memory
        )
        smoothed = [e for e in models if e.spec is None or e.spec.smoothing]
        model_noises = {
            e.name: [build_noise(n, e.sigma0, data.dim) for n in cfg.noises] for e in smoothed
        }
        for noises in model_noises.values():  # before the store: a refusal writes nothing
            for nz in noises:  # a family that leaves out= unwritten is refused here
                nz.prepare(here)
                check_perturb(nz, here)
        with Store(store_path) as store:
            added = check_resume(store, ident)
            approximations: dict[str, Any] = {}
            specs: dict[str, dict[str, Any]] = {}
            done = store.done_keys()
            if progress and any(added.values()):
                _say_extending(store_path, added, len(done))
            for entry in smoothed:
                noises = model_noises[entry.name]
                names = [nz.name for nz in noises]  # distinct: ``config.check_noises``
                specs.update({nz.name: nz.spec() for nz in noises})
                approximations.update(
                    {nz.name: a for nz in noises if (a := nz.approximation()) is not None}
                )
                work = ModelWork(entry.name, entry.model, {nz.name: nz for nz in noises})
                for image in index_set:
                    missing = tuple(nm for nm in names if (entry.name, nm, image) not in done)
                    if missing:
                        x, label = data[image]
                        work.tasks.append(ImageTask(entry.name, image, label, x, missing))
                plan.models.append(work)
            approximations = _kept_approximations(
                store.get_manifest("noise_approximations"), approximations
            )
            store.put_manifest(
                {
                    **ident,
                    "config": cfg.raw,
                    **provenance(dev),
                    "executor": exe.name,
                    "sessions": sessions(
                        store.get_manifest("sessions"),
                        dev,
                        exe.name,
                        len(done),
                        cfg.batch_size,
                        added,
                    ),
                    "sampler": options.manifest(),
                    "host_memory": host_memory.host_memory_state(),
                    "base_draws": draw_distance(data.dim),
                    "data_caveat": data.caveat,
                    "noise_approximations": approximations,
                    # what each smoothed model is to be sampled with: a run that extends
                    # a store plans more noises than some images have counts for
                    "sampled_noises": {m: [nz.name for nz in n] for m, n in model_noises.items()},
                    "plugins": plugins.with_loaded(store.get_manifest("plugins") or []),
                    "plugin_registrations": plugins.with_registrations(
                        store.get_manifest("plugin_registrations")
                    ),
                },
                noises=specs,
            )
            try:
                finished = exe.run(
                    plan, store, device=dev, progress=progress, stop_after=stop_after
                )
            finally:
                # the batch each model took where the config names none (on a GPU it
                # follows the free memory, so sessions may differ); the Ray executor
                # records its actors' itself
                if plan.chosen_batch:
                    add_to_session(store, {"batch_chosen": plan.chosen_batch})
            if not finished:
                return Path(store_path)
            certify_deterministic(store, cfg, models, data, index_set, here, progress=progress)
            if certify:
                certify_store(
                    store,
                    cfg.certifiers,
                    cfg.norms,
                    cfg.alphas,
                    progress=progress,
                    options=cfg.certifier_options,
                )
            stored_all = True
    except KeyboardInterrupt:
        if stored_all:  # while the store closed
            raise StoppedAfterItsWork from None
        raise
    except BaseException:  # the store's close failed: its work may be in no file
        stored_all = False
        raise
    finally:
        try:
            exe.close()  # a Ray cluster takes seconds to shut down
        except KeyboardInterrupt:
            if stored_all:
                raise StoppedAfterItsWork from None
            raise
    return Path(store_path)


class StoppedAfterItsWork(KeyboardInterrupt):
    """A run stopped (Ctrl-C, SIGTERM) once all its work was stored, while it closed."""


def _kept_approximations(recorded: object, current: dict[str, Any]) -> dict[str, Any]:
    """The ``noise_approximations`` a session records: this code's for each noise, but an
    earlier session's where that states the larger law distance (``approximation_distance``;
    or no valid one, which certify then refuses): the store keeps that session's draws
    too, and certify takes the record's distance, never less."""
    out = dict(current)
    for name, earlier in recorded.items() if isinstance(recorded, Mapping) else ():
        try:
            larger = approximation_distance(name, earlier) > approximation_distance(
                name, out.get(name)
            )
        except ValueError:  # no bound stated: kept, for certify to refuse
            larger = True
        if larger:
            out[name] = earlier
    return out
