"""The summary of an audit per certifier and norm: the statistical audit's trials, false
certificates against alpha (+ spent) and the smallest p-value of its cells (each cell's
already adjusted over its directions; a cell fails below ``REJECT``, and the line fails
when one of its cells does), the attack audit's images, breaks and the gap between the
mean certified and the mean empirical radius (radii of one norm only)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from harness.audit.statistical import REJECT
from harness.store import AuditRow
from smoothbench.p_values import fmt_p


@dataclass
class CertifierSummary:
    certifier: str
    norm: str = ""
    trials: int = 0
    false: int = 0
    alpha: float | None = None
    spent: float = 0.0
    p_min: float = 1.0
    cells: int = 0
    failed_cells: int = 0
    images: int = 0
    broken: int = 0
    certified: float = 0.0  # sum of mean certified radii x found, for the pooled mean
    empirical: float = 0.0
    found: int = 0

    @property
    def passed(self) -> bool:
        return self.failed_cells == 0


def summarize(rows: Iterable[AuditRow]) -> list[CertifierSummary]:
    """One summary per (certifier, norm), in that order."""
    out: dict[tuple[str, str], CertifierSummary] = defaultdict(lambda: CertifierSummary(""))
    for r in rows:
        s = out[(r.certifier, r.norm)]
        s.certifier, s.norm = r.certifier, r.norm
        s.failed_cells += not r.passed
        if r.audit == "statistical":
            s.trials += r.trials
            s.false += r.failures
            s.alpha = r.alpha
            s.spent = max(s.spent, r.confidence_spent)
            s.p_min = min(s.p_min, r.p_value)
            s.cells += 1
        else:
            s.images += r.trials
            s.broken += r.failures
            found = int(r.settings.get("found", 0))
            if found and r.mean_certified is not None and r.mean_empirical is not None:
                s.certified += r.mean_certified * found
                s.empirical += r.mean_empirical * found
                s.found += found
    return [out[k] for k in sorted(out)]


def _num(x: float | None, fmt: str = ".3g") -> str:
    return "-" if x is None else format(x, fmt)


def table(rows: Iterable[AuditRow]) -> str:
    """The summary as a plain-text table, with the rule its status follows and what a
    false alarm may cost over all its cells."""
    rows = list(rows)
    head = (
        f"{'certifier':<18} {'norm':<4} {'trials':>7} {'false':>6} {'rate':>7} {'alpha+spent':>11} "
        f"{'min p':>10} {'images':>6} {'broken':>6} {'cert. r':>8} {'attack r':>8} "
        f"{'status':>6}"
    )
    lines = [head, "-" * len(head)]
    for s in summarize(rows):
        rate = s.false / s.trials if s.trials else None
        bound = None if s.alpha is None else s.alpha + s.spent
        cert = s.certified / s.found if s.found else None
        emp = s.empirical / s.found if s.found else None
        lines.append(
            f"{s.certifier:<18} {s.norm:<4} {s.trials:>7} {s.false:>6} {_num(rate, '.4f'):>7} "
            f"{_num(bound, '.4g'):>11} {fmt_p(s.p_min) if s.trials else '-':>10} "
            f"{s.images:>6} {s.broken:>6} {_num(cert, '.4f'):>8} {_num(emp, '.4f'):>8} "
            f"{'pass' if s.passed else 'FAIL':>6}"
        )
    lines.append(
        f"(a cell fails at p < {REJECT:g}, and a line with it; min p: the smallest p of the "
        f"line's statistical cells. A sound certifier fails a cell with probability below "
        f"{REJECT:g}, so the {len(rows)} cells here fail one by chance with probability "
        f"below {min(1.0, len(rows) * REJECT):.3g}. cert. r / attack r: mean certified "
        "radius and mean smallest radius at which the attack succeeded, over the same images)"
    )
    return "\n".join(lines)
