"""The :class:`LoanBook`: the tables of a lender's book, validated at construction."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from .schema import TABLES
from .validate import isin_values, validate_book

_DTYPES = {"date": "datetime64[ns]", "num": float, "int": np.int64, "bool": bool}


def empty_table(name: str) -> pd.DataFrame:
    """An empty table ``name`` with the schema's columns and dtypes."""
    return pd.DataFrame(
        {c.name: pd.Series(dtype=_DTYPES.get(c.kind, object)) for c in TABLES[name].columns}
    )


def _typed_if_empty(df, name: str):
    """An empty frame gets the schema's dtypes for its schema columns (it holds no value that
    could be coerced); anything else is returned as given."""
    if not isinstance(df, pd.DataFrame) or len(df) or pd.Index(df.columns).has_duplicates:
        return df
    kinds = {c.name: c.kind for c in TABLES[name].columns}
    out = df.copy()
    for c in df.columns:
        if kinds.get(c) in _DTYPES and not isinstance(df[c].dtype, pd.DatetimeTZDtype):
            try:
                out[c] = df[c].astype(_DTYPES[kinds[c]])
            except (TypeError, ValueError):  # left as given: validation names the dtype
                pass
    return out


def parse_as_of_date(value) -> pd.Timestamp | None:
    """The book's as-of date as a timezone-naive Timestamp (None stays None).

    Raises
    ------
    ValidationError
        ``value`` is not a date, or carries a timezone.
    """
    if value is None:
        return None
    errors = ProblemCollector("loan book")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        errors.add("book", "as_of_date", f"not a date (expected YYYY-MM-DD), got {value!r}")
        errors.raise_if_any()
    if ts is pd.NaT or ts.tz is not None:
        errors.add("book", "as_of_date", f"must be a date without timezone, got {value!r}")
    errors.raise_if_any()
    return ts


class LoanBook:
    """A loan book: loans, borrowers, guarantors, collateral, schedule, payments, signals.

    All tables are validated together when the book is built; a
    :class:`~riskkit.errors.ValidationError` lists every problem (table, column, loan id,
    rule). Nothing is dropped or coerced.

    Parameters
    ----------
    loans, schedule, payments : DataFrame
        Required tables (see :mod:`riskkit.book.schema`).
    borrowers, guarantors, collateral, signals, recovery_status : DataFrame, optional
        Missing tables are empty. ``recovery_status`` is the workout status history of
        defaulted loans (collection, guarantor called, legal action, collateral sale, estate
        claim, exhausted, cured); the classification reads "recovery exhausted" from it.
    as_of_date : date-like, optional
        Date the extract was taken (the default as-of date for derivations).
    validate : bool, default True

    Examples
    --------
    >>> from riskkit.datasets import make_microloan_book
    >>> book = make_microloan_book(n_loans=100, months=6, seed=0)
    >>> book.n_loans
    100
    """

    def __init__(
        self,
        loans: pd.DataFrame,
        schedule: pd.DataFrame,
        payments: pd.DataFrame,
        borrowers: pd.DataFrame | None = None,
        guarantors: pd.DataFrame | None = None,
        collateral: pd.DataFrame | None = None,
        signals: pd.DataFrame | None = None,
        recovery_status: pd.DataFrame | None = None,
        as_of_date=None,
        validate: bool = True,
    ):
        self.loans = _typed_if_empty(loans, "loans")
        self.schedule = _typed_if_empty(schedule, "schedule")
        self.payments = _typed_if_empty(payments, "payments")
        self.borrowers = _typed_if_empty(borrowers, "borrowers")
        self.guarantors = _typed_if_empty(guarantors, "guarantors")
        self.collateral = _typed_if_empty(collateral, "collateral")
        self.signals = _typed_if_empty(signals, "signals")
        self.recovery_status = _typed_if_empty(recovery_status, "recovery_status")
        # no borrower table given: nothing to check loans' borrower ids against
        self.check_borrowers = borrowers is not None
        for name in ("borrowers", "guarantors", "collateral", "signals", "recovery_status"):
            if getattr(self, name) is None:
                setattr(self, name, empty_table(name))
        self.as_of_date = parse_as_of_date(as_of_date)
        if validate:
            self.validate()

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All tables by name."""
        return {
            "loans": self.loans,
            "borrowers": self.borrowers,
            "guarantors": self.guarantors,
            "collateral": self.collateral,
            "schedule": self.schedule,
            "payments": self.payments,
            "signals": self.signals,
            "recovery_status": self.recovery_status,
        }

    def validate(self) -> LoanBook:
        """Validate every table and cross-reference; raise ValidationError listing all problems."""
        tables = self.tables
        if not self.check_borrowers:
            tables = {k: v for k, v in tables.items() if k != "borrowers"}
        validate_book(tables)
        return self

    @property
    def n_loans(self) -> int:
        return len(self.loans)

    @cached_property
    def schedule_index(self):
        """Flat, sorted arrays of schedule and payments used by the vectorised derivations."""
        from .delinquency import ScheduleIndex

        return ScheduleIndex.build(self.loans, self.schedule, self.payments)

    def status(self, as_of=None, policy=None) -> pd.DataFrame:
        """Delinquency of every loan as of a date (default: ``as_of_date``)."""
        from .delinquency import delinquency_status

        return delinquency_status(self, self._as_of(as_of), policy)

    def _as_of(self, as_of):
        if as_of is None:
            if self.as_of_date is None:
                raise ValueError("give as_of: this book has no as_of_date")
            return self.as_of_date
        return pd.Timestamp(as_of)

    def subset(self, loan_ids) -> LoanBook:
        """The book restricted to ``loan_ids`` (all tables filtered consistently)."""
        ids = pd.Index(pd.unique(np.asarray(loan_ids)))
        loans = self.loans[isin_values(self.loans["loan_id"], ids)]
        out = {
            name: df[isin_values(df["loan_id"], ids)].reset_index(drop=True)
            for name, df in self.tables.items()
            if name not in ("loans", "borrowers")
        }
        borrowers = self.borrowers[isin_values(self.borrowers["borrower_id"], loans["borrower_id"])]
        book = LoanBook(
            loans.reset_index(drop=True),
            borrowers=borrowers.reset_index(drop=True),
            as_of_date=self.as_of_date,
            validate=False,
            **out,
        )
        book.check_borrowers = self.check_borrowers
        return book

    def disbursed_by(self, as_of) -> LoanBook:
        """Loans disbursed on or before ``as_of``, with payments, signals and recovery status
        up to that date."""
        d = pd.Timestamp(as_of)
        sub = self.subset(self.loans.loc[self.loans["disbursement_date"] <= d, "loan_id"])
        sub.payments = sub.payments[sub.payments["payment_date"] <= d].reset_index(drop=True)
        sub.signals = sub.signals[sub.signals["signal_date"] <= d].reset_index(drop=True)
        rs = sub.recovery_status
        sub.recovery_status = rs[rs["status_date"] <= d].reset_index(drop=True)
        sub.as_of_date = d
        return sub

    def summary(self) -> pd.DataFrame:
        """Counts and amounts by product, repayment method and guarantee type."""
        g = self.loans.groupby(["product", "repayment_method", "guarantee_type"], observed=True)
        return g["amount"].agg(loans="size", amount="sum").reset_index()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        when = f", as_of={self.as_of_date.date()}" if self.as_of_date is not None else ""
        return f"LoanBook({sizes}{when})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{k}</td><td style='text-align:right'>{len(v):,}</td></tr>"
            for k, v in self.tables.items()
        )
        amt = self.loans["amount"].sum() if len(self.loans) else 0.0
        when = f" as of {self.as_of_date.date()}" if self.as_of_date is not None else ""
        return (
            f"<div><b>LoanBook</b>{when}: {self.n_loans:,} loans, "
            f"{amt:,.0f} disbursed<table><tr><th>table</th><th>rows</th></tr>{rows}</table></div>"
        )
