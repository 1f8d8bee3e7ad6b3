"""Running experiments: noise, seeded draws, sampling, the store, the runner and the CLI.

``certify_counts``, ``count_predictions`` and ``sample_counts`` (``harness.sampler``) are
imported on first use (PEP 562), so that importing a light submodule, such as the command
line's entry point, does not import torch: a Ctrl-C while the command starts is then
caught by its ``main`` and ends it with one line, not a traceback.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["certify_counts", "count_predictions", "sample_counts"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("harness.sampler"), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
