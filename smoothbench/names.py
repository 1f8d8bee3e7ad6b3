"""The message for a name that is not one of the known ones, with the closest known names
(``difflib.get_close_matches``: a ratio of matching characters of at least 0.6) offered
first, so that a typo in a config or on a command line is one glance from its fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def close_names(name: object, known: Iterable[str]) -> list[str]:
    """The known names closest to ``name`` (at most three, best first); none for a
    ``name`` that is not a string. Case is ignored in the comparison."""
    if not isinstance(name, str) or not name:
        return []
    lowered = {k.lower(): k for k in known}
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=3)]


def did_you_mean(name: object, known: Iterable[str], prefix: str = "") -> str:
    """``did you mean 'a' or 'b'? `` for the known names close to ``name``; empty if none.
    Each name offered is written after ``prefix``, which takes no part in the comparison."""
    close = close_names(name, known)
    return f"did you mean {' or '.join(repr(prefix + c) for c in close)}? " if close else ""


def choices(name: object, known: Iterable[str], label: str = "known", prefix: str = "") -> str:
    """``did you mean '<close>'? <label>: [...]``, the end of a message about ``name``
    (the question only where a known name is close; the names sorted, each written after
    ``prefix``)."""
    known = sorted(known)
    return f"{did_you_mean(name, known, prefix)}{label}: {[f'{prefix}{k}' for k in known]}"


def unknown_name(kind: str, name: object, known: Iterable[str], prefix: str = "") -> str:
    """``unknown <kind> '<name>'; did you mean '<close>'? known: [...]``. With a
    ``prefix`` (a config key's section, say: ``run.``) every name is written after it but
    compared without it, so that the prefix all of them share does not make unrelated
    names look close."""
    written = name if prefix == "" else f"{prefix}{name}"
    return f"unknown {kind} {written!r}; {choices(name, known, prefix=prefix)}"


def first_few(items: Sequence[str], shown: int = 3, separator: str = ", ") -> str:
    """The first ``shown`` of ``items`` joined by ``separator``, then ``and N more`` where
    there are more: ``a, b, c, and 4 more`` (a long list in a one-line message)."""
    more = f"{separator}and {len(items) - shown} more" if len(items) > shown else ""
    return separator.join(items[:shown]) + more
