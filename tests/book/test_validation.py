"""Every bad-input class gets a message naming table, column, loan id and rule."""

import pandas as pd
import pytest

from riskkit.book import LoanBook, make_schedule
from riskkit.errors import ValidationError
from tests.conftest import hand_book


def _parts():
    b = hand_book([("2026-02-15", 1000)])
    return {k: v.copy() for k, v in b.tables.items()}


def _build(t):
    return LoanBook(
        t["loans"],
        t["schedule"],
        t["payments"],
        borrowers=t["borrowers"],
        guarantors=t["guarantors"],
        collateral=t["collateral"],
        signals=t["signals"],
    )


def _error(t) -> str:
    with pytest.raises(ValidationError) as ei:
        _build(t)
    return str(ei.value)


def test_missing_column():
    t = _parts()
    t["loans"] = t["loans"].drop(columns=["term_months"])
    assert "loans.term_months: required column is missing" in _error(t)


def test_wrong_dtype_is_not_coerced():
    t = _parts()
    t["loans"]["amount"] = t["loans"]["amount"].astype(str)
    msg = _error(t)
    assert "loans.amount: must be a numeric dtype" in msg
    t = _parts()
    t["payments"]["payment_date"] = t["payments"]["payment_date"].dt.strftime("%Y-%m-%d")
    assert "payments.payment_date: must be a datetime64 dtype" in _error(t)


def test_negative_and_absurd_amounts():
    t = _parts()
    t["loans"].loc[0, "amount"] = -5.0
    assert "loans.amount: must be positive [1 row(s); loan id L1]" in _error(t)
    t = _parts()
    t["loans"].loc[0, "amount"] = 5e9
    assert "loans.amount: absurd: above 10,000,000" in _error(t)
    t = _parts()
    t["payments"].loc[0, "amount"] = -1.0
    assert "payments.amount: must be positive [1 row(s); loan id L1]" in _error(t)
    t = _parts()
    t["loans"].loc[0, "annual_rate"] = 12.0  # percent instead of a fraction
    assert "loans.annual_rate: must be a yearly fraction" in _error(t)


def test_due_dates_out_of_order():
    t = _parts()
    t["schedule"].loc[1, "due_date"] = pd.Timestamp("2026-05-01")
    assert "schedule.due_date: due dates out of order (must increase with period)" in _error(t)


def test_payment_before_disbursement_and_unknown_loan():
    t = _parts()
    extra = pd.DataFrame(
        {
            "loan_id": ["L1", "L9"],
            "payment_date": pd.to_datetime(["2025-12-01", "2026-03-01"]),
            "amount": [10.0, 20.0],
        }
    )
    t["payments"] = pd.concat([t["payments"], extra], ignore_index=True)
    msg = _error(t)
    assert "payments.payment_date: before disbursement [1 row(s); loan id L1]" in msg
    assert "payments.loan_id: unknown loan [1 row(s); loan id L9]" in msg


def test_duplicate_ids():
    t = _parts()
    t["loans"] = pd.concat([t["loans"], t["loans"]], ignore_index=True)
    assert "loans.loan_id: duplicate id [2 row(s); loan id L1, L1]" in _error(t) or (
        "loans.loan_id: duplicate id" in _error(t)
    )
    t = _parts()
    t["schedule"] = pd.concat([t["schedule"], t["schedule"].iloc[[0]]], ignore_index=True)
    assert "schedule.loan_id+period: duplicate id" in _error(t)


def test_unknown_enum_values():
    t = _parts()
    t["loans"].loc[0, "guarantee_type"] = "三户联保"
    msg = _error(t)
    assert "loans.guarantee_type: unknown value(s) ['三户联保']" in msg
    assert "allowed: ['credit', 'guaranteed', 'joint', 'mortgage', 'pledge']" in msg
    t = _parts()
    t["borrowers"].loc[0, "segment"] = "fisher"
    assert "borrowers.segment: unknown value(s) ['fisher']" in _error(t)


def test_loan_without_schedule_and_unknown_borrower():
    t = _parts()
    extra = t["loans"].assign(loan_id="L2", borrower_id="B9")
    t["loans"] = pd.concat([t["loans"], extra], ignore_index=True)
    msg = _error(t)
    assert "loans.loan_id: loan has no repayment schedule [1 row(s); loan id L2]" in msg
    assert "loans.borrower_id: unknown borrower [1 row(s); loan id L2]" in msg


def test_all_problems_collected_in_one_error():
    t = _parts()
    t["loans"].loc[0, "amount"] = -5.0
    t["borrowers"].loc[0, "segment"] = "fisher"
    t["schedule"].loc[0, "principal_due"] = -1.0
    with pytest.raises(ValidationError) as ei:
        _build(t)
    rules = ei.value.to_frame()
    assert {"loans", "borrowers", "schedule"} <= set(rules.table)
    assert len(ei.value.problems) >= 3


def test_schedule_must_add_up_to_amount():
    t = _parts()
    t["schedule"].loc[0, "principal_due"] = 900.0
    assert "schedule.principal_due: principal due does not add up to the loan amount" in _error(t)


def test_valid_input_is_not_modified():
    t = _parts()
    before = {k: v.copy() for k, v in t.items()}
    _build(t)
    for k in t:
        pd.testing.assert_frame_equal(t[k], before[k])


def test_make_schedule_rows_equal_terms():
    b = hand_book([], term=7)
    assert len(make_schedule(b.loans)) == 7


# --- issue 15 (7): LoanBook raises nothing but ValidationError on the frames it is given ---


def test_timezone_aware_dates_are_an_error_naming_the_column():
    t = _parts()
    t["payments"]["payment_date"] = t["payments"]["payment_date"].dt.tz_localize("Asia/Shanghai")
    msg = _error(t)
    assert "payments.payment_date: timezone-aware dates" in msg and "tz_localize(None)" in msg
    t = _parts()
    t["loans"]["disbursement_date"] = t["loans"]["disbursement_date"].dt.tz_localize("UTC")
    assert "loans.disbursement_date: timezone-aware dates" in _error(t)
    with pytest.raises(ValidationError, match="book.as_of_date: must be a date without timezone"):
        LoanBook(
            *(_parts()[k] for k in ("loans", "schedule", "payments")),
            as_of_date=pd.Timestamp("2026-03-31", tz="UTC"),
        )


def test_every_table_empty_builds_an_empty_book():
    t = {k: v.iloc[:0] for k, v in _parts().items()}
    book = _build(t)
    assert book.n_loans == 0
    status = book.status("2026-10-31")
    assert len(status) == 0 and "missed_periods" in status.columns
    # empty tables as read from an untyped source (object columns) get the schema's dtypes
    untyped = {
        k: pd.DataFrame({c: pd.Series(dtype=object) for c in v.columns}) for k, v in t.items()
    }
    book = _build(untyped)
    assert book.loans["disbursement_date"].dtype.kind == "M"
    assert len(book.status("2026-10-31")) == 0


def test_none_or_a_dict_instead_of_a_table():
    t = _parts()
    with pytest.raises(ValidationError, match=r"loans: required table missing \(got None\)"):
        LoanBook(None, t["schedule"], t["payments"])
    with pytest.raises(ValidationError, match="loans: must be a pandas DataFrame, got dict"):
        LoanBook(t["loans"].to_dict(), t["schedule"], t["payments"])
    with pytest.raises(ValidationError, match="schedule: must be a pandas DataFrame, got list"):
        LoanBook(t["loans"], [1, 2], t["payments"])


def test_odd_cells_and_nullable_numbers_are_reported_not_crashed_on():
    t = _parts()
    t["loans"]["loan_id"] = pd.Series([["L1"]], dtype=object)  # a list in an id cell
    assert "loans.loan_id: must be string or integer ids, got dtype object holding" in _error(t)
    t = _parts()
    t["loans"]["term_months"] = pd.array([pd.NA], dtype="Int64")
    assert "loans.term_months: missing value [1 row(s); loan id L1]" in _error(t)
    t = _parts()
    t["loans"]["branch"] = pd.Series([3.5], dtype=object)
    assert "loans.branch: must be text, got dtype object holding floating values" in _error(t)
    t = _parts()
    t["loans"] = t["loans"].rename(columns={"purpose": "branch"})
    assert "loans.branch: column appears more than once" in _error(t)


def test_schedule_periods_must_start_at_1():
    t = _parts()
    t["schedule"]["period"] = t["schedule"]["period"] + 1  # 2, 3, 4: contiguous, but no period 1
    assert "schedule.period: must start at 1 [1 row(s); loan id L1]" in _error(t)
