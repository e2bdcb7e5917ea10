"""Fuzz: `LoanBook` raises nothing but ValidationError on the frames it is given, keeps the
frames it accepts unchanged, and a book it accepts derives its status."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from riskkit.book import LoanBook
from riskkit.errors import ValidationError
from tests.conftest import hand_book

from .conftest import fuzz_settings

BASE = hand_book([("2026-02-15", 1000.0), ("2026-03-20", 500.0)])
TABLES = list(BASE.tables)

scalars = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(pd.NA),
    st.just(pd.NaT),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1)),
    st.just(pd.Timestamp("2026-01-15", tz="Asia/Shanghai")),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.binary(max_size=4),
)


def _column(n: int, data) -> pd.Series:
    kind = data.draw(
        st.sampled_from(["objects", "ints", "floats", "text", "tz", "bools", "nullable"])
    )
    if kind == "objects":
        return pd.Series(data.draw(st.lists(scalars, min_size=n, max_size=n)), dtype=object)
    if kind == "ints":
        return pd.Series(data.draw(st.lists(st.integers(-10, 400), min_size=n, max_size=n)))
    if kind == "floats":
        floats = st.floats(allow_nan=True, allow_infinity=True)
        return pd.Series(data.draw(st.lists(floats, min_size=n, max_size=n)), dtype=float)
    if kind == "text":
        return pd.Series(data.draw(st.lists(st.text(max_size=6), min_size=n, max_size=n)))
    if kind == "tz":
        return pd.Series(pd.date_range("2026-01-01", periods=n, tz="UTC"))
    if kind == "bools":
        return pd.Series(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return pd.Series(pd.array([None] * n, dtype="Int64"))


def _mutate(tables: dict, data) -> dict:
    frames = [k for k in TABLES if isinstance(tables[k], pd.DataFrame)]
    if not frames:
        return tables
    name = data.draw(st.sampled_from(frames))
    df = tables[name]
    action = data.draw(
        st.sampled_from(["column", "drop", "empty", "none", "dict", "dup_rows", "rename", "cell"])
    )
    if action == "column" and len(df.columns):
        col = data.draw(st.sampled_from(list(df.columns)))
        df = df.copy()
        df[col] = _column(len(df), data).to_numpy() if len(df) else df[col]
    elif action == "drop" and len(df.columns):
        df = df.drop(columns=[data.draw(st.sampled_from(list(df.columns)))])
    elif action == "empty":
        df = df.iloc[:0]
    elif action == "none":
        df = None
    elif action == "dict":
        df = df.to_dict()
    elif action == "dup_rows":
        df = pd.concat([df, df], ignore_index=True)
    elif action == "rename" and len(df.columns) > 1:
        a, b = data.draw(st.permutations(list(df.columns)))[:2]
        df = df.rename(columns={a: b})
    elif action == "cell" and len(df) and len(df.columns):
        df = df.astype(object)
        df.iat[
            data.draw(st.integers(0, len(df) - 1)), data.draw(st.integers(0, len(df.columns) - 1))
        ] = data.draw(scalars)
    tables[name] = df
    return tables


@fuzz_settings(200)
@given(data=st.data())
def test_loanbook_raises_only_validation_errors(data):
    tables = {k: v.copy() for k, v in BASE.tables.items()}
    for _ in range(data.draw(st.integers(1, 3))):
        tables = _mutate(tables, data)
    given_frames = {k: (v.copy() if isinstance(v, pd.DataFrame) else v) for k, v in tables.items()}
    as_of = data.draw(st.one_of(st.none(), st.just("2026-04-30"), st.text(max_size=6), scalars))
    try:
        book = LoanBook(as_of_date=as_of, **tables)
    except ValidationError:
        return
    for name, df in given_frames.items():  # the input frames are never changed
        if isinstance(df, pd.DataFrame):
            pd.testing.assert_frame_equal(tables[name], df)
            if len(df):
                pd.testing.assert_frame_equal(book.tables[name], df)
    status = book.status("2026-04-30")
    assert len(status) == book.n_loans
    assert np.isfinite(status["outstanding_principal"].to_numpy(dtype=float)).all()
