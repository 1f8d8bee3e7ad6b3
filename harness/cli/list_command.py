"""``smoothbench list``: the registered certifiers and noise families, the architectures,
the checkpoint formats and the known public checkpoints."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser(
        "list", help="certifiers, noise families, architectures and checkpoint formats"
    )


def main(args: argparse.Namespace) -> int:
    import certifiers
    from baselines.architectures import ARCHITECTURES
    from baselines.checkpoints import KNOWN_CHECKPOINTS, format_names
    from harness.noise import noise_families

    print("certifiers:", ", ".join(certifiers.available()))
    print("noise families:", ", ".join(noise_families()))
    print("architectures:", ", ".join(sorted(ARCHITECTURES)))
    print("checkpoint formats:", ", ".join(format_names()))
    print("known checkpoints (files you supply; nothing is downloaded):")
    for name, known in sorted(KNOWN_CHECKPOINTS.items()):
        sigma = "-" if known.sigma0 is None else f"{known.sigma0:g}"
        print(f"  {name}  ({known.arch}, {known.format}, sigma0 {sigma}; {known.path})")
    return 0
