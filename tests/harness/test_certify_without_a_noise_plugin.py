"""``certify`` without the plugin of one stored noise family certifies every other
group and then says which it could not: a group of an unknown family once ended the
command there, leaving the groups sorted after it uncertified without a word."""

from __future__ import annotations

import sqlite3

import pytest

from harness import runner
from harness.certify import CertificationError, certify_store
from harness.config import parse
from harness.store import Store

RUN = {"name": "x", "dataset": "digits", "seed": 3, "n_test": 3, "n0": 16, "n": 200}
CERTIFY = {"certifiers": ["wulff"], "norms": ["l2"], "alpha": [0.001]}


def test_the_other_groups_are_certified_and_the_unknown_family_named(tmp_path):
    noises = [{"family": "gaussian"}, {"family": "laplace"}, {"family": "uniform_ball"}]
    cfg = parse({"run": RUN, "models": [{"recipe": "mlp", "sigma0": 0.25, "name": "a"}],
                 "noises": noises, "certify": CERTIFY})  # fmt: skip
    path = runner.run(cfg, tmp_path / "s.sqlite", progress=False)
    db = sqlite3.connect(path)  # laplace stands in for a plugin family not loaded here
    with db:
        db.execute(
            "UPDATE noises SET spec = replace(spec, '\"laplace\"', '\"not_loaded\"') "
            "WHERE noise LIKE 'laplace%'"
        )
    db.close()
    with Store(path) as st, pytest.raises(CertificationError, match="not_loaded") as err:
        certify_store(st, ["wulff"], ["l2"], [0.01], progress=False)
    assert "laplace(" in str(err.value) and err.value.written > 0
    with Store(path) as st:
        done = {n.split("(")[0] for (n,) in st.query(
            "SELECT DISTINCT noise FROM certificates WHERE alpha = 0.01")}  # fmt: skip
    assert done == {"gaussian", "uniform_ball"}
