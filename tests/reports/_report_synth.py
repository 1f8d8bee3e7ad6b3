"""Synthetic stores for the report tests: counts written directly, no model, no sampling.

Each image's estimation counts put ``top`` of ``n`` draws on the predicted class and
spread the rest over the other classes; the selection counts point at the same class.
Certificates come from the real ``harness.certify.certify_store``, or are written directly
when a test needs rows no registered certifier would produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats as sps

from certifiers.base import Certifier
from harness.noise import Gaussian, Noise
from harness.store import CertificateRow, CountRow, Store

N_CLASSES = 10
N0 = 100
N = 1000
DIM = 64
ALPHA = 0.001


def count_rows(
    model: str,
    noise: Noise,
    labels: Sequence[int],
    predicted: Sequence[int],
    top: Sequence[int],
    seconds: float = 0.01,
) -> list[CountRow]:
    rows = []
    for i, (lab, pred, k) in enumerate(zip(labels, predicted, top, strict=True)):
        est = np.zeros(N_CLASSES, dtype=np.int64)
        rest = N - int(k)
        others = [c for c in range(N_CLASSES) if c != pred]
        est[others] = rest // len(others)
        est[others[0]] += rest - est[others].sum()
        est[pred] = int(k)
        sel = np.zeros(N_CLASSES, dtype=np.int64)
        sel[pred] = N0
        rows.append(CountRow(model, noise.name, i, int(lab), sel, est, seconds))
    return rows


def missing_first(labels: np.ndarray, k: int) -> np.ndarray:
    """Predictions equal to ``labels`` but on the first ``k`` images, each of which
    predicts the next class instead (wrong there)."""
    predicted = np.array(labels, copy=True)
    predicted[:k] = (predicted[:k] + 1) % N_CLASSES
    return predicted


def new_store(path: str | Path, n_images: int, models: dict[str, float], **manifest: Any) -> Store:
    store = Store(path)
    cfg = manifest.pop("config", {"report": {"reference": "cohen"}})
    store.put_manifest(
        {
            "config": cfg,
            "dataset": "synthetic",
            "seed": 7,
            "n0": N0,
            "n": N,
            "index_set": list(range(n_images)),
            "models": {
                m: {"sha256": f"{i:064d}", "sigma0": s} for i, (m, s) in enumerate(models.items())
            },
            "code_version": "test",
            **manifest,
        }
    )
    return store


def add_counts(
    store: Store,
    model: str,
    noise: Noise,
    labels: Sequence[int],
    predicted: Sequence[int],
    top: Sequence[int],
) -> None:
    store.put_noises({noise.name: noise.spec()})
    store.put_counts(count_rows(model, noise, labels, predicted, top))


def winner_store(path: str | Path, n_images: int = 200) -> Store:
    """Three models on one Gaussian noise, Cohen only; ``m-win`` is right on 90% of the
    images with a large radius, ``m-mid`` on 65% and ``m-low`` on 60% with small radii."""
    from harness.certify import certify_store

    noise = Gaussian(0.25, DIM)
    config = {
        "report": {"reference": "cohen"},
        "certify": {"certifiers": ["cohen"], "norms": ["l2"]},
    }
    store = new_store(path, n_images, {"m-win": 0.25, "m-mid": 0.25, "m-low": 0.25}, config=config)
    labels = np.arange(n_images) % N_CLASSES
    wrong = (labels + 1) % N_CLASSES
    rng = np.random.default_rng(0)
    for model, share, top in (("m-win", 0.90, 995), ("m-mid", 0.65, 900), ("m-low", 0.60, 800)):
        right = rng.random(n_images) < share
        tops = np.clip(top + rng.integers(-30, 6, n_images), 0, N)  # varied p_A
        add_counts(store, model, noise, labels, np.where(right, labels, wrong), tops)
    certify_store(store, ["cohen"], ["l2"], [ALPHA], progress=False)
    return store


def winner_board(path: str | Path, radii: Sequence[float]) -> Any:
    """The one board (l2, Cohen) of the report of :func:`winner_store` at ``radii``."""
    from reports.leaderboard import build_report
    from reports.settings import ReportSettings
    from reports.tidy import load_outcomes

    with winner_store(path) as store:
        report = build_report(
            load_outcomes(store),
            manifest=store.manifest(),
            specs=store.noise_specs(),
            settings=ReportSettings(radii={"l2": tuple(radii)}),
        )
    (board,) = report.boards
    return board


def put_rows(store: Store, rows: Sequence[CertificateRow]) -> None:
    store.put_certificates(rows)


def cohen_by_hand(p: float, spec: dict, norm: str) -> float:
    """sigma * Phi^{-1}(p), divided by sqrt(d) against l-inf (scipy, not the certifier):
    a ``radius_fn`` for :func:`copy_certificates`."""
    sigma, dim = spec["params"]["sigma"], spec["params"]["dim"]
    r = sigma * sps.norm.ppf(p)
    return r / np.sqrt(dim) if norm == "linf" else r


def copy_certificates(
    store: Store,
    source: str,
    target: str,
    radius_fn,
    norm: str | None = None,
    spent: float = 0.0,
) -> None:
    """Write rows for certifier ``target`` copying ``source``'s, with
    ``radius = radius_fn(p_lower, noise_spec, norm)`` where ``p_lower > 1/2`` (0 elsewhere)
    and the confidence ``spent`` beyond alpha."""
    specs = store.noise_specs()
    rows = store.query(
        "SELECT model, noise, image, norm, alpha, prediction, p_lower, correct"
        " FROM certificates WHERE certifier = ?",
        (source,),
    )
    out = []
    for model, noise, image, nm, alpha, pred, p, correct in rows:
        if norm is not None and nm != norm:
            continue
        r = float(radius_fn(p, specs[noise], nm)) if p > 0.5 else 0.0
        out.append(
            CertificateRow(model, noise, image, target, nm, alpha, pred, p, r, bool(correct), spent)
        )
    store.put_certificates(out)


class TestGG(Noise):
    """A Gaussian in law under another family name: stands in for a generalized
    Gaussian in the tests (registered only inside a test, through the ``plugins`` fixture)."""

    family = "test_gg"
    scale_param = "sigma"

    def __init__(self, sigma: float, dim: int, k: int = 1) -> None:
        self.sigma = float(sigma)
        self.dim = int(dim)
        self.k = int(k)

    def params(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "dim": self.dim, "k": self.k}

    def transform(self, G: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        return G * self.sigma if out is None else torch.mul(G, self.sigma, out=out)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        return -(z * z).sum(-1) / (2 * self.sigma**2)

    def second_moment(self) -> float:
        return self.dim * self.sigma**2


TestGG.__test__ = False  # not a pytest class


class ScaledCohen(Certifier):
    """``factor`` x Cohen's l2 radius on the ``families`` noises: a test-only certifier,
    too large on purpose where ``factor > 1`` (subclass it, or ``type(...)``, to set them)."""

    factor = 2.0
    families: tuple[type, ...] = (Gaussian,)

    def supports(self, noise, norm):
        return isinstance(noise, self.families) and norm == "l2"

    def _radius(self, noise, p, norm):
        return self.factor * noise.sigma * sps.norm.ppf(p)
