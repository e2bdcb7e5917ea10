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


class _KeptLoans:
    """Which rows of a table name a kept loan. Ids held as codes (:meth:`LoanBook.compact`)
    are looked up once per distinct set of categories, not once per table."""

    def __init__(self, loan_ids: pd.Series, keep: np.ndarray, ids):
        self.loan_ids, self.keep, self.ids = loan_ids, keep, ids
        self._by_categories: dict[int, np.ndarray] = {}

    def rows(self, col: pd.Series) -> np.ndarray:
        if not isinstance(col.dtype, pd.CategoricalDtype):
            return isin_values(col, self.ids)
        from .keys import positions

        cats = col.dtype.categories
        hit = self._by_categories.get(id(cats))
        if hit is None:
            at = positions(self.loan_ids, cats)
            hit = np.where(at >= 0, self.keep[np.maximum(at, 0)], False) if len(at) else at > 0
            self._by_categories[id(cats)] = hit
        codes = col.cat.codes.to_numpy()
        if not len(hit):
            return np.zeros(len(codes), dtype=bool)
        return np.where(codes >= 0, hit[np.maximum(codes, 0)], False)


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
        pos = validate_book(tables)
        # the loan positions of the rows just matched, reused by the schedule index as long
        # as these very tables are the book's
        self._matched = {k: (tables[k], v) for k, v in pos.items() if k in ("schedule", "payments")}
        return self

    def compact(self) -> LoanBook:
        """The same book with the ``loan_id`` column of every other table held as a
        categorical of the loans' ids: the same values in about a fifth of the memory (a
        million-loan book with its 20 million schedule and payment rows saves some 300 MB),
        and lookups by code instead of by text. Tables naming unknown loans, and books whose
        loan ids repeat, are left as they are (validation reports them).

        Examples
        --------
        >>> from riskkit.datasets import make_microloan_book
        >>> c = make_microloan_book(n_loans=50, months=6, seed=0).compact()
        >>> str(c.schedule["loan_id"].dtype), c.schedule["loan_id"].iloc[0]
        ('category', 'L0000001')
        """
        from .keys import positions

        ids = self.loans["loan_id"]
        if ids.isna().any() or not ids.is_unique:
            return self
        cats = pd.CategoricalDtype(pd.Index(ids.array))
        out = {}
        for name, df in self.tables.items():
            if name in ("loans", "borrowers") or isinstance(
                df["loan_id"].dtype, pd.CategoricalDtype
            ):
                continue
            pos = positions(ids, df["loan_id"])
            if not (pos < 0).any():
                out[name] = df.assign(loan_id=pd.Categorical.from_codes(pos, dtype=cats))
        book = LoanBook(**{**self.tables, **out}, as_of_date=self.as_of_date, validate=False)
        book.check_borrowers = self.check_borrowers
        return book

    @property
    def n_loans(self) -> int:
        return len(self.loans)

    @cached_property
    def schedule_index(self):
        """Flat, sorted arrays of schedule and payments used by the vectorised derivations."""
        from .delinquency import ScheduleIndex

        matched = getattr(self, "_matched", {})

        def known(name):
            df, pos = matched.get(name, (None, None))
            return pos if df is self.tables[name] else None

        return ScheduleIndex.build(
            self.loans,
            self.schedule,
            self.payments,
            schedule_pos=known("schedule"),
            payment_pos=known("payments"),
        )

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
        # ids as given (an Arrow-backed column is hashed as it is, never turned into objects)
        ids = loan_ids if isinstance(loan_ids, pd.Series | pd.Index) else np.asarray(loan_ids)
        keep = isin_values(self.loans["loan_id"], ids)
        loans = self.loans[keep]
        kept = _KeptLoans(self.loans["loan_id"], keep, ids)
        out = {
            name: df[kept.rows(df["loan_id"])].reset_index(drop=True)
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
