"""A Markdown table cell shows its text as written: a model named by its checkpoint file
(``net*2_<b>``, spaces and all) went into leaderboard.md raw, where ``*`` and ``_``
became emphasis, ``<b>`` a tag, ``[..](..)`` a link and ``~~`` strikethrough. A
CommonMark parser with GitHub's tables and strikethrough reads each cell back as the
very text."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reports.render import md_table
from reports.view import Cell

TEXT = st.text(st.sampled_from("ab1 *_<>[]()~`\\|!/.-:^"), min_size=1, max_size=14)


def _cells(markdown: str) -> list[tuple[list[str], str]]:
    """Each body cell's inline token types and its text as the parser reads it."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    tokens = parser.parse(markdown)
    out, in_body = [], False
    for token in tokens:
        in_body = {"tbody_open": True, "tbody_close": False}.get(token.type, in_body)
        if in_body and token.type == "inline":
            children = token.children or []
            out.append(([c.type for c in children], "".join(c.content for c in children)))
    return out


@settings(max_examples=500)
@given(TEXT)
@example("net*2_<b>x</b>")
@example("[cohen](https://x.example) ~~old~~ _a_")
@example("p < 1e-300")
def test_a_cell_reads_back_as_its_text(text):
    expected = text.strip()
    table = md_table(["name", "n"], [[Cell(text), Cell("200")]])
    cells = _cells(table)
    if not expected:  # an empty cell: nothing to read
        return
    types, read = cells[0]
    assert set(types) <= {"text"}, (text, table, types)
    assert read == expected, (text, table)
    assert cells[1] == (["text"], "200")


def test_a_line_break_stays_in_its_row():
    cells = _cells(md_table(["name", "n"], [[Cell("a\nb"), Cell("1")]]))
    assert cells == [(["text"], "a b"), (["text"], "1")]


def test_an_interval_stays_as_it_reads():
    """Brackets that make no link are not escaped: ``98.5 [95.7, 99.5]`` stays readable."""
    table = md_table(["clean"], [[Cell("98.5 [95.7, 99.5]")]])
    assert "98.5 [95.7, 99.5]" in table
    assert _cells(table) == [(["text"], "98.5 [95.7, 99.5]")]
