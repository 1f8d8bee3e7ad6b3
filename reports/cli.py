"""``smoothbench report``: everything the report writes, from one store.

    smoothbench report STORE [--out DIR] [--reference NAME] [--radii R ...]
                             [--alpha A] [--certifier C ...] [--model M ...] [--norm N ...]
                             [--format F ...]

Formats: ``md`` (leaderboard.md and appendix.md), ``html`` (leaderboard.html,
self-contained), ``csv`` (leaderboard, comparisons, outcomes, sanity), ``latex``
(leaderboard.tex), ``json`` (entries/<dataset>/<threat>/<alpha>/<row>.json) and ``plots``
(plots/*.png and *.svg); all of them by default. Settings come from the run config's
``[report]`` table (``reports.settings``), overridden by the options. Every file is
written atomically: a failed report never leaves a half-written file in place of a good
one.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import pandas as pd

from certifiers.registry import is_deterministic
from harness.certificate_groups import (
    deterministic_gap,
    expected_groups,
    missing_deterministic,
)
from harness.sampling_progress import sampling_progress
from harness.store import Store
from reports import render
from reports.completeness import (
    imported_incomplete_warnings,
    missing_group_warnings,
    no_certificates_advice,
    sampling_warnings,
)
from reports.csv_files import write_csvs
from reports.data_caveat import data_caveat_warnings, imported_label_warnings
from reports.headline import Headline, headline
from reports.json_entries import write_json_entries
from reports.latex import to_latex
from reports.leaderboard import Report, build_report
from reports.parallel import run_all
from reports.plots import write_plots
from reports.plugin_warnings import missing_plugin_warnings
from reports.reach import unreached_grid_warning
from reports.sanity import SanityContext, SanityInputs, run_checks
from reports.settings import DEFAULT_REFERENCE, ReportSettings
from reports.tidy import (
    leaderboard_outcomes,
    load_counts,
    load_deterministic_outcomes,
    load_imported_outcomes,
    load_outcomes,
)
from reports.view import build_view
from smoothbench.atomic import write_atomic
from smoothbench.names import choices, unknown_name
from smoothbench.output_folder import (
    check_output_folder,
    files_listed_below,
    move_in,
    remove_outputs,
    staged_output,
)

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
                raise ValueError(unknown_name("report format", name, FORMATS))
            if name not in out:
                out.append(name)
    return out


def _filter(outcomes: pd.DataFrame, settings: ReportSettings) -> pd.DataFrame:
    """The certificates the filters (``--certifier``, ``--model``, ``--norm``, ``--alpha``)
    keep. A value the store does not hold is refused, with what it holds; values each
    stored but never together are refused with what each filter could be, given the
    others."""
    filters = [
        (column, option, list(wanted))
        for column, wanted, option in (
            ("certifier", settings.certifiers, "--certifier"),
            ("model", settings.models, "--model"),
            ("norm", settings.norms, "--norm"),
            ("alpha", [] if settings.alpha is None else [settings.alpha], "--alpha"),
        )
        if wanted
    ]
    for column, option, wanted in filters:
        present = sorted(set(outcomes[column]))
        missing = [w for w in wanted if w not in present]
        if missing and column == "alpha":
            stored = ", ".join(map(_shown_alpha, present))
            raise ValueError(
                f"--alpha {_shown_alpha(missing[0])} is not in the store; stored: {stored}"
            )
        if missing:
            listed = choices(missing[0], present, "stored")
            raise ValueError(f"{option} {missing[0]!r} is not in the store; {listed}")
    keep = {option: outcomes[column].isin(wanted) for column, option, wanted in filters}
    chosen = pd.Series(True, index=outcomes.index)
    for mask in keep.values():
        chosen &= mask
    if filters and not chosen.any():
        given = {option: f"{option} {_shown(column, wanted)}" for column, option, wanted in filters}
        held = []
        for column, option, _ in filters:
            others = pd.Series(True, index=outcomes.index)
            for other, mask in keep.items():
                if other != option:
                    others &= mask
            values = _shown(column, sorted(set(outcomes.loc[others, column])))
            rest = " and ".join(text for other, text in given.items() if other != option)
            held.append(f"with {rest} it holds {option} {values}")
        raise ValueError(
            f"no certificate in the store has {' and '.join(given.values())} together (each "
            f"is stored); {'; '.join(held)}"
        )
    return outcomes[chosen].reset_index(drop=True)


def _shown_alpha(alpha: float) -> str:
    """An alpha in full (``repr``): ``{:g}`` shows six digits, and an alpha typed as a
    report title prints it would be refused as itself."""
    return repr(float(alpha))


def _shown(column: str, values: list) -> str:
    """Filter values as an error names them (alphas as numbers, names quoted)."""
    if not values:
        return "(none)"
    return ", ".join(_shown_alpha(v) if column == "alpha" else repr(v) for v in values)


def _is_deterministic(name: str, deterministic: set[str]) -> bool:
    """Whether ``name`` certifies without Monte Carlo counts (ibp, crown): stored as
    such, or registered with ``deterministic = True``."""
    if name in deterministic:
        return True
    try:
        return is_deterministic(name)
    except (KeyError, ValueError):  # not registered: not ours to judge here
        return False


def _check_reference(
    settings: ReportSettings, monte_carlo: list[str], deterministic: set[str], option: bool
) -> None:
    """Refuse a deterministic reference where Monte Carlo rows exist: every row is
    compared with the reference's radius at its own p_A, which a deterministic certifier
    has none of. ``option``: the reference came from ``--reference`` (else the config)."""
    ref = settings.reference
    if monte_carlo and _is_deterministic(ref, deterministic):
        suggestion = DEFAULT_REFERENCE if DEFAULT_REFERENCE in monte_carlo else monte_carlo[0]
        where = "--reference" if option else "config key 'report.reference' ="
        fix = "" if option else ", in the config's [report] table or with --reference"
        raise ValueError(
            f"{where} {ref!r}: a deterministic certifier (it bounds the model over an input "
            "box, with no Monte Carlo counts) cannot be the reference the Monte Carlo rows are "
            f"compared with; use a Monte Carlo certifier such as {suggestion!r}{fix} (in this "
            f"store: {', '.join(monte_carlo)})"
        )


def make_report(
    store_path: str | Path,
    settings: ReportSettings | None = None,
    published: list[dict] | None = None,
    **overrides,
) -> tuple[Report, list[Headline]]:
    """Load a store, run the sanity checks and build every leaderboard and headline.

    ``settings`` defaults to the stored config's ``[report]``; ``overrides`` are
    ``ReportSettings.override`` arguments (reference, radii, alpha, certifiers, models,
    norms). ``published``: the papers' numbers (plain records) to show beside the rows.
    Imported rows (results made elsewhere, no counts) join the leaderboards, marked. The
    sanity checks run on the whole store: the filters choose what the leaderboards show,
    never what the checks see."""
    with Store.open_existing(store_path, readonly=True) as store:
        sampled = load_outcomes(store, desc="reading certificates")
        imported = load_imported_outcomes(store)
        deterministic = load_deterministic_outcomes(store)
        counts = load_counts(store)
        manifest = store.manifest()
        specs = store.noise_specs()
        options = manifest.get("certifier_options") or {}
        audit = store.audit_rows()
        progress = sampling_progress(store)
        det_gap = (
            None if progress.gap() is not None else deterministic_gap(missing_deterministic(store))
        )
        expected = expected_groups(store)
        missing_groups = expected - set(
            zip(
                sampled["model"], sampled["noise"], sampled["certifier"], sampled["norm"],
                sampled["alpha"].astype(float), strict=True,
            )
        )  # fmt: skip
    outcomes = leaderboard_outcomes(sampled, imported, deterministic, specs, manifest)
    settings = (settings or ReportSettings.from_config(manifest.get("config"))).override(
        **overrides
    )  # bad options first: they are wrong whatever the store holds
    if outcomes.empty:
        raise ValueError(no_certificates_advice(store_path, progress, counts))
    monte_carlo = sorted(set(sampled["certifier"]))
    option = overrides.get("reference") is not None
    _check_reference(settings, monte_carlo, set(deterministic["certifier"]), option)
    # the checks see the whole store, so that a filter cannot hide a failure (a certifier
    # unsound against l2 is marked on its l1 rows too)
    checked = outcomes[outcomes["kind"] == "smoothing"]
    inputs = SanityInputs(
        checked,
        counts,
        specs,
        manifest.get("dataset") or "",
        options,
        audit,
        manifest.get("law_distances") or {},
        manifest.get("noise_approximations"),
        manifest.get("noise_sources"),
    )
    # the warnings speak of the store, whatever the filters show (but for the alphas
    # certified after the run, which they name only where the report shows their tables)
    stored = outcomes
    outcomes = _filter(outcomes, settings)
    if outcomes.empty:
        raise ValueError("the filters leave no certificate to report")
    # the checks compare stored radii with the reference's at the stored p_A, which a
    # deterministic certifier has no radius for (it stands here only with no Monte Carlo
    # row, when the checks have nothing to compare)
    sanity_reference = settings.reference
    if _is_deterministic(sanity_reference, set(deterministic["certifier"])):
        sanity_reference = DEFAULT_REFERENCE
    checks = run_checks(
        inputs,
        SanityContext(reference=sanity_reference),
        run=partial(run_all, desc="sanity checks"),
    )
    warnings = (
        missing_plugin_warnings(manifest)
        + data_caveat_warnings(manifest)
        + imported_label_warnings(imported, counts)
        + imported_incomplete_warnings(manifest)
        + sampling_warnings(
            manifest,
            progress,
            counts,
            stored,
            missing_groups,
            shown=outcomes,
            certifiable={group[:2] for group in expected},
        )
        + missing_group_warnings(
            missing_groups,
            store_path,
            manifest.get("certification_failures") or [],
            stored=set(
                zip(
                    sampled["model"],
                    sampled["noise"],
                    sampled["certifier"],
                    sampled["norm"],
                    strict=True,
                )
            ),  # fmt: skip
        )
        + ([det_gap] if det_gap else [])
    )
    report = build_report(
        outcomes, manifest=manifest, specs=specs, settings=settings, sanity=checks,
        warnings=warnings,
    )  # fmt: skip
    report.warnings.extend(
        line
        for b in report.boards
        if (line := unreached_grid_warning(b.title, b.norm, b.radii, [r.reach for r in b.rows]))
    )
    headlines = [headline(b, settings.level) for b in report.boards]
    report.published = list(published or [])
    return report, headlines


#: The index of the files a report wrote in its folder (``write_report``).
REPORT_INDEX = "report-files.json"
#: What a report writes: the files an earlier report's index lists are deleted only if
#: they are of these kinds.
_REPORT_SUFFIXES = frozenset({".md", ".html", ".png", ".svg", ".csv", ".json", ".tex"})


def write_report(
    report: Report,
    headlines: Sequence[Headline],
    out: str | Path,
    fmts: Sequence[str] = FORMATS,
    removed: list[Path] | None = None,
) -> list[Path]:
    """Write the requested formats under ``out``; returns the paths written. The folder
    then holds this report only: the files an earlier report there listed in its index
    (``REPORT_INDEX``) and this one did not write again (figures and entries of rows,
    norms or alphas it does not show, a format not asked for) are deleted, and added to
    ``removed`` when it is given; files no report listed are left alone. Every file is
    written to a staging folder first and moved into place once all are written
    (``staged_output``): a report that fails part-way replaces none of the earlier
    report's files. While they move in and the earlier ones are deleted (milliseconds),
    the index lists both reports' files and says ``"complete": false``."""
    out = _out_folder(out)
    earlier = _earlier_report_files(out)
    with staged_output(out) as stage:
        names = sorted(
            p.relative_to(stage).as_posix() for p in _write_formats(report, headlines, stage, fmts)
        )
        both = sorted({*names, *(p.relative_to(out).as_posix() for p in earlier)})
        move_in(
            stage, out, lambda: write_atomic(out / REPORT_INDEX, _index_text(both, complete=False))
        )
    written = [out / name for name in names]
    # while the index (complete: false) lists them: a stop here leaves them for the next
    # report to delete, not unlisted for good
    gone = remove_outputs(out, earlier - set(written))
    write_atomic(out / REPORT_INDEX, _index_text(names, complete=True))
    if removed is not None:
        removed.extend(gone)
    return written


def _index_text(names: Sequence[str], complete: bool) -> str:
    return json.dumps({"files": list(names), "complete": complete}, indent=1) + "\n"


def _earlier_report_files(out: Path) -> set[Path]:
    """The files the index of an earlier report in ``out`` lists (none without one)."""
    try:
        names = json.loads((out / REPORT_INDEX).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    return files_listed_below(out, names if isinstance(names, list) else [], _REPORT_SUFFIXES)


def _write_formats(
    report: Report, headlines: Sequence[Headline], out: Path, fmts: Sequence[str]
) -> list[Path]:
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch:
        where = out / "plots" if "plots" in fmts else Path(scratch)
        plotted = report.boards if {"plots", "html", "md"} & set(fmts) else []
        tasks = [partial(write_plots, board, where) for board in plotted]
        if "csv" in fmts:
            tasks.append(partial(write_csvs, report, out))
        if "latex" in fmts:
            tasks.append(partial(_write_latex, report, out))
        if "json" in fmts:
            tasks.append(partial(write_json_entries, report, out))
        done = run_all(
            tasks, "plots and files"
        )  # plots and the files that need no plot, side by side
        figures = {b.slug: figs for b, figs in zip(plotted, done, strict=False)}
        for result in done[len(plotted) :]:
            written += result
        if "plots" in fmts:
            written += [p for figs in figures.values() for f in figs for p in (f.png, f.svg)]
        if {"md", "html"} & set(fmts):
            view = build_view(
                report,
                list(headlines),
                figures,
                linked_figures="plots" in fmts,
                published=report.published,
            )
        if "md" in fmts:
            main, appendix = render.markdown(view)
            written.append(write_atomic(out / "leaderboard.md", main))
            written.append(write_atomic(out / "appendix.md", appendix))
        if "html" in fmts:
            written.append(write_atomic(out / "leaderboard.html", render.html(view)))
    return written


def _out_folder(out: str | Path) -> Path:
    """The output folder, made where it does not exist."""
    out = check_output_folder(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # made a file since the check
        check_output_folder(out)
        raise
    return out


def _write_latex(report: Report, out: Path) -> list[Path]:
    return [write_atomic(out / "leaderboard.tex", to_latex(report))]


def report_main(args: argparse.Namespace) -> int:
    fmts = resolve_formats(getattr(args, "format", None))
    check_output_folder(args.out)  # before the minutes the checks may take
    report, headlines = make_report(
        args.store,
        published=getattr(args, "published", None),
        reference=args.reference,
        radii=args.radii,
        alpha=getattr(args, "alpha", None),
        certifiers=getattr(args, "certifier", None),
        models=getattr(args, "model", None),
        norms=getattr(args, "norm", None),
    )
    removed: list[Path] = []
    paths = write_report(report, headlines, args.out, fmts, removed)
    top = sorted(
        {Path(p).name for p in paths if Path(p).parent == Path(args.out)},
        key=lambda name: (not name.startswith("leaderboard"), name),
    )
    shown = ", ".join(top[:3]) + (", ..." if len(top) > 3 or len(top) < len(paths) else "")
    print(f"wrote {len(paths)} files under {args.out} ({shown})")
    if removed:
        print(
            f"removed {len(removed)} files of the earlier report there that this one does not "
            f"write (its {REPORT_INDEX} listed them)"
        )
    for w in report.warnings:
        print(f"WARNING: {w}")
    for check in report.sanity:
        print(check.line())
    for h in headlines:
        print()
        print(h.board)
        for label, text in h.lines():
            print(f"  {label}: {text}")
    return 0
