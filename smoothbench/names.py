"""The message for a name that is not one of the known ones, with the closest known names
(``difflib.get_close_matches``: a ratio of matching characters of at least 0.6) offered
first, so that a typo in a config or on a command line is one glance from its fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_names(name: object, known: Iterable[str]) -> list[str]:
    """The known names closest to ``name`` (at most three, best first); none for a
    ``name`` that is not a string. Case is ignored in the comparison."""
    if not isinstance(name, str) or not name:
        return []
    lowered = {k.lower(): k for k in known}
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=3)]


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """``did you mean 'a' or 'b'? `` for the known names close to ``name``; empty if none."""
    close = close_names(name, known)
    return f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""


def unknown_name(kind: str, name: object, known: Iterable[str]) -> str:
    """``unknown <kind> '<name>'; did you mean '<close>'? known: [...]`` (the question
    only where a known name is close; ``known`` sorted)."""
    known = sorted(known)
    return f"unknown {kind} {name!r}; {did_you_mean(name, known)}known: {known}"
