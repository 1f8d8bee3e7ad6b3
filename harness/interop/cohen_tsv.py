"""Cohen et al.'s (2019) certify TSV: one row per image,

    idx	label	predict	radius	correct	time

``predict`` is -1 where the smoothed classifier abstains (radius 0.0), ``correct`` is
``int(predict == label)``, ``radius`` is printed with Python's ``{:.3}`` (3 significant
digits) and ``time`` as ``str(datetime.timedelta)``, ``H:MM:SS.ffffff`` (their released
files also hold plain seconds, e.g. ``15.4``; both are read).

Rounding: Cohen et al.'s code rounds radii to the nearest 3-digit value, so a radius in
their files can exceed the certified one by half a unit in its third digit (a certified
0.4996 reads 0.5). ``lowest_radius_printed_as`` undoes that on import: the smallest radius
that prints as the text. ``format_radius`` rounds down instead: a radius smoothbench
writes never exceeds the certificate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

from smoothbench.atomic import write_atomic

HEADER = ("idx", "label", "predict", "radius", "correct", "time")
#: The significant digits a radius is printed to (Python's ``{:.3}``, as Cohen et al.'s).
PRINTED_DIGITS = 3
_PRINTED = f".{PRINTED_DIGITS}"
_TIMEDELTA = re.compile(
    r"^(?:(?P<days>-?\d+) days?, )?(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2}(?:\.\d{1,6})?)$"
)


class TsvError(ValueError):
    """A file that is not a certify TSV; the message names the file and line."""


@dataclass(frozen=True)
class TsvRow:
    idx: int
    label: int
    predict: int
    radius: float
    correct: bool
    seconds: float
    #: the radius as the file prints it (empty for rows not read from a file)
    radius_text: str = field(default="", compare=False)


def _last_digit(value: Decimal) -> Decimal:
    """One unit in the last printed significant digit of ``value``."""
    return Decimal(1).scaleb(value.adjusted() - (PRINTED_DIGITS - 1))


def format_radius(radius: float) -> str:
    """``radius`` rounded down to 3 significant digits, printed as ``{:.3}`` prints it."""
    if math.isinf(radius) and radius > 0:
        return "inf"
    if not (radius >= 0):
        raise ValueError(f"a radius is >= 0, got {radius}")
    if radius == 0:
        return "0.0"
    exact = Decimal(repr(float(radius)))
    return format(float(exact.quantize(_last_digit(exact), rounding=ROUND_FLOOR)), _PRINTED)


def significant_digits(text: str) -> int:
    """The significant digits of a number as printed (``"0.5"``: 1, ``"1.23e+02"``: 3,
    ``"0.4996"``: 4; 0 for zero)."""
    digits = Decimal(text.strip()).normalize().as_tuple().digits
    return 0 if digits == (0,) else len(digits)


def lowest_radius_printed_as(text: str) -> float:
    """The smallest radius that ``{:.3}`` (round to nearest) prints as ``text``: the value
    less half a unit in its third significant digit (in the decade below for a power of
    ten, which 0.9996 also rounds to), rounded down to a float (``"0.5"``: 0.4995,
    ``"1.0"``: 0.9995, ``"0.0"``: 0)."""
    value = Decimal(text.strip())
    if not value.is_finite() or value < 0:
        raise ValueError(f"a printed radius is a finite number >= 0, got {text!r}")
    if value == 0:
        return 0.0
    unit = _last_digit(value)
    if value.normalize().as_tuple().digits == (1,):
        unit /= 10  # a power of ten is also what values of the decade below round up to
    low = value - unit / 2
    out = float(low)
    if Decimal(out) > low:
        out = math.nextafter(out, 0.0)
    return max(out, 0.0)


def is_printed_reading(radius: float) -> bool:
    """Whether ``radius`` is what reading a radius printed to 3 significant digits gives:
    the printed value itself (a file of ``smoothbench export``, or one read as printed) or
    the smallest value that prints as it (Cohen et al.'s files, ``lowest_radius_printed_as``).
    Zero is both; infinite, negative and NaN radii are neither."""
    if radius == 0:
        return True
    if not (0 < radius < math.inf):
        return False
    if float(format(radius, _PRINTED)) == radius:
        return True
    exact = Decimal(repr(float(radius)))
    # the printed value the smallest reading lies just below
    above = exact.quantize(_last_digit(exact), rounding=ROUND_CEILING)
    return lowest_radius_printed_as(format(float(above), _PRINTED)) == radius


def format_time(seconds: float) -> str:
    """``H:MM:SS.ffffff`` (``N day(s), `` first past a day), microseconds always shown."""
    if not (seconds >= 0) or math.isinf(seconds):
        raise ValueError(f"seconds must be finite and >= 0, got {seconds}")
    td = timedelta(seconds=seconds)
    hours, rest = divmod(td.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    days = f"{td.days} day{'s' if td.days != 1 else ''}, " if td.days else ""
    return f"{days}{hours}:{minutes:02d}:{secs:02d}.{td.microseconds:06d}"


def parse_time(text: str) -> float:
    """Seconds from ``str(timedelta)`` (``H:MM:SS[.ffffff]``, with days) or plain seconds."""
    text = text.strip()
    match = _TIMEDELTA.match(text)
    if match:
        days = int(match["days"] or 0)
        return days * 86400 + int(match["h"]) * 3600 + int(match["m"]) * 60 + float(match["s"])
    value = float(text)  # ValueError on anything else
    if not (value >= 0) or math.isinf(value):
        raise ValueError(f"time must be finite and >= 0, got {text!r}")
    return value


def format_row(row: TsvRow) -> str:
    radius = 0.0 if row.predict == -1 else row.radius
    return "\t".join(
        (
            str(row.idx),
            str(row.label),
            str(row.predict),
            format_radius(radius),
            str(int(row.correct)),
            format_time(row.seconds),
        )
    )


def write_tsv(path: str | Path, rows: list[TsvRow]) -> Path:
    """Write ``rows`` (sorted by ``idx``) with the header line, atomically (a failed
    write leaves the previous file, never half of one)."""
    lines = ["\t".join(HEADER), *(format_row(r) for r in sorted(rows, key=lambda r: r.idx))]
    return write_atomic(path, "\n".join(lines) + "\n")


def read_tsv(path: str | Path) -> list[TsvRow]:
    """The rows of a certify TSV, checked: integers where integers belong, ``predict``
    >= -1, a non-negative radius (0 when abstaining), ``correct`` equal to ``predict ==
    label``, each ``idx`` once."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise TsvError(
            f"{path}: not a certify TSV: byte {err.object[err.start]:#04x} at offset "
            f"{err.start} is not UTF-8 text"
        ) from None
    if not lines or tuple(lines[0].strip().split("\t")) != HEADER:
        found = lines[0].strip() if lines else "an empty file"
        raise TsvError(
            f"{path}:1: not a certify TSV: the header must be {chr(9).join(HEADER)!r} "
            f"(tab-separated), found {found!r}"
        )
    rows: list[TsvRow] = []
    seen: set[int] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) != len(HEADER):
            raise TsvError(f"{path}:{number}: {len(fields)} fields, expected {len(HEADER)}")
        try:
            row = TsvRow(
                idx=int(fields[0]),
                label=int(fields[1]),
                predict=int(fields[2]),
                radius=float(fields[3]),
                correct=_flag(fields[4]),
                seconds=parse_time(fields[5]),
                radius_text=fields[3].strip(),
            )
        except ValueError as err:
            raise TsvError(f"{path}:{number}: {err}") from None
        problem = _problem(row)
        if problem:
            raise TsvError(f"{path}:{number}: {problem}")
        if row.idx in seen:
            raise TsvError(f"{path}:{number}: image {row.idx} appears twice")
        seen.add(row.idx)
        rows.append(row)
    return rows


def _flag(text: str) -> bool:
    if text.strip() not in ("0", "1"):
        raise ValueError(f"correct must be 0 or 1, got {text!r}")
    return text.strip() == "1"


def _problem(row: TsvRow) -> str | None:
    if row.idx < 0 or row.label < 0:
        return f"idx and label are >= 0, got {row.idx} and {row.label}"
    if row.predict < -1:
        return f"predict is a class or -1 (abstain), got {row.predict}"
    if not (0 <= row.radius < math.inf):  # also refuses NaN
        return f"radius must be a finite number >= 0, got {row.radius}"
    if row.predict == -1 and row.radius != 0:
        return f"image {row.idx} abstains (predict -1) but has radius {row.radius}"
    if row.correct != (row.predict == row.label):
        return (
            f"correct is {int(row.correct)} but predict {row.predict} and label "
            f"{row.label} say {int(row.predict == row.label)}"
        )
    return None
