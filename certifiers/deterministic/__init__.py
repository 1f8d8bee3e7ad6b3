"""Deterministic certifiers: bounds on a model's margins over an l-inf input box.

    import certifiers
    ibp = certifiers.get("ibp")
    result = ibp.certify(model, x, y, eps=0.03)        # per input: certified, margins
    radius = ibp.certified_radius(model, x, y)         # largest certified eps (bisection)

``ibp`` (interval bound propagation, Gowal et al. 2018) and ``crown`` (backward linear
bounds, Zhang et al. 2018, with IBP intermediate bounds as in CROWN-IBP) receive the
model explicitly; they have no alpha and no Monte Carlo. The network is read by
``network.read_network`` (layers, ``nn.Sequential``, traced forwards, and the
``residual_parts()`` / ``channel_affine()`` protocols); ``ops`` holds the bound rules.
"""

from certifiers.deterministic import crown as _crown  # noqa: F401  (registers)
from certifiers.deterministic import ibp as _ibp  # noqa: F401  (registers)
from certifiers.deterministic.base import DeterministicCertifier, MarginCertificate
from certifiers.deterministic.crown import CROWN
from certifiers.deterministic.ibp import IBP, logit_bounds
from certifiers.deterministic.network import (
    CHANNEL_AFFINE_PROTOCOL,
    RESIDUAL_PROTOCOL,
    UnsupportedLayerError,
    read_network,
)

__all__ = [
    "CHANNEL_AFFINE_PROTOCOL",
    "CROWN",
    "IBP",
    "RESIDUAL_PROTOCOL",
    "DeterministicCertifier",
    "MarginCertificate",
    "UnsupportedLayerError",
    "logit_bounds",
    "read_network",
]
