"""Writers: Markdown, a self-contained HTML page, CSV, LaTeX and RobustBench-style JSON.

The Markdown and HTML pages share one document model (a list of blocks: headings,
paragraphs, lists, tables, images), so they say the same things. The HTML page has
inline CSS and its images embedded as base64 PNG: it references no file and no network.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reports import significance as sig
from reports.headline import Headline, fmt_p
from reports.leaderboard import Board, Report, noise_label
from reports.sanity import FAIL, PASS

THREAT = {"l1": "L1", "l2": "L2", "linf": "Linf"}


# --------------------------------------------------------------------------------------
# document model
# --------------------------------------------------------------------------------------
@dataclass
class Block:
    kind: str  # h1, h2, h3, p, ul, table, img
    content: Any
    alt: str = ""


def label(key: sig.RowKey) -> str:
    """A row label safe inside Markdown tables."""
    model, noise, cert = key
    return f"{model} · {noise_label(noise)} · {cert}"


def _pct(v: float) -> str:
    return f"{100 * v:.1f}"


def display_table(board: Board) -> pd.DataFrame:
    """The leaderboard as strings: accuracy in % with Wilson 95% interval and marks."""
    t = board.table
    rows = []
    for rec in t.to_dict("records"):
        row = {
            "#": rec["rank"],
            "model": rec["model"],
            "noise": rec["noise_label"],
            "certifier": rec["certifier"],
        }
        for r in board.radii:
            m = sig.metric_name(r)
            head = "clean" if r == 0 else f"r = {r:g}"
            row[head] = (
                f"{_pct(rec[m])} [{_pct(rec[m + '_lo'])}, {_pct(rec[m + '_hi'])}]"
                f"{(' ' + rec['marks:' + m]) if rec['marks:' + m] else ''}"
            )
        row["ACR"] = f"{rec['acr']:.3f}{(' ' + rec['marks:acr']) if rec['marks:acr'] else ''}"
        row["abstain"] = f"{_pct(rec['abstain'])}%"
        row["s/img"] = f"{rec['sec_per_img']:.3g}"
        row["false cert. ≤"] = f"{rec['false_cert_bound']} of {rec['n_certified']}"
        row["sanity"] = "ok" if rec["sanity"] == "ok" else f"⚠ {rec['sanity']}"
        rows.append(row)
    return pd.DataFrame(rows)


def _reference_table(board: Board) -> pd.DataFrame | None:
    rows = []
    for rec in board.table.to_dict("records"):
        key = (rec["model"], rec["noise"], rec["certifier"])
        refs = board.refs.get(key, {})
        if not refs:
            continue
        rows.append(
            {
                "#": rec["rank"],
                "row": label(key),
                f"{sig.MARK_UP}/{sig.MARK_DOWN} compared with (same noise)": label(
                    refs[sig.SAME_NOISE]
                )
                if sig.SAME_NOISE in refs
                else "",
                f"{sig.MARK_UP_G}/{sig.MARK_DOWN_G} compared with (Gaussian baseline)": label(
                    refs[sig.GAUSSIAN]
                )
                if sig.GAUSSIAN in refs
                else "",
            }
        )
    return pd.DataFrame(rows) if rows else None


def _comparison_table(board: Board, kinds: Sequence[str]) -> pd.DataFrame | None:
    c = board.comparisons
    if c.empty:
        return None
    c = c[c["kind"].isin(list(kinds))]
    if c.empty:
        return None
    rows = []
    for rec in c.to_dict("records"):
        acr = rec["metric"] == "acr"
        rows.append(
            {
                "column": rec["metric"],
                "row": label(rec["row"]),
                "compared with": label(rec["other"]),
                "value": f"{rec['value']:.4f}" if acr else _pct(rec["value"]),
                "other": f"{rec['other_value']:.4f}" if acr else _pct(rec["other_value"]),
                "only row / only other": "" if acr else f"{int(rec['n10'])} / {int(rec['n01'])}",
                "paired test": "Wilcoxon" if acr else "McNemar mid-p",
                "p (paired)": fmt_p(rec["p"]),
                "exact p (paired)": "" if acr else fmt_p(rec["p_exact"]),
                "Holm": fmt_p(rec["p_holm"]),
                "BH": fmt_p(rec["p_bh"]),
                "z-test p (unpaired)": "" if acr else fmt_p(rec["p_unpaired"]),
            }
        )
    return pd.DataFrame(rows)


def _footnotes(report: Report) -> list[str]:
    f = report.footnotes
    alphas = ", ".join(f"{a:g}" for a in f["alpha"])
    models = "; ".join(f"{m} (sha256 {h}…)" for m, h in f["models"].items()) or "n/a"
    level = f"{report.level:g}"
    return [
        f"n_test = {f['n_test']} test images of {f['dataset']} (index set sha256 "
        f"{f['index_set_sha256'][:16]}…); n0 = {f['n0']} selection and n = {f['n']} "
        f"estimation draws per image and noise; alpha = {alphas}; seed = {f['seed']}; "
        f"code {f['code_version']}; device {f['device']}.",
        f"Models: {models}.",
        "Accuracies in %, with Wilson 95% intervals (statsmodels). Certified accuracy at r "
        "counts an image when it is not abstained (p_A > 1/2), correct and its radius is "
        ">= r; 'clean' is r = 0 (clean smoothed accuracy). ACR is the mean of radius x "
        "correct. 's/img': sampling seconds per image and noise.",
        "'false cert. ≤ k of m': each of the m certificates issued rests on a one-sided "
        "(1 - alpha) Clopper-Pearson bound and is false with probability <= alpha (plus "
        "what a Monte Carlo certifier spends itself); with probability >= 95% at most k "
        "are false (binomial quantile).",
        sig.LEGEND.replace("LEVEL", level),
        "All rows certify the same images on the same seeded draws, so comparisons are "
        "paired (McNemar). The two-proportion z-test ignores the pairing; it is shown, "
        "labelled unpaired, because papers report it.",
        f"Reference certifier: {report.reference}.",
    ]


def document(
    report: Report,
    headlines: Sequence[Headline],
    images: dict[str, dict[str, Any]] | None = None,
) -> list[Block]:
    """The report as blocks. ``images[board.slug][name]`` is a PNG (bytes, for HTML) or a
    relative path (str, for Markdown)."""
    images = images or {}
    f = report.footnotes
    blocks = [Block("h1", f"smoothbench leaderboard: {f['dataset']}")]
    blocks.append(Block("h2", "Headline"))
    blocks += [Block("p", h.text) for h in headlines]
    blocks.append(Block("h2", "Sanity checks"))
    n_fail = sum(r.status == FAIL for r in report.sanity)
    n_pass = sum(r.status == PASS for r in report.sanity)
    n_skip = len(report.sanity) - n_fail - n_pass
    blocks.append(
        Block(
            "p",
            f"{n_pass} passed, {n_fail} failed, {n_skip} skipped. A failing check marks the "
            "rows it concerns with ⚠ in the 'sanity' column.",
        )
    )
    if report.sanity:
        blocks.append(
            Block(
                "table",
                pd.DataFrame(
                    [
                        {"check": r.title, "status": r.status.upper(), "result": r.summary}
                        for r in report.sanity
                    ]
                ),
            )
        )
        for r in report.sanity:
            if r.details:
                blocks.append(Block("h3", f"{r.title}: {r.status}"))
                shown = r.details[:40]
                more = len(r.details) - len(shown)
                blocks.append(Block("ul", shown + ([f"… {more} more"] if more else [])))
    for board in report.boards:
        blocks.append(Block("h2", board.title))
        blocks.append(Block("table", display_table(board)))
        for note in board.notes:
            blocks.append(Block("p", f"Note: {note}"))
        ref = _reference_table(board)
        blocks.append(Block("h3", "Compared with the reference"))
        if ref is None:
            blocks.append(
                Block(
                    "p",
                    f"Every row is a {report.reference} row on its own noise, or has no "
                    "reference row on its model: there is no reference comparison here.",
                )
            )
        else:
            blocks.append(Block("table", ref))
            comps = _comparison_table(board, [sig.SAME_NOISE, sig.GAUSSIAN])
            if comps is not None:
                blocks.append(
                    Block(
                        "p",
                        "Per-radius grid against the reference: BH adjusts over all cells "
                        "of one comparison kind in this leaderboard (marks use BH); Holm "
                        "over the same family is shown for headline use.",
                    )
                )
                blocks.append(Block("table", comps))
        best = _comparison_table(board, [sig.BEST])
        blocks.append(Block("h3", "Compared with the best row of each column"))
        if best is None:
            blocks.append(Block("p", "A single row: nothing to compare."))
        else:
            blocks.append(
                Block("p", "Holm adjusts over the comparisons of one column (marks use Holm).")
            )
            blocks.append(Block("table", best))
        for name, alt in (
            ("cert_acc", "certified accuracy against radius"),
            ("radii", "distribution of certified radii"),
        ):
            img = images.get(board.slug, {}).get(name)
            if img is not None:
                blocks.append(Block("img", img, f"{board.title}: {alt}"))
    blocks.append(Block("h2", "Footnotes"))
    blocks.append(Block("ul", _footnotes(report)))
    return blocks


# --------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------
def to_markdown(blocks: Sequence[Block]) -> str:
    parts = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            parts.append("#" * int(b.kind[1]) + " " + b.content)
        elif b.kind == "p":
            parts.append(b.content)
        elif b.kind == "ul":
            parts.append("\n".join(f"- {item}" for item in b.content))
        elif b.kind == "table":
            parts.append(b.content.to_markdown(index=False))
        elif b.kind == "img":
            if isinstance(b.content, str):
                parts.append(f"![{b.alt}]({b.content})")
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
    return "\n\n".join(parts) + "\n"


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; color: #1b1b1b; line-height: 1.45; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
td:nth-child(n+5) { white-space: nowrap; }
img { max-width: 100%; display: block; margin: 1em 0; }
.status-pass { color: #1a7f37; font-weight: bold; }
.status-fail { color: #cf222e; font-weight: bold; }
.status-skipped { color: #777; }
"""


def to_html(blocks: Sequence[Block], title: str = "smoothbench leaderboard") -> str:
    """A self-contained page: inline CSS, images as data URIs, no scripts."""
    esc = html.escape
    body = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            body.append(f"<{b.kind}>{esc(b.content)}</{b.kind}>")
        elif b.kind == "p":
            body.append(f"<p>{esc(b.content)}</p>")
        elif b.kind == "ul":
            items = "".join(f"<li>{esc(i)}</li>" for i in b.content)
            body.append(f"<ul>{items}</ul>")
        elif b.kind == "table":
            table = b.content.to_html(index=False, escape=True, border=0)
            table = re.sub(
                r"<td>(PASS|FAIL|SKIPPED)</td>",
                lambda m: f'<td class="status-{m.group(1).lower()}">{m.group(1)}</td>',
                table,
            )
            body.append(table)
        elif b.kind == "img":
            if isinstance(b.content, bytes | bytearray):
                data = base64.b64encode(b.content).decode("ascii")
                body.append(f'<img alt="{esc(b.alt)}" src="data:image/png;base64,{data}">')
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------------------
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_MARKS = {
    sig.MARK_UP: r"$\blacktriangle$",
    sig.MARK_DOWN: r"$\blacktriangledown$",
    sig.MARK_UP_G: r"$\vartriangle$",
    sig.MARK_DOWN_G: r"$\triangledown$",
    sig.MARK_BEST: r"$\bigstar$",
    sig.MARK_BEST_TIED: r"$\star$",
    sig.MARK_TIED: r"$\approx$",
    "≤": r"$\leq$",
    "⚠": r"(!)",
    "·": r"$\cdot$",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and turn the report's marks into math symbols
    (amssymb)."""
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))
    for mark, tex in _LATEX_MARKS.items():
        out = out.replace(mark, tex)
    return out


def to_latex(report: Report) -> str:
    """One ``table`` per leaderboard (pandas ``Styler.to_latex``; needs jinja2), cells
    escaped here. Needs ``\\usepackage{booktabs,amssymb}``."""
    parts = [
        "% smoothbench leaderboards; needs \\usepackage{booktabs,amssymb}",
        "% " + latex_escape(sig.LEGEND.replace("LEVEL", f"{report.level:g}")),
    ]
    for board in report.boards:
        d = display_table(board)
        d = d.map(latex_escape)
        d.columns = [latex_escape(c) for c in d.columns]
        caption = latex_escape(
            f"{board.title}: certified accuracy (%) with Wilson 95% intervals; "
            f"n_test = {len(board.data.images)}, reference {report.reference}."
        )
        styler = d.style.hide(axis="index")
        parts.append(
            styler.to_latex(
                caption=caption,
                label=f"tab:{re.sub(r'[^A-Za-z0-9]+', '-', board.slug)}",
                hrules=True,
                position_float="centering",
            )
        )
    return "\n".join(parts)


# --------------------------------------------------------------------------------------
# JSON (RobustBench-style, one file per entry)
# --------------------------------------------------------------------------------------
def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def _num(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def json_entries(report: Report, specs: dict[str, Any] | None = None) -> dict[str, dict]:
    """Relative path -> entry, in the spirit of RobustBench's model_info files
    (``<dataset>/<threat model>/<name>.json``), accuracies in percent."""
    specs = specs or {}
    f = report.footnotes
    out: dict[str, dict] = {}
    for board in report.boards:
        comps = board.comparisons
        for rec in board.table.to_dict("records"):
            key = (rec["model"], rec["noise"], rec["certifier"])
            sig_entry: dict[str, Any] = {}
            if not comps.empty:
                mine = comps[(comps["row"] == key) & (comps["kind"] != sig.BEST)]
                for c in mine.to_dict("records"):
                    sig_entry.setdefault(c["kind"], {})[c["metric"]] = {
                        "compared_with": sig.row_label(c["other"]),
                        "test": c["test"],
                        "p_paired": _num(c["p"]),
                        "p_exact": _num(c["p_exact"]),
                        "p_bh": _num(c["p_bh"]),
                        "p_holm": _num(c["p_holm"]),
                        "p_unpaired_ztest": _num(c["p_unpaired"]),
                    }
            radii = [r for r in board.radii if r > 0]
            entry = {
                "name": f"{rec['model']} / {rec['noise_label']} / {rec['certifier']}",
                "dataset": board.dataset,
                "threat_model": THREAT.get(board.norm, board.norm),
                "architecture": rec["model"],
                "model_sha256_prefix": f["models"].get(rec["model"], ""),
                "noise": specs.get(rec["noise"], {"name": rec["noise"]}),
                "certifier": rec["certifier"],
                "alpha": board.alpha,
                "eps": radii,
                "clean_acc": round(100 * rec["clean"], 2),
                "certified_acc": {f"{r:g}": round(100 * rec[sig.metric_name(r)], 2) for r in radii},
                "certified_acc_wilson95": {
                    f"{r:g}": [
                        round(100 * rec[sig.metric_name(r) + "_lo"], 2),
                        round(100 * rec[sig.metric_name(r) + "_hi"], 2),
                    ]
                    for r in board.radii
                },
                "acr": round(rec["acr"], 6),
                "abstain_rate": round(100 * rec["abstain"], 2),
                "seconds_per_image": rec["sec_per_img"],
                "false_certificates_bound_95": int(rec["false_cert_bound"]),
                "n_certified": int(rec["n_certified"]),
                "rank": int(rec["rank"]),
                "marks": {m.split(":", 1)[1]: rec[m] for m in rec if m.startswith("marks:")},
                "significance": sig_entry,
                "sanity": rec["sanity"],
                "n_test": int(rec["n_test"]),
                "n0": f["n0"],
                "number_forward_passes": (f["n0"] or 0) + (f["n"] or 0),
                "seed": f["seed"],
                "index_set_sha256": f["index_set_sha256"],
                "code_version": f["code_version"],
                "reported": "smoothbench",
                "footnote": "Accuracies in percent; certified at r: not abstained, correct,"
                " radius >= r. Intervals: Wilson 95%.",
            }
            path = (
                f"{_safe(board.dataset)}/{THREAT.get(board.norm, board.norm)}/"
                f"a{board.alpha:g}/{_safe(rec['model'])}__{_safe(rec['noise'])}__"
                f"{_safe(rec['certifier'])}.json"
            )
            out[path] = {k: _num(v) for k, v in entry.items()}
    return out


def write_json_entries(
    report: Report, out: Path, specs: dict[str, Any] | None = None
) -> list[Path]:
    paths = []
    for rel, entry in json_entries(report, specs).items():
        path = out / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entry, indent=2, sort_keys=False, allow_nan=False) + "\n")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------
def write_csvs(report: Report, out: Path) -> list[Path]:
    """leaderboard.csv (numeric), comparisons.csv, outcomes.csv (tidy, per image),
    sanity.csv."""
    paths = []
    for name, frame in (
        ("leaderboard", report.leaderboard()),
        ("comparisons", report.comparisons()),
        ("outcomes", report.outcomes),
        (
            "sanity",
            pd.DataFrame(
                [
                    {
                        "check": r.name,
                        "title": r.title,
                        "status": r.status,
                        "summary": r.summary,
                        "max_diff": r.max_diff,
                        "affected_rows": len(r.affected),
                    }
                    for r in report.sanity
                ],
                columns=["check", "title", "status", "summary", "max_diff", "affected_rows"],
            ),
        ),
    ):
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths
