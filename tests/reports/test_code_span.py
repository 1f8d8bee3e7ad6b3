"""Names and specs in the Markdown report are code spans that a CommonMark parser reads
back as the very text, whatever backticks and spaces it holds."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reports.code_span import code_span

# a name: any one line (a code span turns line endings to spaces)
names = st.text(st.sampled_from("`` ab-_.|*\\é"), min_size=1, max_size=12)


def spans(markdown: str) -> list[str]:
    """The code spans a CommonMark parser finds in ``markdown``, in order."""
    return [
        child.content
        for token in MarkdownIt("commonmark").parse(markdown)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "code_inline"
    ]


@settings(max_examples=1000)
@given(names, names)
@example(" a ", "`x`")
@example("  ", " ")
def test_a_code_span_reads_back_as_its_text(name, spec):
    # as the footnote lists the noises: a list item, two spans and text between
    assert spans(f"- {code_span(name)}: {code_span(spec)} after") == [name, spec]


def test_a_name_with_a_backtick_no_longer_splits_its_span():
    assert spans(f"{code_span('a`b')} and {code_span('``c')}") == ["a`b", "``c"]
