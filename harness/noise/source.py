"""The source of a plugin noise family: what a store records of the code that sampled its
counts (``noise_sources``), so that no later command takes counts of one law for
another's under the same noise name.

The digest is the sha256 of the files that define the family's class and each of its
bases outside this package and the standard library (a family whose law lives in a base
class of another module of its package changes with that module too), the class's own
file first; one file's digest is the sha256 of its bytes. A file that is not on disk (a
notebook cell, whose text IPython keeps in ``linecache``) is read from ``linecache``: the
whole cell, so that a constant beside the class counts too. A family whose text can be
read nowhere (a class made by ``exec``) gets a digest of its own (``SOURCE_NOT_FOUND``
and a random tag), equal to nothing but itself, so that no other definition is taken
for it. A family's digest is taken when it is registered (``remember_source``, called as
its module runs), so that a file edited after its import is not taken for the code that
runs. Stores recorded the class's own file alone before bases counted
(``own_file_digest``); a record equal to that still matches.
"""

from __future__ import annotations

import hashlib
import inspect
import linecache
import sys
import uuid
from pathlib import Path

#: The digest of a family whose source can be read nowhere.
SOURCE_NOT_FOUND = "source not found"
#: Top-level packages whose classes are the project's own, not a plugin's.
_PROJECT = frozenset({"harness", "certifiers", "smoothbench", "baselines", "reports"})
_DIGESTS: dict[type, str] = {}


def is_plugin(cls: type) -> bool:
    """Whether a noise class is defined outside this package (a plugin's)."""
    return cls.__module__.split(".")[0] != "harness"


def _file_of(cls: type) -> str | None:
    """The file a class was compiled from: its module's, else its functions' (a class of
    ``__main__`` in a notebook, whose module names no file)."""
    for find in (inspect.getsourcefile, inspect.getfile):
        try:
            path = find(cls)
        except (TypeError, OSError):
            path = None
        if path:
            return path
    for value in vars(cls).values():
        function = inspect.unwrap(getattr(value, "__func__", value))
        code = getattr(function, "__code__", None)
        # its own method only: not a function of another module held as an attribute
        if (
            code is not None
            and getattr(function, "__module__", None) == cls.__module__
            and getattr(function, "__qualname__", "").startswith(f"{cls.__qualname__}.")
        ):
            return code.co_filename
    return None


def _defining_files(cls: type) -> list[str | None]:
    """The files of the class and of its bases a plugin defines (outside the project, the
    standard library and builtins), the class's first, each once."""
    out: list[str | None] = []
    for base in cls.__mro__:
        root = base.__module__.split(".")[0]
        if root in _PROJECT or root in sys.stdlib_module_names or root == "builtins":
            continue
        path = _file_of(base)
        if path is None or path not in out:
            out.append(path)
    return out


def _text(path: str | None) -> bytes | None:
    if path is None:
        return None
    if Path(path).is_file():
        return Path(path).read_bytes()
    lines = linecache.getlines(path)
    return "".join(lines).encode() if lines else None


def source_digest(cls: type) -> str:
    """The digest of a plugin family's source as its files hold it now (see the module
    docstring); ``SOURCE_NOT_FOUND`` where no text of it can be read."""
    texts = [_text(path) for path in _defining_files(cls)]
    if not texts or any(t is None for t in texts):
        return SOURCE_NOT_FOUND
    return hashlib.sha256(b"\0".join(texts)).hexdigest()  # type: ignore[arg-type]


def own_file_digest(cls: type) -> str | None:
    """What stores recorded before bases counted: the sha256 of the class's own file."""
    text = _text(_file_of(cls))
    return None if text is None else hashlib.sha256(text).hexdigest()


def is_unread(digest: object) -> bool:
    """Whether a recorded digest says the source could not be read."""
    return str(digest).startswith(SOURCE_NOT_FOUND)


def remember_source(cls: type) -> None:
    """Take the digest of a plugin family as it is registered: the code that runs."""
    if is_plugin(cls):
        digest = source_digest(cls)
        _DIGESTS[cls] = f"{digest} ({uuid.uuid4().hex[:16]})" if is_unread(digest) else digest


def running_source(cls: type) -> str:
    """The digest of the code of a plugin family as it was registered (as its files hold
    it now, for a class registered otherwise)."""
    return _DIGESTS.get(cls) or source_digest(cls)
