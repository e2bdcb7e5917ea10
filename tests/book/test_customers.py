"""The customer register: validation of its fields, the register in the store with its change
history (who, when, what, why), masking of personal fields, and the sample book's fields."""

from __future__ import annotations

import pandas as pd
import pytest

from riskkit.book.customers import CREATED, CustomerRegister, register_from_book
from riskkit.errors import ValidationError
from riskkit.store import Store


def _customer(**over) -> pd.DataFrame:
    row = {
        "borrower_id": "B1",
        "segment": "trader",
        "name": "张三丰",
        "id_number": "11010519491231002X",  # GB 11643's published example (valid check char)
        "phone": "13812345678",
        "monthly_income": 9000.0,
        "birth_date": pd.Timestamp("1990-03-07"),
        "civil_capacity": "full",
        "id_type": "resident_id",
        "id_expiry_date": pd.Timestamp("2031-05-01"),
        "id_long_term": False,
        "income_source": "business",
        "income_verified_date": pd.Timestamp("2026-09-20"),
        "credit_report_date": pd.Timestamp("2026-10-02"),
        "prior_loans": 1,
        "prior_delinquency": 0,
        "worst_delinquency_days": 0,
        "overdue_elsewhere": 0.0,
        "residence_status": "local_hukou",
        "residence_since": pd.Timestamp("1990-03-07"),
        "business_start_date": pd.Timestamp("2015-06-01"),
    }
    row.update(over)
    return pd.DataFrame({k: [v] for k, v in row.items()})


def _problems(exc) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_a_complete_customer_record_is_valid():
    from riskkit.book.customers import validate_customers

    validate_customers(_customer())


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"worst_delinquency_days": -1}, "borrowers.worst_delinquency_days: must not be negative"),
        ({"overdue_elsewhere": -5.0}, "borrowers.overdue_elsewhere: must not be negative"),
        (
            {"business_start_date": pd.Timestamp("1985-01-01")},
            "borrowers.business_start_date: business started before the date of birth",
        ),
        (
            {"id_number": "110105194912310021"},
            "borrowers.id_number: not a valid resident ID number",
        ),
        (
            {"id_long_term": True},
            "borrowers.id_expiry_date: an ID valid long-term (id_long_term) has no expiry date",
        ),
        ({"civil_capacity": "partial"}, "borrowers.civil_capacity: unknown value(s) ['partial']"),
        ({"income_source": "lottery"}, "borrowers.income_source: unknown value(s) ['lottery']"),
        ({"birth_date": "1990-03-07"}, "borrowers.birth_date: must be a datetime64 dtype"),
    ],
)
def test_bad_register_values_name_column_customer_and_rule(over, expected):
    from riskkit.book.customers import validate_customers

    with pytest.raises(ValidationError) as exc:
        validate_customers(_customer(**over))
    msgs = _problems(exc)
    assert any(m.startswith(expected) for m in msgs), msgs
    assert all("B1" in m for m in msgs if m.startswith("borrowers.") and "dtype" not in m)
    # never the ID number itself in an error
    assert "110105194912310021" not in str(exc.value)


def test_the_loan_book_checks_its_borrowers_register_fields(make_hand_book):
    from riskkit.book import LoanBook

    book = make_hand_book()
    b = book.borrowers.assign(
        birth_date=pd.Timestamp("1990-01-01"), business_start_date=pd.Timestamp("1980-01-01")
    )
    with pytest.raises(ValidationError, match="business started before the date of birth"):
        LoanBook(book.loans, book.schedule, book.payments, borrowers=b)


def test_register_records_who_changed_what_when_and_why():
    reg = CustomerRegister(Store("sqlite://"))
    first = reg.record(
        _customer(), changed_by="O01", reason="new customer", changed_at="2026-10-01"
    )
    assert first.n_changes == 1 and first.table["field"].tolist() == [CREATED]

    ch = reg.update(
        "B1",
        changed_by="R02",
        reason="income re-verified on site",
        changed_at="2026-11-02 10:30",
        monthly_income=7500.0,
        income_verified_date=pd.Timestamp("2026-11-02"),
        residence_status="local_hukou",  # unchanged: no history row
    )
    assert ch.n_changes == 2
    h = reg.history("B1")
    assert h["change_id"].tolist() == [1, 2, 3]
    last = h.iloc[1:].set_index("field")
    assert last.loc["monthly_income", ["old_value", "new_value"]].tolist() == ["9000", "7500"]
    assert last.loc["income_verified_date", ["old_value", "new_value"]].tolist() == [
        "2026-09-20",
        "2026-11-02",
    ]
    assert set(last["changed_by"]) == {"R02"}
    assert set(last["reason"]) == {"income re-verified on site"}
    assert set(last["changed_at"]) == {pd.Timestamp("2026-11-02 10:30")}
    cur = reg.load().set_index("borrower_id")
    assert cur.loc["B1", "monthly_income"] == 7500.0
    assert cur.loc["B1", "income_verified_date"] == pd.Timestamp("2026-11-02")
    # recording the same values again changes nothing
    assert reg.record(reg.load(), changed_by="R02", reason="no-op").n_changes == 0
    assert len(reg.history()) == 3


def test_personal_fields_are_masked_in_history_and_views():
    reg = CustomerRegister(Store("sqlite://"))
    reg.record(_customer(), changed_by="O01", reason="new customer")
    reg.update("B1", "O01", "new phone", phone="13998765432", name="李四")
    h = reg.history("B1").set_index("field")
    assert h.loc["phone", "old_value"] == "138****5678"
    assert h.loc["phone", "new_value"] == "139****5432"
    assert h.loc["name", "new_value"] == "李*"
    v = reg.view()
    assert v.loc["B1", "id_number"] == "110***********002X"
    assert v.loc["B1", "phone"] == "139****5432"
    text = repr(reg.history()) + reg.record(_customer(phone="13700001111"), "O1", "x")._repr_html_()
    for raw in ("13998765432", "11010519491231002X", "13700001111", "13812345678"):
        assert raw not in text


def test_an_invalid_change_writes_nothing():
    store = Store("sqlite://")
    reg = CustomerRegister(store)
    reg.record(_customer(), changed_by="O01", reason="new customer")
    two = pd.concat([_customer(borrower_id="B2"), _customer(borrower_id="B3")], ignore_index=True)
    two.loc[1, "worst_delinquency_days"] = -1
    with pytest.raises(ValidationError, match="worst_delinquency_days: must not be negative"):
        reg.record(two, changed_by="O01", reason="batch")
    assert reg.load()["borrower_id"].tolist() == ["B1"]
    assert len(reg.history()) == 1
    with pytest.raises(ValidationError, match="reason is required"):
        reg.update("B1", "O01", "  ", monthly_income=1.0)
    with pytest.raises(ValidationError, match="unknown customer 'B9'"):
        reg.update("B9", "O01", "why", monthly_income=1.0)


def test_register_from_book_then_a_new_extract_records_only_the_differences():
    from riskkit.datasets import make_microloan_book

    book = make_microloan_book(n_loans=120, months=12, seed=2)
    store = Store("sqlite://")
    first = register_from_book(store, book)
    assert first.n_changes == len(book.borrowers)  # one "new customer" row each
    assert first.changed_by == "extract 2026-10-31"
    b2 = book.borrowers.copy()
    b2.loc[3, "monthly_income"] = b2.loc[3, "monthly_income"] + 100
    b2.loc[7, "residence_status"] = "non_local"
    book.borrowers = b2
    book.as_of_date = pd.Timestamp("2026-11-30")
    second = register_from_book(store, book)
    got = second.table[["borrower_id", "field"]].values.tolist()
    assert sorted(got) == sorted(
        [
            [b2.loc[3, "borrower_id"], "monthly_income"],
            [b2.loc[7, "borrower_id"], "residence_status"],
        ]
    )
    loaded = CustomerRegister(store).load()
    pd.testing.assert_frame_equal(
        loaded.drop(columns=["id_expiry_date", "business_start_date"]),
        b2.sort_values("borrower_id", ignore_index=True).drop(
            columns=["id_expiry_date", "business_start_date"]
        ),
        check_dtype=False,
    )


def test_sample_book_register_fields_follow_the_id_card_rules():
    from riskkit.datasets import make_microloan_book

    book = make_microloan_book(n_loans=3000, months=24, seed=5)
    b = book.borrowers
    lt = b["id_long_term"].to_numpy()
    # a card is long-term only when issued at 46 or older: the holder is at least 46 now
    age_now = (book.as_of_date - b["birth_date"]).dt.days / 365.25
    assert (age_now[lt] >= 46).all()
    assert b.loc[lt, "id_expiry_date"].isna().all()
    # every card on file was valid when the customer was onboarded
    assert (b.loc[~lt, "id_expiry_date"] >= b.loc[~lt, "onboarding_date"]).all()
    # a few have expired since (not renewed in the register): admission will catch them
    expired = (b.loc[~lt, "id_expiry_date"] < book.as_of_date).mean()
    assert 0.001 < expired < 0.05
    assert b.loc[b["segment"] == "consumer", "business_start_date"].isna().all()
    assert (b.loc[b["prior_delinquency"] == 0, "worst_delinquency_days"] == 0).all()
    assert (b.loc[b["prior_delinquency"] > 0, "worst_delinquency_days"] > 0).all()
