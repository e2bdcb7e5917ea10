"""Larger books from a generated one: the same tables under new, distinct string ids.

A realistic book of millions of loans takes minutes to simulate; for benchmarks and scale
tests the sample generator's book is copied with every id made distinct (``loan_id``,
``borrower_id``, ``guarantor_id``, ``group_id``, ``collateral_id``), so the copy looks like a
real extract of that size: string ids, all seven tables, the generator's behaviour mix.

Examples
--------
>>> from riskkit.datasets import make_microloan_book, replicate_book
>>> book = make_microloan_book(n_loans=100, months=6, seed=0)
>>> big = replicate_book(book, 3)
>>> big.n_loans, big.loans["loan_id"].is_unique, big.loans["loan_id"].iloc[100]
(300, True, 'R01-L0000001')
"""

from __future__ import annotations

import pandas as pd

from ..book.loanbook import LoanBook

#: Id columns of each table that name an entity of the book (relabelled per copy).
ID_COLUMNS = {
    "loans": ("loan_id", "borrower_id"),
    "borrowers": ("borrower_id",),
    "guarantors": ("loan_id", "guarantor_id", "group_id"),
    "collateral": ("collateral_id", "loan_id"),
    "schedule": ("loan_id",),
    "payments": ("loan_id",),
    "signals": ("loan_id",),
    "recovery_status": ("loan_id",),
}


def _prefixed(s: pd.Series, prefix: str) -> pd.Series:
    """``prefix`` + each id as ``str`` (missing stays missing)."""
    if not prefix:
        return s
    text = s.astype("str")
    return (prefix + text).where(text.notna())


def relabel_book(book: LoanBook, prefix: str) -> LoanBook:
    """The same book with ``prefix`` put before every id (see :data:`ID_COLUMNS`).

    Officers, branches and products are kept: a copy is more business of the same lender.
    """
    out = {}
    for name, df in book.tables.items():
        cols = {c: _prefixed(df[c], prefix) for c in ID_COLUMNS[name] if c in df.columns}
        out[name] = df.assign(**cols) if cols else df
    return LoanBook(as_of_date=book.as_of_date, validate=False, **out)


def concat_books(books: list[LoanBook], validate: bool = False) -> LoanBook:
    """One book holding every table of ``books`` (their ids must be distinct)."""
    first = books[0]
    tables = {
        name: pd.concat([b.tables[name] for b in books], ignore_index=True) for name in first.tables
    }
    return LoanBook(as_of_date=first.as_of_date, validate=validate, **tables)


def replicate_book(book: LoanBook, copies: int, validate: bool = False) -> LoanBook:
    """``copies`` copies of ``book`` with distinct ids: the first keeps its ids, copy *k*
    gets the prefix ``R{k:02d}-`` (``R123-`` beyond 99).

    Parameters
    ----------
    book : LoanBook
    copies : int
        At least 1.
    validate : bool, default False
        Validate the result (the copies of a valid book are valid by construction).
    """
    if int(copies) < 1:
        raise ValueError(f"copies must be at least 1, got {copies}")
    width = max(2, len(str(int(copies) - 1)))
    parts = [book] + [relabel_book(book, f"R{k:0{width}d}-") for k in range(1, int(copies))]
    return concat_books(parts, validate=validate)
