"""The user cache folder shared by trained models and radius tables.

``$SMOOTHBENCH_CACHE`` if set, else ``$XDG_CACHE_HOME/smoothbench``, else
``~/.cache/smoothbench``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """The smoothbench cache folder (created), optionally a sub-folder of it."""
    root = os.environ.get("SMOOTHBENCH_CACHE")
    if root:
        base = Path(root)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "smoothbench"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
