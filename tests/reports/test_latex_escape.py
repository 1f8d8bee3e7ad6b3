"""``reports.latex.escape`` prints text as written: every character TeX reads as a command
or turns into another glyph is escaped (a backtick printed as an opening quote and
``--`` as an en dash, so ``fdiv--kl`` as another name), and what TeX prints for the
escaped text reads back as the text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from reports.latex import escape

#: What TeX prints for each escape in text mode (the LaTeX manual's names of the symbols).
PRINTED = {
    r"\textbackslash{}": "\\", r"\&": "&", r"\%": "%", r"\$": "$", r"\#": "#", r"\_": "_",
    r"\{": "{", r"\}": "}", r"\textasciitilde{}": "~", r"\textasciicircum{}": "^",
    r"\textless{}": "<", r"\textgreater{}": ">", r"\textbar{}": "|",
    r"\textasciigrave{}": "`", "-{}": "-",
}  # fmt: skip
_TOKEN = re.compile("|".join(re.escape(k) for k in sorted(PRINTED, key=len, reverse=True)))

TEXT = st.text(alphabet="ab0.-_+=` \\&%$#{}~^<>|'", max_size=30)


def _printed(tex: str) -> str:
    return _TOKEN.sub(lambda m: PRINTED[m.group()], tex)


@given(TEXT)
def test_the_escaped_text_prints_as_written(text):
    tex = escape(text)
    assert _printed(tex) == text
    bare = _TOKEN.sub("", tex)  # what is left is printed as itself
    assert not set(bare) & set("\\&%$#_{}~^<>|`"), tex
    assert "--" not in tex


def test_names_with_a_double_hyphen_or_a_backtick():
    assert escape("fdiv--kl") == "fdiv-{}-kl"
    assert escape("a---b") == "a-{}-{}-b"
    assert escape("my`cert") == r"my\textasciigrave{}cert"
