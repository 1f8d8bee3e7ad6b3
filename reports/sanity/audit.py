"""``audit``: the summary of the store's last ``smoothbench audit``, per certifier and
norm: the
statistical audit's trials and false certificates against alpha (+ the confidence the
certifier spent), the attack audit's images and breaks, the mean certified and empirical
radii. It fails when some audit cell failed (a false-certificate rate that a binomial
test rejects, a broken certificate), marking that certifier's rows of the norm; it is
skipped, saying "not audited", when the store holds no audit."""

from __future__ import annotations

from collections import defaultdict

from harness.store import AuditRow
from reports.sanity.base import (
    FAIL,
    PASS,
    SKIPPED,
    BoardRow,
    CheckResult,
    SanityCheck,
    SanityContext,
    SanityInputs,
    board_row,
)
from reports.sanity.registry import register_check
from smoothbench.p_values import fmt_p

NAME, TITLE = "audit", "audit: false certificates and attacks (smoothbench audit)"


def _line(certifier: str, norm: str, rows: list[AuditRow]) -> str:
    stat = [r for r in rows if r.audit == "statistical"]
    att = [r for r in rows if r.audit != "statistical"]
    parts = [f"{certifier} ({norm}):"]
    if stat:
        trials = sum(r.trials for r in stat)
        false = sum(r.failures for r in stat)
        bound = max(r.alpha + r.confidence_spent for r in stat)
        p = min(r.p_value for r in stat)
        rate = f"{false / trials:.4f}" if trials else "n/a"
        parts.append(
            f"{trials} trials, {false} false ({rate} vs the audit's alpha + spent {bound:.4g}, "
            f"smallest p {fmt_p(p)})"
        )
    if att:
        images = sum(r.trials for r in att)
        broken = sum(r.failures for r in att)
        found = [r for r in att if r.mean_certified is not None and r.mean_empirical is not None]
        text = f"attack: {images} images, {broken} broken"
        if found:
            weights = [max(int(r.settings.get("found", 1)), 1) for r in found]
            total = sum(weights)
            cert = sum(w * r.mean_certified for w, r in zip(weights, found, strict=True)) / total
            emp = sum(w * r.mean_empirical for w, r in zip(weights, found, strict=True)) / total
            text += f", mean certified radius {cert:.4g} vs attack radius {emp:.4g}"
        parts.append(text)
    failed = [r for r in rows if not r.passed]
    if failed:
        parts.append(f"FAILED in {len(failed)} cell(s)")
    return " ".join(parts)


def check_audit(inputs: SanityInputs) -> CheckResult:
    """Pass when every stored audit cell passed; the details list each certifier, and the
    summary names the stored certifiers no audit cell covers (certified after the audit,
    say): the audit says nothing about them."""
    rows = inputs.audit
    if not rows:
        return CheckResult(NAME, TITLE, SKIPPED, "not audited (run 'smoothbench audit STORE')")
    by_cert: dict[tuple[str, str], list[AuditRow]] = defaultdict(list)
    for r in rows:
        by_cert[(r.certifier, r.norm)].append(r)
    details = [_line(c, nm, by_cert[(c, nm)]) for c, nm in sorted(by_cert)]
    failed = [r for r in rows if not r.passed]
    quick = any(r.settings.get("quick") for r in rows)
    certs = len({c for c, _ in by_cert})
    scope = f"{certs} certifier(s), {len(rows)} cell(s)" + (" (quick)" if quick else "")
    out = inputs.outcomes
    stored = set(out["certifier"]) if not out.empty else set()
    unaudited = sorted(stored - {c for c, _ in by_cert})
    if unaudited:
        scope += f"; not audited: {', '.join(unaudited)}"
        details.append(f"not audited: {', '.join(unaudited)} (run 'smoothbench audit STORE')")
    if not failed:
        return CheckResult(NAME, TITLE, PASS, f"every audit cell passed: {scope}", details)
    bad = {(r.certifier, r.norm) for r in failed}
    affected: set[BoardRow] = set()
    if not out.empty:
        for key, _ in out.groupby(
            ["dataset", "norm", "alpha", "model", "noise", "certifier"], sort=True
        ):
            if (key[5], key[1]) in bad:
                affected.add(board_row(key))
    return CheckResult(
        NAME,
        TITLE,
        FAIL,
        f"{len(failed)} of {len(rows)} audit cell(s) failed ({scope})",
        details,
        None,
        affected,
    )


@register_check("audit")
class Audit(SanityCheck):
    order = 90

    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        return check_audit(inputs)
