"""Cohen et al.'s TSV format: radii printed as their {:.3} (exponent form from 100 on),
negative radii refused, the lowest radius a text stands for rounded down, times and
malformed rows refused (expected values by hand, from Python's own formatting or exact
decimal arithmetic)."""

import math
from decimal import Decimal

import pytest

from harness.interop.cohen_tsv import (
    TsvError,
    format_radius,
    lowest_radius_printed_as,
    parse_time,
    read_tsv,
)

HEADER = "idx\tlabel\tpredict\tradius\tcorrect\ttime"


# radii >= 100 must print in Python's {:.3} exponent form, as Cohen et al.'s do.
@pytest.mark.parametrize("r,text", [(123.0, "1.23e+02"), (123.9, "1.23e+02"), (4567.0, "4.56e+03")])
def test_large_radii_print_in_cohens_exponent_form(r, text):
    assert format_radius(r) == text
    assert f"{float(text):.3}" == text  # the expected text is what {:.3} prints


# a negative radius (including -inf) is refused, never printed.
@pytest.mark.parametrize("r", [-0.5, -1e-9, -math.inf, math.nan])
def test_negative_or_nan_radius_is_refused_on_export(r):
    with pytest.raises(ValueError):
        format_radius(r)


# the lowest radius is rounded DOWN to a float (docstring), not to the nearest.
@pytest.mark.parametrize("text,low", [("0.5", "0.4995"), ("0.3", "0.2995"), ("1.0", "0.9995")])
def test_lowest_radius_is_never_above_the_exact_decimal_bound(text, low):
    out = lowest_radius_printed_as(text)
    assert Decimal(out) <= Decimal(low)  # exact binary value vs exact decimal bound
    assert math.nextafter(out, math.inf) >= float(low)  # and it is the float just below


# a negative printed radius is refused by lowest_radius_printed_as itself.
def test_lowest_radius_refuses_negative_text():
    with pytest.raises(ValueError):
        lowest_radius_printed_as("-0.5")


# negative plain-seconds times are refused.
@pytest.mark.parametrize("text", ["-1.5", "-0.001", "nan", "inf"])
def test_negative_or_nonfinite_time_is_refused(text):
    with pytest.raises(ValueError):
        parse_time(text)


# malformed rows are refused with file and line.
@pytest.mark.parametrize(
    "row,message",
    [
        ("0\t3\t-2\t0.0\t0\t1.0", ":2: predict is a class or -1"),
        ("-1\t3\t3\t0.5\t1\t1.0", ":2: idx and label are >= 0"),
        ("0\t-3\t3\t0.5\t0\t1.0", ":2: idx and label are >= 0"),
        ("0\t3\t3\t0.5\t1\t1.0\textra", ":2: 7 fields"),
        ("0\t3\t3\t0.5\t2\t1.0", ":2: correct must be 0 or 1"),
        ("0\t3\t3\t0.5\t1\t-4.0", ":2: time must be finite"),
    ],
)
def test_more_bad_rows_are_refused(tmp_path, row, message):
    path = tmp_path / "f.tsv"
    path.write_text(f"{HEADER}\n{row}\n")
    with pytest.raises(TsvError, match=message):
        read_tsv(path)
