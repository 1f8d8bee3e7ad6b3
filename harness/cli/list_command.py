"""``smoothbench list``: the registered certifiers and noise families."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser("list", help="registered certifiers and noise families")


def main(args: argparse.Namespace) -> int:
    import certifiers
    from harness.noise import noise_families

    print("certifiers:", ", ".join(certifiers.available()))
    print("noise families:", ", ".join(noise_families()))
    return 0
