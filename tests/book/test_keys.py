"""Ids matched once at the boundary: the Arrow lookups equal pandas' own, for text, integer,
categorical and object ids; a book's per-loan figures do not depend on the book's row order or
on which other loans share it; compact ids and replicated books keep every value."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.book.keys import factorize_ids, isin_values, positions
from riskkit.datasets import make_microloan_book, replicate_book
from riskkit.errors import ValidationError

IDS = st.lists(st.sampled_from(["L1", "L2", "L10", "B7", "", "l1"]), max_size=30)


@settings(max_examples=60, deadline=None)
@given(keys=IDS, values=IDS, kind=st.sampled_from(["str", "object", "category"]))
def test_positions_and_isin_equal_pandas(keys, values, kind):
    k = pd.Series(keys, dtype="str")
    v = pd.Series(values, dtype="str").astype(kind)
    first = pd.Index(keys).drop_duplicates()
    want = np.array([keys.index(x) if x in first else -1 for x in values], dtype=np.int64)
    np.testing.assert_array_equal(positions(k, v), want)
    np.testing.assert_array_equal(isin_values(v, k), pd.Series(values).isin(keys).to_numpy())


def test_missing_and_integer_ids():
    k = pd.Series(["L1", None, "L3"], dtype="str")
    assert positions(k, pd.Series([None, "L3"], dtype="str")).tolist() == [-1, 2]
    assert positions(pd.Series([7, 8]), pd.Series([8, 9, 7])).tolist() == [1, -1, 0]
    # text never matches an integer id, even when it spells it
    assert positions(pd.Series([1, 2]), pd.Series(["1", "2"], dtype="str")).tolist() == [-1, -1]
    assert isin_values(pd.Series(["1"], dtype="str"), pd.Series([1])).tolist() == [False]


def test_factorize_ids():
    codes, uniq = factorize_ids(pd.Series(["b", "a", None, "b"], dtype="str"))
    assert codes.tolist() == [0, 1, -1, 0] and uniq.tolist() == ["b", "a"]


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=600, months=24, seed=11)


def test_status_does_not_depend_on_row_order_or_other_loans(book):
    """Every per-loan sum runs in period order from the loan's own first installment: shuffled
    tables, a book split in two and the whole book give bit-identical figures."""
    whole = book.status(book.as_of_date)
    rng = np.random.default_rng(0)
    shuffled = type(book)(
        **{k: v.sample(frac=1.0, random_state=1) for k, v in book.tables.items()},
        as_of_date=book.as_of_date,
    )
    pd.testing.assert_frame_equal(shuffled.status().loc[whole.index], whole)
    ids = book.loans["loan_id"].to_numpy()
    half = rng.permutation(ids)[: len(ids) // 2]
    parts = [book.subset(half), book.subset(np.setdiff1d(ids, half))]
    split = pd.concat([p.status() for p in parts]).loc[whole.index]
    pd.testing.assert_frame_equal(split, whole)


def test_compact_keeps_values_and_results(book):
    c = book.compact()
    for name in ("schedule", "payments", "signals", "guarantors", "collateral"):
        assert isinstance(c.tables[name]["loan_id"].dtype, pd.CategoricalDtype), name
        assert c.tables[name]["loan_id"].astype("str").equals(book.tables[name]["loan_id"])
    c.validate()
    pd.testing.assert_frame_equal(c.status(), book.status())
    sub = c.subset(book.loans["loan_id"].iloc[:10])
    assert sub.n_loans == 10 and set(sub.payments["loan_id"]) <= set(sub.loans["loan_id"])


def test_compact_leaves_unknown_loans_for_validation(book):
    t = {k: v.copy() for k, v in book.tables.items()}
    t["payments"].loc[0, "loan_id"] = "NOPE"
    bad = type(book)(**t, as_of_date=book.as_of_date, validate=False).compact()
    assert bad.payments["loan_id"].dtype == "str"  # not coerced to a missing category
    with pytest.raises(ValidationError, match=r"payments.loan_id: unknown loan \[1 row.*NOPE"):
        bad.validate()


def test_replicate_book_distinct_ids_same_behaviour(book):
    big = replicate_book(book, 3, validate=True)
    assert big.n_loans == 3 * book.n_loans and big.loans["loan_id"].is_unique
    for name, df in book.tables.items():
        assert len(big.tables[name]) == 3 * len(df), name
    st3 = big.status()
    copy = st3.loc["R02-" + book.loans["loan_id"]].set_axis(book.loans["loan_id"])
    pd.testing.assert_frame_equal(copy.rename_axis("loan_id"), book.status())
    g = big.guarantors.dropna(subset=["group_id"])
    assert g["group_id"].str.startswith(("R01-", "R02-", "JG")).all()
