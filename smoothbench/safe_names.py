"""The rule every name that reaches a file name, a command line or a report follows:
letters, digits and ``. _ + = -``, starting with a letter or digit, at most 100
characters. Model and run names become file names (``out/<name>.sqlite``); certifier,
noise-family and check names are typed on command lines and written into Markdown, HTML,
LaTeX and plot labels, where a ``|`` splits a table row, ``*`` or ``<tag>`` renders as
markup, ``$`` starts matplotlib's math text (an unknown symbol fails the report) and a
line break adds a row."""

from __future__ import annotations

import re

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]{0,99}")

#: The rule, as an error message states it.
SAFE_NAME_RULE = (
    "a name must start with a letter or digit and hold only letters, digits and "
    ". _ + = - (at most 100 characters)"
)


def is_safe_name(name: object) -> bool:
    """Whether ``name`` is a string that follows ``SAFE_NAME``."""
    return isinstance(name, str) and SAFE_NAME.fullmatch(name) is not None
