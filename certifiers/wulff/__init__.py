"""Yang et al. 2020, "Randomized smoothing of all shapes and sizes": ``wulff``.

- ``certifier``: the certifier and its table of families (native norms, conversions);
- ``closed_forms``: the radii the paper gives in closed form;
- ``differential``: the differential method (conservative Riemann sums, cached tables);
- ``level_set``: the level-set method (exact Neyman-Pearson for Exp2).
"""

from certifiers.wulff.certifier import Wulff

__all__ = ["Wulff"]
