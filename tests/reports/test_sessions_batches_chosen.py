"""``batch_chosen`` records the models a session sampled: sessions that took the same
batch for every model they sampled (a resumed session that sampled only the second model,
or one that sampled nothing) are not said to differ in it; per model, other batches are."""

from __future__ import annotations

from harness import runner
from harness.config import parse
from harness.store import Store
from reports.view import sessions_footnote

RUN = {"name": "x", "dataset": "digits", "seed": 3, "n_test": 4, "n0": 20, "n": 400}
MODELS = [
    {"recipe": "mlp", "sigma0": 0.25, "name": "a"},
    {"recipe": "mlp", "sigma0": 0.5, "name": "b"},
]


def cfg():
    return parse({"run": RUN, "models": MODELS, "noises": [{"family": "gaussian"}],
                  "certify": {"certifiers": ["cohen"], "alpha": [0.001]}})  # fmt: skip


def footnote(path):
    with Store(path, readonly=True) as st:
        sessions = st.get_manifest("sessions")
        dim = (st.get_manifest("base_draws") or {}).get("dim")
    return sessions, sessions_footnote(sessions, dim)


def test_a_resume_that_samples_only_the_second_model_is_no_other_batch(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(cfg(), path, progress=False, stop_after=6, certify=False)  # a: 4, b: 2
    runner.run(cfg(), path, progress=False, certify=False)  # b: 2 more, the same batch
    sessions, line = footnote(path)
    chosen = [s.get("batch_chosen") for s in sessions]
    assert chosen == [{"a": 400, "b": 400}, {"b": 400}]  # every model took 400 each time
    assert line is None or "batch sizes differ" not in line, line


def test_running_a_finished_store_again_is_no_other_batch(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(cfg(), path, progress=False, certify=False)
    runner.run(cfg(), path, progress=False)  # samples nothing: certifies
    sessions, line = footnote(path)
    assert [s.get("batch_chosen") for s in sessions] == [{"a": 400, "b": 400}, None]
    assert line is None or "batch sizes differ" not in line, line


def test_a_model_that_took_another_batch_is_said_to_differ():
    base = {"code_version": "1", "batch_size": "auto", "started": "2026-12-01"}
    first = {**base, "batch_chosen": {"a": 400, "b": 400}}
    line = sessions_footnote([first, {**base, "batch_chosen": {"b": 200}}])
    assert "batch sizes differ" in line
    assert sessions_footnote([first, {**base, "batch_chosen": {"b": 400}}]) is None


def test_actors_of_one_ray_session_that_chose_other_batches_differ():
    """A Ray session records the sizes its actors chose where they differ (GPUs of other
    memory); that is other batches, within one session, and the footnote lists them."""
    base = {"code_version": "1", "batch_size": "auto", "started": "2026-12-01"}
    one = {**base, "batch_chosen": {"a": [500, 1000]}}
    line = sessions_footnote([one, {**base, "batch_chosen": {"b": 200}}])
    assert "batch sizes differ" in line and "a 500 or 1000" in line
    alone = sessions_footnote([one])  # one uninterrupted session, its actors apart
    assert alone.startswith("Sampled in one session whose Ray workers chose other batch sizes")
    assert "a 500 or 1000" in alone and "sessions of differing" not in alone
