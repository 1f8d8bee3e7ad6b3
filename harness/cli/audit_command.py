"""``smoothbench audit STORE_OR_CONFIG [--quick] [--out DIR]``: are the certificates ever
false? The statistical audit of every smoothing certifier (known linear classifiers,
a binomial test) and the attack audit of a store's certified images (PGD on the
smoothed classifier; on the base network for IBP/CROWN). Given a config, the run is
made first, into ``DIR/<name>.sqlite`` (``--quick``: at most 4 images, n at most 1000
and n0 at most 100).
The summary is printed, written to ``DIR/audit.txt`` and stored in the store's
``audit`` table, which the report's sanity section lists. Exit code 3 when an audit
fails (a certifier whose false-certificate rate is statistically too high, a broken
certificate)."""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.host_memory import add_keep_freed_memory_option
from smoothbench.atomic import write_atomic
from smoothbench.output_folder import check_output_folder
from smoothbench.p_values import p_stated

if TYPE_CHECKING:
    from harness.config import Config


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "audit",
        help="audit the certificates: false-certificate rates and attacks",
        description=__doc__.replace("``", "'"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", type=Path, help="a store (SQLite) or an experiment config (TOML)")
    p.add_argument("--quick", action="store_true", help="a small audit (well under a minute)")
    p.add_argument("--out", type=Path, default=Path("out/audit"), help="default out/audit")
    p.add_argument(
        "--images",
        type=int,
        help="attack at most this many certified images per (model, noise, norm) (default 10; "
        "2 with --quick; with 1, a break found fails the cell, which no test could)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_keep_freed_memory_option(p, "the attacks and the sampling it repeats, as in run")
    return p


#: Names a store goes by: a file so named that is not SQLite is no config either.
_STORE_SUFFIXES = frozenset({".sqlite", ".sqlite3", ".db"})


def _is_store(path: Path) -> bool:
    if not path.is_file():
        raise FileNotFoundError(f"no store or config at {path}")
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def audit_config(raw: dict[str, Any], quick: bool, source: str = "<config>") -> Config:
    """The config to audit: validated as ``run`` validates it (refused alike), then with
    ``quick`` its budget shrunk to at most 4 test images (a named subset's first four),
    ``n`` at most 1000 and ``n0`` at most 100."""
    from harness.config import parse

    cfg = parse(raw, source=source)
    if not quick:
        return cfg
    shrunk = copy.deepcopy(raw)
    section = shrunk.setdefault("run", {})
    section.pop("subset", None)
    section["index_stride"] = cfg.index_stride
    section["n_test"] = min(cfg.n_test, 4)
    section["n"] = min(cfg.n, 1000)
    section["n0"] = min(cfg.n0, 100)
    return parse(shrunk, source=source)


def _run_config(path: Path, out: Path, quick: bool, progress: bool) -> Path:
    import tomllib

    from harness.runner import run

    if path.suffix in _STORE_SUFFIXES:
        raise ValueError(f"{path} is not a smoothbench store (not an SQLite file)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(
            f"{path} is neither a store (not an SQLite file) nor a TOML config (not UTF-8 text)"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path} is neither a store nor a valid TOML config: {err}") from None
    cfg = audit_config(raw, quick, source=str(path))
    store = out / f"{cfg.name}.sqlite"
    out.mkdir(parents=True, exist_ok=True)
    run(cfg, store, progress=progress)
    return store


def main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from harness.audit.run import AuditSettings, audit_store
    from harness.audit.summary import table
    from harness.store import Store

    start = time.perf_counter()
    progress = not args.quiet
    if args.keep_freed_memory:
        from harness.host_memory import keep_freed_memory

        keep_freed_memory()
    if args.images is not None and args.images < 1:
        raise ValueError(f"--images must be >= 1, got {args.images}")
    check_output_folder(args.out)  # before the run and the audit, not after
    store_path = (
        args.target
        if _is_store(args.target)
        else _run_config(args.target, args.out, args.quick, progress)
    )
    settings = AuditSettings.make(args.quick)
    if args.images is not None:
        settings = replace(settings, attack=replace(settings.attack, images=args.images))
    with Store.open_existing(store_path) as store:
        rows = audit_store(store, settings, progress=progress)
    text = table(rows)
    seconds = time.perf_counter() - start
    mode = "quick" if args.quick else "full"
    summary = f"{text}\n{mode} audit of {store_path} in {seconds:.1f} s\n"
    print(summary, end="")
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "audit.txt", summary)
    failed = [r for r in rows if not r.passed]
    if failed:
        for r in failed:
            print(
                f"FAIL {r.audit} {r.certifier} {r.noise} {r.norm} {r.model}: "
                f"{r.failures} of {r.trials} (p {p_stated(r.p_value)})"
            )
        return 3
    return 0
