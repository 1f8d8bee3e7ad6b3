"""The known checkpoints and the published numbers, against the authors' own records.

References (transcribed independently of ``baselines/published.py`` and checked against
the tables the authors' repositories generate for their papers):

* Cohen, Rosenfeld & Kolter (ICML 2019), approximate certified accuracy by sigma:
  CIFAR-10 (r = 0.25, ..., 1.5) and ImageNet (r = 0.5, ..., 3.0), 500 test images,
  n0 = 100, n = 100,000, alpha = 0.001; locuslab/smoothing, ``analysis/latex/
  vary_noise_cifar10`` and ``vary_noise_imagenet``. The r = 0 column (clean accuracy of
  the smoothed classifier) is not recorded by the project and is left out below.
* Salman et al. (NeurIPS 2019), Table 2 (CIFAR-10, l2 radii 0.25 ... 2.25) and Table 1
  (ImageNet, l2 radii 0.5 ... 3.5), the rows "Cohen et al." (their certification of
  Cohen et al.'s recipe) and "Ours", best model per radius; Hadisalman/
  smoothing-adversarial, ``analysis/latex_new/*_certified_outer_envelop``.
* The release layouts: Cohen et al.'s README (``models/<dataset>/<net>/noise_<sigma>/
  checkpoint.pth.tar``, ``resnet110`` on CIFAR-10 and ``resnet50`` on ImageNet, each
  model ``Sequential(NormalizeLayer, network)``), TRADES' README (a bare state_dict of
  WideResNet-34-10, ``model_cifar_wrn.pt``).
"""

from __future__ import annotations

import re

import pytest

from baselines.architectures import ARCHITECTURES
from baselines.checkpoints.known import KNOWN_CHECKPOINTS, find_known
from baselines.published import published_results

COHEN_CIFAR10 = {  # sigma -> certified accuracy (%) at r = 0.25, 0.5, ..., 1.5
    0.12: [59, 0, 0, 0, 0, 0],
    0.25: [60, 43, 27, 0, 0, 0],
    0.50: [55, 41, 32, 23, 15, 9],
    1.00: [39, 34, 28, 22, 17, 14],
}
COHEN_IMAGENET = {  # sigma -> certified accuracy (%) at r = 0.5, 1.0, ..., 3.0
    0.25: [49, 0, 0, 0, 0, 0],
    0.50: [46, 37, 29, 0, 0, 0],
    1.00: [38, 33, 26, 19, 15, 12],
}


@pytest.mark.parametrize(
    ("dataset", "table", "radii"),
    [
        ("cifar10", COHEN_CIFAR10, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]),
        ("imagenet", COHEN_IMAGENET, [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]),
    ],
)
def test_cohen_rows_are_the_papers_by_sigma(dataset, table, radii):
    rows = [r for r in published_results(dataset=dataset, paper="Cohen") if r.sigma is not None]
    assert {r.sigma: list(r.certified_accuracy) for r in rows} == table
    for r in rows:
        assert list(r.radii) == radii and r.norm == "l2"
        assert (r.n_images, r.alpha) == (500, 0.001)
        known = KNOWN_CHECKPOINTS[r.model]
        assert (known.dataset, known.sigma0) == (dataset, r.sigma)


def test_salman_table_rows_are_the_papers():
    cifar = {r.method: list(r.certified_accuracy)
             for r in published_results(dataset="cifar10", norm="l2", paper="Salman")}  # fmt: skip
    assert sorted(cifar.values()) == [
        [61, 43, 32, 22, 17, 13, 10, 7, 4],
        [73, 58, 48, 38, 33, 29, 24, 18, 16],
    ]
    salman_imagenet = published_results(dataset="imagenet", norm="l2", paper="Salman")
    imagenet = {r.method: list(r.certified_accuracy) for r in salman_imagenet}
    assert sorted(imagenet.values()) == [
        [49, 39, 27, 21, 14, 11, 7],  # Cohen et al.'s recipe, as Salman et al. certified it
        [56, 45, 38, 28, 26, 20, 17],
    ]
    assert [m for m, acc in imagenet.items() if acc[0] == 56] == ["SmoothAdv (Salman et al.)"]
    for r in salman_imagenet:
        assert r.radii == (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5)


def test_the_paper_filter_ignores_case():
    assert published_results(paper="cohen, rosenfeld") == published_results(
        paper="Cohen, Rosenfeld"
    )
    assert len(published_results(paper="SALMAN")) == 4


def test_every_known_checkpoint_agrees_with_its_name_path_and_paper():
    for name, k in KNOWN_CHECKPOINTS.items():
        author = name.split("20")[0]
        assert author.lower() in k.paper.lower(), name
        noise = re.search(r"noise([0-9.]+)$", name)
        if noise:
            assert k.sigma0 == float(noise.group(1)), name
            assert f"/noise_{noise.group(1)}/" in k.path, name
            assert k.path.endswith("/checkpoint.pth.tar") and k.format == "cohen", name
        assert k.arch in ARCHITECTURES and ARCHITECTURES[k.arch].dataset == k.dataset, name


def test_cohens_checkpoints_are_their_layout_and_normalize():
    cohen = {n: k for n, k in KNOWN_CHECKPOINTS.items() if n.startswith("cohen2019")}
    assert sorted(cohen) == sorted(
        [f"cohen2019-cifar10-resnet110-noise{s}" for s in ("0.12", "0.25", "0.50", "1.00")]
        + [f"cohen2019-imagenet-resnet50-noise{s}" for s in ("0.25", "0.50", "1.00")]
    )
    for k in cohen.values():
        net = "resnet110" if k.dataset == "cifar10" else "resnet50"
        assert k.path == f"models/{k.dataset}/{net}/noise_{k.sigma0:.2f}/checkpoint.pth.tar"
        assert k.arch == ("cifar_resnet110" if k.dataset == "cifar10" else "resnet50")
        assert ARCHITECTURES[k.arch].checkpoint_arch is None  # normalization, not centring


def test_salmans_first_release_entries_centre_and_trades_is_a_bare_state_dict():
    for name, k in KNOWN_CHECKPOINTS.items():
        if name.startswith("salman2019"):
            assert k.arch == "cifar_resnet110_centered" and k.format == "cohen"
    trades = KNOWN_CHECKPOINTS["trades2019-cifar10-wrn34-10"]
    assert (trades.format, trades.arch, trades.sigma0) == ("state_dict", "trades_wrn34_10", None)


def test_find_known_matches_only_the_exact_sigma():
    assert find_known("cifar10", "resnet110", 0.25).sigma0 == 0.25
    assert find_known("cifar10", "resnet110", 0.30) is None
    assert find_known("cifar10", "resnet110", 0.12 + 1e-6) is None
    assert find_known("imagenet", "resnet50", 0.12) is None
