"""The classification history in one pass over the loan-month panel equals the month-end
classifications run one by one (signals, overrides, borrower consistency included)."""

import numpy as np
import pandas as pd
import pytest

from riskkit.classification import Classifier
from riskkit.datasets import make_microloan_book

POLICIES = [None, {"classification": {"borrower_consistency": True, "signal_active_months": 6}}]


@pytest.fixture(scope="module")
def book():
    return make_microloan_book(n_loans=900, months=24, seed=7)


def _extras(book, seed=1):
    rng = np.random.default_rng(seed)
    pick = rng.choice(book.n_loans, 60, replace=False)
    loans = book.loans.iloc[pick]
    span = (book.as_of_date - loans["disbursement_date"]).dt.days.to_numpy()
    when = loans["disbursement_date"] + pd.to_timedelta(rng.integers(0, span + 1), unit="D")
    return pd.DataFrame(
        {
            "loan_id": loans["loan_id"].to_numpy(),
            "signal_date": when.to_numpy(),
            "signal": rng.choice(["income_drop", "fund_misuse", "death_or_missing"], 60),
            "source": "manual",
            "note": rng.choice(["officer visit", "estate_exhausted"], 60),
        }
    )


def _overrides(book, dates):
    rows = []
    for k, d in enumerate(dates[-4:]):
        on = book.loans.loc[book.loans["disbursement_date"] <= d, "loan_id"]
        rows.append((d, on.iloc[k * 7], ["loss", "关注", "normal", "doubtful"][k]))
    return pd.DataFrame(
        {
            "as_of": [r[0] for r in rows],
            "loan_id": [r[1] for r in rows],
            "category": [r[2] for r in rows],
            "author": "Wang",
            "reason": "committee decision",
            "created_at": pd.Timestamp("2026-11-02"),
        }
    )


@pytest.mark.parametrize("policy", POLICIES)
def test_history_equals_one_classification_per_month(book, policy):
    dates = list(pd.date_range("2024-09-30", "2026-10-31", freq="ME"))  # the first before any loan
    extra, ov = _extras(book), _overrides(book, dates)
    clf = Classifier(policy)
    hist = clf.classify_history(book, dates, overrides=ov, extra_signals=extra)
    frames = []
    for d in dates:
        b = book.disbursed_by(d)
        if b.n_loans == 0:
            continue
        mine_ov = ov[ov["as_of"] == d]
        mine_ex = extra[extra["loan_id"].isin(b.loans["loan_id"])]
        frames.append(clf.classify(b, d, overrides=mine_ov, extra_signals=mine_ex).to_frame())
    loop = pd.concat(frames, ignore_index=True)
    assert len(hist) == len(loop) and hist["as_of"].nunique() == len(frames)
    for c in loop.columns:
        a, b = hist[c], loop[c]
        if isinstance(a.dtype, pd.CategoricalDtype) or isinstance(b.dtype, pd.CategoricalDtype):
            a, b = a.astype(str), b.astype(str)
        pd.testing.assert_series_equal(a, b, check_dtype=False, obj=c)
    # the overrides and the signals did something
    assert hist["override_author"].notna().sum() == 4
    assert hist["rules"].astype(str).str.contains("signal_fund_misuse").any()
    if policy:
        assert hist["rules"].astype(str).str.contains("borrower_consistency").any()


def test_history_with_only_some_columns(book):
    dates = list(pd.date_range("2026-05-31", "2026-10-31", freq="ME"))
    full = Classifier().classify_history(book, dates)
    few = Classifier().classify_history(book, dates, columns=["category", "paid_off"])
    assert list(few.columns) == ["as_of", "loan_id", "category", "paid_off"]
    pd.testing.assert_frame_equal(few, full[list(few.columns)])
