"""Markdown code spans that hold any text, backticks included."""

from __future__ import annotations

import re


def code_span(text: str) -> str:
    """``text`` (not empty) as one CommonMark code span: fenced by one backtick more than
    its longest run of backticks, and padded by a space where it begins or ends with a
    backtick or a space (CommonMark 0.31, section 6.1, strips one space on each side of a
    span that has both and is not all spaces), so that a name holding a backtick neither
    ends the span early nor runs into the text after it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
