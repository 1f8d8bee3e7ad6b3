"""Markdown code spans that hold any text, backticks included."""

from __future__ import annotations

import re


def code_span(text: str) -> str:
    """``text`` (not empty) as one CommonMark code span: fenced by one backtick more than
    its longest run of backticks, and padded by a space where it begins or ends with a
    backtick or a space but is not all spaces (CommonMark 0.31, section 6.1, strips one
    space on each side of a span that has both and is not all spaces), so that a name
    holding a backtick neither ends the span early nor runs into the text after it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    edges = text[:1] + text[-1:]
    pad = " " if text.strip(" ") and ("`" in edges or " " in edges) else ""
    return f"{fence}{pad}{text}{pad}{fence}"
