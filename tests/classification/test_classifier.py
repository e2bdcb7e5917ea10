"""Five-category classifier on hand-built books (see helpers.py for the loan terms)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.categories import Category
from riskkit.classification import Classifier, apply_rules
from riskkit.classification.rules import signal_bit
from riskkit.errors import ValidationError
from riskkit.risk_signals import SIGNAL_CODES
from tests.classification.helpers import (
    AS_OF,
    DUE,
    loan_rows,
    make_book,
    missed_book,
    on_time,
)

NO_BACKSTOPS = {"classification": {"dpd_backstops": {"enabled": False}}}


def cats(res):
    return {k: Category.parse(v).code for k, v in res.table["category"].items()}


def test_quantitative_boundaries_without_backstops():
    book = missed_book({"m0": 0, "m1": 1, "m2": 2, "m3": 3, "m4": 4, "m6": 6, "m7": 7, "m9": 9})
    res = Classifier(NO_BACKSTOPS).classify(book, AS_OF)
    assert cats(res) == {
        "m0": "normal",
        "m1": "normal",  # 1-2 missed, incidental (no earlier late payment)
        "m2": "normal",
        "m3": "special_mention",
        "m4": "substandard",
        "m6": "substandard",
        "m7": "doubtful",
        "m9": "doubtful",
    }
    q = res.table["quantitative_category"].astype(str)
    assert (q == res.table["category"].astype(str)).all()
    assert res.table.loc["m4", "missed_periods"] == 4
    assert res.rules_fired("m4") == ["missed_substandard"]
    assert res.rules_fired("m0") == []


def test_thresholds_come_from_policy():
    pol = {
        "classification": {
            "dpd_backstops": {"enabled": False},
            "missed_periods": {"special_mention": 2, "substandard": 5, "doubtful": 8},
        }
    }
    book = missed_book({"m2": 2, "m4": 4, "m5": 5, "m8": 8})
    assert cats(Classifier(pol).classify(book, AS_OF)) == {
        "m2": "special_mention",
        "m4": "special_mention",
        "m5": "substandard",
        "m8": "doubtful",
    }


def test_default_backstops_any_overdue_and_90_days():
    book = missed_book({"m0": 0, "m1": 1, "m3": 3, "m4": 4})
    res = Classifier().classify(book, AS_OF)
    # m1: one missed (Oct 15), 16 days past due -> at least special mention
    assert res.table.loc["m1", "days_past_due"] == 16
    assert cats(res)["m1"] == "special_mention"
    assert res.rules_fired("m1") == ["dpd_overdue"]
    # m4: oldest missed 15 Jul -> 108 days
    assert res.table.loc["m4", "days_past_due"] == 108
    assert "dpd_over_substandard" in res.rules_fired("m4")


def test_dpd_backstop_boundaries_alone():
    # Quantitative thresholds pushed out of reach so only the DPD backstops act.
    pol = {
        "classification": {
            "missed_periods": {"special_mention": 50, "substandard": 51, "doubtful": 52}
        }
    }
    loans = loan_rows(["L"])
    book = make_book(loans, on_time("L", 5))  # paid Feb..Jun; Jul 15 is the oldest unpaid
    clf = Classifier(pol)
    # 2025-10-13 is exactly 90 days after 15 July; 10-14 is 91.
    assert cats(clf.classify(book, "2025-10-13"))["L"] == "special_mention"
    assert cats(clf.classify(book, "2025-10-14"))["L"] == "substandard"
    # 270 days after 15 July = 2026-04-11; 360 days = 2026-07-10
    assert cats(clf.classify(book, "2026-04-11"))["L"] == "substandard"
    assert cats(clf.classify(book, "2026-04-12"))["L"] == "doubtful"
    assert cats(clf.classify(book, "2026-07-10"))["L"] == "doubtful"
    r = clf.classify(book, "2026-07-11")
    assert cats(r)["L"] == "loss" and r.table.loc["L", "days_past_due"] == 361
    assert "dpd_over_loss" in r.rules_fired("L")
    # any_overdue can be switched to normal by policy
    pol2 = {
        "classification": {
            "missed_periods": pol["classification"]["missed_periods"],
            "dpd_backstops": {"any_overdue": "normal"},
        }
    }
    assert cats(Classifier(pol2).classify(book, "2025-07-20"))["L"] == "normal"


def test_not_incidental_one_missed_after_earlier_late_payment():
    loans = loan_rows(["inc", "late", "old"])
    pays = on_time("inc", 8)
    # late: the June installment (due 15 Jun, inside the 6 months to 31 Oct) paid on 2 July
    pays += [p for p in on_time("late", 8) if p[1] != DUE[4]] + [("late", "2025-07-02", 1000.0)]
    # old: the February installment paid late on 1 March (outside the 6-month window)
    pays += [p for p in on_time("old", 8) if p[1] != DUE[0]] + [("old", "2025-03-01", 1000.0)]
    book = make_book(loans, pays)
    res = Classifier(NO_BACKSTOPS).classify(book, AS_OF)
    assert res.table["missed_periods"].to_dict() == {"inc": 1, "late": 1, "old": 1}
    assert cats(res) == {"inc": "normal", "late": "special_mention", "old": "normal"}
    assert res.rules_fired("late") == ["not_incidental"]
    longer = {
        "classification": {"dpd_backstops": {"enabled": False}, "incidental_lookback_months": 9}
    }
    assert cats(Classifier(longer).classify(book, AS_OF))["old"] == "special_mention"


def _signal_book(signals, missed=None):
    missed = missed or {}
    ids = sorted({s[0] for s in signals} | set(missed))
    pays = []
    for lid in ids:
        pays += on_time(lid, 9 - missed.get(lid, 0))
    return make_book(loan_rows(ids), pays, signals=signals)


def test_qualitative_signals():
    sig = [
        ("enf", "2025-09-01", "enforcement_started", "guarantor called on"),
        ("dead", "2025-09-01", "death_or_missing", "heir contacted"),
        # words in a note never make a loan loss: only the structured recovery status does
        ("deadx", "2025-09-01", "death_or_missing", "Estate exhausted after probate"),
        ("enfx", "2025-09-01", "enforcement_started", "追偿完毕，仍有余额"),
        ("inc", "2025-09-01", "income_drop", None),
        ("con", "2025-09-01", "contact_changes", "moved twice"),
        ("mis", "2025-09-01", "missed_installment", None),
        ("fut", "2025-11-05", "enforcement_started", "after as-of"),
    ]
    res = Classifier().classify(_signal_book(sig), AS_OF)
    assert cats(res) == {
        "enf": "doubtful",
        "dead": "special_mention",
        "deadx": "special_mention",
        "enfx": "doubtful",
        "inc": "substandard",
        "con": "special_mention",
        "mis": "normal",
        "fut": "normal",
    }
    assert res.rules_fired("deadx") == ["signal_death_or_missing"]
    assert res.rules_fired("mis") == ["signal_missed_installment"]
    assert (res.table["quantitative_category"].astype(str) == "normal").all()


def test_recovery_status_drives_doubtful_and_loss():
    """The latest recovery status on or before the as-of date sets the minimum category:
    enforcement (guarantor called, legal action, collateral sale, estate claim) doubtful,
    exhausted loss; collection and cured adjust nothing; rows after the as-of date count not."""
    ids = ["col", "gua", "law", "sale", "est", "exh", "cur", "late", "same"]
    rec = [
        ("col", "2025-06-01", "collection"),
        ("gua", "2025-06-01", "collection"),
        ("gua", "2025-08-01", "guarantor_called"),
        ("law", "2025-07-01", "legal_action"),
        ("sale", "2025-09-01", "collateral_sale"),
        ("est", "2025-09-01", "estate_claim"),
        ("exh", "2025-03-01", "legal_action"),
        ("exh", "2025-10-31", "exhausted"),  # on the as-of date: counts
        ("cur", "2025-04-01", "legal_action"),
        ("cur", "2025-05-01", "cured"),
        ("late", "2025-09-01", "legal_action"),
        ("late", "2025-11-01", "exhausted"),  # after the as-of date
        ("same", "2025-09-01", "exhausted"),
        ("same", "2025-09-01", "cured"),  # same day: the later row wins
    ]
    book = make_book(loan_rows(ids), [p for i in ids for p in on_time(i, 9)], recovery_status=rec)
    res = Classifier().classify(book, AS_OF)
    assert cats(res) == {
        "col": "normal",
        "gua": "doubtful",
        "law": "doubtful",
        "sale": "doubtful",
        "est": "doubtful",
        "exh": "loss",
        "cur": "normal",
        "late": "doubtful",
        "same": "normal",
    }
    assert res.rules_fired("exh") == ["recovery_exhausted"]
    assert res.rules_fired("col") == ["recovery_collection"]
    assert "追偿终结" in res.table.loc["exh", "explanation_zh"]
    assert "at least loss" in res.table.loc["exh", "explanation_en"]
    # on the day before, loan exh was still under legal action
    assert cats(Classifier().classify(book, "2025-10-30"))["exh"] == "doubtful"


def test_recovery_status_minimum_is_policy():
    rec = [("a", "2025-06-01", "collection")]
    book = make_book(loan_rows(["a"]), on_time("a", 9), recovery_status=rec)
    pol = {"classification": {"recovery_status_minimum": {"collection": "special_mention"}}}
    assert cats(Classifier(pol).classify(book, AS_OF)) == {"a": "special_mention"}


def test_written_off_loans_are_off_the_balance_sheet():
    book = missed_book({"w": 9, "k": 9})
    wo = pd.DataFrame({"loan_id": ["w"], "write_off_date": pd.to_datetime(["2025-10-15"])})
    res = Classifier().classify(book, AS_OF, write_offs=wo)
    f = res.table
    assert f.loc["w", "written_off"] and not f.loc["k", "written_off"]
    assert f.loc["w", "outstanding_principal"] == 0.0 and f.loc["w", "arrears"] == 0.0
    assert f.loc["k", "outstanding_principal"] == 12_000.0
    assert "written_off" in res.rules_fired("w")
    # the claim is still tracked: missed periods and category are those of the rules
    assert f.loc["w", "missed_periods"] == 9 and str(f.loc["w", "category"]) == "doubtful"
    # before the write-off date the loan is still on the book
    before = Classifier().classify(book, "2025-10-14", write_offs=wo).table
    assert not before.loc["w", "written_off"] and before.loc["w", "outstanding_principal"] > 0
    bad = pd.DataFrame({"loan_id": ["zz"], "write_off_date": pd.to_datetime(["2025-10-15"])})
    with pytest.raises(ValidationError, match="unknown loan"):
        Classifier().classify(book, AS_OF, write_offs=bad)


def test_signal_adjusts_upward_only_and_stale_signals_expire():
    sig = [
        ("a", "2025-09-01", "contact_changes", None),  # SM, but loan is doubtful already
        ("b", "2025-02-01", "enforcement_started", None),  # persistent: never expires
        ("c", "2025-02-01", "contact_changes", None),  # 9 months before the as-of date
    ]
    book = _signal_book(sig, missed={"a": 8})
    res = Classifier().classify(book, AS_OF)
    assert cats(res) == {"a": "doubtful", "b": "doubtful", "c": "special_mention"}
    short = Classifier({"classification": {"signal_active_months": 6}}).classify(book, AS_OF)
    assert cats(short) == {"a": "doubtful", "b": "doubtful", "c": "normal"}


def test_explanation_texts():
    sig = [("L", "2025-09-01", "enforcement_started", None)]
    res = Classifier().classify(_signal_book(sig, missed={"L": 4}), AS_OF)
    assert res.table.loc["L", "explanation_zh"] == (
        "连续违约4期，次级（定量）；存在逾期，至少关注；逾期超过90天，至少次级；"
        "已要求履行保证、保险责任或诉诸法律，至少可疑；最终分类：可疑"
    )
    assert res.table.loc["L", "explanation_en"] == (
        "4 consecutive missed periods: Substandard (quantitative); overdue: at least special "
        "mention; over 90 days past due: at least substandard; guarantee, insurance or legal "
        "action invoked: at least doubtful; final: Doubtful"
    )


def test_borrower_consistency_option():
    loans = loan_rows(["a1", "a2", "b1"], borrowers=["A", "A", "B"])
    pays = on_time("a1", 2) + on_time("a2", 9) + on_time("b1", 9)  # a1: 7 missed
    book = make_book(loans, pays)
    assert cats(Classifier().classify(book, AS_OF)) == {
        "a1": "doubtful",
        "a2": "normal",
        "b1": "normal",
    }
    res = Classifier({"classification": {"borrower_consistency": True}}).classify(book, AS_OF)
    assert cats(res) == {"a1": "doubtful", "a2": "doubtful", "b1": "normal"}
    assert res.rules_fired("a2") == ["borrower_consistency"]
    assert res.table.loc["a2", "quantitative_category"] == "normal"


def test_paid_off_loan_is_normal_whatever_the_signals():
    loans = loan_rows(["P"])
    book = make_book(
        loans,
        [("P", "2025-03-01", 12_000.0)],
        signals=[("P", "2025-09-01", "contact_changes", None)],
    )
    res = Classifier().classify(book, AS_OF)
    assert cats(res) == {"P": "normal"}
    assert res.table.loc["P", "paid_off"]
    assert "paid_off" in res.rules_fired("P")


def test_overrides_apply_latest_and_are_explained():
    book = missed_book({"a": 0, "b": 4})
    ov = pd.DataFrame(
        {
            "loan_id": ["a", "a", "b"],
            "category": ["关注", "substandard", "doubtful"],
            "author": ["Li", "Zhang", "Zhang"],
            "reason": ["first view", "shop closed, confirmed on site", "court filing"],
            "created_at": pd.to_datetime(
                ["2025-10-30 09:00", "2025-10-30 15:00", "2025-10-29 08:00"]
            ),
        }
    )
    res = Classifier().classify(book, AS_OF, overrides=ov)
    assert cats(res) == {"a": "substandard", "b": "doubtful"}
    assert res.table.loc["a", "override_author"] == "Zhang"
    assert res.table.loc["a", "override_reason"] == "shop closed, confirmed on site"
    assert res.table.loc["a", "quantitative_category"] == "normal"
    assert res.rules_fired("a") == ["manual_override"]
    assert res.table.loc["a", "explanation_en"].endswith(
        "manual override: Substandard; final: Substandard"
    )
    # override for another as-of date does not apply
    ov2 = ov.assign(as_of=pd.Timestamp("2025-09-30"))
    assert cats(Classifier().classify(book, AS_OF, overrides=ov2))["a"] == "normal"


@pytest.mark.parametrize(
    "bad, column",
    [
        ({"category": "very bad"}, "category"),
        ({"category": 7}, "category"),
        ({"reason": "  "}, "reason"),
        ({"author": None}, "author"),
        ({"loan_id": "nope"}, "loan_id"),
        ({"as_of": "2026-13-45"}, "as_of"),  # not replaced by the run's date
    ],
)
def test_bad_override_is_a_clear_error(bad, column):
    book = missed_book({"a": 0})
    row = {"loan_id": "a", "category": "doubtful", "author": "Li", "reason": "r"}
    row.update(bad)
    with pytest.raises(ValidationError) as e:
        Classifier().classify(book, AS_OF, overrides=[row])
    assert f"overrides.{column}" in str(e.value)


def test_loans_disbursed_after_as_of_are_an_error_not_dropped():
    book = missed_book({"a": 0})
    with pytest.raises(ValidationError) as e:
        Classifier().classify(book, "2025-01-10")
    msg = str(e.value)
    assert "loans.disbursement_date" in msg and "a" in msg and "disbursed_by" in msg
    # the explicit selection works
    assert len(Classifier().classify(book.disbursed_by("2025-01-10"), "2025-01-10")) == 0


def test_unknown_loans_and_missing_schedule_are_errors():
    loans = loan_rows(["a", "b"])
    book = make_book(loans, on_time("a", 3) + [("zz", "2025-03-01", 5.0)], validate=False)
    book.schedule = book.schedule[book.schedule["loan_id"] != "b"].reset_index(drop=True)
    book.signals = pd.DataFrame(
        {
            "loan_id": ["yy"],
            "signal_date": pd.to_datetime(["2025-05-01"]),
            "signal": ["income_drop"],
            "source": ["manual"],
            "note": [None],
        }
    )
    with pytest.raises(ValidationError) as e:
        Classifier().classify(book, AS_OF)
    msg = str(e.value)
    assert "loans.loan_id: loan has no repayment schedule" in msg and "loan id b" in msg
    assert "payments.loan_id: unknown loan" in msg and "zz" in msg


def test_every_loan_exactly_one_category_and_summary_numbers():
    book = missed_book({"m0": 0, "m1": 1, "m3": 3, "m4": 4, "m7": 7})
    res = Classifier().classify(book, AS_OF)
    assert res.table.index.is_unique and res.table["category"].notna().all()
    s = res.summary()
    # balances: 3,000 + 4,000 | 6,000 | 7,000 | 10,000 (outstanding = 12,000 - paid)
    assert s.loc["normal", "balance"] == 3000.0
    assert s.loc["special_mention", "balance"] == 4000.0 + 6000.0
    assert s.loc["substandard", "balance"] == 7000.0
    assert s.loc["doubtful", "balance"] == 10_000.0
    assert s.loc["total", "loans"] == 5 and s.loc["total", "balance"] == 30_000.0
    assert res.npl_ratio == pytest.approx(17_000 / 30_000)
    assert s.attrs["npl_ratio"] == pytest.approx(17_000 / 30_000)
    assert "npl_ratio=56.67%" in repr(res)
    assert "不良贷款率" in res._repr_html_()
    f = res.to_frame()
    assert list(f.columns[:2]) == ["as_of", "loan_id"] and (f["as_of"] == AS_OF).all()


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    missed=st.lists(st.integers(0, 40), min_size=1, max_size=30),
    extra=st.integers(1, 12),
    signals=st.sets(st.sampled_from(SIGNAL_CODES), max_size=4),
    late=st.booleans(),
    backstops=st.booleans(),
)
def test_more_missed_periods_never_improve_the_category(missed, extra, signals, late, backstops):
    m = np.array(missed)
    # days past due grow with missed periods (about a month each)
    dpd = np.where(m > 0, m * 30 - 15, 0)
    bits = np.full(len(m), sum(1 << signal_bit(s) for s in signals), dtype=np.int64)
    pol = {"classification": {"dpd_backstops": {"enabled": backstops}}}
    kw = dict(signal_bits=bits, late_recent=np.full(len(m), late), policy=pol)
    a = apply_rules(m, dpd, **kw)
    m2 = m + extra
    b = apply_rules(m2, np.where(m2 > 0, m2 * 30 - 15, 0), **kw)
    assert (b.final >= a.final).all()
    assert (b.quantitative >= a.quantitative).all()
    assert ((a.final >= 0) & (a.final <= 4)).all()  # exactly one valid category each


@settings(max_examples=15, deadline=None)
@given(
    signal=st.sampled_from((None,) + SIGNAL_CODES),
    backstops=st.booleans(),
)
def test_book_level_monotone_in_missed_periods(signal, backstops):
    ids = [f"m{k}" for k in range(10)]
    pays = []
    for k, lid in enumerate(ids):
        pays += on_time(lid, 9 - k)
    sig = [(lid, "2025-09-01", signal, None) for lid in ids] if signal else None
    book = make_book(loan_rows(ids), pays, signals=sig)
    pol = {"classification": {"dpd_backstops": {"enabled": backstops}}}
    res = Classifier(pol).classify(book, AS_OF)
    codes = res.table["category"].cat.codes.to_numpy()
    assert (np.diff(codes) >= 0).all()
    assert len(codes) == 10 and res.table.index.is_unique


def test_extra_signal_without_date_is_an_error_not_ignored():
    book = make_book(loan_rows(["L1"]), on_time("L1", 3))
    extra = pd.DataFrame(
        {
            "loan_id": ["L1"],
            "signal_date": pd.to_datetime([None]),
            "signal": ["enforcement_started"],
            "source": ["data"],
            "note": [""],
        }
    )
    with pytest.raises(ValidationError, match=r"signals.signal_date: missing value.*L1"):
        Classifier().classify(book, AS_OF, extra_signals=extra)
