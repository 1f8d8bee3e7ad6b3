"""The source of a plugin noise family: what a store records of the code that sampled its
counts (``noise_sources``), so that no later command takes counts of one law for
another's under the same noise name.

The digest is the sha256 of the files that define the family's class and each of its
bases outside this package and the standard library (a family whose law lives in a base
class of another module of its package changes with that module too), the class's own
file first; one file's digest is the sha256 of its bytes. A class whose file cannot be
read (a notebook cell) is read through ``inspect.getsource``, which finds the cell's text;
``SOURCE_NOT_FOUND`` where that fails too. A family's digest is taken when it is
registered (``remember_source``, called as its module runs), so that a file edited after
its import is not taken for the code that runs.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from pathlib import Path

#: The digest of a family whose source can be read nowhere.
SOURCE_NOT_FOUND = "source not found"
#: Top-level packages whose classes are the project's own, not a plugin's.
_PROJECT = frozenset({"harness", "certifiers", "smoothbench", "baselines", "reports"})
_DIGESTS: dict[type, str] = {}


def is_plugin(cls: type) -> bool:
    """Whether a noise class is defined outside this package (a plugin's)."""
    return cls.__module__.split(".")[0] != "harness"


def _defining(cls: type) -> list[type]:
    """The class and its bases a plugin defines (outside the project, the standard library
    and builtins), the class first, one per module."""
    out, modules = [], set()
    for base in cls.__mro__:
        root = base.__module__.split(".")[0]
        if root in _PROJECT or root in sys.stdlib_module_names or root == "builtins":
            continue
        if base.__module__ not in modules:
            modules.add(base.__module__)
            out.append(base)
    return out


def _text(cls: type) -> bytes | None:
    try:
        path = inspect.getsourcefile(cls)
    except TypeError:
        path = None
    if path and Path(path).is_file():
        return Path(path).read_bytes()
    try:
        return inspect.getsource(cls).encode()
    except (OSError, TypeError):
        return None


def source_digest(cls: type) -> str:
    """The digest of a plugin family's source as its files hold it now (see the module
    docstring); ``SOURCE_NOT_FOUND`` where no text of it can be read."""
    texts = [_text(c) for c in _defining(cls)]
    if not texts or any(t is None for t in texts):
        return SOURCE_NOT_FOUND
    return hashlib.sha256(b"\0".join(texts)).hexdigest()  # type: ignore[arg-type]


def remember_source(cls: type) -> None:
    """Take the digest of a plugin family as it is registered: the code that runs."""
    if is_plugin(cls):
        _DIGESTS[cls] = source_digest(cls)


def running_source(cls: type) -> str:
    """The digest of the code of a plugin family as it was registered (as its files hold
    it now, for a class registered otherwise)."""
    return _DIGESTS.get(cls) or source_digest(cls)
