"""Radii as a certifier returns them, read as float64 numbers none above them: a radius
is a guarantee, so a conversion may round it down, never up."""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from fractions import Fraction

import numpy as np


def float64_not_above(values: object) -> np.ndarray:
    """``values`` (a real float array, or a list, tuple or object array of real numbers)
    as float64, none above the number it stands for. A narrower float (float16,
    float32) was rounded to nearest from the value computed, up as often as down: a
    positive one is stepped one unit towards 0 in its own dtype first (then widened
    exactly). A wider one (``np.longdouble``) is stepped down where float64 rounded it
    up. The elements of a list or object array are read one by one (numpy would widen a
    float32 among float64 numbers unstepped; an integer or a ``Fraction`` that float64
    rounds up is stepped down, as are integers of typed arrays from 2^53 on). Zero,
    infinite, negative and NaN values are left as they are (the caller refuses the last
    two, and an infinite radius where it certifies nothing that large). ``TypeError``
    for an element that is no real number."""
    raw = np.asarray(values)
    if isinstance(values, list | tuple) or raw.dtype.kind == "O":
        elements = np.asarray(values, dtype=object)
        read = [_element_not_above(v) for v in elements.flat]
        return np.array(read, dtype=np.float64).reshape(elements.shape)
    if raw.dtype.kind in "iu":  # above 2^53 float64 rounds an integer to nearest
        out = raw.astype(np.float64)
        return np.where(np.abs(out) >= 2.0**53, np.nextafter(out, -np.inf), out)
    if raw.dtype.itemsize < 8:
        step = (raw > 0) & np.isfinite(raw)  # an infinite one stays infinite
        return np.where(step, np.nextafter(raw, raw.dtype.type(0)), raw).astype(np.float64)
    out = raw.astype(np.float64)
    if raw.dtype.itemsize > 8:
        return np.where(out.astype(raw.dtype) > raw, np.nextafter(out, -np.inf), out)
    return out


def _element_not_above(value: object) -> float:
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{value!r} is not a number")
    if isinstance(value, float):
        return value
    if isinstance(value, numbers.Real | Decimal) and not isinstance(value, np.floating):
        # an int, a Fraction, a Decimal, a numpy integer: float() rounds to nearest
        try:
            near = float(value)
        except OverflowError:  # an integer beyond float64: an infinite radius, refused
            return math.inf if value > 0 else -math.inf
        if not np.isfinite(near):  # NaN refused by the caller; inf where it certifies all
            return near
        if isinstance(value, numbers.Integral):
            exact = Fraction(int(value))
        elif isinstance(value, numbers.Rational | Decimal):
            exact = Fraction(value)
        else:  # another real type (sympy's Float): not known exactly here, so one step down
            return float(np.nextafter(near, -np.inf)) if near != 0 else near
        return float(np.nextafter(near, -np.inf)) if Fraction(near) > exact else near
    one = np.asarray(value)  # a numpy float or 0-d array (or a 0-d tensor) of its dtype
    if one.ndim != 0 or one.dtype.kind not in "fiu":
        raise TypeError(f"{value!r} is not a real number")
    return float(float64_not_above(one)) if one.dtype.kind == "f" else float(one)


def first_non_number(values: object) -> object | None:
    """The first bool, str or bytes among the elements of ``values`` (a list, tuple or
    object array), which numpy reads as numbers beside real ones (``[True, 0.25]`` as
    ``[1.0, 0.25]``); None where there is none, or ``values`` is a typed array or tensor
    (whose dtype says what it holds)."""
    if not isinstance(values, list | tuple | np.ndarray):
        return None
    if isinstance(values, np.ndarray) and values.dtype.kind != "O":
        return None
    try:
        elements = np.asarray(values, dtype=object).flat
    except ValueError:  # ragged: refused by its shape
        return None
    return next((v for v in elements if isinstance(v, str | bytes | bool | np.bool_)), None)
