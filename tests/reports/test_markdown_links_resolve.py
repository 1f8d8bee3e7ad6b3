"""Every image leaderboard.md links to is a file of the report, whichever formats are
asked for (``--format md`` alone writes no plots folder, so it links none)."""

from __future__ import annotations

import re

import pytest

from reports.cli import make_report, write_report
from tests.reports._report_synth import winner_store


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("links") / "s.sqlite"
    winner_store(path, n_images=30).close()
    return make_report(path)


@pytest.mark.parametrize("fmts", [["md"], ["md", "plots"]])
def test_markdown_images_exist(report, tmp_path, fmts):
    write_report(*report, tmp_path, fmts)
    md = (tmp_path / "leaderboard.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert all((tmp_path / link).is_file() for link in links), links
    assert bool(links) == ("plots" in fmts)
