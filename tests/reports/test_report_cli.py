"""``smoothbench report``: every format written and parseable, options honoured."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from reports.cli import resolve_formats
from tests.reports._report_synth import winner_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("store") / "s.sqlite"
    winner_store(path).close()
    return path


@pytest.fixture(scope="module")
def full(store_path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert main(["report", str(store_path), "--out", str(out)]) == 0
    return out


class _Refs(HTMLParser):
    """Collects every attribute that could load something, and forbidden tags."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action") and value:
                self.urls.append(value)

    def handle_endtag(self, tag):
        self._in_style = False if tag == "style" else self._in_style

    def handle_data(self, data):
        if self._in_style:
            self.style += data


def test_every_format_is_written(full):
    names = {p.relative_to(full).as_posix() for p in full.rglob("*") if p.is_file()}
    for expected in (
        "leaderboard.md",
        "appendix.md",
        "leaderboard.html",
        "leaderboard.csv",
        "leaderboard.tex",
        "comparisons.csv",
        "outcomes.csv",
        "sanity.csv",
    ):
        assert expected in names
    for ext in ("png", "svg"):
        assert f"plots/radii_synthetic_l2_a0.001.{ext}" in names
        for model in ("m-win", "m-mid", "m-low"):  # one figure per model
            assert f"plots/cert_acc_synthetic_l2_a0.001_{model}.{ext}" in names
    entries = sorted(n for n in names if n.startswith("entries/"))
    assert len(entries) == 3 and all(n.startswith("entries/synthetic/L2/a0.001/") for n in entries)


def test_csv_and_json_parse(full):
    board = pd.read_csv(full / "leaderboard.csv")
    assert len(board) == 3 and set(board["model"]) == {"m-win", "m-mid", "m-low"}
    assert {"clean", "clean_lo", "clean_hi", "acr", "sanity", "false_cert", "n"} <= set(board)
    comps = pd.read_csv(full / "comparisons.csv")
    assert {"p", "p_exact", "p_holm", "p_bh", "p_unpaired"} <= set(comps)
    outcomes = pd.read_csv(full / "outcomes.csv")
    assert len(outcomes) == 3 * 200
    sanity = pd.read_csv(full / "sanity.csv")
    assert set(sanity["status"]) <= {"pass", "fail", "skipped"}
    for path in (full / "entries").rglob("*.json"):
        entry = json.loads(path.read_text())
        assert entry["threat_model"] == "L2" and entry["n_test"] == 200
        assert set(entry["certified_acc"]) == {"0", "0.25", "0.5", "0.75", "1", "1.5"}
        assert 0 <= entry["certified_acc"]["0"] <= 100
        assert entry["units"]["certified_acc"] == "percent"
        assert entry["units"]["abstain_rate"] == "fraction" and 0 <= entry["abstain_rate"] <= 1


class _Described(HTMLParser):
    """Every table's ``aria-describedby`` and every element id."""

    def __init__(self) -> None:
        super().__init__()
        self.described: list[str | None] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.described.append(attrs.get("aria-describedby"))
        if attrs.get("id"):
            self.ids.add(attrs["id"])


def test_every_html_table_is_described_by_its_caption(full):
    """A screen reader announces a table with the caption that explains its marks."""
    parser = _Described()
    parser.feed((full / "leaderboard.html").read_text(encoding="utf-8"))
    assert len(parser.described) >= 5
    assert all(d is not None and d in parser.ids for d in parser.described), parser.described


def test_html_is_self_contained(full):
    page = (full / "leaderboard.html").read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(page)
    assert parser.urls, "expected embedded images"
    local = [u for u in parser.urls if not u.startswith("#")]
    assert all(u.startswith("data:image/png;base64,") for u in local), local
    assert not {"link", "iframe", "object", "embed"} & set(parser.tags)
    assert "@import" not in parser.style and "url(" not in parser.style
    assert not re.search(r"https?://", page)
    for needle in ("Headline", "Sanity checks", "Footnotes", "McNemar", "unpaired", "<details"):
        assert needle.lower() in page.lower()


_PROBE = """<script>
window.addEventListener("load", function () {
  var t = document.querySelector("table.sortable"), f = document.querySelector("figure img");
  var tr = t.getBoundingClientRect(), fr = f.getBoundingClientRect();
  var geo = {table: tr.top, figure: fr.top, height: window.innerHeight,
    width: window.innerWidth, scroll: document.documentElement.scrollWidth,
    clipped: t.parentElement.scrollWidth - t.parentElement.clientWidth};
  /* a click on each header of every table sorts its numbers, descending: count the
     columns that then hold two or more distinct numbers, and those out of order */
  var sorted = 0, unsorted = [];
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.click();
      var values = [];
      table.querySelectorAll("tbody").forEach(function (body) {
        var seen = [];
        Array.prototype.forEach.call(body.rows, function (r) {
          var c = r.cells[col];
          if (r.classList.contains("group") || !c) return;
          var x = parseFloat(c.dataset.sort !== undefined ? c.dataset.sort : c.textContent);
          if (!isNaN(x)) seen.push(x);
        });
        values.push(seen);
      });
      if (values.some(function (v) { return new Set(v).size > 1; })) sorted++;
      var rises = function (v) { return v.some(function (x, i) { return i && v[i - 1] < x; }); };
      if (values.some(rises))
        unsorted.push(table.id + ": " + th.textContent.trim());
    });
  });
  geo.sorted = sorted; geo.unsorted = unsorted;
  var out = document.createElement("pre"); out.id = "probe";
  out.textContent = JSON.stringify(geo);
  document.body.appendChild(out);
});
</script></body>"""


def test_html_first_screen_in_a_headless_browser(full, tmp_path):
    """The main table and the first plot are in the first screen, the page fits the window,
    the table shows all its columns (no sideways scrolling inside its box), and the headers
    sort (a click on any header puts the numbers of its column in descending order)."""
    browser = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        pytest.skip("no headless browser (chromium) on this machine; the layout is not checked")
    page = (full / "leaderboard.html").read_text(encoding="utf-8").replace("</body>", _PROBE)
    probe = tmp_path / "probe.html"
    probe.write_text(page, encoding="utf-8")
    proc = subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,800",
         "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout)
    assert found, proc.stdout[-2000:]
    geo = json.loads(found.group(1).replace("&quot;", '"'))
    assert 0 <= geo["table"] < geo["height"], geo
    assert 0 <= geo["figure"] < geo["height"], geo
    assert geo["scroll"] <= geo["width"], geo  # nothing wider than the window
    assert geo["clipped"] <= 0, geo
    assert geo["sorted"] >= 3 and not geo["unsorted"], geo  # a click sorts every column


def test_markdown_has_the_sections_and_plots(full):
    md = (full / "leaderboard.md").read_text()
    for needle in (
        "**Headline**",
        "## Sanity checks",
        "## synthetic, l2, alpha = 0.001",
        "## Footnotes",
        "index set sha256",
        "n0 = 100",
        "seed = 7",
        "★",
        "appendix.md",
    ):
        assert needle in md
    assert len(md.encode()) < 150_000
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (full / image).is_file()


def test_markdown_blocks_are_separated(full):
    """A line right after a table row would join the table (GitHub's Markdown), and a
    line right after a list item or a quote would join it: every table, list and
    warning ends with a blank line before the next block."""
    for name in ("leaderboard.md", "appendix.md"):
        lines = (full / name).read_text().splitlines()
        for above, line in zip(lines, lines[1:], strict=False):
            if not line.strip():
                continue
            if above.startswith("|"):  # a heading starts a block of its own
                assert line.startswith(("|", "#")), (name, above, line)
            if above.startswith("> "):
                assert line.startswith("> ") is False, (name, above, line)
            if above.startswith("- ") and not line.startswith("- "):
                assert line.startswith("  "), (name, above, line)


def test_plots_are_valid_files(full):
    for png in (full / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for svg in (full / "plots").glob("*.svg"):
        assert ET.parse(svg).getroot().tag.endswith("svg")


def test_latex_tables(full):
    tex = (full / "leaderboard.tex").read_text()
    assert tex.count("\\begin{table}") == tex.count("\\end{table}") == 1
    header = tex.split("\\toprule")[1].split("\\midrule")[0]
    rows = [
        line
        for line in tex.split("\\toprule")[1].split("\\bottomrule")[0].splitlines()
        if "&" in line
    ]
    assert {line.count("&") for line in rows} == {header.count("&")}
    assert "\\resizebox{\\linewidth}" in tex  # fits a page
    caption = tex.split("\\caption{")[1].split("\\label")[0]
    assert "\\bigstar" in caption and "(\\bigstar)" in caption  # the legend, distinct stars
    body = "".join(rows)
    assert "_" not in body.replace("\\_", "")  # underscores escaped
    if shutil.which("pdflatex"):
        doc = (
            "\\documentclass{article}\\usepackage{booktabs,amssymb,graphicx}"
            "\\begin{document}" + tex + "\\end{document}"
        )
        (Path(full) / "doc.tex").write_text(doc)
        proc = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "doc.tex"], cwd=full, capture_output=True
        )
        assert proc.returncode == 0


def test_formats_option_and_radii(store_path, tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(
        [
            "report",
            str(store_path),
            "--out",
            str(out),
            "--format",
            "md",
            "csv",
            "--radii",
            "0.1",
            "0.2",
        ]
    )
    assert rc == 0
    written = {p.name for p in out.rglob("*") if p.is_file()}
    assert written == {
        "leaderboard.md",
        "appendix.md",
        "leaderboard.csv",
        "comparisons.csv",
        "outcomes.csv",
        "sanity.csv",
        "report-files.json",  # the index of these, for the next report into the folder
    }
    board = pd.read_csv(out / "leaderboard.csv")
    assert {"cert@0.1", "cert@0.2"} <= set(board) and "cert@0.5" not in board
    text = capsys.readouterr().out
    assert "Paired test (McNemar)" in text and "mid-p" in text and "[PASS]" in text


def test_report_filters(store_path, tmp_path, capsys):
    out = tmp_path / "f"
    assert main(["report", str(store_path), "--out", str(out), "--format", "csv",
                 "--model", "m-win", "m-mid", "--alpha", "0.001"]) == 0  # fmt: skip
    assert set(pd.read_csv(out / "leaderboard.csv")["model"]) == {"m-win", "m-mid"}
    wrote = capsys.readouterr().out.splitlines()[0]
    assert "(leaderboard.csv, comparisons.csv, outcomes.csv" in wrote and ".html" not in wrote
    assert main(["report", str(store_path), "--out", str(out), "--model", "m-nope"]) == 2
    assert "--model 'm-nope' is not in the store" in capsys.readouterr().err
    assert main(["report", str(store_path), "--out", str(out), "--alpha", "0.01"]) == 2
    assert "--alpha 0.01 is not in the store" in capsys.readouterr().err


def test_bad_options_give_an_error(store_path, tmp_path, capsys):
    assert main(["report", str(store_path), "--out", str(tmp_path), "--reference", "cohn"]) == 2
    assert "reference certifier 'cohn'" in capsys.readouterr().err
    assert main(["report", str(store_path), "--out", str(tmp_path), "--format", "pdf"]) == 2
    assert main(["report", str(tmp_path / "missing.sqlite"), "--out", str(tmp_path)]) == 2
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    for cmd in (["report", str(empty), "--out", str(tmp_path)], ["certify", str(empty)]):
        assert main(cmd) == 2
        assert "is an empty file, not a smoothbench store" in capsys.readouterr().err
        assert empty.stat().st_size == 0  # not made into a store


def test_resolve_formats():
    assert resolve_formats(None) == ["md", "html", "csv", "latex", "json", "plots"]
    assert resolve_formats(["markdown,tex", "png", "svg"]) == ["md", "latex", "plots"]
    with pytest.raises(ValueError):
        resolve_formats(["docx"])


def test_compare_lists_the_discordant_images(store_path, capsys):
    from reports.tidy import load_outcomes

    rc = main(
        ["compare", str(store_path), "--first", "m-win", "gaussian", "cohen",
         "--second", "m-mid", "gaussian", "cohen", "--norm", "l2", "--radius", "0.25"]
    )  # fmt: skip
    assert rc == 0
    text = capsys.readouterr().out
    out = load_outcomes(store_path)
    cert = {
        m: (
            g.sort_values("image")["correct"] & (g.sort_values("image")["radius"] >= 0.25)
        ).to_numpy()
        for m, g in out.groupby("model")
    }
    only_first = int((cert["m-win"] & ~cert["m-mid"]).sum())
    only_second = int((~cert["m-win"] & cert["m-mid"]).sum())
    assert f"only the first {only_first}, only the second {only_second}" in text
    assert len(text.strip().splitlines()) == 2 + only_first + only_second  # summary, header
    assert main(["compare", str(store_path), "--first", "m-x", "gaussian", "cohen",
                 "--second", "m-mid", "gaussian", "cohen", "--norm", "l2",
                 "--radius", "0.25"]) == 2  # fmt: skip
    assert "unknown model 'm-x'" in capsys.readouterr().err


def test_compare_certifies_at_a_radius_equal_to_the_certificate(store_path):
    """At r equal to an image's own radius that image is certified (radius >= r, as in
    the leaderboard), and each discordant image names the row that certifies it."""
    from reports.discordant import compare_rows_by_image
    from reports.tidy import load_outcomes

    out = load_outcomes(store_path)
    win, mid = (out[out["model"] == m].set_index("image").sort_index() for m in ("m-win", "m-mid"))
    alone = win["correct"] & (win["radius"] > mid["radius"] + 1e-3) & (win["radius"] > 0)
    r = float(win.loc[alone, "radius"].iloc[0])
    table, summary = compare_rows_by_image(
        store_path, ("m-win", "gaussian", "cohen"), ("m-mid", "gaussian", "cohen"), "l2", r
    )
    first = win["correct"] & (win["radius"] >= r)
    second = mid["correct"] & (mid["radius"] >= r)
    assert f"only the first {int((first & ~second).sum())}," in summary
    by = table.set_index("image")["certified by"]
    assert int(win.index[alone][0]) in by.index
    assert (by == np.where(first[by.index], "first", "second")).all()
    assert len(by) == int((first != second).sum())
    # McNemar on the discordant images: exact two-sided p and mid-p, by the binomial
    n10, n01 = int((first & ~second).sum()), int((~first & second).sum())
    k, d = min(n10, n01), n10 + n01
    exact = min(1.0, 2 * sum(math.comb(d, i) for i in range(k + 1)) / 2**d)
    midp = min(1.0, exact - math.comb(d, k) / 2**d)
    assert f"McNemar mid-p {midp:.4g} (exact {exact:.4g})" in summary


@pytest.mark.parametrize("flag,kept", [([], True), (["--no-keep-freed-memory"], False)])
def test_the_report_keeps_freed_host_memory_unless_told_not_to(
    store_path, tmp_path, monkeypatch, flag, kept
):
    """Like ``run``, ``report`` tells glibc to keep freed memory (its Monte Carlo sanity
    checks allocate multi-megabyte arrays at every shift), before its workers fork."""
    import harness.host_memory as host_memory

    calls = []
    monkeypatch.setattr(host_memory, "keep_freed_memory", lambda: calls.append(1) or "kept")
    out = tmp_path / "out"
    assert main(["report", str(store_path), "--out", str(out), "--format", "csv", *flag]) == 0
    assert calls == ([1] if kept else [])
    assert (out / "leaderboard.csv").exists()
