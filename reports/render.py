"""The Markdown and HTML pages, rendered from jinja2 templates (``reports/templates``)
over one view (``reports.view``), so that both say the same things."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.code_span import code_span
from reports.view import Cell, View
from smoothbench.safe_names import EMPHASIS_UNDERSCORE

#: In a cell's text, what Markdown would read as markup: a backslash, a code span, emphasis
#: (``*``, and ``_`` at a word's edge), a link's or an image's ``](`` (or ``][``, ``]:``),
#: strikethrough, the cell separator, and ``<`` opening a tag; ``p < 1e-300`` and an
#: interval's ``[95.7, 99.5]`` are left as they are.
_MARKUP = re.compile(rf"[\\`*~|]|\](?=[(\[:])|{EMPHASIS_UNDERSCORE.pattern}|<(?=[A-Za-z/!?])")


def md_text(text: str) -> str:
    """``text`` as a Markdown table cell (or a heading, a headline's line) shows it
    literally: markup backslash-escaped (CommonMark: any ASCII punctuation may be), a line
    break as a space (it would end the row). Names reach the cells as they were given (a
    model named by its checkpoint file: ``net*2_<b>``)."""
    return _MARKUP.sub(lambda m: "\\" + m.group(0), " ".join(text.splitlines()))


def md_table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """A GitHub-flavoured Markdown table, each cell's text shown literally (``md_text``)."""
    frame = pd.DataFrame([[md_text(c.text) for c in r] for r in rows], columns=header)
    return frame.to_markdown(index=False, disable_numparse=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["md_table"] = md_table
    env.filters["b64"] = _b64
    env.filters["code"] = code_span
    env.filters["md"] = md_text  # names in running text, as in a cell: literally
    return env


def markdown(view: View) -> tuple[str, str]:
    """``(leaderboard.md, appendix.md)``."""
    env = _environment(False)
    main = env.get_template("leaderboard.md.j2").render(view=view)
    appendix = env.get_template("appendix.md.j2").render(view=view)
    return main, appendix


def html(view: View) -> str:
    """The self-contained page (images as data URIs, no network)."""
    return _environment(True).get_template("leaderboard.html.j2").render(view=view)
