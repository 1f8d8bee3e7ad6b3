"""What Cohen et al.'s folder layout says about a certify TSV.

Their code writes ``<dataset>/<network>/noise_<train sigma>/<split>/sigma_<sigma>``, e.g.
``data/certify/cifar10/resnet110/noise_0.25/test/sigma_0.50``: the model is the
``<network>`` trained with Gaussian noise at the train sigma, smoothed with the Gaussian
at ``sigma``, certified for l2 by Cohen et al.'s rule at their default alpha = 0.001.
Salman et al. keep the layout under extra folders (``PGD_4steps/eps_64/cifar10/...``),
which become part of the model's name. Cohen et al.'s own checkpoints get the names of
``baselines.checkpoints.KNOWN_CHECKPOINTS``, so imported rows meet a run of the same
checkpoints under the same model name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from baselines.checkpoints.known import find_known

DATASETS = ("cifar10", "imagenet")
COHEN_ALPHA = 0.001
_NOISE = re.compile(r"^noise_(\d+(?:\.\d+)?)$")
_SIGMA = re.compile(r"^sigma_(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class CohenLayout:
    dataset: str
    model: str
    train_sigma: float
    sigma: float
    split: str


def parse_layout(path: str | Path) -> CohenLayout | None:
    """The layout of ``path``, or None when it does not follow Cohen et al.'s."""
    parts = Path(path).parts
    for i in range(len(parts) - 5, -1, -1):
        dataset, net, noise, split, sigma = parts[i : i + 5]
        noise_match, sigma_match = _NOISE.match(noise), _SIGMA.match(sigma)
        if dataset not in DATASETS or not noise_match or not sigma_match:
            continue
        if split not in ("test", "train"):
            continue
        train_sigma = float(noise_match[1])
        prefix = list(parts[:i])
        if "certify" in prefix:
            prefix = prefix[len(prefix) - prefix[::-1].index("certify") :]
        else:
            prefix = []
        known = find_known(dataset, net, train_sigma) if not prefix else None
        if known is not None:
            model = known.name
        else:
            model = "-".join([*prefix, dataset, net, f"noise{noise_match[1]}"])
        return CohenLayout(dataset, model, train_sigma, float(sigma_match[1]), split)
    return None
