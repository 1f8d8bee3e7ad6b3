"""Known public checkpoints: what the papers under test smooth. The user supplies the file
(nothing is downloaded); naming it in a config (``[[models]] known = NAME``) fills in its
architecture, format and training sigma, and names the model in the store and report.

``path`` is where the file sits in the authors' release once unpacked (Cohen et al.'s
``models.tgz``, Salman et al.'s ``models.tar.gz``, TRADES' ``model_cifar_wrn.pt``), which
the configs under ``configs/`` expect relative to the working directory. ``sha256`` is
filled in where a digest is known for certain (a mismatch is then an error); where it is
``None``, the store records the file's digest at the first run.

Salman et al.'s models of their first release put ``x - mean`` first, not Cohen et al.'s
``(x - mean) / std`` (their ``architectures.py`` at commit 3911bd8 builds
``get_input_center_layer``; a later commit switched to normalization for the models it
added, and their issue #10 reports about 30% clean accuracy from the first-release files
loaded with normalization): their entries here name the centred architectures.
"""

from __future__ import annotations

from dataclasses import dataclass

from smoothbench.names import unknown_name

COHEN = (
    "Cohen, Rosenfeld & Kolter, Certified adversarial robustness via randomized smoothing "
    "(ICML 2019)"
)
SALMAN = (
    "Salman et al., Provably robust deep learning via adversarially trained smoothed "
    "classifiers (NeurIPS 2019)"
)
COHEN_SOURCE = "models.tgz, linked from https://github.com/locuslab/smoothing"
SALMAN_SOURCE = "models.tar.gz, linked from https://github.com/Hadisalman/smoothing-adversarial"
TRADES_SOURCE = "model_cifar_wrn.pt, linked from https://github.com/yaodongyu/TRADES"
TRADES = (
    "Zhang et al., Theoretically principled trade-off between robustness and accuracy "
    "(TRADES, ICML 2019)"
)


@dataclass(frozen=True)
class KnownCheckpoint:
    name: str
    paper: str
    dataset: str
    arch: str
    format: str
    sigma0: float | None  # Gaussian sigma of the noise augmentation; None: not noise-trained
    path: str
    sha256: str | None = None
    note: str = ""
    source: str = ""  # where the authors release it


def _cohen(dataset: str, net: str, arch: str, sigma: float) -> KnownCheckpoint:
    return KnownCheckpoint(
        name=f"cohen2019-{dataset}-{net}-noise{sigma:.2f}",
        paper=COHEN,
        dataset=dataset,
        arch=arch,
        format="cohen",
        sigma0=sigma,
        path=f"models/{dataset}/{net}/noise_{sigma:.2f}/checkpoint.pth.tar",
        note="Gaussian data augmentation at this sigma",
        source=COHEN_SOURCE,
    )


_ALL = [
    *(_cohen("cifar10", "resnet110", "cifar_resnet110", s) for s in (0.12, 0.25, 0.50, 1.00)),
    *(_cohen("imagenet", "resnet50", "resnet50", s) for s in (0.25, 0.50, 1.00)),
    KnownCheckpoint(
        name="salman2019-cifar10-pgd4steps-eps64-noise0.12",
        paper=SALMAN,
        dataset="cifar10",
        arch="cifar_resnet110_centered",
        format="cohen",
        sigma0=0.12,
        path="pretrained_models/cifar10/PGD_4steps/eps_64/cifar10/resnet110/noise_0.12/checkpoint.pth.tar",
        note="SmoothAdv (PGD, 4 steps, eps 64/255) on Gaussian noise; every other SmoothAdv "
        "model is the same format: give its path with format = 'cohen' and its noise_ sigma, "
        "and arch = 'cifar_resnet110_centered' ('resnet50_centered' on ImageNet) for the "
        "first release's models, which subtract the mean without dividing by the std, or "
        "the plain arch for the fine-tuned ones added later "
        "(finetune_cifar_from_imagenetPGD2steps/...), which normalize",
        source=SALMAN_SOURCE,
    ),
    KnownCheckpoint(
        name="salman2019-cifar10-pgd10steps-multinoise2-eps64-noise0.12",
        paper=SALMAN,
        dataset="cifar10",
        arch="cifar_resnet110_centered",
        format="cohen",
        sigma0=0.12,
        path="pretrained_models/cifar10/PGD_10steps_multiNoiseSamples/2-multitrain/eps_64/"
        "cifar10/resnet110/noise_0.12/checkpoint.pth.tar",
        note="SmoothAdv (PGD, 10 steps, 2 noise samples, eps 64/255) on Gaussian noise",
        source=SALMAN_SOURCE,
    ),
    KnownCheckpoint(
        name="trades2019-cifar10-wrn34-10",
        paper=TRADES,
        dataset="cifar10",
        arch="trades_wrn34_10",
        format="state_dict",
        sigma0=None,
        path="checkpoints/model_cifar_wrn.pt",
        note="adversarially trained for l-inf 8/255, inputs in [0, 1], no noise augmentation: "
        "give the sigma0 the noises are matched to",
        source=TRADES_SOURCE,
    ),
]

KNOWN_CHECKPOINTS: dict[str, KnownCheckpoint] = {k.name: k for k in _ALL}


def known_checkpoint(name: str) -> KnownCheckpoint:
    """The known checkpoint ``name``; a ``ValueError`` listing the known ones."""
    if name not in KNOWN_CHECKPOINTS:
        raise ValueError(unknown_name("checkpoint", name, KNOWN_CHECKPOINTS))
    return KNOWN_CHECKPOINTS[name]


def find_known(dataset: str, net: str, sigma0: float) -> KnownCheckpoint | None:
    """Cohen et al.'s checkpoint for ``dataset``, network folder ``net`` (``resnet110``,
    ``resnet50``) and training sigma, if it is one (for names inferred from their layout)."""
    for k in _ALL:
        if k.paper == COHEN and k.dataset == dataset and f"/{net}/" in k.path:
            if k.sigma0 is not None and abs(k.sigma0 - sigma0) < 1e-9:
                return k
    return None
