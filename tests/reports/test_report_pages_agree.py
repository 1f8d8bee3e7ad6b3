"""The Markdown and HTML pages show what the store holds: every row of every model with
its certified accuracy recomputed from the certificates table, its marks, the reach mark
where the closed form says so, the comparison and discordant-image grids of the appendix,
and names that need escaping (``|`` in Markdown, ``<`` in HTML) escaped.

The store is ``_outputs_store``'s (see there); the report is built without the sanity
checks so that its marks show.
"""

from __future__ import annotations

import html as htmlmod
import re

import pandas as pd
import pytest
from scipy.special import ndtri

from reports import render
from reports.headline import headline
from reports.view import DISCORDANT_SHOWN, build_view
from tests.reports._outputs_store import MODELS, RADII, SCALED, built_report, certified_table
from tests.reports._report_synth import ALPHA, N

COHEN_REACH = 0.25 * ndtri(ALPHA ** (1.0 / N))
REACH = {"cohen": COHEN_REACH, SCALED: 2 * COHEN_REACH}
WARNINGS = [
    "sampling incomplete: 3 images of m not sampled",
    "alpha = 0.01 certified after the run",
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages") / "s.sqlite"
    with built_report(path, WARNINGS) as (report, certs):
        heads = [headline(b, report.level) for b in report.boards]
        view = build_view(report, heads, {}, linked_figures=False)
        md, appendix = render.markdown(view)
        page = render.html(view)
    return report, heads, md, appendix, page, certificates_by_row(certs), certified_table(path)


def certificates_by_row(certs: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    certs = certs.assign(ok=(certs["prediction"] >= 0) & certs["correct"].astype(bool))
    return {
        (m, c): g.set_index("image").sort_index()
        for (m, c), g in certs.groupby(["model", "certifier"])
    }


def _unescaped(text: str) -> str:
    """Markdown text as it reads: CommonMark's backslash escapes of ASCII punctuation
    removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _cells(line: str) -> list[str]:
    """A Markdown table line's cells, split on ``|`` not escaped, unescaped."""
    return [_unescaped(c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def md_tables(text: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every Markdown table: (the paragraph above it, header, rows), unescaped; cells split
    on ``|`` not escaped."""
    out, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and set(lines[i + 1]) <= set("|:- "):
            above = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            above = _unescaped(above)
            header, rows = _cells(lines[i]), []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append((above, header, rows))
        else:
            i += 1
    return out


def _mark(board, row, key):
    return board.marks.get((row.key, key), "")


def test_markdown_main_table_has_every_row_its_values_and_marks(pages):
    report, _, md, _, _, _, expected = pages
    board = report.boards[0]
    expected = expected.set_index(["model", "certifier"])
    tables = {above.strip("*").split(" · ")[0]: (header, rows) for above, header, rows
              in md_tables(md) if above.startswith("**") and " · trained at" in above}  # fmt: skip
    assert set(tables) == set(MODELS)  # a heading above each model's table
    for model, (header, rows) in tables.items():
        titles = ["clean"] + [f"r={r:g}" for r in RADII[1:]]
        assert header[3 : 3 + len(RADII) + 1] == [*titles, "ACR"]
        assert len(rows) == len([k for k in expected.index if k[0] == model])  # every row
        for cells in rows:
            cert = cells[2]
            (row,) = [r for r in board.rows_of(model) if r.certifier == cert]
            want = expected.loc[(model, cert)]
            for j, r in enumerate(RADII):
                key = "clean" if r == 0 else f"cert@{r:g}"
                mark = _mark(board, row, key) + ("‡" if r > REACH[cert] else "")
                assert cells[3 + j] == f"{100 * want[r]:.1f}" + (f" {mark}" if mark else "")
            acr_mark = _mark(board, row, "acr")
            assert cells[3 + len(RADII)] == f"{want['acr']:.4f}" + (
                f" {acr_mark}" if acr_mark else ""
            )
    assert (
        "‡" in _unescaped(md).split("**m|<low>")[1]
    )  # Cohen's row at r = 1 lies beyond its reach ...
    caption = next(line for line in md.splitlines() if line.startswith("Accuracies in %"))
    assert "‡" in caption  # ... and the caption says what the mark means


def test_appendix_tables_keep_their_columns_and_show_percent(pages):
    report, _, _, appendix, _, certs, expected = pages
    expected = expected.set_index(["model", "certifier"])
    tables = md_tables(appendix)
    assert tables
    for _, header, rows in tables:  # a '|' in a name would add a column
        assert all(len(r) == len(header) for r in rows), header
    comparisons = next(t for t in tables if "compared with" in t[1])
    header, rows = comparisons[1], comparisons[2]
    col = {h: i for i, h in enumerate(header)}
    checked = 0
    for cells in rows:
        model, _, cert = cells[col["row"]].split(" · ")
        other = cells[col["compared with"]].split(" · ")[2]
        column = cells[col["column"]]
        if column == "ACR" or cells[col["kind"]] != "same-noise":
            continue
        r = 0.0 if column == "clean" else float(column[2:])
        a, b = certs[(model, cert)], certs[(model, other)]
        ca, cb = a["ok"] & (a["radius"] >= r), b["ok"] & (b["radius"] >= r)
        value, other_value = cells[col["value"]], cells[col["other"]]
        assert value.split(" ")[0] == f"{100 * ca.mean():.1f}"
        assert other_value.split(" ")[0] == f"{100 * cb.mean():.1f}"
        assert ("‡" in value) == (r > REACH[cert]) and ("‡" in other_value) == (r > REACH[other])
        assert (
            cells[col["only row / other"]] == f"{int((ca & ~cb).sum())} / {int((cb & ~ca).sum())}"
        )
        checked += 1
    assert checked >= 3
    details = next(t for t in tables if t[1][:3] == ["model", "noise", "certifier"])
    header, rows = details[1], details[2]
    assert len(rows) == len(expected)
    for cells in rows:
        want = expected.loc[(cells[0], cells[2])]
        for r in RADII:
            title = "clean" if r == 0 else f"r={r:g}"
            text = cells[header.index(title)]
            assert re.fullmatch(rf"{100 * want[r]:.1f} \[\d+\.\d, \d+\.\d\]", text), text


def test_the_images_behind_the_headline_are_the_first_discordant_images(pages):
    report, heads, _, appendix, _, certs, _ = pages
    (h,) = heads
    tables = md_tables(appendix)
    header, rows = next((t[1], t[2]) for t in tables if "certified by" in t[1])
    a = certs[(h.row.model, h.row.certifier)]
    b = certs[(h.other.model, h.other.certifier)]
    ca, cb = a["ok"] & (a["radius"] >= h.radius), b["ok"] & (b["radius"] >= h.radius)
    want = sorted(int(i) for i in a.index[(ca != cb).to_numpy()])
    assert [int(c[0]) for c in rows] == want[:DISCORDANT_SHOWN]
    for cells in rows:
        i = int(cells[0])
        assert cells[1] == ("first" if ca.loc[i] else "second")
        assert float(cells[3]) == pytest.approx(a.loc[i, "radius"], abs=5e-5)
        assert float(cells[5]) == pytest.approx(b.loc[i, "radius"], abs=5e-5)


def test_html_keeps_every_row_and_title(pages):
    report, _, _, _, page, _, expected = pages
    board = report.boards[0]
    body = page.split(f'id="{board_id(board)}-table"')[1].split("</table>")[0]
    groups = re.findall(r'<tr class="group"><td colspan="\d+"><span>(.*?)</span></td></tr>', body)
    assert [htmlmod.unescape(g).split(" · ")[0] for g in groups] == board.models
    cells = re.findall(r"<tr>(<td.*?)</tr>", body)
    assert len(cells) == len(expected)  # every row
    # every certified-accuracy cell carries its Wilson interval as a tooltip
    assert len(re.findall(r'title="Wilson 95%: \[', body)) == len(expected) * len(RADII)
    assert 'class="beyond"' in body  # Cohen's cells beyond its reach are greyed
    # the row's labels, and only they, stay in view when the table scrolls sideways
    heads = re.findall(r"<th [^>]*>(.*?)</th>", body)
    pinned = int(re.search(r'data-pin="(\d+)"', body.split(">")[0]).group(1))
    assert heads[:pinned] == ["#", "noise", "certifier"]


def board_id(board) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", board.title).strip("-").lower()


def test_footnotes_state_the_level_and_n(pages):
    report, _, md, _, _, _, expected = pages
    assert f"significance level {report.level:g}." in md
    assert f"n_test = {int(expected['n'].max())} test images" in md
    assert "LEVEL" not in md


def test_the_discordant_table_lists_the_images_of_both_sides(pages):
    """Two rows on different models, at r = 0: images certified by either one alone."""
    from types import SimpleNamespace

    from reports.view import discordant_table

    report, _, _, _, _, certs, _ = pages
    board = report.boards[0]
    first, second = (next(r for r in board.rows_of(m) if r.certifier == "cohen") for m in MODELS)
    table = discordant_table(board, SimpleNamespace(row=first, other=second, radius=0.0, n=80))
    a, b = certs[(first.model, "cohen")], certs[(second.model, "cohen")]
    ca, cb = a["ok"] & (a["radius"] >= 0.0), b["ok"] & (b["radius"] >= 0.0)
    assert (ca & ~cb).any() and (cb & ~ca).any()  # the store has both kinds
    want = {int(i): ("first" if ca.loc[i] else "second") for i in a.index[(ca != cb).to_numpy()]}
    assert {int(c[0].text): c[1].text for c in table.rows} == want


def test_every_warning_and_the_legend_reach_both_pages(pages):
    report, _, md, _, page, _, _ = pages
    for w in WARNINGS:
        assert f"> **Warning:** {w}" in md
        assert f"<strong>Warning:</strong> {htmlmod.escape(w, quote=False)}</div>" in page
    foot = htmlmod.unescape(page.split('id="footnotes"')[1])
    assert f"q < {report.level:g}" in foot and "▲/▼: significantly above" in foot


def test_the_appendix_lists_the_comparisons_with_the_best_row(pages):
    report, _, _, appendix, _, _, _ = pages
    c = report.boards[0].comparisons
    labels = {r.key: r.full_label() for r in report.boards[0].rows}
    titles = {col.key: col.title for col in report.boards[0].columns}
    differing = c[(c["kind"] == "best") & ((c["column"] == "acr") | (c["n10"] + c["n01"] > 0))]
    want = {
        (labels[r], titles[k]) for r, k in zip(differing["row"], differing["column"], strict=True)
    }
    assert want
    tables = md_tables(appendix)
    shown = {
        (cells[h.index("row")], cells[h.index("column")])
        for _, h, rows in tables
        if "kind" in h
        for cells in rows
        if cells[0] == "best"
    }
    assert shown == want


def test_html_escapes_what_it_shows(pages):
    """The HTML page shows names as text: a model named ``m|<low>`` reads ``m|&lt;low&gt;`` in
    the markup, not a ``<low>`` element the browser swallows (nor a ``"`` that ends a
    ``title`` attribute). The template is ``leaderboard.html.j2``: autoescape chosen by a
    ``.html`` suffix missed it."""
    page = pages[4]
    assert "m|<low>" not in page
    assert htmlmod.escape("m|<low>", quote=False) in page


def test_the_footnotes_give_each_models_training_sigma(pages):
    """Both pages' footnotes name each model with the sigma0 it was trained at."""
    _, _, md, _, page, _, _ = pages
    for model, sigma0 in MODELS.items():
        assert f"{model} (sigma0 {sigma0:g}, sha256" in _unescaped(md)
        assert f"{htmlmod.escape(model, quote=False)} (sigma0 {sigma0:g}, sha256" in page


def test_the_appendix_p_values_are_the_comparison_tables(pages):
    """Each comparison line of the appendix shows its record's mid-p, Holm, BH and
    unpaired p (comparisons.csv's values), each in its own column."""
    from reports.headline import fmt_p

    report, _, _, appendix, _, _, _ = pages
    board = report.boards[0]
    labels = {r.key: r.full_label() for r in board.rows}
    titles = {col.key: col.title for col in board.columns}
    records = {
        (rec["kind"], titles[rec["column"]], labels[rec["row"]], labels[rec["other"]]): rec
        for rec in board.comparisons.to_dict("records")
    }
    checked = 0
    for _, h, rows in md_tables(appendix):
        if "BH" not in h:
            continue
        for cells in rows:
            rec = records[
                tuple(cells[h.index(k)] for k in ("kind", "column", "row", "compared with"))
            ]
            assert cells[h.index("paired p")] == fmt_p(rec["p"])
            assert cells[h.index("Holm")] == fmt_p(rec["p_holm"])
            assert cells[h.index("BH")] == fmt_p(rec["p_bh"])
            if rec["column"] != "acr":
                assert cells[h.index("unpaired p")] == fmt_p(rec["p_unpaired"])
            checked += rec["p_holm"] != rec["p_bh"]
    assert checked  # some line tells Holm from BH
