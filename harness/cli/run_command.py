"""``smoothbench run CONFIG``: sample counts for a config, then certify them (resumable)."""

from __future__ import annotations

import argparse
import errno
import shlex
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.host_memory import add_keep_freed_memory_option

if TYPE_CHECKING:
    from harness.store import Store


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("run", help="sample counts for a config, then certify them (resumable)")
    p.add_argument("config", type=Path, help="experiment config (TOML), e.g. configs/default.toml")
    p.add_argument("--store", type=Path, help="SQLite store (default out/<name>.sqlite)")
    p.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: the config's, else auto)")
    p.add_argument(
        "--no-certify",
        action="store_true",
        help="sample counts without certifying them ('smoothbench certify STORE' does it "
        "later); deterministic models still get their ibp and crown certificates",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default: torch's; on a loaded machine 1 can be much faster)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where the (model, image) tasks run: this process (default) or Ray actors, "
        "one per GPU (CPU actors where there is none); the store is the same",
    )
    p.add_argument(
        "--address",
        help="with --executor ray: the cluster to join ('auto', 'ray://host:10001'); "
        "default: start a local one",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="with --executor ray: the number of actors (default: one per GPU, or one per CPU)",
    )
    add_keep_freed_memory_option(
        p, "a CPU forward pass then stops page-faulting its activations back at every batch"
    )
    return p


def main(args: argparse.Namespace) -> int:
    from harness import config, runner

    if args.executor != "ray" and (args.address is not None or args.workers is not None):
        raise ValueError("--address and --workers need --executor ray")
    cfg = config.load(args.config)
    store = args.store or Path("out") / f"{cfg.name}.sqlite"
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    try:
        path = runner.run(
            cfg,
            store,
            device=args.device,
            progress=not args.quiet,
            certify=not args.no_certify,
            executor=args.executor,
            address=args.address,
            workers=args.workers,
            keep_freed_memory=args.keep_freed_memory,
        )
    except KeyboardInterrupt as stop:
        print(f"\ninterrupted: {_stored(store, stop, not args.no_certify)}; run the same "
              "command again to resume", file=sys.stderr)  # fmt: skip
        return 130
    except (OSError, sqlite3.Error) as err:
        if not (disk_full(err) or isinstance(err, sqlite3.Error)):
            raise
        from harness.cli import _one_line

        fix = "free space" if disk_full(err) else "mend that"
        print(f"smoothbench run: error ({type(err).__name__}): {_one_line(err)} (store "
              f"{store}); {_stored(store)}: {fix}, then run the same command again to resume",
              file=sys.stderr)  # fmt: skip
        return 1
    what = "counts" if args.no_certify else "counts and certificates"
    print(f"{what} in {path}")
    step = "certify" if args.no_certify else "report"
    print(f"next: smoothbench {step} {shlex.quote(str(path))}", file=sys.stderr)
    return 0


def disk_full(err: BaseException) -> bool:
    """Whether ``err`` says the disk (or the user's quota) is full: ``ENOSPC`` or
    ``EDQUOT`` from the system, ``SQLITE_FULL`` from SQLite."""
    if isinstance(err, sqlite3.Error):
        return getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


def _uncertified(st: Store) -> bool:
    """Whether a certificate group the run asks for lacks an image that has counts (True
    where that cannot be told: the message errs towards work left to do)."""
    from harness.certificate_groups import expected_groups

    try:
        query = "SELECT model, noise, COUNT(*) FROM counts GROUP BY model, noise"
        counted = {(m, nz): k for m, nz, k in st.query(query)}
        query = (
            "SELECT model, noise, certifier, norm, alpha, COUNT(DISTINCT image) "
            "FROM certificates GROUP BY model, noise, certifier, norm, alpha"
        )
        certified = {(m, nz, c, nm, float(a)): k for m, nz, c, nm, a, k in st.query(query)}
        return any(certified.get(g, 0) < counted.get(g[:2], 0) for g in expected_groups(st))
    except Exception:  # a message only: never a traceback in its place
        return True


def _stored(store: Path, stop: BaseException | None = None, certify: bool = True) -> str:
    """What the store holds of a run that stopped early, for its messages: the images with
    counts (of each smoothed model when there are several), and, once sampling is
    complete, which later step was unfinished (``certify``: whether the run certifies)."""
    from harness.certificate_groups import missing_deterministic
    from harness.certify import CertificationInterrupted
    from harness.runner import StoppedAfterItsWork
    from harness.sampling_progress import sampling_progress
    from harness.store import Store

    try:
        with Store.open_existing(store, readonly=True) as st:
            total = len(st.get_manifest("index_set") or [])
            models = st.get_manifest("models") or {}
            held = sampling_progress(st).sampled  # images under every noise of the plan
            deterministic_unfinished = bool(missing_deterministic(st))
            uncertified = certify and _uncertified(st)
    except (OSError, ValueError, sqlite3.Error):
        return (
            f"nothing stored in {store} (the run stopped before its plan: reading the data, "
            "loading or training its models, or creating the store)"
        )
    if not total:
        return f"nothing stored in {store} (the run stopped before recording its plan)"
    smoothed = [m for m, entry in models.items() if entry.get("smoothing", True)]
    held = {m: held.get(m, 0) for m in smoothed}
    if any(k < total for k in held.values()):
        if len(smoothed) == 1:
            return f"{held[smoothed[0]]} of {total} images stored in {store}"
        what = ", ".join(f"{held[m]} of {total} images of {m}" for m in smoothed)
        return f"{what} stored in {store}"
    what = f"the counts of all {total} images stored in {store}"
    if isinstance(stop, CertificationInterrupted):
        return f"{what}; {stop}"
    if deterministic_unfinished:
        return f"{what}; the deterministic certificates (ibp, crown, ...) are unfinished"
    if not uncertified or isinstance(stop, StoppedAfterItsWork):  # stopped while it
        # closed (a Ray cluster takes seconds to shut down), or before it found nothing to do
        return f"{what}; the run had finished its work"
    return f"{what}; certification is unfinished"
