"""A config that adds models or noises to a stored run, all else equal, extends it: only
the new (model, noise) pairs are sampled, on the base draws every model and noise of an
image shares, so the store ends as a run of the whole config from the start writes it. A
stored model or noise left out, or changed, is still refused."""

from __future__ import annotations

import pytest

from harness import runner
from harness.config import parse
from harness.store import Store
from tests.harness.test_runner import snapshot

RUN = {"name": "x", "dataset": "digits", "seed": 3, "n_test": 5, "n0": 20, "n": 400,
       "batch_size": 200}  # fmt: skip
MODEL_A = {"recipe": "mlp", "sigma0": 0.25, "name": "a"}
MODEL_B = {"recipe": "mlp", "sigma0": 0.5, "name": "b"}
GAUSSIAN = {"family": "gaussian"}
LAPLACE = {"family": "laplace"}
# mixed_norm's coupling is at version 2: its family adds a key to the identity
ADDED_NOISES = [{"family": "generalized_gaussian", "k": [8]}, {"family": "mixed_norm", "k": [4]}]


def config(models, noises, **run):
    certify = {"certifiers": ["cohen", "fdiv-kl", "functional"], "alpha": [0.001]}
    return parse({"run": {**RUN, **run}, "models": models, "noises": noises, "certify": certify})


def _counts_with_seconds(path):
    with Store(path) as st:
        return {row[:3]: row for row in st.table_rows("counts")}


def test_an_extended_store_equals_a_run_of_the_whole_config(tmp_path, capsys):
    whole = config([MODEL_A, MODEL_B], [GAUSSIAN, LAPLACE, *ADDED_NOISES])
    full = runner.run(whole, tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(config([MODEL_A], [LAPLACE, GAUSSIAN]), part, progress=False)
    before = _counts_with_seconds(part)
    assert len(before) == 5 * 2
    runner.run(whole, part, progress=True)
    assert snapshot(full) == snapshot(part)
    after = _counts_with_seconds(part)
    assert len(after) == 5 * 2 * 4
    # the stored counts were kept as they were (their sampling seconds too): not sampled again
    assert all(after[key] == row for key, row in before.items())
    said = capsys.readouterr().err
    assert "extending" in said and "model b" in said and "noise mixed_norm(k=4)" in said
    assert "the 10 (model, noise, image) counts stored are kept" in said
    with Store(part) as st:
        sessions = st.get_manifest("sessions")
        assert st.get_manifest("noise_couplings") == {"mixed_norm": 2}
    assert "added" not in sessions[0]
    added = sessions[1]["added"]
    assert added["models"] == ["b"]
    assert sorted(t["family"] for t in added["noises"]) == ["generalized_gaussian", "mixed_norm"]


def test_an_extension_stopped_midway_resumes_to_the_same_store(tmp_path):
    whole = config([MODEL_A, MODEL_B], [GAUSSIAN, ADDED_NOISES[0]])
    full = runner.run(whole, tmp_path / "full.sqlite", progress=False)
    part = tmp_path / "part.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), part, progress=False, certify=False)
    runner.run(whole, part, progress=False, stop_after=3, certify=False)
    runner.run(whole, part, progress=False)
    assert snapshot(full) == snapshot(part)
    with Store(part) as st:
        sessions = st.get_manifest("sessions")
    # the second session added them; the third resumed them, adding nothing
    assert [bool(s.get("added")) for s in sessions] == [False, True, False]


@pytest.mark.parametrize(
    "models,noises,message",
    [
        # a stored model left out (another added in its place)
        ([MODEL_B], [GAUSSIAN, LAPLACE], "'models.a': stored .*, now absent"),
        # a stored noise left out (another added beside the one kept)
        ([MODEL_A], [GAUSSIAN, ADDED_NOISES[0]], "sampling_config.noises"),
        # a stored model changed while another is added
        ([{**MODEL_A, "sigma0": 0.5}, MODEL_B], [GAUSSIAN, LAPLACE], "'models.a.sha256'"),
    ],
)
def test_a_stored_model_or_noise_left_out_or_changed_is_refused(tmp_path, models, noises, message):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False, certify=False)
    before = _counts_with_seconds(path)
    with pytest.raises(ValueError, match=message):
        runner.run(config(models, noises), path, progress=False)
    assert _counts_with_seconds(path) == before


def test_an_addition_does_not_hide_another_difference(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [GAUSSIAN]), path, progress=False, certify=False)
    with pytest.raises(ValueError, match="differs in 'seed'"):
        runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN], seed=4), path, progress=False)
    with pytest.raises(ValueError, match="differs in 'n'"):
        runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE], n=500), path, progress=False)
    with pytest.raises(ValueError, match="sampling_config.run.autocast"):
        runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE], autocast="bf16"), path, progress=False)


def test_a_stored_familys_coupling_record_gone_is_refused(tmp_path, monkeypatch):
    """A family whose coupling went back to version 1 leaves ``noise_couplings`` out of
    the identity: the stored record is compared all the same (it was skipped, with the
    key absent from the new identity, before extension came)."""
    from harness.noise import noise_class

    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A], [ADDED_NOISES[1]]), path, progress=False, certify=False)
    monkeypatch.setattr(noise_class("mixed_norm"), "coupling_version", 1)
    with pytest.raises(ValueError, match="differs in 'noise_couplings'"):
        runner.run(config([MODEL_A], [ADDED_NOISES[1]]), path, progress=False)


def test_a_stored_model_left_out_beside_one_kept_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    runner.run(config([MODEL_A, MODEL_B], [GAUSSIAN]), path, progress=False, certify=False)
    with pytest.raises(ValueError, match="'models.b': stored .*, now absent"):
        runner.run(config([MODEL_A], [GAUSSIAN, LAPLACE]), path, progress=False)
