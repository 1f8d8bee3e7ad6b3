"""A store sampled in parts by different code, machines or batch sizes says so in its
footnotes (the manifest's ``sessions``, one record a session of ``smoothbench run``)."""

from __future__ import annotations

from reports.cli import make_report, write_report
from reports.view import sessions_footnote
from tests.reports._report_synth import winner_store


def session(
    code="1.0+abc", math="numpy", started="2026-12-01T10:00:00+00:00", before=0, batch="auto"
):
    return {
        "batch_size": batch,
        "code_version": code,
        "device_name": "x86_64",
        "elementwise_math": math,
        "python": "3.12.1",
        "started": started,
        "counts_stored_before": before,
    }


def test_one_session_or_several_alike_need_no_footnote():
    assert sessions_footnote([]) is None
    assert sessions_footnote([session()]) is None
    assert sessions_footnote([session(), session(started="2026-12-02T10:00:00+00:00")]) is None


def test_sessions_of_differing_code_are_each_named():
    line = sessions_footnote([session(), session(code="1.1+def", before=40)])
    assert line.startswith("Sampled in 2 sessions of differing code, machine or batch size")
    assert "code 1.0+abc" in line and "code 1.1+def" in line and "(40 counts stored" in line
    assert "last bits" not in line and "batch sizes differ" not in line


def test_differing_elementwise_math_is_said_to_change_last_bits():
    line = sessions_footnote([session(), session(math="torch", before=40)])
    assert "elementwise math numpy" in line and "elementwise math torch" in line
    assert "a draw's last bits may differ from one uninterrupted run's" in line


def test_differing_batch_sizes_are_said_to_change_counts_on_ties():
    """The draws do not depend on the batch size, but the model's float rounding can
    (kernels differ with the batch's shape): a resumed run says where it changed."""
    line = sessions_footnote([session(batch=1000), session(batch=8, before=40)])
    assert "batch size 1000" in line and "batch size 8" in line
    assert "the batch sizes differ" in line and "last bits" not in line
    earlier = {k: v for k, v in session().items() if k != "batch_size"}  # older code
    assert "batch size not recorded" in sessions_footnote([earlier, session()])


def test_the_report_pages_carry_the_sessions_line(tmp_path):
    path = tmp_path / "s.sqlite"
    store = winner_store(path, n_images=40)
    store.put_manifest({"sessions": [session(), session(code="1.1+def", before=20)]})
    store.close()
    report, headlines = make_report(path)
    out = tmp_path / "out"
    write_report(report, headlines, out, ["md", "html"])
    for name in ("leaderboard.md", "leaderboard.html"):
        page = (out / name).read_text()
        assert "Sampled in 2 sessions" in page and "1.1+def" in page, name


def test_differing_numpy_versions_are_named():
    """numpy computes the CPU draws: a session under another numpy is another session."""
    line = sessions_footnote([{**session(), "numpy": "2.3.0"}, {**session(), "numpy": "2.4.6"}])
    assert "numpy 2.3.0" in line and "numpy 2.4.6" in line
    assert "numpy not recorded" in sessions_footnote([session(), {**session(), "numpy": "2.4.6"}])


def test_a_session_that_extended_the_run_says_what_it_added():
    added = {"models": ["b"], "noises": [{"family": "laplace"}, {"family": "exp2"}]}
    extended = {**session(code="1.1+def", before=40), "added": added}
    line = sessions_footnote([session(), extended])
    assert "(40 counts stored before)" in line
    assert line.count("adding") == 1 and "adding model b and 2 noise(s)" in line


def gpu_session(grid=1056, conv="tf32", **kwargs):
    return {**session(**kwargs), "philox_grid": grid,
            "fp32_precision": {"conv": conv, "matmul": "none"}}  # fmt: skip


def test_gpu_sessions_alike_need_no_footnote_and_other_grids_are_said_to_draw_otherwise():
    assert sessions_footnote([gpu_session(), gpu_session(started="2026-12-02")]) is None
    line = sessions_footnote([gpu_session(), gpu_session(grid=864, before=40)])
    assert "random grid 1056" in line and "random grid 864" in line
    assert "random grids differ" in line and "float32 precision" not in line
    two_gpus = [gpu_session(), gpu_session(grid=864, before=40)]
    # at d = 3072 a super-block's 3,072,000 uniforms take 12,000 blocks, above both caps;
    # at d = 64 its 64,000 take 250, below both: the two GPUs draw the same values
    assert "random grids differ" in sessions_footnote(two_gpus, dim=3072)
    assert "random grids differ" not in sessions_footnote(two_gpus, dim=64)
    line = sessions_footnote([gpu_session(), gpu_session(conv="ieee", before=40)])
    assert "float32 convolutions tf32" in line and "float32 convolutions ieee" in line
    assert "float32 precision of the forward passes differs" in line
    assert "random grids differ" not in line


def test_sessions_whose_chosen_batches_differ_are_said_to_round_otherwise():
    first = {**session(), "batch_chosen": {"m": 4000}}
    second = {**session(before=40), "batch_chosen": {"m": 3000}}
    line = sessions_footnote([first, second])
    assert "batch size auto (chosen: m 4000)" in line and "(chosen: m 3000)" in line
    assert "batch sizes differ" in line
    assert sessions_footnote([first, {**first, "started": "2026-12-02"}]) is None
