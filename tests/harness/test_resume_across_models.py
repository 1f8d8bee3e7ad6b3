"""A run of several models stopped once the first model is complete resumes with the
other models: a model with nothing left to sample must not end the run."""

from __future__ import annotations

from harness import runner
from harness.store import Store
from tests.harness._configs import two_models


def test_a_run_stopped_after_the_first_model_resumes_the_second(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(two_models(), path, progress=False, stop_after=3, certify=False)
    with Store(path, readonly=True) as st:
        first = {m for m, _, _ in st.done_keys()}
        assert len(st.done_keys()) == 3 * 2 and len(first) == 1  # one model done, one not
    runner.run(two_models(), path, progress=False)
    with Store(path, readonly=True) as st:
        done = st.done_keys()
        assert {m for m, _, _ in done} == {"a", "b"}
        assert len(done) == 2 * 3 * 2  # models, images, noises
        certified = st.query("SELECT DISTINCT model FROM certificates")
    assert sorted(m for (m,) in certified) == ["a", "b"]
