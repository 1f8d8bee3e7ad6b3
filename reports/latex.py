"""LaTeX tables (booktabs, amssymb, graphicx): one table per leaderboard, rows grouped by
model, the legend in the caption, scaled to the text width so that it fits a page."""

from __future__ import annotations

import re

from reports import significance as sig
from reports.leaderboard import Board, Report
from reports.reach import MARK as REACH_MARK

_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    # under the default OT1 font encoding these print as other glyphs (an inverted
    # exclamation mark, an em dash)
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    # an opening quote, where it would print
    "`": r"\textasciigrave{}",
}  # fmt: skip
#: Each mark its own symbol: a filled star for a separated best, the same star in
#: parentheses for a best that is not separable from every other row.
MARKS = {
    sig.MARK_UP: r"$^{\blacktriangle}$",
    sig.MARK_DOWN: r"$^{\blacktriangledown}$",
    sig.MARK_UP_G: r"$^{\vartriangle}$",
    sig.MARK_DOWN_G: r"$^{\triangledown}$",
    sig.MARK_BEST: r"$^{\bigstar}$",
    sig.MARK_BEST_TIED: r"$^{(\bigstar)}$",
    sig.MARK_TIED: r"$^{\approx}$",
    sig.MARK_REF_BEYOND: r"$^{\S}$",
    "⚠": r"$^{\dagger}$",
    REACH_MARK: r"$^{\ddagger}$",
    "≤": r"$\leq$",
    "·": r"$\cdot$",
    "σ": r"$\sigma$",
    "²": r"$^2$",
}
LEGEND = (
    r"$\blacktriangle/\blacktriangledown$: significantly above/below the reference "
    r"certifier's row on the same model and noise; $\vartriangle/\triangledown$: above/below "
    r"the model's Gaussian row of the reference certifier (McNemar mid-p, BH-adjusted over "
    r"the grid); $\bigstar$: best in the column and significantly above every other row; "
    r"$(\bigstar)$: best (or equal to the best) but not separable from the rows marked "
    r"$\approx$ (Holm over every pair of the column's rows), or sharing no image with some "
    r"row; ACR: paired "
    r"t-test; $\dagger$: a sanity check failed for the row; "
    r"$\ddagger$: beyond the row's reach, the largest radius its Monte Carlo draws can "
    r"certify at this alpha (its value there shows where its draws end); $\S$ after a "
    r"mark: the reference row is beyond its reach there, so the gap shows where its "
    r"draws end; "
    r"\textbf{unsound}: its certifier failed the soundness check, so its values are not "
    r"certificates; \textbf{unchecked}: the soundness check could not check the row where "
    r"the report was made (see the report's notes), so it enters no headline either."
)


def escape(text: str) -> str:
    """LaTeX's special characters escaped, the report's marks as symbols; a hyphen
    before another is followed by ``{}`` (``--`` would print as an en dash, so
    ``fdiv--kl`` as another name)."""
    out = re.sub(r"-(?=-)", "-{}", "".join(_SPECIAL.get(ch, ch) for ch in str(text)))
    for mark, tex in MARKS.items():
        out = out.replace(mark, tex)
    return out


def board_table(board: Board, level: float) -> str:
    main = [c for c in board.columns if c.main and c.key != "n"]
    ncol = 2 + len(main)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\caption{" + escape(f"{board.title}: certified accuracy (%), ACR; n = "
                              f"{board.n_images} test images; reference {board.reference}. ")
        + LEGEND.replace("significantly", f"significantly (level {level:g})", 1) + "}",
        r"\label{tab:" + re.sub(r"[^A-Za-z0-9]+", "-", board.slug) + "}",
        r"\resizebox{\linewidth}{!}{%",
        r"\begin{tabular}{ll" + "r" * len(main) + "}",
        r"\toprule",
        " & ".join(["noise", "certifier"] + [escape(c.title) for c in main]) + r" \\",
    ]  # fmt: skip
    for model in board.models:
        lines += [
            r"\midrule",
            rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{escape(board.model_heading(model))}}}}} \\",
        ]
        for row in board.rows_of(model):
            failed = "fail:" in board.table.loc[board.rows.index(row), "sanity"]
            cells = [escape(row.shown_label + ("⚠" if failed else "")), escape(row.certifier)]
            if row.key in board.unsound:
                cells[1] += r" \textbf{unsound}"
            elif row.key in board.unchecked:
                cells[1] += r" \textbf{unchecked}"
            for c in main:
                mark = board.marks.get((row.key, c.key), "")
                mark += REACH_MARK if row.beyond_reach(c.radius) else ""
                cells.append(escape(c.fmt(c.value(row, board.context)) + mark))
            lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}", ""]
    return "\n".join(lines)


def to_latex(report: Report) -> str:
    """Every leaderboard as a table; needs ``\\usepackage{booktabs,amssymb,graphicx}``."""
    parts = ["% smoothbench leaderboards; needs \\usepackage{booktabs,amssymb,graphicx}"]
    parts += [board_table(b, report.level) for b in report.boards]
    return "\n".join(parts)
