"""A run of several models stopped once the first model is complete resumes with the
other models: a model with nothing left to sample must not end the run."""

from __future__ import annotations

from harness import runner
from harness.config import parse
from harness.store import Store


def _config():
    return parse(
        {
            "run": {"name": "two", "dataset": "digits", "seed": 3, "n_test": 3, "n0": 10,
                    "n": 100},
            "models": [{"recipe": "mlp", "sigma0": 0.25, "name": "a"},
                       {"recipe": "mlp", "sigma0": 0.5, "name": "b"}],
            "noises": [{"family": "gaussian"}],
            "certify": {"certifiers": ["cohen"], "alpha": [0.001]},
        }
    )  # fmt: skip


def test_a_run_stopped_after_the_first_model_resumes_the_second(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(_config(), path, progress=False, stop_after=3, certify=False)
    with Store(path, readonly=True) as st:
        first = {m for m, _, _ in st.done_keys()}
        assert len(st.done_keys()) == 3 and len(first) == 1  # one model done, one not
    runner.run(_config(), path, progress=False)
    with Store(path, readonly=True) as st:
        done = st.done_keys()
        assert {m for m, _, _ in done} == {"a", "b"}
        assert len(done) == 2 * 3
        certified = st.query("SELECT DISTINCT model FROM certificates")
    assert sorted(m for (m,) in certified) == ["a", "b"]
