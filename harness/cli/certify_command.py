"""``smoothbench certify STORE``: recompute certificates from the stored counts.

Nothing to certify is an error naming why (no counts stored yet; only deterministic
certifiers named, whose certificates ``smoothbench run`` makes; no named certifier
supports the stored noises against the norms asked). A store whose sampling is unfinished
is certified as far as it goes, with a warning on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from certifiers.base import NORMS
from certifiers.bounds import check_alpha
from certifiers.registry import is_deterministic
from harness.cli.parser import real_number
from smoothbench.plugins import missing_hint


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("certify", help="recompute certificates from stored counts")
    p.add_argument("store", type=Path, help="SQLite store holding a run's counts")
    p.add_argument(
        "--alpha",
        type=real_number,
        action="append",
        help="each certificate's failure probability; repeatable; default: the run config's",
    )
    p.add_argument("--certifier", action="append", help="repeatable; default: the run config's")
    p.add_argument(
        "--norm", action="append", choices=NORMS, help="repeatable; default: the run config's"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _warn(line: str) -> None:
    print(f"smoothbench certify: warning: {line}", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    from harness.certificate_groups import (
        certifiable_groups,
        configured_certification,
        deterministic_gap,
        missing_deterministic,
    )
    from harness.certify import CertificationInterrupted, certify_store, resolve_certifiers
    from harness.sampling_progress import sampling_progress
    from harness.store import Store

    repeatable = {"--alpha": args.alpha, "--certifier": args.certifier, "--norm": args.norm}
    for option, given in repeatable.items():  # a value given twice, as a config refuses it
        values = given or []
        twice = [v for i, v in enumerate(values) if v in values[:i]]
        if twice:
            shown = f"{twice[0]:g}" if option == "--alpha" else twice[0]
            raise ValueError(f"{option} {shown} is given twice")
    with Store.open_existing(args.store) as store:
        names, norms, alphas, options = configured_certification(store)
        names, norms, alphas = args.certifier or names, args.norm or norms, args.alpha or alphas
        instances = resolve_certifiers(names, options)  # unknown names: an error first
        for alpha in alphas:
            check_alpha(alpha)
        if not store.query("SELECT 1 FROM counts LIMIT 1"):
            raise ValueError(
                f"{args.store} holds no counts to certify: `smoothbench run CONFIG --store "
                f"{args.store}` samples them first"
            )
        deterministic = [n for n, c in instances.items() if is_deterministic(c)]
        if deterministic and "all" not in names:
            what = f"{', '.join(deterministic)} {'is' if len(deterministic) == 1 else 'are'}"
            why = (
                f"{what} deterministic (bounding the model over an input box, from no "
                "counts): `smoothbench run` makes those certificates, with the config's "
                "[certify] certifiers"
            )
            if len(deterministic) == len(instances):
                raise ValueError(f"nothing to certify from counts: {why}")
            _warn(f"{why}; certify skips them")
        if not certifiable_groups(store, instances, norms, alphas):
            noises = sorted(n for (n,) in store.query("SELECT DISTINCT noise FROM counts"))
            raise ValueError(
                f"nothing to certify: none of {', '.join(instances)} certifies the stored "
                f"noises ({', '.join(noises)}) against {', '.join(norms)} "
                f"(`smoothbench list` gives what each certifier supports){missing_hint()}"
            )
        if (line := sampling_progress(store).summary()) is not None:
            _warn(f"{line}: only the images sampled so far are certified; "
                  "`smoothbench run` with the same config and store resumes, then certifies "
                  "the rest")  # fmt: skip
        elif (line := deterministic_gap(missing_deterministic(store))) is not None:
            _warn(line)
        try:
            n = certify_store(
                store, names, norms, alphas, progress=not args.quiet, options=options
            )  # fmt: skip
        except CertificationInterrupted as stop:
            print(f"\ninterrupted: {stop}, whose {stop.written} certificates are written to "
                  f"{args.store}; the other groups hold what they held before; run the same "
                  "command again to certify them all", file=sys.stderr)  # fmt: skip
            return 130
    print(f"wrote {n} certificates to {args.store}")
    return 0
