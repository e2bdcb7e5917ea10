"""Parsing rules for cells that arrive as text or untyped objects: extracts (CSV, Excel) and
values read back from a database. One set of rules, so that a value means the same wherever it
comes from.

* text kinds (``id``, ``str``, ``enum``): text as written; a whole number typed into a text
  column becomes its digits, unless it has more digits than Excel keeps exactly (15);
* ``num`` / ``int``: decimal numbers (``int``: whole and below 2**53);
* ``date``: a full ISO date ``YYYY-MM-DD``, optionally with a time, never a timezone or a
  partial date (``2026-05`` is not the 1st of May), within 1677-09-22..2262-04-11 (what a
  ``datetime64[ns]`` column holds);
* ``bool``: true/false, 1/0, yes/no, t/f, y/n.

A cell holding a list, dict or other object is not a value of any kind.

Examples
--------
>>> import pandas as pd
>>> p = parse_cells(pd.Series(["2026-05-31", "2026-05", None], dtype=object), "date")
>>> p.values.tolist()[0], p.bad.tolist()
(Timestamp('2026-05-31 00:00:00'), [False, True, False])
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as pdt

KINDS = ("id", "str", "enum", "num", "int", "date", "bool")
TEXT_KINDS = ("id", "str", "enum")
#: A full ISO date, optionally with a time (no timezone): "2026-05" is not a date.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?")
#: Excel stores numbers as doubles and keeps 15 significant digits: a longer id or phone typed
#: as a number has already lost its last digits.
EXCEL_EXACT_DIGITS = 15
#: Whole numbers from 2**53 on are not exact in float64.
MAX_EXACT_INT = 2**53
#: What a cell that does not parse is not, per kind.
RULES = {
    "num": "not a number",
    "int": "not a whole number",
    "date": "not a date (expected ISO YYYY-MM-DD)",
    "bool": "not a boolean (true/false/1/0/yes/no)",
}
NOT_A_VALUE = "not a single value (a list, dict or object in the cell)"
INEXACT = f"number with more than {EXCEL_EXACT_DIGITS} digits in a text column"
INEXACT_FIX = (
    f"Excel keeps {EXCEL_EXACT_DIGITS} significant digits, so its last digits are already lost; "
    "format the column as Text and enter the values again"
)
TRUE = frozenset({"true", "1", "yes", "y", "t"})
FALSE = frozenset({"false", "0", "no", "n", "f"})

# Markers for cells that are not one value, or a number too long to be an exact id.
_ODD = "\x00not-a-value"
_INEXACT = "\x00inexact-number"


@dataclass
class Parsed:
    """Parsed cells: ``values`` (typed, unparseable cells missing) and boolean masks of the
    cells that did not parse (``bad``), were not one value (``odd``) or were numbers too long
    for a text column (``inexact``)."""

    values: pd.Series
    bad: np.ndarray
    odd: np.ndarray
    inexact: np.ndarray


def is_full_date(text) -> bool:
    """Whether ``text`` is a full ISO date (optionally with a time)."""
    return isinstance(text, str) and ISO_DATE.fullmatch(text.strip()) is not None


def number_text(v: int | float | np.integer | np.floating, kind: str) -> str:
    """Text of a numeric cell; a whole number in a non-numeric column as its digits."""
    f = float(v)
    is_int = isinstance(v, int | np.integer)
    whole = is_int or f.is_integer()
    if kind in TEXT_KINDS and whole and abs(f) >= 10**EXCEL_EXACT_DIGITS:
        return _INEXACT  # an id or phone typed as a number has lost its last digits
    if is_int or (whole and kind != "num"):
        return str(int(v))
    return repr(f)


def cell_text(v, kind: str) -> str | None:
    """Text of one raw cell (Excel, object column, database value); None when empty."""
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float | np.floating) and np.isnan(v):
        return None
    if isinstance(v, str):
        return v if v.strip() != "" else None
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(v)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float | np.integer | np.floating):
        return number_text(v, kind)
    return _ODD


def cells_as_text(s: pd.Series, kind: str) -> Parsed:
    """Cells as text (``str`` dtype); odd and inexact cells are left missing and flagged."""
    none = np.zeros(len(s), dtype=bool)
    if pdt.is_string_dtype(s.dtype) and not pdt.is_object_dtype(s.dtype):
        t = s.astype("str")
        blank = ((t.str.len() == 0) | t.str.isspace()).to_numpy(dtype=bool, na_value=False)
        t = t.where(~blank, pd.NA) if blank.any() else t  # clean text is not copied
        return Parsed(t, none, none, none)
    vals = np.array([cell_text(v, kind) for v in s.to_numpy(dtype=object)], dtype=object)
    odd = vals == _ODD
    inexact = vals == _INEXACT
    vals[odd | inexact] = None
    text = pd.Series(pd.array(vals, dtype="str"), index=s.index)
    return Parsed(text, none.copy(), odd, inexact)


def parse_text(text: pd.Series, kind: str) -> tuple[pd.Series, np.ndarray]:
    """Text cells (``str`` dtype, missing as NA) to ``kind``; returns the values and the mask
    of present cells that do not parse (left missing)."""
    present = text.notna().to_numpy(dtype=bool)
    if kind in TEXT_KINDS:
        return text, np.zeros(len(text), dtype=bool)
    if kind in ("num", "int"):
        return _numbers(text, present, kind)
    if kind == "date":
        return _dates(text, present)
    if kind == "bool":
        return _bools(text, present)
    raise ValueError(f"unknown column kind {kind!r}; known: {list(KINDS)}")


def parse_cells(s: pd.Series, kind: str) -> Parsed:
    """Raw cells of any dtype to ``kind``: :func:`cells_as_text`, then :func:`parse_text`."""
    p = cells_as_text(s, kind)
    values, bad = parse_text(p.values, kind)
    return Parsed(values, bad, p.odd, p.inexact)


def _numbers(text: pd.Series, present: np.ndarray, kind: str) -> tuple[pd.Series, np.ndarray]:
    v = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = present & v.isna().to_numpy()
    if kind == "num":
        return v, bad
    vals = v.fillna(0).to_numpy()
    with np.errstate(invalid="ignore"):  # inf: not whole, flagged below
        fraction = np.mod(vals, 1.0) != 0
    wrong = v.notna().to_numpy() & (fraction | (np.abs(vals) >= MAX_EXACT_INT))
    v = v.where(~wrong)
    bad = bad | wrong
    return (v.astype("int64") if not v.isna().any() else v.astype("Int64")), bad


def _dates(text: pd.Series, present: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    stripped = text.str.strip()
    full = stripped.str.fullmatch(ISO_DATE.pattern).fillna(False).to_numpy(dtype=bool)
    v = pd.to_datetime(stripped.where(full), format="ISO8601", errors="coerce")
    # dates a datetime64[ns] column cannot hold (before 1677-09-21, after 2262-04-11)
    in_range = v.isna() | ((v >= pd.Timestamp.min) & (v <= pd.Timestamp.max))
    v = v.where(in_range)
    bad = present & (~full | v.isna().to_numpy())
    return v.astype("datetime64[ns]"), bad


def _bools(text: pd.Series, present: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    low = text.str.strip().str.lower()
    t = low.isin(list(TRUE)).to_numpy(dtype=bool)
    f = low.isin(list(FALSE)).to_numpy(dtype=bool)
    bad = present & ~t & ~f
    if present.all():
        return pd.Series(t, index=text.index), bad
    values = pd.array(np.where(present & (t | f), t, None), dtype="boolean")
    return pd.Series(values, index=text.index), bad
