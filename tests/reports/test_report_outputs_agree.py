"""What the written reports show agrees with the store: certified accuracy recomputed
from the certificates table, every row, every mark in its own symbol, names escaped.

The store (``_outputs_store``): two models, one named ``wrn_28&10``, each certified by
Cohen and by ``scaled_x2`` (twice Cohen's radius: significantly above Cohen at the larger
radii, and unsound, so the sanity checks flag it). ``plain``: the report built without
the sanity checks, so that its marks show; ``checked``: ``smoothbench report``'s, with
every format written.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from reports.cli import make_report, write_report
from reports.json_entries import json_entries
from reports.latex import to_latex
from reports.leaderboard import build_report
from reports.settings import ReportSettings
from reports.tidy import load_outcomes
from tests.conftest import _Plugins
from tests.reports._outputs_store import RADII, SCALED, build, certified_table
from tests.reports._report_synth import ALPHA, N

#: Cohen's reach at the store's n and alpha (the closed form), and twice it for scaled_x2
COHEN_REACH = 0.25 * ndtri(ALPHA ** (1.0 / N))
REACH = {"cohen": COHEN_REACH, SCALED: 2 * COHEN_REACH}
TEX = {  # each report mark and the LaTeX it must print as
    "▲": r"^{\blacktriangle}", "★": r"$^{\bigstar}$", "☆": r"^{(\bigstar)}",
    "§": r"^{\S}", "‡": r"^{\ddagger}",
}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "s.sqlite"
    plugins = _Plugins()
    s = build(path, plugins)
    yield path, s
    s.close()
    plugins.remove_all()


@pytest.fixture(scope="module")
def expected(store):
    return certified_table(store[0]).set_index(["model", "certifier"])


@pytest.fixture(scope="module")
def plain(store):
    _, s = store
    settings = ReportSettings.from_config(s.manifest()["config"])
    return build_report(
        load_outcomes(s), manifest=s.manifest(), specs=s.noise_specs(), settings=settings
    )


@pytest.fixture(scope="module")
def checked(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("written")
    report, headlines = make_report(store[0])
    write_report(report, headlines, out, ["csv", "json", "latex"])
    return report, out


def _latex_rows(tex: str) -> dict[str, list[list[str]]]:
    """Model heading -> its rows, each a list of cells (split on the column separator)."""
    body = tex.split(r"\toprule")[1].split(r"\bottomrule")[0]
    groups: dict[str, list[list[str]]] = {}
    heading = None
    for line in body.splitlines():
        m = re.match(r"\\multicolumn\{\d+\}\{l\}\{\\textit\{(.*)\}\} \\\\$", line)
        if m:
            heading = m.group(1)
            groups[heading] = []
        elif heading is not None and line.endswith(r" \\"):
            groups[heading].append(line[: -len(r" \\")].split(" & "))
    return groups


def _header(tex: str) -> list[str]:
    line = tex.split(r"\toprule")[1].split(r"\midrule")[0].strip()
    return line[: -len(r" \\")].split(" & ")


def test_latex_shows_every_row_with_its_recomputed_values(plain, expected):
    tex = to_latex(plain)
    header = _header(tex)
    titles = ["clean"] + [f"r={r:g}" for r in RADII[1:]]
    assert header[:2] == ["noise", "certifier"] and header[2:] == [*titles, "ACR"]
    groups = _latex_rows(tex)
    headings = {h.split(" $\\cdot$")[0]: rows for h, rows in groups.items()}
    low = r"m\textbar{}\textless{}low\textgreater{}"  # not OT1's other glyphs for | < >
    assert set(headings) == {r"wrn\_28\&10", low}  # names escaped for LaTeX
    for model, rows in (("wrn_28&10", headings[r"wrn\_28\&10"]), ("m|<low>", headings[low])):
        certs = sorted(c for (m, c) in expected.index if m == model)
        shown = sorted(cells[1].split(" ")[0] for cells in rows)
        assert shown == sorted(c.replace("_", r"\_") for c in certs)  # every row, escaped
        for cells in rows:
            cert = cells[1].split(" ")[0].replace(r"\_", "_")
            want = expected.loc[(model, cert)]
            for r, cell in zip(RADII, cells[2:-1], strict=True):
                assert cell.split("$")[0] == f"{100 * want[r]:.1f}", (model, cert, r, cell)
            assert cells[-1].split("$")[0] == f"{want['acr']:.4f}"


UNESCAPE = {r"\_": "_", r"\&": "&", r"\textbar{}": "|", r"\textless{}": "<", r"\textgreater{}": ">"}


def test_latex_prints_each_mark_as_its_own_symbol(plain):
    tex = to_latex(plain)
    board = plain.boards[0]
    groups = _latex_rows(tex)
    keys = [c.key for c in board.columns if c.main and c.key != "n"]
    seen = set()
    for heading, rows in groups.items():
        model = heading.split(" $\\cdot$")[0]
        for tex_char, char in UNESCAPE.items():
            model = model.replace(tex_char, char)
        for cells in rows:
            cert = cells[1].split(" ")[0].replace(r"\_", "_")
            (row,) = [r for r in board.rows_of(model) if r.certifier == cert]
            for key, cell in zip(keys, cells[2:], strict=True):
                mark = board.marks.get((row.key, key), "")
                for symbol, tex_symbol in TEX.items():
                    if symbol in mark:
                        seen.add(symbol)
                        assert tex_symbol in cell, (model, cert, key, mark, cell)
                if "▲" in mark:
                    assert "blacktriangledown" not in cell
                if "★" in mark:
                    assert r"(\bigstar)" not in cell
                if mark == "":
                    assert "$^" not in cell.replace(r"$^{\ddagger}$", ""), (model, cert, key, cell)
    assert {"▲", "★", "☆", "§"} <= seen  # the store gives every kind of mark


def test_latex_marks_radii_beyond_reach_by_the_closed_form(plain):
    groups = _latex_rows(to_latex(plain))
    cols = [*RADII, None]  # the ACR column last
    for rows in groups.values():
        for cells in rows:
            cert = cells[1].split(" ")[0].replace(r"\_", "_")
            for r, cell in zip(cols, cells[2:], strict=True):
                beyond = r is not None and r > REACH[cert]
                assert (r"\ddagger" in cell) == beyond, (cert, r, cell)


def test_latex_caption_and_flags(checked):
    report, out = checked
    tex = (out / "leaderboard.tex").read_text()
    caption = tex.split(r"\caption{")[1].split(r"\label")[0]
    assert r"certified accuracy (\%)" in caption  # % escaped, or LaTeX ends the line there
    assert "%" not in caption.replace(r"\%", "")
    assert f"significantly (level {report.level:g})" in caption
    for rows in _latex_rows(tex).values():
        for cells in rows:
            unsound = cells[1].startswith(SCALED.replace("_", r"\_"))  # twice Cohen: unsound
            assert (r"\textbf{unsound}" in cells[1]) == unsound
            assert (r"\dagger" in cells[0]) == unsound  # its soundness check failed


def test_csv_files_hold_every_row_at_full_precision(store, checked, expected):
    report, out = checked
    board = pd.read_csv(out / "leaderboard.csv")
    assert len(board) == len(expected)
    for rec in board.to_dict("records"):
        want = expected.loc[(rec["model"], rec["certifiers"])]
        assert rec["n"] == want["n"]
        for r in RADII:
            key = "clean" if r == 0 else f"cert@{r:g}"
            assert rec[key] == pytest.approx(want[r], rel=1e-12, abs=1e-15)
        assert rec["acr"] == pytest.approx(want["acr"], rel=1e-12)
    outcomes = pd.read_csv(out / "outcomes.csv")
    import sqlite3

    with sqlite3.connect(store[0]) as db:
        (n_cert,) = db.execute("SELECT COUNT(*) FROM certificates").fetchone()
    assert len(outcomes) == n_cert
    comparisons = pd.read_csv(out / "comparisons.csv")
    assert len(comparisons) == sum(len(b.comparisons) for b in report.boards)


def test_json_entries_in_percent_with_their_marks_and_comparisons(plain, expected):
    entries = json_entries(plain)
    assert len(entries) == len(expected)  # one file per row: no two rows share a path
    label = {(e["model"], "_".join(e["certifiers"])): e["name"] for e in entries.values()}
    for entry in entries.values():
        (cert,) = entry["certifiers"]
        want = expected.loc[(entry["model"], cert)]
        assert entry["units"]["certified_acc"] == "percent"
        for r in RADII:
            value = entry["certified_acc"][f"{r:g}"]
            assert value == pytest.approx(100 * want[r], abs=1e-9)
            lo, hi = entry["certified_acc_wilson95"][f"{r:g}"]
            assert lo <= value + 1e-9 and value - 1e-9 <= hi and lo < hi
        same = (entry.get("significance") or {}).get("same-noise", {})
        if cert == "cohen":
            assert same == {}  # the reference row is not compared with itself
            continue
        assert set(same) >= {"cert@0.5", "acr"}
        for column, c in same.items():
            assert c["compared_with"] == label[(entry["model"], "cohen")]
            r = None if column == "acr" else (0.0 if column == "clean" else float(column[5:]))
            assert c["beyond_reach"] == {
                "row": r is not None and r > REACH[SCALED],
                "compared_with": r is not None and r > REACH["cohen"],
            }
    wrn = next(
        e for e in entries.values() if e["model"] == "wrn_28&10" and e["certifiers"] == [SCALED]
    )
    assert "▲" in wrn["marks"]["cert@0.5"]  # 59 images certified by it alone, none by Cohen


def test_json_entries_flag_unsound_rows(checked):
    report, out = checked
    files = sorted((out / "entries").rglob("*.json"))
    assert len(files) == 4
    for path in files:
        entry = json.loads(path.read_text())
        assert entry["unsound"] == (entry["certifiers"] == [SCALED])


def test_json_p_values_are_the_comparison_tables(plain):
    """Each JSON comparison carries the p-values of the comparisons table (comparisons.csv,
    checked against statsmodels' BH and Holm elsewhere) for its row, kind and column: the
    paired p, BH's, Holm's and the unpaired z-test's, each under its own name."""
    table = plain.comparisons()
    names = {"p_paired": "p", "p_bh": "p_bh", "p_holm": "p_holm", "p_unpaired_ztest": "p_unpaired"}
    checked = 0
    for entry in json_entries(plain).values():
        for kind, columns in (entry.get("significance") or {}).items():
            for column, c in columns.items():
                (want,) = table[
                    (table["row"] == entry["name"])
                    & (table["kind"] == kind)
                    & (table["column"] == column)
                ].to_dict("records")
                assert c["compared_with"] == want["other"] and c["n"] == want["n"]
                for key, source in names.items():
                    if np.isnan(want[source]):  # JSON has no NaN: null
                        assert c[key] is None, key
                    else:
                        assert c[key] == pytest.approx(want[source], rel=1e-12, abs=0), key
                checked += 1
    assert checked >= 4
    assert (table["p_bh"] != table["p_holm"]).any()  # the two adjustments differ here
