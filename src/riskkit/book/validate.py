"""Boundary validation of loan-book tables. Collects every problem, then raises one
:class:`~riskkit.errors.ValidationError` naming table, column, loan id and rule. Never drops or
coerces rows."""

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
    TableSpec,
)


def isin_values(s: pd.Series, values) -> np.ndarray:
    """``s.isin(values)`` as a bool array. pandas' ``str``-dtype ``isin`` converts every value
    in Python (seconds for a million ids); the object-dtype hash table is fast."""
    vals = pd.unique(np.asarray(values, dtype=object))
    return s.astype(object).isin(vals).to_numpy(dtype=bool)


def _row_ids(df: pd.DataFrame, spec: TableSpec) -> pd.Series:
    for c in ("loan_id", "borrower_id", "collateral_id"):
        if c in df.columns:
            return df[c].astype(str)
    return pd.Series(df.index.astype(str), index=df.index)


def _kind_ok(s: pd.Series, kind: str) -> bool:
    if kind == "num":
        return pdt.is_numeric_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype)
    if kind == "int":
        return pdt.is_integer_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype)
    if kind == "date":
        return pdt.is_datetime64_any_dtype(s.dtype)
    if kind == "bool":
        return pdt.is_bool_dtype(s.dtype)
    if kind == "id":
        return (
            pdt.is_string_dtype(s.dtype)
            or pdt.is_object_dtype(s.dtype)
            or (pdt.is_integer_dtype(s.dtype) and not pdt.is_bool_dtype(s.dtype))
        )
    # str, enum
    return (
        pdt.is_string_dtype(s.dtype)
        or pdt.is_object_dtype(s.dtype)
        or isinstance(s.dtype, pd.CategoricalDtype)
    )


_KIND_WORDS = {
    "num": "a numeric dtype",
    "int": "an integer dtype",
    "date": "a datetime64 dtype (parse dates explicitly when loading)",
    "bool": "a boolean dtype",
    "id": "string or integer ids",
    "str": "text",
    "enum": "text",
}


def validate_table(df: pd.DataFrame, name: str, errors: ProblemCollector) -> bool:
    """Check one table against its spec; return True if its columns are usable."""
    spec = TABLES[name]
    if not isinstance(df, pd.DataFrame):
        errors.add(name, "", f"must be a pandas DataFrame, got {type(df).__name__}")
        return False
    usable = errors.require(name, df, [c.name for c in spec.required])
    ids = _row_ids(df, spec)
    for col in spec.columns:
        if col.name not in df.columns:
            continue
        s = df[col.name]
        if len(s) and not _kind_ok(s, col.kind):  # an empty column holds no wrong value
            errors.add(name, col.name, f"must be {_KIND_WORDS[col.kind]}, got dtype {s.dtype}")
            usable = False
            continue
        null = s.isna().to_numpy()
        if not col.nullable and null.any():
            errors.check(name, col.name, null, ids, "missing value")
        if col.kind == "num":
            v = s.to_numpy(dtype=float, na_value=np.nan)
            errors.check(name, col.name, ~null & ~np.isfinite(v), ids, "not a finite number")
        if col.kind == "enum" and col.allowed:
            bad = ~null & ~s.astype(object).isin(col.allowed).to_numpy()
            if bad.any():
                vals = sorted({str(v) for v in s[bad].head(50)})[:5]
                errors.check(
                    name,
                    col.name,
                    bad,
                    ids,
                    f"unknown value(s) {vals}; allowed: {list(col.allowed)}",
                )
    if usable and spec.key and all(k in df.columns for k in spec.key):
        dup = df.duplicated(list(spec.key), keep=False).to_numpy()
        errors.check(name, "+".join(spec.key), dup, ids, "duplicate id")
    return usable


def validate_book(tables: dict[str, pd.DataFrame | None]) -> None:
    """Validate all tables and their cross-references; raise if anything is wrong."""
    errors = ProblemCollector("loan book")
    ok = {name: df is not None and validate_table(df, name, errors) for name, df in tables.items()}
    loans = tables.get("loans")
    if ok.get("loans"):
        lid = loans["loan_id"].astype(str)
        amt = loans["amount"].to_numpy(dtype=float)
        errors.check("loans", "amount", amt <= 0, lid, "must be positive")
        errors.check(
            "loans", "amount", amt > MAX_LOAN_AMOUNT, lid, f"absurd: above {MAX_LOAN_AMOUNT:,.0f}"
        )
        rate = loans["annual_rate"].to_numpy(dtype=float)
        errors.check(
            "loans",
            "annual_rate",
            (rate < 0) | (rate > MAX_ANNUAL_RATE),
            lid,
            f"must be a yearly fraction in [0, {MAX_ANNUAL_RATE}] (e.g. 0.12 for 12%)",
        )
        term = loans["term_months"].to_numpy()
        errors.check(
            "loans",
            "term_months",
            (term < 1) | (term > MAX_TERM_MONTHS),
            lid,
            f"must be in 1..{MAX_TERM_MONTHS}",
        )
    if ok.get("loans") and ok.get("borrowers"):
        unknown = ~isin_values(loans["borrower_id"], tables["borrowers"]["borrower_id"])
        errors.check("loans", "borrower_id", unknown, loans["loan_id"], "unknown borrower")
    if ok.get("borrowers") and "monthly_income" in tables["borrowers"].columns:
        b = tables["borrowers"]
        inc = b["monthly_income"].to_numpy(dtype=float, na_value=np.nan)
        errors.check("borrowers", "monthly_income", inc < 0, b["borrower_id"], "negative income")

    known = loans["loan_id"] if ok.get("loans") else None
    disb = loans.set_index("loan_id")["disbursement_date"] if ok.get("loans") else None
    if known is not None and not loans["loan_id"].is_unique:
        disb = disb[~disb.index.duplicated()]
    for name, date_col in (
        ("guarantors", None),
        ("collateral", "valuation_date"),
        ("schedule", "due_date"),
        ("payments", "payment_date"),
        ("signals", "signal_date"),
    ):
        df = tables.get(name)
        if df is None or not ok.get(name) or known is None:
            continue
        unk = ~isin_values(df["loan_id"], known)
        errors.check(name, "loan_id", unk, df["loan_id"], "unknown loan")
        if name in ("payments", "signals") and date_col:
            d0 = df["loan_id"].map(disb)
            early = (~unk) & (df[date_col] < d0).to_numpy(dtype=bool, na_value=False)
            errors.check(name, date_col, early, df["loan_id"], "before disbursement")
    if ok.get("payments"):
        p = tables["payments"]
        errors.check(
            "payments", "amount", p["amount"].to_numpy(float) <= 0, p["loan_id"], "must be positive"
        )
        errors.check(
            "payments",
            "amount",
            p["amount"].to_numpy(float) > MAX_LOAN_AMOUNT,
            p["loan_id"],
            f"absurd: above {MAX_LOAN_AMOUNT:,.0f}",
        )
    if ok.get("collateral"):
        c = tables["collateral"]
        errors.check(
            "collateral",
            "appraised_value",
            c["appraised_value"].to_numpy(float) < 0,
            c["loan_id"],
            "must not be negative",
        )
    if ok.get("schedule"):
        _validate_schedule(tables["schedule"], loans if ok.get("loans") else None, errors)
    errors.raise_if_any()


def _validate_schedule(s: pd.DataFrame, loans: pd.DataFrame | None, errors: ProblemCollector):
    lid = s["loan_id"]
    for c in ("principal_due", "interest_due"):
        errors.check("schedule", c, s[c].to_numpy(float) < 0, lid, "must not be negative")
    per = s["period"].to_numpy()
    errors.check("schedule", "period", per < 1, lid, "must start at 1")
    order = np.lexsort((per, lid.astype(str).to_numpy()))
    ss = s.iloc[order]
    same = ss["loan_id"].to_numpy()[1:] == ss["loan_id"].to_numpy()[:-1]
    dd = ss["due_date"].to_numpy()
    pp = ss["period"].to_numpy()
    gap = same & (pp[1:] != pp[:-1] + 1)
    errors.check("schedule", "period", gap, ss["loan_id"].to_numpy()[1:], "periods not contiguous")
    bad_order = same & (dd[1:] <= dd[:-1])
    errors.check(
        "schedule",
        "due_date",
        bad_order,
        ss["loan_id"].to_numpy()[1:],
        "due dates out of order (must increase with period)",
    )
    if loans is not None:
        disb = loans.drop_duplicates("loan_id").set_index("loan_id")["disbursement_date"]
        early = (s["due_date"] <= s["loan_id"].map(disb)).to_numpy(dtype=bool, na_value=False)
        errors.check("schedule", "due_date", early, lid, "due on or before disbursement")
        has = isin_values(loans["loan_id"], s["loan_id"])
        errors.check("loans", "loan_id", ~has, loans["loan_id"], "loan has no repayment schedule")
        tot = s.groupby("loan_id", sort=False)["principal_due"].sum()
        amt = loans.drop_duplicates("loan_id").set_index("loan_id")["amount"]
        diff = (tot - amt.reindex(tot.index)).abs()
        tol = 0.01 * s.groupby("loan_id", sort=False).size() + 0.005
        mism = (diff > tol).to_numpy(dtype=bool, na_value=False)
        errors.check(
            "schedule",
            "principal_due",
            mism,
            tot.index.to_series(),
            "principal due does not add up to the loan amount",
        )
