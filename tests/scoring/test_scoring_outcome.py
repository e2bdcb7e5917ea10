"""The outcome definition (policy scorecard.outcome): hand-built loans, and the structural
check on the sample book."""

from __future__ import annotations

import pandas as pd
import pytest

from riskkit.book import LoanBook, delinquency_history
from riskkit.datasets import make_microloan_book
from riskkit.scoring import application_sample
from riskkit.scoring.sample import OutcomeDefinition, outcome_table
from tests.conftest import hand_book

DEFAULT = OutcomeDefinition.from_policy()


def _as_of(book: LoanBook, as_of) -> LoanBook:
    return LoanBook(
        book.loans,
        book.schedule,
        book.payments,
        borrowers=book.borrowers,
        as_of_date=as_of,
    )


def test_unpaid_bullet_is_bad_by_days_past_due_after_maturity():
    """12-month bullet disbursed 2026-01-15, nothing paid. Maturity 2027-01-15; the fixed
    15-month window runs to 2027-04-15, rounded up to 2027-04-30, when it is 105 days past due.
    Under the old rule (3 missed periods within 12 months) it was good: nothing fell due; with
    a 12-month window (to 2027-01-31, 16 days past due) it would be good again."""
    book = _as_of(hand_book(amount=12_000, rate=0.12, term=12, method="bullet"), "2027-06-30")
    t = outcome_table(book, DEFAULT).loc["L1"]
    assert t["window_end"] == pd.Timestamp("2027-04-30")
    assert t["worst_days_past_due"] == 105 and t["outcome"] == "bad"
    early = _as_of(book, "2027-03-31")  # window not over yet: immature, bad or not
    assert outcome_table(early, DEFAULT).loc["L1", "outcome"] == "immature"
    twelve = outcome_table(book, OutcomeDefinition(window_months=12)).loc["L1"]
    assert twelve["window_end"] == pd.Timestamp("2027-01-31")
    assert (twelve["worst_days_past_due"], twelve["outcome"]) == (16, "good")


def test_fixed_window_is_the_same_for_every_term():
    """24-month annuity of 24,000 at 0% disbursed 2026-01-15, nothing paid. Fixed rule: the
    window ends 15 months later, 2027-04-15 -> 2027-04-30, the same as for a 3-month loan;
    at 2027-03-31 the 15 February 2026 installment is 409 days past due: bad. The
    to-maturity rule (kept as an option) would watch it to 2028-01-15 + 90 days -> 2028-04-30,
    so at 2027-06-30 it is still immature."""
    book = _as_of(hand_book(amount=24_000, term=24, method="annuity"), "2027-06-30")
    t = outcome_table(book, DEFAULT).loc["L1"]
    assert t["window_end"] == pd.Timestamp("2027-04-30") and t["outcome"] == "bad"
    assert (
        t["worst_days_past_due"] == (pd.Timestamp("2027-04-30") - pd.Timestamp("2026-02-15")).days
    )
    short = _as_of(hand_book(amount=3_000, term=3, method="annuity"), "2027-06-30")
    assert outcome_table(short, DEFAULT).loc["L1", "window_end"] == t["window_end"]
    old = OutcomeDefinition.from_policy(window_rule="to_maturity")
    o = outcome_table(book, old).loc["L1"]
    assert o["window_end"] == pd.Timestamp("2028-04-30") and o["outcome"] == "immature"
    with pytest.raises(ValueError, match="window_rule"):
        OutcomeDefinition(window_rule="to_term")


def test_cured_arrears_are_indeterminate_and_a_clean_loan_good():
    """12 x 1,000 at 0%: paid in February and March, April and May missed, all caught up on
    2026-06-10 and paid on time after. Worst month-end: 2026-05-31, 46 days past the 15 April
    installment with 2 missed periods: indeterminate (30-89 days), neither good nor bad."""
    pays = [("2026-02-14", 1000), ("2026-03-14", 1000), ("2026-06-10", 3000)]
    pays += [(f"2026-{m:02d}-14", 1000) for m in range(7, 13)] + [("2027-01-14", 1000)]
    book = _as_of(hand_book(pays, amount=12_000, term=12, method="annuity"), "2027-06-30")
    t = outcome_table(book, DEFAULT).loc["L1"]
    assert (t["worst_days_past_due"], t["worst_missed_periods"]) == (46, 2)
    assert t["outcome"] == "indeterminate"
    clean = [(f"2026-{m:02d}-14", 1000) for m in range(2, 13)] + [("2027-01-14", 1000)]
    book = _as_of(hand_book(clean, amount=12_000, term=12, method="annuity"), "2027-06-30")
    assert outcome_table(book, DEFAULT).loc["L1", "outcome"] == "good"
    # three missed installments in a row make it bad before 90 days (whichever first)
    miss3 = [("2026-02-14", 1000)]
    book = _as_of(hand_book(miss3, amount=12_000, term=12, method="annuity"), "2027-06-30")
    t = outcome_table(book, DEFAULT).loc["L1"]
    assert t["worst_missed_periods"] >= 3 and t["outcome"] == "bad"


def test_definition_is_policy():
    d = OutcomeDefinition.from_policy({"scorecard": {"outcome": {"bad_days_past_due": 60}}})
    assert d.bad_days_past_due == 60 and d.bad_missed_periods == 3
    assert "60+ days past due" in d.describe()
    with pytest.raises(ValueError, match="below the bad days"):
        OutcomeDefinition(bad_days_past_due=30, indeterminate_days_past_due=45)


def _previous_rule(book: LoanBook) -> pd.DataFrame:
    """The earlier definition, for comparison: 3+ consecutive missed periods at a month-end
    within 12 months of disbursement, loans with 12 months observed."""
    L = book.loans
    seen = L[L["disbursement_date"] + pd.DateOffset(months=12) <= book.as_of_date]
    first = L["disbursement_date"].min().normalize() + pd.offsets.MonthEnd(0)
    h = delinquency_history(book, pd.date_range(first, book.as_of_date, freq="ME"))
    d0 = h["loan_id"].map(L.set_index("loan_id")["disbursement_date"])
    inside = (h["as_of"] > d0) & (h["as_of"] <= d0 + pd.DateOffset(months=12))
    worst = h[inside].groupby("loan_id")["missed_periods"].max()
    worst = worst.reindex(seen["loan_id"], fill_value=0)
    return pd.DataFrame(
        {"bad": (worst.to_numpy() >= 3).astype(int), "method": seen["repayment_method"].to_numpy()}
    )


def _fixed_window_flags(book: LoanBook, months: int) -> pd.DataFrame:
    """Independent of outcome_table: bad (90+ days or 3+ missed periods) at the month-ends
    of (disbursement, disbursement + ``months`` rounded up to a month-end], for loans whose
    window is over at the as-of date and that are not indeterminate (worst 30-89 days)."""
    L = book.loans.set_index("loan_id")
    end = (L["disbursement_date"] + pd.DateOffset(months=months)) + pd.offsets.MonthEnd(0)
    first = L["disbursement_date"].min() + pd.offsets.MonthEnd(0)
    h = delinquency_history(book, pd.date_range(first, book.as_of_date, freq="ME"))
    h = h[
        (h["as_of"] > h["loan_id"].map(L["disbursement_date"]))
        & (h["as_of"] <= h["loan_id"].map(end))
    ]
    w = h.groupby("loan_id")[["days_past_due", "missed_periods"]].max()
    w = w.reindex(L.index[end <= book.as_of_date], fill_value=0)
    bad = (w["days_past_due"] >= 90) | (w["missed_periods"] >= 3)
    keep = bad | (w["days_past_due"] < 30)
    out = pd.DataFrame({"bad": bad.astype(int), "term": L["term_months"].reindex(w.index)})
    out["method"] = L["repayment_method"].reindex(w.index)
    return out[keep]


@pytest.fixture(scope="module")
def demo_book():
    return make_microloan_book(n_loans=20_000, seed=0, as_of="2026-10-31")


def test_bad_rate_by_term_is_not_bought_by_a_longer_window(demo_book):
    """The demo book (20,000 loans, seed 0, as of 2026-10-31). Before (window to maturity +
    90 days when later than 12 months): bad rate 10.3% for 3-month terms rising to 22.3% for
    24-month ones, which were watched about 28 months instead of 12; every 36-month loan immature.
    Now every loan has the same 15-month window: the flags equal an independent computation,
    every term (36 months too) is measured, and the longest-watched term no longer has the
    highest bad rate. A 12-month window would make every 12-month bullet good (its only
    installment falls due in the window's last month): 0 of them bad."""
    s = application_sample(demo_book)
    ind = _fixed_window_flags(demo_book, 15)
    assert s.index.sort_values().tolist() == ind.index.sort_values().tolist()
    assert (s["bad"] == ind["bad"].reindex(s.index)).all()
    months = (s["window_end"].dt.year - s["disbursement_date"].dt.year) * 12 + (
        s["window_end"].dt.month - s["disbursement_date"].dt.month
    )
    assert set(months) == {15}
    by_term = s.groupby("term_months")["bad"].mean()
    assert set(by_term.index) == {3, 6, 9, 12, 18, 24, 36}
    assert by_term[24] < by_term[12]  # was 22.3% against 19.2%
    old = application_sample(demo_book, outcome=OutcomeDefinition(window_rule="to_maturity"))
    old_rate = old.groupby("term_months")["bad"].mean()
    assert 36 not in old_rate.index and old_rate[24] > old_rate[12] > old_rate[3]
    twelve = _fixed_window_flags(demo_book, 12)
    b12 = twelve[(twelve["method"] == "bullet") & (twelve["term"] == 12)]
    assert len(b12) > 500 and b12["bad"].sum() == 0
    b15 = s[(s["repayment_method"] == "bullet") & (s["term_months"] == 12)]["bad"]
    assert b15.mean() > s["bad"].mean() / 3


def test_no_repayment_method_looks_safe_because_of_its_structure(demo_book):
    """The check: on the sample book (the demo's, 20,000 loans, seed 0) every repayment method's
    bad rate is at least a third of the book's. Why a third: under a definition that rewards
    structure, a bullet loan cannot miss three installments in a year and its bad rate collapses
    to a fraction of the book's (+120 points in the demo scorecard); who takes which method
    (farmers favour bullets) moves the rate by tens of percent, not by a factor of three."""
    book = demo_book
    s = application_sample(book)
    overall = s["bad"].mean()
    by_method = s.groupby("repayment_method")["bad"].mean()
    assert set(by_method.index) == {"annuity", "equal_principal", "interest_only", "bullet"}
    assert (by_method >= overall / 3).all(), by_method.to_dict()
    counts = s.attrs["outcome_counts"]
    assert counts["bad"] + counts["good"] == len(s)
    assert counts["indeterminate"] > 0 and counts["immature"] > 0
    assert sum(counts.values()) == book.n_loans
    # the previous definition, on the same book, rated bullets far safer than now
    old = _previous_rule(book)
    old_ratio = old.groupby("method")["bad"].mean()["bullet"] / old["bad"].mean()
    assert old_ratio < 0.55 < by_method["bullet"] / overall
