"""The numbers the papers published, as data: certified accuracy (%) at l_p radii, each
record with its source (paper, table), the number of test images behind it and, where
the paper states it, the alpha of its certificates.

The report shows them beside reproduced rows, marked "reported"; having no per-image
outcomes, they can only be compared with unpaired tests, whose power at ``n_images`` the
report states. ``model`` names the known checkpoint (``baselines.checkpoints.known``) a
record was measured on, where it is exactly one, so that a run of that checkpoint lines
up with it.

Sources transcribed: Cohen et al. (2019), certified accuracy by sigma (CIFAR-10, ImageNet);
Salman et al. (2019), best certified accuracy per radius, theirs and Cohen et al.'s
(CIFAR-10, ImageNet); Zhang et al. (2020), the l1 table (theirs against Teng et al.'s
Laplace baseline) and the two claims of their author response. Yang et al. (2020) are not
recorded: their tables were not at hand to transcribe and check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

COHEN = "Cohen, Rosenfeld & Kolter (ICML 2019)"
SALMAN = "Salman et al. (NeurIPS 2019)"
ZHANG = "Zhang et al., black-box certification by functional optimization (NeurIPS 2020)"
ZHANG_RESPONSE = "Zhang et al. (NeurIPS 2020), author response"

COHEN_N = 500  # every 20th CIFAR-10 test image, every 100th ImageNet validation image


@dataclass(frozen=True)
class PublishedResult:
    """One published row: ``certified_accuracy[i]`` (%) at ``radii[i]`` in ``norm``."""

    paper: str
    table: str
    dataset: str
    norm: str
    method: str
    noise: str
    sigma: float | None
    model: str | None
    radii: tuple[float, ...]
    certified_accuracy: tuple[float, ...]
    n_images: int | None
    note: str = ""
    alpha: float | None = None  # the failure probability of the certificates, where stated

    def to_record(self) -> dict[str, Any]:
        """A plain dict (str, float, int, None and lists of floats)."""
        out = asdict(self)
        out["radii"] = list(self.radii)
        out["certified_accuracy"] = list(self.certified_accuracy)
        return out


def _cohen(dataset: str, net: str, sigma: float, acc: tuple[float, ...]) -> PublishedResult:
    radii = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5) if dataset == "cifar10" else (
        0.5, 1.0, 1.5, 2.0, 2.5, 3.0
    )  # fmt: skip
    return PublishedResult(
        paper=COHEN,
        table=f"approximate certified accuracy by sigma ({dataset}, appendix)",
        dataset=dataset,
        norm="l2",
        method=f"Cohen et al., Gaussian sigma = {sigma:.2f}",
        noise="gaussian",
        sigma=sigma,
        model=f"cohen2019-{dataset}-{net}-noise{sigma:.2f}",
        radii=radii,
        certified_accuracy=acc,
        n_images=COHEN_N,
        note="the model trained at this sigma, certified at it; n0 = 100, n = 100,000, "
        "alpha = 0.001",
        alpha=0.001,
    )


def _row(paper: str, table: str, dataset: str, norm: str, method: str, noise: str,
         radii: tuple[float, ...], acc: tuple[float, ...], n: int | None, model: str | None = None,
         note: str = "", alpha: float | None = None) -> PublishedResult:  # fmt: skip
    return PublishedResult(paper, table, dataset, norm, method, noise, None, model, radii,
                           acc, n, note, alpha)  # fmt: skip


_SALMAN_CIFAR = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25)
_SALMAN_IMAGENET = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)
_ENVELOPE = "the best of the models of the row at each radius"
_SALMAN_N = (
    "Cohen et al.'s subsets (every 20th CIFAR-10, every 100th ImageNet image), as in "
    "Salman et al.'s certification commands"
)
_ZHANG_N = "the paper runs Cohen et al.'s certification code; the image count is not restated"

PUBLISHED: tuple[PublishedResult, ...] = (
    _cohen("cifar10", "resnet110", 0.12, (59, 0, 0, 0, 0, 0)),
    _cohen("cifar10", "resnet110", 0.25, (60, 43, 27, 0, 0, 0)),
    _cohen("cifar10", "resnet110", 0.50, (55, 41, 32, 23, 15, 9)),
    _cohen("cifar10", "resnet110", 1.00, (39, 34, 28, 22, 17, 14)),
    _cohen("imagenet", "resnet50", 0.25, (49, 0, 0, 0, 0, 0)),
    _cohen("imagenet", "resnet50", 0.50, (46, 37, 29, 0, 0, 0)),
    _cohen("imagenet", "resnet50", 1.00, (38, 33, 26, 19, 15, 12)),
    _row(SALMAN, "Table 2 (CIFAR-10, l2)", "cifar10", "l2",
         "Cohen et al. (as reported by Salman et al.)", "gaussian, best sigma per radius",
         _SALMAN_CIFAR, (61, 43, 32, 22, 17, 13, 10, 7, 4), COHEN_N, note=_ENVELOPE,
         alpha=0.001),
    _row(SALMAN, "Table 2 (CIFAR-10, l2)", "cifar10", "l2", "SmoothAdv (Salman et al.)",
         "gaussian, best sigma per radius", _SALMAN_CIFAR,
         (73, 58, 48, 38, 33, 29, 24, 18, 16), COHEN_N, note=f"{_ENVELOPE}; {_SALMAN_N}",
         alpha=0.001),
    _row(SALMAN, "Table 1 (ImageNet, l2)", "imagenet", "l2",
         "Cohen et al.'s recipe (Salman et al.'s replication models)",
         "gaussian, best sigma per radius", _SALMAN_IMAGENET, (49, 39, 27, 21, 14, 11, 7),
         COHEN_N, note=f"{_ENVELOPE}; Salman et al. retrained Cohen et al.'s ImageNet models "
         "and certified those (their analysis/radii_to_best_models), so the row differs from "
         "Cohen et al.'s own table at some radii", alpha=0.001),
    _row(SALMAN, "Table 1 (ImageNet, l2)", "imagenet", "l2", "SmoothAdv (Salman et al.)",
         "gaussian, best sigma per radius", _SALMAN_IMAGENET, (56, 45, 38, 28, 26, 20, 17),
         COHEN_N, note=f"{_ENVELOPE}; {_SALMAN_N}", alpha=0.001),
    _row(ZHANG, "l1 table, CIFAR-10 (best classifiers)", "cifar10", "l1",
         "baseline: Laplace smoothing (Teng et al. 2020)", "laplace", _SALMAN_CIFAR,
         (62, 49, 38, 30, 23, 19, 17, 14, 12), None, note=_ZHANG_N),
    _row(ZHANG, "l1 table, CIFAR-10 (best classifiers)", "cifar10", "l1",
         "Zhang et al. (generalized Laplace, functional certificate)", "generalized_laplace",
         _SALMAN_CIFAR, (64, 51, 41, 34, 27, 22, 18, 17, 14), None, note=_ZHANG_N),
    _row(ZHANG, "l1 table, ImageNet (best classifiers)", "imagenet", "l1",
         "baseline: Laplace smoothing (Teng et al. 2020)", "laplace", _SALMAN_IMAGENET,
         (50, 41, 33, 29, 25, 18, 15), None, note=_ZHANG_N),
    _row(ZHANG, "l1 table, ImageNet (best classifiers)", "imagenet", "l1",
         "Zhang et al. (generalized Laplace, functional certificate)", "generalized_laplace",
         _SALMAN_IMAGENET, (51, 42, 36, 30, 26, 22, 16), None, note=_ZHANG_N),
    _row(ZHANG_RESPONSE, "claim: ImageNet l2", "imagenet", "l2", "Cohen et al. (as cited)",
         "gaussian", (0.5,), (49,), COHEN_N,
         note="Cohen et al.'s 49% is at radius 0.5 (sigma = 0.25)"),
    _row(ZHANG_RESPONSE, "claim: ImageNet l2", "imagenet", "l2",
         "Zhang et al. (as stated in the response)", "not stated", (0.5,), (50,), None,
         note="the radius of the Cohen et al. figure it is set against"),
    _row(ZHANG_RESPONSE, "claim: CIFAR-10 l-inf on the TRADES checkpoint", "cifar10", "linf",
         "baseline (as stated in the response)", "not stated", (2 / 255,), (62.6,), None,
         model="trades2019-cifar10-wrn34-10"),
    _row(ZHANG_RESPONSE, "claim: CIFAR-10 l-inf on the TRADES checkpoint", "cifar10", "linf",
         "Zhang et al. (as stated in the response)", "not stated", (2 / 255,), (64.7,), None,
         model="trades2019-cifar10-wrn34-10"),
)  # fmt: skip


def published_results(
    dataset: str | None = None, norm: str | None = None, paper: str | None = None
) -> list[PublishedResult]:
    """The published rows, optionally of one dataset, norm, or paper (a substring)."""
    return [
        r
        for r in PUBLISHED
        if (dataset is None or r.dataset == dataset)
        and (norm is None or r.norm == norm)
        and (paper is None or paper.lower() in r.paper.lower())
    ]


def published_records(
    dataset: str | None = None, norm: str | None = None, paper: str | None = None
) -> list[dict[str, Any]]:
    """``published_results`` as plain dicts, for the report."""
    return [r.to_record() for r in published_results(dataset, norm, paper)]
