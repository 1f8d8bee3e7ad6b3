"""Names in the file names of the report's figures and JSON entries."""

from __future__ import annotations

import hashlib
import re


def sanitized(name: str) -> str:
    """``name`` with runs of characters other than letters, digits and ``._-`` made
    ``_`` (and none at its ends): for names whose differences survive it (noises,
    certifiers, datasets)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def safe_stem(name: str) -> str:
    """``name`` as part of a file name: runs of characters other than letters, digits and
    ``._-`` become ``_``; where that changed the name, the first 8 hex digits of its
    sha256 follow, so that names which read alike once changed (``a b`` and ``a_b``, or
    an empty name and ``_``) never share a file."""
    safe = sanitized(name)
    if safe == name and safe:
        return safe
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return f"{safe}-{digest}" if safe else digest
