"""Model names in the report's file names: a name that must change to be one keeps a
digest of itself, so that two models never share a figure or a JSON entry (``a b`` and
``a_b`` once did, one overwriting the other); a name that needs no change keeps it."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.file_names import safe_stem

names = st.text(st.sampled_from("ab_ -.()é/\\"), max_size=8)


@settings(max_examples=500)
@given(names, names)
def test_two_names_never_share_a_stem(first, second):
    if first != second:
        assert safe_stem(first) != safe_stem(second)


@given(names)
def test_a_stem_is_a_file_name_and_a_plain_name_stays_itself(name):
    stem = safe_stem(name)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", stem)  # a part of a longer file name
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]|[A-Za-z0-9]", name):
        assert stem == name
