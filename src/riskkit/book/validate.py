"""Boundary validation of loan-book tables. Collects every problem, then raises one
:class:`~riskkit.errors.ValidationError` naming table, column, loan id and rule. Never drops or
coerces rows.

Whatever it is given (a frame with odd dtypes, lists in cells, timezone-aware dates, empty
tables, ``None`` or a dict instead of a DataFrame), validation reports a problem; it never
fails with another exception.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types as pdt

from ..errors import ProblemCollector
from .keys import factorize_ids, isin_values, positions
from .schema import (
    MAX_ANNUAL_RATE,
    MAX_LOAN_AMOUNT,
    MAX_TERM_MONTHS,
    TABLES,
    Column,
    TableSpec,
)

#: Tables a book cannot be built without.
REQUIRED_TABLES = ("loans", "schedule", "payments")
#: Tables that may be left out (``None``: an empty table).
OPTIONAL_TABLES = ("borrowers", "guarantors", "collateral", "signals", "recovery_status")


__all__ = ["isin_values", "floats", "kind_problem", "validate_table", "validate_book"]


def floats(s: pd.Series) -> np.ndarray:
    """A numeric column as float64 with missing values (also ``pd.NA``) as NaN."""
    return s.to_numpy(dtype=float, na_value=np.nan)


def id_labels(s: pd.Series) -> pd.Series:
    """Ids as text for messages (any cell, bytes and objects included, becomes its str)."""
    if pdt.is_object_dtype(s.dtype):
        return s.map(lambda v: v if isinstance(v, str) else str(v))
    return s.astype(str)


def _row_ids(df: pd.DataFrame, spec: TableSpec) -> pd.Series:
    for c in ("loan_id", "application_id", "borrower_id", "collateral_id"):
        if c in df.columns and not isinstance(df[c], pd.DataFrame):
            return _text_ids(df[c])
    return pd.Series(df.index.astype(str), index=df.index)


def _text_ids(s: pd.Series) -> pd.Series:
    """Ids as text for messages; only the offending rows' ids are ever converted
    (:meth:`ProblemCollector.check`), so text and categorical ids are passed as they are."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    return s if pdt.is_string_dtype(s.dtype) and not pdt.is_object_dtype(s.dtype) else id_labels(s)


_KIND_WORDS = {
    "num": "a numeric dtype",
    "int": "an integer dtype",
    "date": "a datetime64 dtype (parse dates explicitly when loading)",
    "bool": "a boolean dtype",
    "id": "string or integer ids",
    "str": "text",
    "enum": "text",
}
#: ``pandas.api.types.infer_dtype`` results accepted in an object column, per kind.
_OBJECT_CONTENT = {"id": ("string", "integer", "empty"), "str": ("string", "empty")}


def _text_content_ok(s: pd.Series, kind: str) -> bool:
    """An object or categorical column holds only text (ids: only text or only integers)."""
    allowed = _OBJECT_CONTENT["id" if kind == "id" else "str"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return pdt.infer_dtype(s.cat.categories, skipna=True) in allowed
    if pdt.is_object_dtype(s.dtype):
        return pdt.infer_dtype(s, skipna=True) in allowed
    return True


def kind_problem(s: pd.Series, kind: str) -> str | None:
    """Why column ``s`` cannot hold values of ``kind`` (None when it can)."""
    dtype = s.dtype
    if kind == "num":
        ok = pdt.is_numeric_dtype(dtype) and not pdt.is_bool_dtype(dtype)
        ok = ok and not pdt.is_complex_dtype(dtype)
    elif kind == "int":
        ok = pdt.is_integer_dtype(dtype) and not pdt.is_bool_dtype(dtype)
    elif kind == "date":
        if isinstance(dtype, pd.DatetimeTZDtype):
            return (
                f"timezone-aware dates ({dtype}) are not supported: give local dates without a "
                "timezone (s.dt.tz_convert('Asia/Shanghai').dt.tz_localize(None))"
            )
        ok = pdt.is_datetime64_dtype(dtype)
    elif kind == "bool":
        ok = pdt.is_bool_dtype(dtype)
    elif kind == "id":
        ok = (
            pdt.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or (pdt.is_integer_dtype(dtype) and not pdt.is_bool_dtype(dtype))
        ) and _text_content_ok(s, kind)
    else:  # str, enum
        ok = (
            pdt.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype)
        ) and _text_content_ok(s, kind)
    if ok:
        return None
    return f"must be {_KIND_WORDS[kind]}, got dtype {dtype}" + (
        f" holding {pdt.infer_dtype(s, skipna=True)} values" if pdt.is_object_dtype(dtype) else ""
    )


def _check_column(s: pd.Series, col: Column, name: str, ids, errors: ProblemCollector) -> bool:
    """Dtype, missing values, finiteness and allowed values of one column; False if unusable."""
    wrong = kind_problem(s, col.kind)
    if wrong and len(s):  # an empty column holds no wrong value ...
        errors.add(name, col.name, wrong)
        return False
    if wrong and isinstance(s.dtype, pd.DatetimeTZDtype):  # ... but a timezone is never right
        errors.add(name, col.name, wrong)
        return False
    null = s.isna().to_numpy(dtype=bool)
    if not col.nullable and null.any():
        errors.check(name, col.name, null, ids, "missing value")
    if col.kind == "num" and len(s):
        errors.check(name, col.name, ~null & ~np.isfinite(floats(s)), ids, "not a finite number")
    if col.kind == "enum" and col.allowed and len(s):
        bad = ~null & ~_enum_ok(s, col.allowed)
        if bad.any():
            vals = sorted({str(v) for v in s[bad].head(50)})[:5]
            rule = f"unknown value(s) {vals}; allowed: {list(col.allowed)}"
            errors.check(name, col.name, bad, ids, rule)
    return True


def _enum_ok(s: pd.Series, allowed) -> np.ndarray:
    """Per row: the value is one of ``allowed`` (each distinct value checked once)."""
    codes, uniq = pd.factorize(s)
    ok_u = pd.Index(np.asarray(uniq, dtype=object)).isin(list(allowed))
    return np.append(ok_u, False)[codes]  # code -1 (missing) picks the appended False


def duplicated_keys(df: pd.DataFrame, key) -> np.ndarray:
    """Rows whose ``key`` columns repeat another row's (every such row True), hashing one
    integer per row made from the factorised columns."""
    combined = np.zeros(len(df), dtype=np.int64)
    radix = 1
    for c in key:
        codes, uniq = factorize_ids(df[c])
        width = len(uniq) + 1  # missing (-1) is its own value
        if radix * width >= 2**62:
            return df.duplicated(list(key), keep=False).to_numpy()
        combined += (codes + 1) * radix
        radix *= width
    return pd.Series(combined).duplicated(keep=False).to_numpy()


def validate_table(
    df: pd.DataFrame,
    name: str,
    errors: ProblemCollector,
    spec: TableSpec | None = None,
    check_key: bool = True,
) -> bool:
    """Check one table against its spec (default: the loan-book table ``name``, e.g. for
    credit applications :data:`riskkit.lending.applications.APPLICATIONS`); return True if its
    columns are usable.

    ``check_key=False`` leaves the duplicate-key rule to the caller (the book's schedule is
    checked for repeated periods once it is sorted by loan)."""
    spec = spec if spec is not None else TABLES[name]
    if not isinstance(df, pd.DataFrame):
        errors.add(name, "", f"must be a pandas DataFrame, got {type(df).__name__}")
        return False
    labels = pd.Index(df.columns)
    if labels.has_duplicates:
        for c in labels[labels.duplicated()].unique():
            errors.add(name, str(c), "column appears more than once")
        return False
    usable = errors.require(name, df, [c.name for c in spec.required])
    ids = _row_ids(df, spec)
    for col in spec.columns:
        if col.name in df.columns:
            usable = _check_column(df[col.name], col, name, ids, errors) and usable
    if check_key and usable and spec.key and len(df) and all(k in df.columns for k in spec.key):
        dup = duplicated_keys(df, spec.key)
        errors.check(name, "+".join(spec.key), dup, ids, "duplicate id")
    return usable


def _check_present(tables: dict, errors: ProblemCollector) -> None:
    for name in REQUIRED_TABLES:
        if name in tables and tables[name] is None:
            errors.add(name, "", "required table missing (got None)")


def _validate_loans(loans: pd.DataFrame, errors: ProblemCollector) -> None:
    lid = _text_ids(loans["loan_id"])
    amt = floats(loans["amount"])
    errors.check("loans", "amount", amt <= 0, lid, "must be positive")
    errors.check(
        "loans", "amount", amt > MAX_LOAN_AMOUNT, lid, f"absurd: above {MAX_LOAN_AMOUNT:,.0f}"
    )
    rate = floats(loans["annual_rate"])
    errors.check(
        "loans",
        "annual_rate",
        (rate < 0) | (rate > MAX_ANNUAL_RATE),
        lid,
        f"must be a yearly fraction in [0, {MAX_ANNUAL_RATE}] (e.g. 0.12 for 12%)",
    )
    term = floats(loans["term_months"])
    bad_term = (term < 1) | (term > MAX_TERM_MONTHS)
    errors.check("loans", "term_months", bad_term, lid, f"must be in 1..{MAX_TERM_MONTHS}")


def _validate_borrowers(tables: dict, ok: dict, errors: ProblemCollector) -> None:
    loans, borrowers = tables.get("loans"), tables.get("borrowers")
    if ok.get("loans") and ok.get("borrowers"):
        unknown = ~isin_values(loans["borrower_id"], borrowers["borrower_id"])
        errors.check("loans", "borrower_id", unknown, loans["loan_id"], "unknown borrower")
    if ok.get("borrowers") and "monthly_income" in borrowers.columns:
        inc = floats(borrowers["monthly_income"])
        ids = borrowers["borrower_id"]
        errors.check("borrowers", "monthly_income", inc < 0, ids, "negative income")
    if ok.get("borrowers"):
        from .customers import validate_customer_record  # the customer-register fields

        validate_customer_record(borrowers, errors)


_DATED_CHILDREN = (
    ("guarantors", None),
    ("collateral", "valuation_date"),
    ("schedule", "due_date"),
    ("payments", "payment_date"),
    ("signals", "signal_date"),
    ("recovery_status", "status_date"),
)


def _validate_references(tables: dict, ok: dict, errors: ProblemCollector) -> dict:
    """Every child row names a known loan; payments, signals and recovery-status rows follow
    disbursement. Returns each child table's row positions in ``loans`` (-1: unknown loan),
    matched once."""
    if not ok.get("loans"):
        return {}
    loans = tables["loans"]
    disb = loans["disbursement_date"].to_numpy()
    out = {}
    for name, date_col in _DATED_CHILDREN:
        df = tables.get(name)
        if df is None or not ok.get(name) or not len(df):
            continue
        pos = positions(loans["loan_id"], df["loan_id"])
        out[name] = pos
        unk = pos < 0
        errors.check(name, "loan_id", unk, df["loan_id"], "unknown loan")
        if name in ("payments", "signals", "recovery_status") and len(loans):
            early = ~unk & (df[date_col].to_numpy() < disb[np.maximum(pos, 0)])
            errors.check(name, date_col, early, df["loan_id"], "before disbursement")
    return out


def _validate_amounts(tables: dict, ok: dict, errors: ProblemCollector) -> None:
    if ok.get("payments"):
        p = tables["payments"]
        amt = floats(p["amount"])
        errors.check("payments", "amount", amt <= 0, p["loan_id"], "must be positive")
        errors.check(
            "payments",
            "amount",
            amt > MAX_LOAN_AMOUNT,
            p["loan_id"],
            f"absurd: above {MAX_LOAN_AMOUNT:,.0f}",
        )
    if ok.get("collateral"):
        c = tables["collateral"]
        value = floats(c["appraised_value"])
        errors.check(
            "collateral", "appraised_value", value < 0, c["loan_id"], "must not be negative"
        )


def validate_book(tables: dict[str, pd.DataFrame | None]) -> dict[str, np.ndarray]:
    """Validate all tables and their cross-references; raise if anything is wrong.

    Ids are matched once (:func:`riskkit.book.keys.positions`) and every cross-table rule
    works on integer positions, so a million-loan book validates in seconds. Returns the
    child tables' row positions in ``loans`` (reused by the schedule index).
    """
    errors = ProblemCollector("loan book")
    _check_present(tables, errors)
    ok = {
        name: df is not None and validate_table(df, name, errors, check_key=name != "schedule")
        for name, df in tables.items()
    }
    if ok.get("loans"):
        _validate_loans(tables["loans"], errors)
    _validate_borrowers(tables, ok, errors)
    pos = _validate_references(tables, ok, errors)
    _validate_amounts(tables, ok, errors)
    if ok.get("schedule"):
        loans = tables["loans"] if ok.get("loans") else None
        _validate_schedule(tables["schedule"], loans, pos.get("schedule"), errors)
    errors.raise_if_any()
    return pos


def _loan_key(lid: pd.Series, pos: np.ndarray | None) -> np.ndarray:
    """An integer per schedule row naming its loan: the loan's position, or (unknown loans,
    no usable loans table) a code after every known position."""
    if pos is None:
        return factorize_ids(lid)[0]
    unknown = pos < 0
    if not unknown.any():
        return pos
    key = pos.astype(np.int64)
    key[unknown] = int(pos.max()) + 1 + factorize_ids(lid[unknown])[0]
    return key


def _schedule_order(key: np.ndarray, period: np.ndarray) -> np.ndarray | slice:
    """Rows ordered by loan and period; a slice when they already are."""
    same = key[1:] == key[:-1]
    if np.all(key[1:] >= key[:-1]) and np.all(~same | (period[1:] >= period[:-1])):
        return slice(None)
    return np.lexsort((period, key))


def _validate_periods(s: pd.DataFrame, pos: np.ndarray | None, errors: ProblemCollector) -> None:
    """Per loan: periods 1, 2, ..., n without gaps, each once; due dates increase with the
    period."""
    lid = s["loan_id"]
    per = floats(s["period"])
    key = _loan_key(lid, pos)
    order = _schedule_order(key, per)
    k, pp, dd = key[order], per[order], s["due_date"].to_numpy()[order]
    ids = lid.iloc[order] if isinstance(order, np.ndarray) else lid
    first = np.r_[True, k[1:] != k[:-1]] if len(k) else np.zeros(0, dtype=bool)
    errors.check("schedule", "period", first & (pp != 1), ids, "must start at 1")
    same = ~first[1:]
    _check_repeated_periods(same & (pp[1:] == pp[:-1]), order, lid, errors)
    gap = same & (pp[1:] != pp[:-1] + 1)
    errors.check("schedule", "period", gap, ids.iloc[1:], "periods not contiguous")
    bad_order = same & (dd[1:] <= dd[:-1])
    rule = "due dates out of order (must increase with period)"
    errors.check("schedule", "due_date", bad_order, ids.iloc[1:], rule)


def _check_repeated_periods(pair: np.ndarray, order, lid: pd.Series, errors) -> None:
    """The schedule's key rule (one row per loan and period) from the sorted rows: ``pair``
    marks sorted rows equal to the next one; every row of a repeated key is reported."""
    if not pair.any():
        return
    dup_sorted = np.r_[pair, False] | np.r_[False, pair]
    dup = np.zeros(len(lid), dtype=bool)
    dup[np.arange(len(lid))[order][dup_sorted]] = True
    errors.check("schedule", "loan_id+period", dup, lid, "duplicate id")


def _validate_schedule(
    s: pd.DataFrame, loans: pd.DataFrame | None, pos: np.ndarray | None, errors: ProblemCollector
):
    lid = s["loan_id"]
    for c in ("principal_due", "interest_due"):
        errors.check("schedule", c, floats(s[c]) < 0, lid, "must not be negative")
    _validate_periods(s, pos, errors)
    if loans is None:
        return
    if pos is None:  # an empty schedule
        pos = positions(loans["loan_id"], lid)
    known = pos >= 0
    n = len(loans)
    rows = np.bincount(pos[known], minlength=n)
    first = ~pd.Series(loans["loan_id"]).duplicated().to_numpy()  # duplicate ids: the first
    # a repeated loan id shares its first occurrence's schedule
    has = rows > 0 if first.all() else rows[positions(loans["loan_id"], loans["loan_id"])] > 0
    errors.check("loans", "loan_id", ~has, loans["loan_id"], "loan has no repayment schedule")
    if not len(s) or not n:  # no loans: every schedule row is an unknown loan (references)
        return
    disb = loans["disbursement_date"].to_numpy()
    early = known & (s["due_date"].to_numpy() <= disb[np.maximum(pos, 0)])
    errors.check("schedule", "due_date", early, lid, "due on or before disbursement")
    tot = np.bincount(pos[known], weights=floats(s["principal_due"])[known], minlength=n)
    amt = floats(loans["amount"])
    mism = first & (rows > 0) & (np.abs(tot - amt) > 0.01 * rows + 0.005)
    rule = "principal due does not add up to the loan amount"
    errors.check("schedule", "principal_due", mism, loans["loan_id"], rule)
