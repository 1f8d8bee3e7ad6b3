"""``smoothbench report``: everything the report writes, from one store.

    smoothbench report STORE [--out DIR] [--reference NAME] [--radii R ...] [--format F ...]

Formats: ``md`` (leaderboard.md), ``html`` (leaderboard.html, self-contained), ``csv``
(leaderboard, comparisons, outcomes, sanity), ``latex`` (leaderboard.tex), ``json``
(entries/<dataset>/<threat>/<alpha>/<row>.json) and ``plots`` (plots/*.png and *.svg);
all of them by default. The reference certifier defaults to the run config's
``[report].reference``, else ``cohen``; the radius grid to the config's
``[report].radii``, else built-in defaults (``--radii`` sets one grid for every norm).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from harness.store import Store
from reports import formats
from reports.headline import Headline, headline
from reports.leaderboard import Report, build_report, resolve_radii
from reports.sanity import SanityInputs, run_checks
from reports.tidy import load_counts, load_outcomes

FORMATS = ("md", "html", "csv", "latex", "json", "plots")
_ALIASES = {"markdown": "md", "tex": "latex", "png": "plots", "svg": "plots", "all": "all"}


def resolve_formats(requested: Sequence[str] | None) -> list[str]:
    """Format names (aliases: markdown, tex, png, svg, all); all formats by default."""
    if not requested:
        return list(FORMATS)
    out: list[str] = []
    for item in requested:
        for name in str(item).split(","):
            name = _ALIASES.get(name.strip().lower(), name.strip().lower())
            if name == "all":
                return list(FORMATS)
            if name not in FORMATS:
                raise ValueError(f"unknown report format {name!r}; choose from {list(FORMATS)}")
            if name not in out:
                out.append(name)
    return out


def make_report(
    store_path: str | Path,
    reference: str | None = None,
    radii: Sequence[float] | None = None,
) -> tuple[Report, list[Headline], dict]:
    """Load a store, run the sanity checks and build every leaderboard and headline."""
    with Store.open_existing(store_path) as store:
        outcomes = load_outcomes(store)
        counts = load_counts(store)
        manifest = store.manifest()
        specs = store.noise_specs()
    if outcomes.empty:
        raise ValueError(f"{store_path} holds no certificates; run 'smoothbench certify' first")
    config = manifest.get("config") or {}
    reference = reference or (config.get("report") or {}).get("reference") or "cohen"
    grid = resolve_radii(sorted(outcomes["norm"].unique()), radii, config)
    inputs = SanityInputs(outcomes, counts, specs, manifest.get("dataset") or "")
    checks = run_checks(inputs, cohen="cohen")
    report = build_report(
        outcomes, manifest=manifest, specs=specs, reference=reference, radii=grid, sanity=checks
    )
    headlines = [headline(b, report.level) for b in report.boards]
    return report, headlines, specs


def write_report(
    report: Report,
    headlines: Sequence[Headline],
    out: str | Path,
    fmts: Sequence[str] = FORMATS,
    specs: dict | None = None,
) -> list[Path]:
    """Write the requested formats under ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    md_images: dict[str, dict[str, str]] = {}
    if "plots" in fmts:
        from reports.plots import write_plots

        for board in report.boards:
            paths = write_plots(board, out / "plots")
            written += paths
            md_images[board.slug] = {
                name: f"plots/{name}_{board.slug}.png" for name in ("cert_acc", "radii")
            }
    if "md" in fmts:
        path = out / "leaderboard.md"
        path.write_text(formats.to_markdown(formats.document(report, headlines, md_images)))
        written.append(path)
    if "html" in fmts:
        from reports.plots import board_pngs

        pngs = {b.slug: board_pngs(b) for b in report.boards}
        path = out / "leaderboard.html"
        page = formats.to_html(
            formats.document(report, headlines, pngs),
            title=f"smoothbench leaderboard: {report.footnotes['dataset']}",
        )
        path.write_text(page, encoding="utf-8")
        written.append(path)
    if "csv" in fmts:
        written += formats.write_csvs(report, out)
    if "latex" in fmts:
        path = out / "leaderboard.tex"
        path.write_text(formats.to_latex(report))
        written.append(path)
    if "json" in fmts:
        written += formats.write_json_entries(report, out, specs)
    return written


def report_main(args: argparse.Namespace) -> int:
    fmts = resolve_formats(getattr(args, "format", None))
    report, headlines, specs = make_report(args.store, args.reference, args.radii)
    paths = write_report(report, headlines, args.out, fmts, specs)
    for path in paths:
        print(f"wrote {path}")
    for check in report.sanity:
        print(check.line())
    print()
    for h in headlines:
        print("Headline:", h.text)
    return 0
