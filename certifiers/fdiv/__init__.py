"""The f-divergence certificates of Dvijotham et al. 2020: ``fdiv-kl``, ``fdiv-renyi``,
``fdiv-hockey-stick``; ``divergences`` holds the framework (Bernoulli divergences, the
noises' worst-case divergences, the searches over orders and radii)."""

from certifiers.fdiv.hockey_stick import FdivHockeyStick
from certifiers.fdiv.kl import FdivKL
from certifiers.fdiv.renyi import FdivRenyi

__all__ = ["FdivHockeyStick", "FdivKL", "FdivRenyi"]
