"""Fuzzing the config parser with mutations of ``configs/default.toml``: keys deleted,
values replaced by wrong types, huge, negative, NaN or infinite numbers, empty lists and
tables, unknown keys added. ``config.parse`` either returns a config whose budgets lie
within the limits or raises ``ConfigError`` with a one-line message naming what is
wrong; never another exception. Parsing runs nothing, so no example can run long."""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config import LIMITS, MAX_SIGMA0, ConfigError, parse

DEFAULT = tomllib.loads((Path(__file__).parents[2] / "configs" / "default.toml").read_text())

odd_numbers = st.sampled_from(
    [0, -1, 1, 2**63, 2**63 - 1, 10**30, -(10**30), 0.0, -0.5, 0.5, 1e308, 1e-308, 1.5]
    + [math.nan, math.inf, -math.inf]
)
odd_values = st.one_of(
    odd_numbers,
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["", "all", "cohen", "gaussian", "l2", "auto", "cpu", "gpu", "../x", "a/b"]),
    st.builds(list),
    st.builds(dict),
    st.lists(odd_numbers, min_size=1, max_size=3),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), odd_numbers, max_size=2),
    st.builds(lambda: [{}]),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value in the document (section, key, list index, ...)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _mutate(doc: dict, path: tuple, action: str, value: Any, new_key: str) -> None:
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "add_key" and isinstance(parent[last], dict):
        parent[last][new_key] = value
    elif action == "empty":
        parent[last] = [] if isinstance(parent[last], list) else {}


@st.composite
def mutated_configs(draw) -> dict:
    doc = copy.deepcopy(DEFAULT)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["delete", "replace", "replace", "add_key", "empty"]))
        value = copy.deepcopy(draw(odd_values))
        new_key = draw(st.sampled_from(["colour", "n", "sigma", "k", "family", "", "seed"]))
        _mutate(doc, path, action, value, new_key)
    if draw(st.booleans()):
        section = draw(st.sampled_from(["run", "extra", "certify", "report"]))
        doc[section] = copy.deepcopy(draw(odd_values))
    return doc


def _check_valid(cfg) -> None:
    assert 1 <= cfg.n0 <= cfg.n <= LIMITS["run.n"]
    assert 1 <= cfg.n_test <= LIMITS["run.n_test"]
    assert cfg.batch_size is None or 1 <= cfg.batch_size <= LIMITS["run.batch_size"]
    assert 0 <= cfg.seed <= LIMITS["run.seed"]
    assert cfg.noises and cfg.certifiers and cfg.norms and cfg.alphas
    assert all(0 < a < 1 for a in cfg.alphas)
    for named in (cfg.certifiers, cfg.norms, cfg.alphas):
        assert len(set(named)) == len(named)
    assert all(0 < s <= MAX_SIGMA0 for s in cfg.train_sigmas)
    for grid in cfg.report.radii.values():
        assert all(math.isfinite(r) and r >= 0 for r in grid)


@settings(max_examples=500)
@given(doc=mutated_configs())
def test_a_mutated_config_parses_or_is_refused_with_one_line(doc):
    try:
        cfg = parse(doc, "fuzz.toml")
    except ConfigError as err:
        message = str(err)
        assert message and "\n" not in message
        return
    _check_valid(cfg)


def test_the_unmutated_default_parses():
    _check_valid(parse(copy.deepcopy(DEFAULT), "default.toml"))
