"""Cohen et al.'s certify TSV: the format (radii never rounded up, times), the checks on
what is read, export -> import -> export round trips, and their folder layout."""

import datetime
import math
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness import runner
from harness.cli import main
from harness.config import parse
from harness.interop.cohen_layout import parse_layout
from harness.interop.cohen_tsv import (
    TsvError,
    format_radius,
    format_time,
    lowest_radius_printed_as,
    parse_time,
    read_tsv,
    significant_digits,
)
from harness.interop.exporting import export_cohen_tsv
from harness.interop.importing import ImportOptions, import_cohen_tsv
from harness.store import Store
from reports.tidy import load_imported_outcomes, load_outcomes

HEADER = "idx\tlabel\tpredict\tradius\tcorrect\ttime"


@given(st.floats(min_value=1e-9, max_value=1e4, allow_nan=False))
def test_written_radii_are_never_larger_and_keep_three_digits(r):
    text = format_radius(r)
    value = float(text)
    assert value <= r
    unit = 10.0 ** (math.floor(math.log10(r)) - 2)  # one unit in the third digit
    assert r - value < unit * (1 + 1e-9)
    assert len(Decimal(text).normalize().as_tuple().digits) <= 3
    assert format_radius(value) == text  # a printed radius prints again the same


def test_radius_text_is_pythons_three_digit_format():
    for r in (0.378, 0.0831, 0.00299, 1.0, 12.3, 0.25, 2.5):
        assert format_radius(r) == f"{r:.3}"  # Cohen et al.'s print, exact values
    assert format_radius(0.2496) == "0.249"  # where they round up, smoothbench rounds down
    assert format_radius(0.0) == "0.0"


@given(st.floats(min_value=1e-9, max_value=1e4, allow_nan=False))
def test_an_imported_radius_is_the_smallest_that_prints_as_its_text(r):
    """Cohen et al. print ``{:.3}`` (to the nearest): the radius read back is at most the
    one printed, and just above it every float prints as the same text."""
    text = f"{r:.3}"
    low = lowest_radius_printed_as(text)
    assert low <= r
    assert f"{math.nextafter(low, math.inf):.3}" == text
    assert significant_digits(text) <= 3


def test_printed_digits_and_their_lowest_radius():
    assert [significant_digits(t) for t in ("0.5", "0.50", "1.23e+02", "0.4996", "0.0")] == [
        1, 1, 3, 4, 0,
    ]  # fmt: skip
    assert lowest_radius_printed_as("0.5") == pytest.approx(0.4995, rel=1e-15)
    assert lowest_radius_printed_as("1.23e+02") == pytest.approx(122.5, rel=1e-15)
    assert lowest_radius_printed_as("1.0") == pytest.approx(0.9995, rel=1e-15)  # 0.9996 too
    assert lowest_radius_printed_as("0.0") == 0.0
    with pytest.raises(ValueError, match="finite"):
        lowest_radius_printed_as("inf")


@given(st.floats(min_value=0, max_value=3e5, allow_nan=False))
def test_times_round_trip(seconds):
    text = format_time(seconds)
    assert abs(parse_time(text) - seconds) <= 1e-6
    assert parse_time(str(datetime.timedelta(seconds=seconds))) == pytest.approx(
        parse_time(text), abs=1e-6
    )
    assert format_time(parse_time(text)) == text


def test_time_forms_of_cohens_files():
    assert parse_time("0:00:15.400000") == pytest.approx(15.4)
    assert parse_time("0:01:02") == 62.0  # timedelta prints no fraction when it is zero
    assert parse_time("15.4") == 15.4  # their released files hold plain seconds
    assert parse_time("1 day, 0:00:01.5") == 86401.5
    with pytest.raises(ValueError):
        parse_time("soon")


@pytest.mark.parametrize(
    "body,message",
    [
        ("idx\tlabel\tpredict\tradius\n", "header"),
        (f"{HEADER}\n0\t3\t3\t0.5\t0\t1.0\n", ":2: correct is 0"),
        (f"{HEADER}\n0\t3\t-1\t0.5\t0\t1.0\n", ":2: image 0 abstains"),
        (f"{HEADER}\n0\t3\t3\t0.5\t1\t1.0\n0\t3\t3\t0.5\t1\t1.0\n", ":3: image 0 appears twice"),
        (f"{HEADER}\n0\t3\t3\t-0.5\t1\t1.0\n", ":2: radius must be a finite number >= 0"),
        (f"{HEADER}\n0\t3\t3\tnan\t1\t1.0\n", ":2: radius must be a finite number >= 0"),
        (f"{HEADER}\n0\t3\t3\tinf\t1\t1.0\n", ":2: radius must be a finite number >= 0"),
        (f"{HEADER}\n0\t3\t3\t0.5\t1\n", ":2: 5 fields"),
        (f"{HEADER}\n0\tcat\t3\t0.5\t1\t1.0\n", ":2: invalid literal"),
    ],
)
def test_bad_rows_are_refused_with_file_and_line(tmp_path, body, message):
    path = tmp_path / "f.tsv"
    path.write_text(body)
    with pytest.raises(TsvError, match=message):
        read_tsv(path)


@pytest.fixture(scope="module")
def digits_store(tmp_path_factory):
    cfg = parse(
        {
            "run": {
                "name": "tsv", "dataset": "digits", "arch": "mlp", "train_sigmas": [0.25],
                "seed": 1, "n_test": 12, "n0": 20, "n": 400, "batch_size": 400,
            },
            "noises": [{"family": "gaussian"}, {"family": "laplace"}],
            "certify": {"certifiers": ["cohen", "wulff"], "alpha": [0.001, 0.01]},
        }
    )  # fmt: skip
    return runner.run(cfg, tmp_path_factory.mktemp("tsv") / "s.sqlite", progress=False)


def tsv_files(folder):
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*.tsv")}


def test_export_import_export_round_trips(digits_store, tmp_path):
    first = tmp_path / "first"
    with Store(digits_store) as st:
        written = export_cohen_tsv(st, first)
        groups = st.query(
            "SELECT COUNT(*) FROM (SELECT DISTINCT model, noise, certifier, norm, alpha"
            " FROM certificates)"
        )[0][0]
    assert len(written) == groups == 18  # gaussian: cohen, wulff; laplace: wulff; x 3 x 2
    copy = tmp_path / "copy.sqlite"
    with Store(copy) as st:
        done = import_cohen_tsv(st, sorted(first.rglob("*.tsv")))
        assert {f.dataset for f in done} == {"digits"}
        again = tmp_path / "again"
        export_cohen_tsv(st, again)
    a = {k.removeprefix("certified/"): v for k, v in tsv_files(first).items()}
    b = {k.removeprefix("imported/"): v for k, v in tsv_files(again).items()}
    assert a == b  # the same bytes, file by file
    original = load_outcomes(digits_store)
    imported = load_imported_outcomes(copy)
    keys = ["model", "noise", "certifier", "norm", "alpha", "image"]
    both = original.merge(imported, on=keys, suffixes=("", "_tsv"))
    assert len(both) == len(original) == len(imported)
    assert (both["radius_tsv"] <= both["radius"]).all()  # never rounded up
    close = np.isclose(both["radius_tsv"], both["radius"], rtol=1e-2, atol=0)
    assert (close | (both["radius"] == 0)).all()
    assert (both["prediction_tsv"] == both["prediction"]).all()
    assert (both["correct_tsv"] == both["correct"]).all()


def cohen_row(idx, label, predict, radius, seconds):
    """A row as Cohen et al.'s certify.py prints it."""
    correct = int(predict == label)
    time = str(datetime.timedelta(seconds=seconds))
    return f"{idx}\t{label}\t{predict}\t{radius:.3}\t{correct}\t{time}"


def write_cohen(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *(cohen_row(*r) for r in rows)]) + "\n")
    return path


ROWS = [  # idx, label, predict, radius, seconds
    (0, 3, -1, 0.0, 15.2), (20, 7, 7, 0.3, 15.0), (40, 4, 4, 0.6, 16.0),
    (60, 7, 7, 0.9, 15.5), (80, 8, 8, 1.2, 15.1), (100, 4, 2, 0.25, 15.9),
    (120, 8, 8, 0.55, 16.2), (140, 6, 6, 0.8, 14.9),
]  # fmt: skip


def test_a_tsv_in_cohens_layout_imports_with_everything_inferred(tmp_path):
    path = write_cohen(tmp_path / "data/certify/cifar10/resnet110/noise_0.25/test/sigma_0.50", ROWS)
    store = tmp_path / "s.sqlite"
    assert main(["import", "cohen-tsv", str(path), "--store", str(store)]) == 0
    df = load_imported_outcomes(store)
    assert len(df) == 8
    row = df.iloc[0]
    assert row["model"] == "cohen2019-cifar10-resnet110-noise0.25"
    assert row["noise"] == "gaussian(dim=3072,sigma=0.5)"
    assert (row["certifier"], row["norm"], row["alpha"], row["dataset"]) == (
        "cohen", "l2", 0.001, "cifar10",
    )  # fmt: skip
    accuracy = {r: float((df["correct"] & (df["radius"] >= r)).mean()) for r in (0.25, 0.5, 1.0)}
    assert accuracy == {0.25: 6 / 8, 0.5: 5 / 8, 1.0: 1 / 8}  # counted by hand from ROWS
    with Store(store) as st:
        assert st.noise_specs()["gaussian(dim=3072,sigma=0.5)"]["family"] == "gaussian"


def test_radii_printed_to_three_digits_are_read_as_rounded(tmp_path, capsys):
    """A certified 0.4996 prints as 0.5 in Cohen et al.'s files: imported, it must not
    count at r = 0.5. Radii with more digits are taken as printed."""
    rows = [(0, 1, 1, 0.4996, 15.0), (20, 2, 2, 0.25, 15.0), (40, 3, -1, 0.0, 15.0)]
    path = write_cohen(tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25", rows)
    assert "0.5\t" in path.read_text()
    store = tmp_path / "s.sqlite"
    assert main(["import", "cohen-tsv", str(path), "--store", str(store)]) == 0
    assert "stored as the smallest value" in capsys.readouterr().out
    radius = load_imported_outcomes(store).set_index("image")["radius"]
    assert radius[0] < 0.5 <= 0.4996 + 5e-4 and radius[0] <= 0.4996
    assert radius[20] < 0.25 and radius[40] == 0.0
    precise = tmp_path / "precise.tsv"
    precise.write_text(f"{HEADER}\n0\t1\t1\t0.4996\t1\t15.0\n20\t2\t2\t0.25\t1\t15.0\n")
    options = ImportOptions("theirs", "gaussian:sigma=0.25", "cohen", "l2", 0.001, "cifar10")
    with Store(tmp_path / "p.sqlite") as st:
        (done,) = import_cohen_tsv(st, [precise], options)
        assert not done.lowered
        assert sorted(r.radius for r in st.imported_rows()) == [0.25, 0.4996]


def test_layouts_and_what_they_name():
    salman = parse_layout(
        "data/certify/cifar10/PGD_4steps/eps_64/cifar10/resnet110/noise_0.12/test/sigma_0.12"
    )
    assert salman.model == "cifar10-PGD_4steps-eps_64-cifar10-resnet110-noise0.12"
    assert parse_layout("x/imagenet/resnet50/noise_1.00/test/sigma_0.50").model == (
        "cohen2019-imagenet-resnet50-noise1.00"
    )
    assert parse_layout("results/run3.tsv") is None


def test_import_refusals(tmp_path):
    store = tmp_path / "s.sqlite"
    train = write_cohen(tmp_path / "imagenet/resnet50/noise_0.50/train/sigma_0.50", ROWS)
    with Store(store) as st, pytest.raises(ValueError, match="'train' split"):
        import_cohen_tsv(st, [train])
    plain = write_cohen(tmp_path / "elsewhere/run.tsv", ROWS)
    with Store(store) as st, pytest.raises(ValueError, match="--dataset"):
        import_cohen_tsv(st, [plain])
    with Store(store) as st, pytest.raises(ValueError, match="--model, --noise, --certifier"):
        import_cohen_tsv(st, [plain], ImportOptions(dataset="cifar10"))
    bad_number = ImportOptions("theirs", "laplace:scale=abc", "teng", "l1", 0.001, "cifar10")
    with Store(store) as st, pytest.raises(ValueError, match=r"--noise .*'scale' = 'abc'"):
        import_cohen_tsv(st, [plain], bad_number)
    no_value = ImportOptions("theirs", "laplace:scale", "teng", "l1", 0.001, "cifar10")
    with Store(store) as st, pytest.raises(ValueError, match="write parameters as key=value"):
        import_cohen_tsv(st, [plain], no_value)
    options = ImportOptions("theirs", "laplace:scale=0.3", "teng", "l1", 0.001, "cifar10")
    with Store(store) as st:
        import_cohen_tsv(st, [plain], options)
        import_cohen_tsv(st, [plain], options)  # the same file again replaces its rows
        assert len(st.imported_rows()) == 8
        # the stored-name form of the same noise names the same noise
        written = ImportOptions("theirs", "laplace(scale=0.3)", "teng", "l1", 0.001, "cifar10")
        import_cohen_tsv(st, [plain], written)
        assert len(st.imported_rows()) == 8
        other = write_cohen(tmp_path / "elsewhere/run2.tsv", ROWS[:3])
        with pytest.raises(ValueError, match="already holds imported rows"):
            import_cohen_tsv(st, [other], options)
        inet = write_cohen(tmp_path / "imagenet/resnet50/noise_0.50/test/sigma_0.50", ROWS)
        with pytest.raises(ValueError, match="holds imagenet results"):
            import_cohen_tsv(st, [inet])
        assert {r.noise for r in st.imported_rows()} == {"laplace(dim=3072,scale=0.3)"}


def test_cli_errors_are_messages(tmp_path, capsys):
    bad = tmp_path / "cifar10/resnet110/noise_0.25/test/sigma_0.25"
    bad.parent.mkdir(parents=True)
    bad.write_text("idx,label,predict\n")
    assert main(["import", "cohen-tsv", str(bad), "--store", str(tmp_path / "s.sqlite")]) == 2
    assert "not a certify TSV" in capsys.readouterr().err
    assert main(["export", "cohen-tsv", str(tmp_path / "absent.sqlite")]) == 2


def test_alphas_that_print_alike_are_exported_to_two_files(digits_store, tmp_path, monkeypatch):
    """0.001 and 0.0010000001 both print as 0.001 with ``:g``; each gets its own file (a
    store certified before certify refused such alphas)."""
    from harness import certify
    from harness.certify import certify_store

    monkeypatch.setattr(certify, "_refuse_alphas_printed_alike", lambda *args: None)
    store = tmp_path / "s.sqlite"
    store.write_bytes(digits_store.read_bytes())
    with Store(store) as st:
        certify_store(st, ["cohen"], ["l2"], [0.0010000001], progress=False)
        groups = st.query(
            "SELECT COUNT(*) FROM (SELECT DISTINCT model, noise, certifier, norm, alpha"
            " FROM certificates)"
        )[0][0]
        written = export_cohen_tsv(st, tmp_path / "out")
    assert len(set(written)) == len(written) == groups == 19
    assert sum(p.name.endswith("alpha0.0010000001.tsv") for p in written) == 1
