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


def isin_values(s: pd.Series, values) -> np.ndarray:
    """``s.isin(values)`` as a bool array. pandas' ``str``-dtype ``isin`` converts every value
    in Python (seconds for a million ids); the object-dtype hash table is fast."""
    vals = pd.unique(np.asarray(values, dtype=object))
    return s.astype(object).isin(vals).to_numpy(dtype=bool)


def positions(values, index) -> np.ndarray:
    """Position of each of ``values`` in ``index`` (the first match; -1 when absent), hashed
    by Arrow: a million string ids in a fraction of a second, without converting them to
    Python objects.

    >>> positions(["b", "x", "a"], pd.Index(["a", "b", "c"])).tolist()
    [1, -1, 0]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def arrow(x):
        try:
            return pa.array(x) if not isinstance(x, pd.Index | pd.Series) else pa.array(x.array)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return pa.array(np.asarray(x, dtype=object).astype(str))

    v, idx = arrow(values), arrow(index)
    if v.type != idx.type:
        v, idx = v.cast(pa.string()), idx.cast(pa.string())
    out = pc.index_in(v, value_set=idx).to_numpy(zero_copy_only=False)
    return np.where(np.isnan(out.astype(float)), -1, out).astype(np.int64)


def floats(s: pd.Series) -> np.ndarray:
    """A numeric column as float64 with missing values (also ``pd.NA``) as NaN."""
    return s.to_numpy(dtype=float, na_value=np.nan)


def disbursement_of(loans: pd.DataFrame, loan_ids: pd.Series) -> np.ndarray:
    """Disbursement date of each of ``loan_ids`` (NaT for a loan not in ``loans``), as
    ``datetime64`` values whatever the tables' sizes (comparisons with NaT are False)."""
    disb = loans.drop_duplicates("loan_id").set_index("loan_id")["disbursement_date"]
    return disb.reindex(loan_ids.to_numpy()).to_numpy(dtype="datetime64[ns]")


def id_labels(s: pd.Series) -> pd.Series:
    """Ids as text for messages (any cell, bytes and objects included, becomes its str)."""
    if pdt.is_object_dtype(s.dtype):
        return s.map(lambda v: v if isinstance(v, str) else str(v))
    return s.astype(str)


def _row_ids(df: pd.DataFrame, spec: TableSpec) -> pd.Series:
    for c in ("loan_id", "application_id", "borrower_id", "collateral_id"):
        if c in df.columns and not isinstance(df[c], pd.DataFrame):
            return id_labels(df[c])
    return pd.Series(df.index.astype(str), index=df.index)


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
        bad = ~null & ~s.astype(object).isin(col.allowed).to_numpy(dtype=bool)
        if bad.any():
            vals = sorted({str(v) for v in s[bad].head(50)})[:5]
            rule = f"unknown value(s) {vals}; allowed: {list(col.allowed)}"
            errors.check(name, col.name, bad, ids, rule)
    return True


def validate_table(
    df: pd.DataFrame, name: str, errors: ProblemCollector, spec: TableSpec | None = None
) -> bool:
    """Check one table against its spec (default: the loan-book table ``name``, e.g. for
    credit applications :data:`riskkit.lending.applications.APPLICATIONS`); return True if its
    columns are usable."""
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
    if usable and spec.key and len(df) and all(k in df.columns for k in spec.key):
        dup = df.duplicated(list(spec.key), keep=False).to_numpy()
        errors.check(name, "+".join(spec.key), dup, ids, "duplicate id")
    return usable


def _check_present(tables: dict, errors: ProblemCollector) -> None:
    for name in REQUIRED_TABLES:
        if name in tables and tables[name] is None:
            errors.add(name, "", "required table missing (got None)")


def _validate_loans(loans: pd.DataFrame, errors: ProblemCollector) -> None:
    lid = id_labels(loans["loan_id"])
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


def _validate_references(tables: dict, ok: dict, errors: ProblemCollector) -> None:
    """Every child row names a known loan; payments, signals and recovery-status rows follow
    disbursement."""
    if not ok.get("loans"):
        return
    loans = tables["loans"]
    for name, date_col in _DATED_CHILDREN:
        df = tables.get(name)
        if df is None or not ok.get(name) or not len(df):
            continue
        unk = ~isin_values(df["loan_id"], loans["loan_id"])
        errors.check(name, "loan_id", unk, df["loan_id"], "unknown loan")
        if name in ("payments", "signals", "recovery_status"):
            early = ~unk & (df[date_col].to_numpy() < disbursement_of(loans, df["loan_id"]))
            errors.check(name, date_col, early, df["loan_id"], "before disbursement")


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


def validate_book(tables: dict[str, pd.DataFrame | None]) -> None:
    """Validate all tables and their cross-references; raise if anything is wrong."""
    errors = ProblemCollector("loan book")
    _check_present(tables, errors)
    ok = {name: df is not None and validate_table(df, name, errors) for name, df in tables.items()}
    if ok.get("loans"):
        _validate_loans(tables["loans"], errors)
    _validate_borrowers(tables, ok, errors)
    _validate_references(tables, ok, errors)
    _validate_amounts(tables, ok, errors)
    if ok.get("schedule"):
        _validate_schedule(tables["schedule"], tables["loans"] if ok.get("loans") else None, errors)
    errors.raise_if_any()


def _validate_periods(s: pd.DataFrame, errors: ProblemCollector) -> None:
    """Per loan: periods 1, 2, ..., n without gaps; due dates increase with the period."""
    lid = s["loan_id"].astype("str").fillna("").to_numpy(dtype=object)  # missing ids sort first
    per = floats(s["period"])
    order = np.lexsort((per, lid))
    ids, pp, dd = lid[order], per[order], s["due_date"].to_numpy()[order]
    first = np.r_[True, ids[1:] != ids[:-1]] if len(ids) else np.zeros(0, dtype=bool)
    errors.check("schedule", "period", first & (pp != 1), ids, "must start at 1")
    same = ~first[1:]
    gap = same & (pp[1:] != pp[:-1] + 1)
    errors.check("schedule", "period", gap, ids[1:], "periods not contiguous")
    bad_order = same & (dd[1:] <= dd[:-1])
    rule = "due dates out of order (must increase with period)"
    errors.check("schedule", "due_date", bad_order, ids[1:], rule)


def _validate_schedule(s: pd.DataFrame, loans: pd.DataFrame | None, errors: ProblemCollector):
    lid = s["loan_id"]
    for c in ("principal_due", "interest_due"):
        errors.check("schedule", c, floats(s[c]) < 0, lid, "must not be negative")
    _validate_periods(s, errors)
    if loans is None:
        return
    has = isin_values(loans["loan_id"], s["loan_id"])
    errors.check("loans", "loan_id", ~has, loans["loan_id"], "loan has no repayment schedule")
    if not len(s):
        return
    unique_loans = loans.drop_duplicates("loan_id").set_index("loan_id")
    early = s["due_date"].to_numpy() <= disbursement_of(loans, lid)
    errors.check("schedule", "due_date", early, lid, "due on or before disbursement")
    tot = s.groupby("loan_id", sort=False)["principal_due"].sum()
    diff = (tot - unique_loans["amount"].reindex(tot.index)).abs()
    tol = 0.01 * s.groupby("loan_id", sort=False).size() + 0.005
    mism = (diff > tol).to_numpy(dtype=bool, na_value=False)
    errors.check(
        "schedule",
        "principal_due",
        mism,
        tot.index.to_series(),
        "principal due does not add up to the loan amount",
    )
