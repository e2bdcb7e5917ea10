"""Delinquency derivations: hand cases, and a property check against a plain loop reference."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.book import LoanBook, delinquency_history, delinquency_status, make_schedule
from riskkit.errors import ValidationError
from tests.conftest import hand_book


def test_partial_payment_counts_as_missed(make_hand_book):
    # 3 x 1,000 due Feb 15, Mar 15, Apr 15; paid 1,000 on time and 500 late.
    book = make_hand_book([("2026-02-15", 1000), ("2026-03-20", 500)])
    st_ = delinquency_status(book, "2026-04-30").loc["L1"]
    assert st_.missed_periods == 2  # March short by 500, April unpaid
    assert st_.days_past_due == 46  # from 15 March to 30 April
    assert st_.outstanding_principal == 1500.0
    assert st_.arrears == 1500.0
    assert st_.periods_elapsed == 3
    assert st_.oldest_unpaid_due == pd.Timestamp("2026-03-15")


def test_partial_within_tolerance_is_not_missed(make_hand_book):
    book = make_hand_book([("2026-02-15", 1000), ("2026-03-20", 500)])
    pol = {"delinquency": {"tolerance_abs": 600.0}}
    st_ = delinquency_status(book, "2026-04-30", pol).loc["L1"]
    assert st_.missed_periods == 1  # only April
    assert st_.days_past_due == 15


def test_catching_up_resets_consecutive_count(make_hand_book):
    book = make_hand_book([("2026-04-20", 3000)])
    before = delinquency_status(book, "2026-04-19").loc["L1"]
    after = delinquency_status(book, "2026-04-20").loc["L1"]
    assert before.missed_periods == 3 and before.days_past_due == 63  # 28 + 31 + 4 days
    assert after.missed_periods == 0 and after.days_past_due == 0 and after.paid_off


def test_prepayment_reduces_principal(make_hand_book):
    book = make_hand_book([("2026-02-15", 2500)])
    st_ = delinquency_status(book, "2026-02-28").loc["L1"]
    assert st_.missed_periods == 0
    assert st_.outstanding_principal == 500.0  # 1,000 due + 1,500 paid ahead
    assert not st_.paid_off


def test_interest_is_paid_before_principal():
    # 12,000 at 12% equal principal over 12 months: first installment 1,000 + 120 interest.
    book = hand_book([("2026-02-15", 620)], amount=12_000.0, rate=0.12, term=12)
    st_ = delinquency_status(book, "2026-02-20").loc["L1"]
    assert st_.interest_paid == 120.0
    assert st_.principal_paid == 500.0
    assert st_.outstanding_principal == 11_500.0
    assert st_.missed_periods == 1


def test_months_after_maturity_keep_counting(make_hand_book):
    book = make_hand_book([("2026-02-15", 1000)])
    st_ = delinquency_status(book, "2026-07-20").loc["L1"]
    # Mar and Apr missed, then May, Jun and Jul 15 pass unpaid after maturity (Apr 15)
    assert st_.missed_periods == 5 and st_.periods_elapsed == 6
    off = delinquency_status(
        book, "2026-07-20", {"delinquency": {"count_months_after_maturity": False}}
    ).loc["L1"]
    assert off.missed_periods == 2 and off.periods_elapsed == 3


def test_bullet_loan_ages_after_maturity():
    book = hand_book([], amount=10_000.0, rate=0.12, term=6, method="bullet")
    st_ = delinquency_status(book, "2027-01-14").loc["L1"]
    assert st_.missed_periods == 6  # due 2026-07-15, six whole months unpaid after
    assert st_.days_past_due == 183


def test_month_end_maturity_ages_every_month_end():
    # bullet loan disbursed 31 Mar over 2 months, due 31 May, never paid: one more missed
    # period at each month end (30 June counts as a whole month after 31 May)
    book = hand_book([], amount=10_000.0, rate=0.12, term=2, method="bullet")
    book.loans["disbursement_date"] = pd.Timestamp("2026-03-31")
    book = type(book)(
        book.loans, make_schedule(book.loans), book.payments, borrowers=book.borrowers
    )
    ends = ["2026-05-31", "2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31"]
    assert book.schedule["due_date"].iloc[0] == pd.Timestamp("2026-05-31")
    missed = [int(delinquency_status(book, d).loc["L1", "missed_periods"]) for d in ends]
    assert missed == [1, 2, 3, 4, 5, 6]


def test_as_of_before_disbursement_is_an_error(make_hand_book):
    book = make_hand_book([])
    with pytest.raises(ValidationError, match=r"loans.disbursement_date.*before disbursement.*L1"):
        delinquency_status(book, "2026-01-01")


def test_history_panel(make_hand_book):
    book = make_hand_book([("2026-02-15", 1000)])
    h = delinquency_history(book, pd.date_range("2025-12-31", "2026-05-31", freq="ME"))
    assert h["as_of"].dt.month.tolist() == [1, 2, 3, 4, 5]  # not yet disbursed in December
    assert h["missed_periods"].tolist() == [0, 0, 1, 2, 3]


# --- property tests against an independent loop implementation -------------------------


def reference(schedule, payments, as_of, tol=1.0):
    """Per-loan loop: apply each payment to the oldest open installment."""
    out = {}
    for lid, s in schedule.groupby("loan_id"):
        s = s.sort_values("period")
        remaining = (s.principal_due + s.interest_due).to_numpy().copy()
        prin_left = s.principal_due.to_numpy().copy()
        int_left = s.interest_due.to_numpy().copy()
        pay = payments[(payments.loan_id == lid) & (payments.payment_date <= as_of)]
        cash = float(pay.amount.sum())
        due_mask = (s.due_date <= as_of).to_numpy()
        for k in range(len(s)):  # oldest due first, then paid ahead in schedule order
            take = min(cash, remaining[k])
            ti = min(take, int_left[k])
            int_left[k] -= ti
            prin_left[k] -= take - ti
            remaining[k] -= take
            cash -= take
        missed = int(sum(1 for k in range(len(s)) if due_mask[k] and remaining[k] > tol))
        out[lid] = (missed, int(due_mask.sum()), max(prin_left.sum(), 0.0))
    return out


@st.composite
def books(draw):
    n = draw(st.integers(1, 6))
    rows = []
    for i in range(n):
        rows.append(
            dict(
                loan_id=f"L{i}",
                borrower_id=f"B{i}",
                product="p",
                amount=float(draw(st.integers(1, 200)) * 500),
                disbursement_date=pd.Timestamp("2025-01-10")
                + pd.Timedelta(days=draw(st.integers(0, 60))),
                term_months=draw(st.integers(1, 18)),
                annual_rate=draw(st.sampled_from([0.0, 0.08, 0.18, 0.24])),
                repayment_method=draw(
                    st.sampled_from(["annuity", "equal_principal", "interest_only", "bullet"])
                ),
                guarantee_type="credit",
                purpose="x",
                officer_id="O",
                branch="b",
            )
        )
    loans = pd.DataFrame(rows)
    sched = make_schedule(loans)
    pays = []
    for _, r in loans.iterrows():
        for _ in range(draw(st.integers(0, 12))):
            day = r.disbursement_date + pd.Timedelta(days=draw(st.integers(0, 600)))
            pays.append((r.loan_id, day, float(draw(st.integers(1, 40)) * 100)))
    payments = pd.DataFrame(pays, columns=["loan_id", "payment_date", "amount"])
    payments["payment_date"] = payments["payment_date"].astype("datetime64[ns]")
    payments["loan_id"] = payments["loan_id"].astype(object)
    as_of = pd.Timestamp("2025-03-15") + pd.Timedelta(days=draw(st.integers(0, 700)))
    return loans, sched, payments, as_of


@settings(max_examples=60, deadline=None)
@given(books())
def test_matches_loop_reference_and_invariants(data):
    loans, sched, payments, as_of = data
    book = LoanBook(loans, sched, payments)
    pol = {"delinquency": {"count_months_after_maturity": False}}
    got = delinquency_status(book, as_of, pol)
    ref = reference(sched, payments, as_of)
    for lid, (missed, elapsed, outstanding) in ref.items():
        assert got.loc[lid, "missed_periods"] == missed
        assert got.loc[lid, "periods_elapsed"] == elapsed
        assert got.loc[lid, "outstanding_principal"] == pytest.approx(outstanding, abs=0.01)
    full = delinquency_status(book, as_of)
    assert (full.outstanding_principal >= 0).all()
    assert (full.arrears >= -1e-9).all()
    assert (full.missed_periods <= full.periods_elapsed).all()
    # overdue days imply a missed period; an installment due on the as-of date and unpaid is
    # missed with 0 days past due
    assert (full.missed_periods[full.days_past_due > 0] > 0).all()
    assert (full.days_past_due >= 0).all()
    np.testing.assert_allclose(
        full.outstanding_principal + full.principal_paid, loans.set_index("loan_id").amount
    )
    np.testing.assert_allclose(
        full.principal_paid + full.interest_paid + full.overpaid, full.paid_to_date, atol=0.02
    )


@settings(max_examples=40, deadline=None)
@given(books(), st.integers(1, 400))
def test_balance_never_rises_as_dates_pass(data, days):
    loans, sched, payments, as_of = data
    later = as_of + pd.Timedelta(days=days)
    # same payment history at both dates: only the passing of time differs
    book_now = LoanBook(loans, sched, payments[payments.payment_date <= as_of])
    a = delinquency_status(book_now, as_of).outstanding_principal
    b = delinquency_status(book_now, later).outstanding_principal
    assert (b <= a + 1e-9).all()


def test_paid_ahead_annuity_balance_does_not_rise():
    # review repro: 3-month annuity at 12%, two installments paid in the first period
    book = hand_book([], amount=3000.0, rate=0.12, term=3, method="annuity")
    inst = float((book.schedule.principal_due + book.schedule.interest_due).iloc[0])
    book = hand_book([("2026-02-15", 2 * inst)], amount=3000.0, rate=0.12, term=3, method="annuity")
    feb = delinquency_status(book, "2026-02-20").loc["L1"]
    mar = delinquency_status(book, "2026-03-20").loc["L1"]
    s = book.schedule
    assert feb.outstanding_principal == pytest.approx(s.principal_due.iloc[2])  # last one open
    assert mar.outstanding_principal == feb.outstanding_principal
    assert mar.missed_periods == 0
