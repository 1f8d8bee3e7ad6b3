"""``smoothbench list``: the registered certifiers, noise families and sanity checks, the
architectures, the checkpoint formats and the known public checkpoints."""

from __future__ import annotations

import argparse
import inspect
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.noise import Noise


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser(
        "list",
        help="certifiers, noise families, sanity checks, architectures and checkpoint formats",
    )


def main(args: argparse.Namespace) -> int:
    import certifiers
    from baselines.architectures import ARCHITECTURES
    from baselines.checkpoints import KNOWN_CHECKPOINTS, format_names
    from harness.noise import noise_class, noise_families
    from reports.sanity import SANITY_CHECKS

    print("certifiers and what each certifies (noise family: norms; some only for part of")
    print("a family's parameters):")
    names = certifiers.available()
    width = max(map(len, names))
    for name in names:
        print(f"  {name:<{width}}  {_certifies(certifiers.CERTIFIERS.get(name))}")
    print(
        "noise families and their parameters (the scale, first, is matched to the "
        "model's sigma0 unless matched = false):"
    )
    width = max(map(len, noise_families()))
    for family in noise_families():
        print(f"  {family:<{width}}  {_parameters(noise_class(family))}")
    print(
        "sanity checks (every report runs them; `smoothbench report --plugin` adds more):",
        ", ".join(sorted(name for name, _ in SANITY_CHECKS.items())),
    )
    print("architectures:", ", ".join(sorted(ARCHITECTURES)))
    print("checkpoint formats:", ", ".join(format_names()))
    print("known checkpoints (files you supply; nothing is downloaded):")
    for name, known in sorted(KNOWN_CHECKPOINTS.items()):
        sigma = "-" if known.sigma0 is None else f"{known.sigma0:g}"
        print(f"  {name}  ({known.arch}, {known.format}, sigma0 {sigma}; {known.path})")
    return 0


def _certifies(cls: type) -> str:
    """``gaussian: l1, l2, linf; laplace: l1``: a certifier's table, by family, in norm
    order; a deterministic one bounds the model over an input box instead."""
    import certifiers

    if certifiers.is_deterministic(cls):
        return "the model over an input box (deterministic: no noise, no counts)"
    by_family: dict[str, list[str]] = {}
    for family, norm in getattr(cls, "certificates", {}):
        by_family.setdefault(family, []).append(norm)
    if not by_family:
        return "no table: its supports(noise, norm) decides"
    order = {norm: i for i, norm in enumerate(certifiers.NORMS)}
    return "; ".join(
        f"{family}: {', '.join(sorted(norms, key=order.get))}"
        for family, norms in sorted(by_family.items())
    )


def _parameters(cls: type[Noise]) -> str:
    """``scale, k=1, j=0``: a family's parameters (``dim`` aside), the scale first, with
    their defaults."""
    sig = cls.parameters()
    names = [cls.scale_param] + [p for p in sig if p != cls.scale_param]
    empty = inspect.Parameter.empty
    return ", ".join(
        n if sig[n].default is empty else f"{n}={_value(sig[n].default)}" for n in names
    )


def _value(default: object) -> str:
    return f"{default:g}" if isinstance(default, int | float) else repr(default)
