"""Each leaderboard opens with its headline (the claim and its tests), then the table, in
the HTML page as in the Markdown: a reader should not scroll past 40 rows to the claim."""

from __future__ import annotations

import re

from reports.cli import make_report, write_report
from tests.reports._report_synth import winner_store


def test_the_headline_comes_before_the_table_on_both_pages(tmp_path):
    path = tmp_path / "s.sqlite"
    winner_store(path, n_images=30).close()
    report, headlines = make_report(path)
    write_report(report, headlines, tmp_path / "out", ["md", "html"])
    html = (tmp_path / "out" / "leaderboard.html").read_text()
    sections = re.findall(
        r'<section id="(?!sanity|appendix|footnotes)[^"]+">(.*?)</section>', html, re.S
    )
    assert len(sections) == len(report.boards) >= 1
    for section in sections:
        assert -1 < section.index('<dl class="headline">') < section.index("<table")
    md = (tmp_path / "out" / "leaderboard.md").read_text()
    boards = md.split("\n## ")[1:]
    assert len(boards) >= len(report.boards)
    for board in boards[: len(report.boards)]:
        assert -1 < board.index("Claim") < board.index("\n| ")
