"""Periodic re-review: due by time since the last review, by a signal since, by category, by
the approved model's score drift; the suggested limit and action; reviews on record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit.errors import ValidationError
from riskkit.inspection.rereview import record_reviews, rereview_list
from riskkit.store import Store
from tests.classification.helpers import AS_OF, loan_rows, make_book, on_time


def _book(signals=None):
    """Four loans of 12,000 (1,000 a month, 9 due by 2025-10-31): K1 and K2 paid, K3 three
    installments behind (special mention), K4 paid but with a signal."""
    loans = loan_rows(["K1", "K2", "K3", "K4"], borrowers=["C1", "C2", "C3", "C4"])
    pays = on_time("K1", 9) + on_time("K2", 9) + on_time("K3", 6) + on_time("K4", 9)
    borrowers = pd.DataFrame({"borrower_id": ["C1", "C2", "C3", "C4"], "segment": "trader",
                              "monthly_income": [8000.0, 3000.0, 8000.0, 8000.0]})  # fmt: skip
    return make_book(loans, pays, signals=signals, borrowers=borrowers)


def test_due_by_time_signal_and_category():
    book = _book(signals=[("K4", "2025-09-02", "contact_changes", "phone changed")])
    r = rereview_list(book, AS_OF, policy={"rereview": {"every_months": 12}})
    # disbursed 2025-01-15: not yet 12 months; K3 special mention; K4's signal (which also
    # makes it special mention by the qualitative rule)
    assert r.table["reasons"].to_dict() == {"C3": "category", "C4": "signal,category"}
    assert r.table.loc["C4", "signals"] == "contact_changes"
    assert r.table.loc["C3", "action"] == "freeze"
    r6 = rereview_list(book, AS_OF, policy={"rereview": {"every_months": 9}})
    assert set(r6.table.index) == {"C1", "C2", "C3", "C4"}  # 2025-01-15 + 9 months <= as-of
    assert r6.table.loc["C1", "reasons"] == "time"
    assert r6.counts().to_dict() == {"time": 4, "signal": 1, "category": 2, "score_drift": 0}


def test_suggested_limit_follows_todays_income_and_the_structure():
    book = _book()
    r = rereview_list(book, AS_OF, policy={"rereview": {"every_months": 9}}).table
    # credit, 12 months at 0%: structure 100,000; capacity 0.5 x income x 12, rounded to 1,000
    assert r.loc["C1", "suggested_limit"] == 48_000 and r.loc["C1", "action"] == "increase"
    assert r.loc["C2", "suggested_limit"] == 18_000 and r.loc["C2", "action"] == "increase"
    assert r.loc["C1", "current_limit"] == 12_000 and r.loc["C1", "limit_change"] == 36_000
    pol = {"rereview": {"every_months": 9, "increase_margin": 1.0}}  # needs 24,000 for C2
    assert rereview_list(book, AS_OF, policy=pol).table.loc["C2", "action"] == "keep"


def test_a_recorded_review_resets_the_clock_and_the_signals():
    book = _book(signals=[("K4", "2025-09-02", "contact_changes", "phone changed")])
    store = Store("sqlite://")
    with pytest.raises(ValidationError, match="unknown outcome"):
        record_reviews(store, [{"borrower_id": "C4", "review_date": "2025-09-20",
                                "reviewer": "R01", "outcome": "maybe"}])  # fmt: skip
    record_reviews(store, [{"borrower_id": "C4", "review_date": "2025-09-20", "reviewer": "R01",
                            "outcome": "keep", "comment": "new phone verified on site"}])  # fmt: skip
    r = rereview_list(book, AS_OF, store=store, policy={"rereview": {"every_months": 9}})
    # reviewed after the signal and within 9 months: only its category keeps it on the list
    assert r.table.loc["C4", "reasons"] == "category"
    assert r.table.loc["C4", "last_review"] == pd.Timestamp("2025-09-20")
    assert r.table.loc["C1", "last_review"] == pd.Timestamp("2025-01-15")


def test_score_drift_with_the_approved_model():
    from riskkit.datasets import make_microloan_book
    from riskkit.scoring import Scorecard, WoETransformer, application_sample

    book = make_microloan_book(n_loans=2_500, months=30, seed=8)
    s = application_sample(book)
    feats = ["age", "monthly_income", "prior_delinquency", "payment_to_income", "segment"]
    sc = Scorecard(binning=WoETransformer(min_iv=0.0)).fit(s[feats], s["bad"])
    r = rereview_list(book, model=sc, label="sc v1").table
    drop = r["score_then"] - r["score_now"]
    flagged = r["reasons"].str.contains("score_drift")
    notch = r["grade_now"].str[1:].astype(int) - r["grade_then"].str[1:].astype(int)
    assert ((drop >= 20) | (notch >= 2))[flagged].all()
    assert not ((drop >= 20) | (notch >= 2))[~flagged].any()
    assert flagged.any()
    # a delinquent loan with this lender counts as delinquency in the re-score
    assert (r.loc[flagged, "category"] != "normal").mean() > 0.5
    assert np.isfinite(r["pd_now"]).all()
