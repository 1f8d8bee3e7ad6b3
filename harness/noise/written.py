"""How a noise is written on a command line: its stored name ``family(key=value,...)``
(``Noise.name``, e.g. ``gaussian(dim=64,sigma=0.25)``) or ``family:key=value,...``
(``gaussian:sigma=0.25``). Both split the same way here; what the values must be is for
the caller to check."""

from __future__ import annotations

import re

_STORED = re.compile(r"(\w+)\((.*)\)")


def split_noise_text(text: str) -> tuple[str, dict[str, str]] | None:
    """``(family, {key: value})`` as written (keys and values stripped, values not
    parsed), or ``None`` where an item is not ``key=value``. A bare word is a family with
    no parameters. A parameter given twice is a ``ValueError`` (never the last one's
    value, a noise the user may not have meant)."""
    text = text.strip()
    stored = _STORED.fullmatch(text)
    family, rest = (stored.group(1), stored.group(2)) if stored else text.partition(":")[::2]
    params = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, equals, value = item.partition("=")
        if not equals:
            return None
        if key.strip() in params:
            raise ValueError(f"noise {text!r}: parameter {key.strip()!r} is given twice")
        params[key.strip()] = value.strip()
    return family.strip(), params
