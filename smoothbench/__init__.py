"""The foundation every layer of smoothbench may import, and that imports none of them:
the generic plugin registry (``smoothbench.registry``) and the cache folder
(``smoothbench.cache``).

The layers above it point one way: ``reports -> certifiers -> harness.noise``; the runner
(``harness``) uses ``certifiers`` and ``baselines``. See ``docs/architecture.md``.
"""
