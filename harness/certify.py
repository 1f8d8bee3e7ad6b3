"""Certification of a store: stored counts x certifiers x norms x alphas -> certificates.

No model is needed: counts are the sufficient statistic. The CERTIFY rule (top class from
the selection counts, Clopper-Pearson bound from the estimation counts) is
``certifiers.bounds.certify_top_class``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from tqdm import tqdm

import certifiers
from certifiers.base import Certifier, check_norm
from certifiers.bounds import DEFAULT_ALPHA, certify_top_class, check_alpha
from harness.noise import from_spec
from harness.store import CertificateRow, CountRow, Store


def resolve_certifiers(
    names: Iterable[str], options: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Certifier]:
    """Certifier instances by name (``"all"``: every registered one), each built with its
    ``options``; unknown names and options are clear errors."""
    names = list(names)
    if "all" in names:
        names = certifiers.available()
    options = options or {}
    return {name: certifiers.get(name, **dict(options.get(name, {}))) for name in names}


def certify_store(
    store: Store,
    certifier_names: Iterable[str] = ("all",),
    norms: Iterable[str] = certifiers.NORMS,
    alphas: Iterable[float] = (DEFAULT_ALPHA,),
    progress: bool = True,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """(Re)compute certificates from the stored counts; returns the rows written. The
    options of each certifier are recorded in the manifest (``certifier_options``). An
    unknown certifier or norm, or an alpha outside (0, 1), is refused before anything is
    written."""
    instances = resolve_certifiers(certifier_names, options)
    norms = [check_norm(norm) for norm in norms]
    if not norms:
        raise ValueError(f"at least one norm is needed (some of {list(certifiers.NORMS)})")
    alphas = [check_alpha(alpha) for alpha in alphas]
    if not alphas:
        raise ValueError("at least one alpha is needed")
    recorded = dict(store.get_manifest("certifier_options") or {})
    recorded.update({name: c.options() for name, c in instances.items()})
    store.put_manifest({"certifier_options": recorded})
    specs = store.noise_specs()
    groups: dict[tuple[str, str], list[CountRow]] = defaultdict(list)
    for row in store.count_rows():
        groups[(row.model, row.noise)].append(row)
    written = 0
    items = sorted(groups.items())
    for (model, noise_name), rows in tqdm(
        items, desc="certify", unit="group", disable=not progress, mininterval=1.0
    ):
        noise = from_spec(specs[noise_name])
        selection = np.stack([r.selection for r in rows])
        estimation = np.stack([r.estimation for r in rows])
        labels = np.array([r.label for r in rows])
        images = [r.image for r in rows]
        out: list[CertificateRow] = []
        for alpha in alphas:
            outcome = certify_top_class(selection, estimation, alpha)
            p_lower, prediction = outcome.p_lower, outcome.prediction
            for cname, c in instances.items():
                for norm in norms:
                    if not c.supports(noise, norm):
                        continue
                    radius = np.atleast_1d(c.radius(noise, p_lower, norm=norm))
                    spent = c.confidence_spent(noise, norm)
                    out.extend(
                        CertificateRow(
                            model,
                            noise_name,
                            images[i],
                            cname,
                            norm,
                            alpha,
                            int(prediction[i]),
                            float(p_lower[i]),
                            float(radius[i]),
                            bool(prediction[i] == labels[i]),
                            spent,
                        )
                        for i in range(len(rows))
                    )
        store.put_certificates(out)
        written += len(out)
    return written
