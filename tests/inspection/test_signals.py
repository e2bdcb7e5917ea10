"""Risk-signal catalogue, detection from data, manual recording and the watch list."""

import pandas as pd
import pytest

from riskkit.classification import Classifier
from riskkit.errors import ValidationError
from riskkit.inspection import (
    active_signals,
    detect_signals,
    load_manual_signals,
    record_signals,
    signal_catalogue,
    watch_list,
)
from riskkit.risk_signals import SIGNAL_CODES
from riskkit.store import Store
from tests.classification.helpers import AS_OF, loan_rows, make_book, on_time


def test_catalogue_has_the_16_signals_in_seed_order_then_guarantor_liability():
    cat = signal_catalogue()
    assert list(cat.index) == list(SIGNAL_CODES)
    assert cat["number"].tolist() == list(range(1, 17)) + [13]
    assert cat.index[-1] == "guarantor_liability"
    assert cat.loc["guarantor_liability", "detection"] == "derived"
    assert cat.loc["guarantor_liability", "minimum_category"] == "normal"
    assert cat.loc["death_or_missing", "zh"] == "借款人死亡、失踪或丧失民事行为能力"
    assert cat.loc["enforcement_started", "severity"] == "severe"
    assert cat.loc["contact_changes", "severity"] == "adverse"
    assert cat.loc["income_drop", "minimum_category"] == "substandard"
    assert cat.loc["missed_installment", "detection"] == "derived"
    assert cat.loc["guarantor_downgrade", "detection"] == "feed"
    assert cat.loc["law_change", "detection"] == "manual"
    assert not cat.loc["law_change", "detectable_from_data"]
    pol = {"classification": {"signal_minimum": {"health_worsened": "substandard"}}}
    assert signal_catalogue(pol).loc["health_worsened", "minimum_category"] == "substandard"


def detection_book():
    loans = loan_rows(["poor", "rich", "lowcol", "okcol", "late"], borrowers=list("PRLOT"))
    pays = on_time("poor", 9) + on_time("rich", 9) + on_time("lowcol", 9) + on_time("okcol", 9)
    pays += on_time("late", 7)
    borrowers = pd.DataFrame(
        {
            "borrower_id": list("PRLOT"),
            "segment": "trader",
            "monthly_income": [3000.0, 5000.0, 3000.0, 3000.0, 3000.0],
            # re-assessed at the last inspection: P's income fell below the installment
            "current_monthly_income": [800.0, 5000.0, float("nan"), 3000.0, 3000.0],
        }
    )
    collateral = pd.DataFrame(
        {
            "collateral_id": ["C1", "C1", "C1", "C2"],
            "loan_id": ["lowcol", "lowcol", "lowcol", "okcol"],
            "collateral_type": ["machinery", "machinery", "machinery", "real_estate"],
            "appraised_value": [10_000.0, 3_500.0, 50_000.0, 8_000.0],
            "valuation_date": pd.to_datetime(
                ["2025-01-10", "2025-09-01", "2025-11-20", "2025-01-10"]
            ),
        }
    )
    return make_book(loans, pays, borrowers=borrowers, collateral=collateral)


def test_detect_signals_from_data():
    book = detection_book()
    d = detect_signals(book, AS_OF)
    got = set(zip(d["loan_id"], d["signal"], strict=True))
    # poor: next installment 1,000 > re-assessed income 800; lowcol: latest value (1 Sep) 3,500 <= 1.2 x
    # 3,000 balance (the November valuation is after the as-of date); late: 2 missed
    assert got == {
        ("poor", "income_drop"),
        ("lowcol", "collateral_value_low"),
        ("late", "missed_installment"),
    }
    late = d[d["loan_id"] == "late"].iloc[0]
    assert late["signal_date"] == pd.Timestamp("2025-09-15")
    assert late["note"] == "2 missed period(s), 46 days past due"
    assert (d["source"] == "data").all()
    # stricter policy: 8,000 <= 3 x 3,000 flags okcol too
    d2 = detect_signals(book, AS_OF, {"inspection": {"collateral_value_warn_ratio": 3.0}})
    assert "okcol" in set(d2.loc[d2["signal"] == "collateral_value_low", "loan_id"])


def test_income_drop_needs_a_reassessed_income_and_ignores_balloons():
    book = detection_book()
    # onboarding income alone (even if below the installment) is no evidence of a drop
    b = book.borrowers.drop(columns="current_monthly_income").assign(monthly_income=100.0)
    book2 = make_book(book.loans, [], borrowers=b, collateral=book.collateral)
    assert "income_drop" not in set(detect_signals(book2, AS_OF)["signal"])


def test_detected_signals_feed_the_classifier():
    book = detection_book()
    res = Classifier().classify(book, AS_OF, extra_signals=detect_signals(book, AS_OF))
    assert res.table.loc["poor", "category"] == "substandard"
    assert res.table.loc["lowcol", "category"] == "special_mention"
    assert res.table.loc["rich", "category"] == "normal"
    assert "signal_income_drop" in res.rules_fired("poor")


def test_manual_signals_recorded_validated_and_on_watch_list(db_url):
    store = Store(db_url)
    book = detection_book()
    ok = {
        "loan_id": "rich",
        "signal_date": "2025-10-02",
        "signal": "law_change",
        "author": "Chen",
        "note": "new registration rule",
    }
    record_signals(store, [ok], loan_ids=book.loans["loan_id"], as_of=AS_OF)
    before = load_manual_signals(store)
    for bad in (
        {**ok, "signal": "bad_vibes"},
        {**ok, "author": " "},
        {**ok, "loan_id": "ghost"},
        {**ok, "signal_date": "2026-01-01"},
    ):
        with pytest.raises(ValidationError):
            record_signals(store, [ok, bad], loan_ids=book.loans["loan_id"], as_of=AS_OF)
    pd.testing.assert_frame_equal(load_manual_signals(store), before)
    assert before["author"].tolist() == ["Chen"]

    act = active_signals(book, AS_OF, store=store)
    assert ("rich", "law_change") in set(zip(act["loan_id"], act["signal"], strict=True))
    res = Classifier().classify(book, AS_OF)
    wl = watch_list(book, AS_OF, result=res, store=store)
    assert set(wl.index) == {"poor", "lowcol", "late", "rich"}
    assert wl.loc["rich", "signals"] == "law_change"
    assert wl.loc["late", "category"] == "special_mention"
    assert not wl["severe"].any()
