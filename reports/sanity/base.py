"""What every sanity check shares: its inputs (the tidy certificates, the raw counts, the
noise specs), its result, the context that names the certifiers it compares, and the
``SanityCheck`` base that a new check subclasses in a module of its own.

A check returns a :class:`CheckResult`: ``pass`` or ``fail`` with the largest
discrepancy found, or ``skipped`` with the reason (its inputs are not in the store and
cannot be recomputed in this checkout). A failing check lists the leaderboard rows it
affects, as ``(dataset, norm, alpha, model, noise, certifier)``; the report marks them.
A check that could not check some rows here (their certifier or noise family is not
registered in this environment, say) lists them in ``unchecked``, each with the reason,
and does not pass: it is ``incomplete`` (or ``fail``, where what it could check failed);
the report marks those rows too, and names them and the reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

import certifiers
from certifiers.bounds import certify_top_class
from harness.noise import Gaussian, Noise, noise_families
from harness.store import AuditRow, Store
from reports.tidy import load_counts, load_outcomes

BoardRow = tuple[str, str, float, str, str, str]  # dataset, norm, alpha, model, noise, certifier
GROUP = ["dataset", "norm", "alpha", "model", "noise", "certifier"]

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
#: What could be checked passed, but some rows could not be checked here.
INCOMPLETE = "incomplete"


@dataclass
class CheckResult:
    name: str
    title: str
    status: str
    summary: str
    details: list[str] = field(default_factory=list)
    max_diff: float | None = None
    affected: set[BoardRow] = field(default_factory=set)
    #: rows the check could not check here, each with the reason
    unchecked: dict[BoardRow, str] = field(default_factory=dict)

    def line(self) -> str:
        return f"[{self.status.upper()}] {self.title}: {self.summary}"


@dataclass
class SanityInputs:
    """What the checks read: the tidy certificates, the raw counts, the noise specs, the
    options each certifier was run with (so that a recomputation uses the same), the
    summary of the store's last audit (``smoothbench audit``; empty if never audited), the
    law distance certification subtracted from each noise's ``p_lower``, and the noise
    approximations and plugin sources the run recorded when it sampled (None: no
    record)."""

    outcomes: pd.DataFrame
    counts: pd.DataFrame
    specs: dict[str, dict[str, Any]]
    dataset: str
    certifier_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    audit: list[AuditRow] = field(default_factory=list)
    law_distances: Mapping[str, float] = field(default_factory=dict)
    noise_approximations: Mapping[str, Any] | None = None
    #: the digest of each plugin family's code that sampled the counts (None: no record)
    noise_sources: Mapping[str, str] | None = None

    @classmethod
    def from_store(cls, store: Store | str | Path) -> SanityInputs:
        owned = not isinstance(store, Store)
        st = Store.open_existing(store, readonly=True) if owned else store
        try:
            return cls(
                load_outcomes(st),
                load_counts(st),
                st.noise_specs(),
                st.get_manifest("dataset"),
                st.get_manifest("certifier_options") or {},
                st.audit_rows(),
                st.get_manifest("law_distances") or {},
                st.get_manifest("noise_approximations"),
                st.get_manifest("noise_sources"),
            )
        finally:
            if owned:
                st.close()

    def law_distance(self, name: str, noise: Noise | None) -> float | None:
        """The law distance certification subtracts from the ``p_lower`` of the noise
        ``name``: as it takes it where the noise is rebuilt here
        (``Noise.sampled_law_distance`` of the run's record), else as it recorded it;
        None where nothing says."""
        if noise is not None:
            return noise.sampled_law_distance(self.noise_approximations)
        recorded = self.law_distances.get(name)
        return None if recorded is None else float(recorded)

    def certifier(self, name: str) -> certifiers.Certifier:
        """The registered certifier ``name``, built with the options stored for it."""
        return certifiers.get(name, **dict(self.certifier_options.get(name, {})))


@dataclass(frozen=True)
class SanityContext:
    """The certifiers and families the checks compare, by registered name: the
    reference certifier (Cohen's, by default), the functional framework, the hockey-stick
    certifier and the generalized Gaussian family. Tests substitute test-only ones."""

    reference: str = "cohen"
    functional: str = "functional"
    hockey_stick: str = "fdiv-hockey-stick"
    generalized_family: str = "generalized_gaussian"


class SanityCheck(ABC):
    """A sanity check, registered with ``@register_check("name")``; ``order`` places it in
    the report (smaller first)."""

    name: ClassVar[str] = "check"
    order: ClassVar[int] = 100
    #: Relative cost, so that a parallel run starts the longest checks first.
    cost: ClassVar[float] = 1.0

    @abstractmethod
    def run(self, inputs: SanityInputs, context: SanityContext) -> CheckResult:
        """Run the check on a store's data."""

    def parts(self, inputs: SanityInputs, context: SanityContext) -> list[Callable[[], Any]]:
        """Independent pieces of the check, which a parallel run spreads over the cores;
        ``combine`` makes the result from theirs. By default one piece: ``run``."""
        return [partial(self.run, inputs, context)]

    def combine(
        self, results: list[Any], inputs: SanityInputs, context: SanityContext
    ) -> CheckResult:
        """The check's result from the results of its ``parts``, in their order."""
        (result,) = results
        return result


def registered(name: str) -> bool:
    return name in certifiers.available()


def unregistered(kind: str, name: str) -> str:
    """Why the rows of a certifier or noise family this environment lacks go unchecked."""
    return f"{kind} {name!r} is not registered in this environment: is its plugin installed?"


def why_no_noise(name: str, spec: Mapping[str, Any] | None) -> str:
    """Why ``rebuild_noise(spec)`` gave None for the noise ``name``: no stored spec, a
    family not registered here (said of the family, whatever noise of it), or a spec
    that its registered family does not accept."""
    if spec is None:
        return f"noise {name}: no spec is stored"
    family = str(spec.get("family"))
    if family not in noise_families():
        return unregistered("noise family", family)
    return f"noise {name}: its stored spec does not fit the registered family {family!r}"


def as_gaussian(spec: Mapping[str, Any], gg_family: str) -> Gaussian | None:
    """The Gaussian a stored noise is, if it is one: family ``gaussian``, or the
    generalized Gaussian with ``k = 0`` (its l2 member is N(0, sigma^2 I))."""
    params = dict(spec.get("params", {}))
    try:
        if spec.get("family") == "gaussian":
            return Gaussian(sigma=params["sigma"], dim=params["dim"])
        if spec.get("family") == gg_family and params.get("k") == 0 and "sigma" in params:
            return Gaussian(sigma=params["sigma"], dim=params["dim"])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def board_row(key: tuple) -> BoardRow:
    dataset, norm, alpha, model, noise, cert = key
    return (str(dataset), str(norm), float(alpha), str(model), str(noise), str(cert))


def p_lower_from_counts(
    counts: pd.DataFrame, model: str, noise: str, alpha: float, law_distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images, labels, predictions, p_lower) recomputed from stored counts (Cohen's
    CERTIFY: top class from the selection counts, Clopper-Pearson bound from the
    estimation counts, less the noise's ``law_distance`` as certification takes it)."""
    g = counts[(counts["model"] == model) & (counts["noise"] == noise)].sort_values("image")
    if g.empty:
        empty = np.zeros(0)
        return empty.astype(int), empty.astype(int), empty.astype(int), empty
    outcome = certify_top_class(
        np.stack(g["selection"]), np.stack(g["estimation"]), alpha, law_distance
    )
    p = np.asarray(outcome.p_lower, dtype=np.float64)
    return g["image"].to_numpy(), g["label"].to_numpy(), np.asarray(outcome.prediction), p


def within(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.abs(a - b) <= atol + rtol * np.abs(b)
