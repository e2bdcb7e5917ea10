"""Inspection plan for November 2025 and the inspection ledger (台账) in a SQLite store."""

import pandas as pd
import pytest

from riskkit.errors import ValidationError
from riskkit.inspection import inspection_plan, load_ledger, record_inspections
from riskkit.inspection.signals import load_manual_signals
from riskkit.store import Store
from tests.classification.helpers import loan_rows, make_book, on_time

START, END = pd.Timestamp("2025-11-01"), pd.Timestamp("2025-11-30")
NORMAL = [f"N{i:02d}" for i in range(20)]


@pytest.fixture
def store(db_url):
    """SQLite and PostgreSQL in turn."""
    return Store(db_url)


def plan_book():
    ids = ["sm", "ss", "d", "loss", "mach", "new"] + NORMAL
    loans = loan_rows(ids)
    loans.loc[loans["loan_id"] == "new", "disbursement_date"] = pd.Timestamp("2025-11-03")
    loans.loc[loans["loan_id"].isin(["d", "loss"]), "officer_id"] = "O2"
    pays = on_time("sm", 6) + on_time("ss", 5) + on_time("d", 2) + on_time("loss", 9)
    pays += on_time("mach", 9)
    for n in NORMAL:
        pays += on_time(n, 9)
    signals = [
        ("loss", "2025-06-01", "death_or_missing", "borrower died"),
        ("N01", "2025-11-12", "sanctioned", "fined by market regulator"),
    ]
    collateral = pd.DataFrame(
        {
            "collateral_id": ["M1"],
            "loan_id": ["mach"],
            "collateral_type": ["machinery"],
            "appraised_value": [20_000.0],
            "valuation_date": pd.to_datetime(["2025-01-10"]),
        }
    )
    # the estate was claimed and found not to cover the loan: recovery exhausted -> loss
    rec = [("loss", "2025-06-15", "estate_claim"), ("loss", "2025-09-01", "exhausted")]
    return make_book(loans, pays, signals=signals, collateral=collateral, recovery_status=rec)


def test_plan_rules_for_a_month():
    book = plan_book()
    plan = inspection_plan(book, START)
    assert plan.end == END
    t = plan.table
    got = sorted(zip(t["loan_id"], t["reason"], t["due_by"].dt.strftime("%m-%d"), strict=True))
    fixed = [r for r in got if r[1] != "routine_sample"]
    assert fixed == [
        ("N01", "severe_signal", "11-15"),  # sanctioned on 12 Nov: within 3 days
        ("d", "doubtful", "11-15"),  # twice a month
        ("d", "doubtful", "11-30"),
        ("loss", "loss", "11-30"),
        ("mach", "machinery_collateral", "11-30"),
        ("new", "first_contact", "11-10"),  # Mon 3 Nov + 5 working days
        ("sm", "special_mention", "11-30"),
        ("ss", "substandard", "11-30"),
    ]
    sample = t[t["reason"] == "routine_sample"]
    assert len(sample) == 2  # 10% of the 20 normal loans without machinery
    assert set(sample["loan_id"]) <= set(NORMAL)
    again = inspection_plan(book, START).table
    assert again[again["reason"] == "routine_sample"]["loan_id"].tolist() == (
        sample["loan_id"].tolist()
    )
    loss = t[t["reason"] == "loss"].iloc[0]
    assert loss["window_start"] == pd.Timestamp("2024-12-01")
    assert t.loc[t["loan_id"] == "d", "officer_id"].tolist() == ["O2", "O2"]
    assert plan.by_officer().loc["O2", "doubtful"] == 2
    assert "InspectionPlan(2025-11-01..2025-11-30" in repr(plan)


def test_risk_weighted_sampling_prefers_flagged_loans():
    ids = NORMAL
    pays = []
    for n in ids:
        pays += on_time(n, 9 if n != "N07" else 8)  # N07: one missed (incidental) -> normal
    book = make_book(loan_rows(ids), pays)
    pol = {
        "classification": {"dpd_backstops": {"enabled": False}},
        "inspection": {
            "normal_sample_share": 0.05,
            "risk_weighted_sampling": True,
            "risk_weight_per_flag": 1e9,
        },
    }
    t = inspection_plan(book, START, policy=pol).table
    assert t.loc[t["reason"] == "routine_sample", "loan_id"].tolist() == ["N07"]


def _ledger_rows():
    row = dict(officer_id="O1", method="phone", findings="ok", proposed_action="none")
    return [
        {**row, "loan_id": "d", "inspection_date": "2025-11-10", "officer_id": "O2"},
        {**row, "loan_id": "d", "inspection_date": "2025-11-28", "officer_id": "O2",
         "method": "on_site", "findings": "shop open, stock low"},
        {**row, "loan_id": "sm", "inspection_date": "2025-12-02", "method": "meeting",
         "proposed_action": "collection"},
        {**row, "loan_id": "loss", "inspection_date": "2025-03-01", "officer_id": "O2",
         "method": "employer_visit", "proposed_action": "enforcement"},
        {**row, "loan_id": "new", "inspection_date": "2025-11-07"},
        {**row, "loan_id": "N01", "inspection_date": "2025-11-20", "method": "on_site",
         "signals": ["sanctioned", "fund_misuse"], "findings": "call 13812345678 back",
         "category_assessed": "关注"},
    ]  # fmt: skip


def test_ledger_and_compliance(store):
    book = plan_book()
    written = record_inspections(
        store, _ledger_rows(), loan_ids=book.loans["loan_id"], as_of="2025-12-05"
    )
    assert written["inspection_id"].tolist() == [1, 2, 3, 4, 5, 6]
    led = load_ledger(store)
    assert led.loc[5, "findings"] == "call 138****5678 back"
    assert load_ledger(store, masked=False).loc[5, "findings"] == "call 13812345678 back"
    assert led.loc[5, "category_assessed"] == "special_mention"
    man = load_manual_signals(store)
    assert sorted(man["signal"]) == ["fund_misuse", "sanctioned"]
    assert (man["author"] == "O1").all()

    plan = inspection_plan(book, START)
    st = plan.status(led, as_of="2025-12-05").set_index(["loan_id", "reason", "rank"])
    assert st.loc[("d", "doubtful", 1), "status"] == "done"
    assert st.loc[("d", "doubtful", 2), "status"] == "done"
    assert st.loc[("sm", "special_mention", 1), "status"] == "late"
    assert st.loc[("ss", "substandard", 1), "status"] == "overdue"
    assert st.loc[("loss", "loss", 1), "status"] == "done"
    assert st.loc[("new", "first_contact", 1), "status"] == "done"
    assert st.loc[("N01", "severe_signal", 1), "status"] == "late"
    assert st.loc[("mach", "machinery_collateral", 1), "status"] == "overdue"
    # mid-month, the end-of-month inspections are still pending
    mid = plan.status(led, as_of="2025-11-16").set_index(["loan_id", "reason", "rank"])
    assert mid.loc[("ss", "substandard", 1), "status"] == "pending"
    assert mid.loc[("N01", "severe_signal", 1), "status"] == "overdue"

    comp = plan.compliance(led, as_of="2025-12-05")
    o2 = comp.loc["O2"]  # d x2 done, loss done
    assert (o2["planned"], o2["due"], o2["done"], o2["overdue"]) == (3, 3, 3, 0)
    assert o2["compliance_rate"] == 1.0
    o1 = comp.loc["O1"]  # sm late, ss overdue, mach overdue, new done, N01 late, 2 samples
    assert o1["planned"] == 7 and o1["due"] == 7 and o1["done"] == 1 and o1["late"] == 2
    assert o1["overdue"] == 4  # ss, mach and the two uninspected samples
    assert o1["compliance_rate"] == pytest.approx(1 / 7)
    by_branch = plan.compliance(led, as_of="2025-12-05", by="branch")
    assert by_branch.loc["城关", "planned"] == 10


@pytest.mark.parametrize(
    "bad",
    [
        {"method": "telepathy"},
        {"proposed_action": "pray"},
        {"findings": " "},
        {"signals": "sanctioned,aliens"},
        {"inspection_date": "2026-01-01"},
        {"loan_id": "ghost"},
        {"category_assessed": "so-so"},
    ],
)
def test_bad_ledger_rows_write_nothing(store, bad):
    book = plan_book()
    rows = _ledger_rows()
    record_inspections(store, rows[:1], loan_ids=book.loans["loan_id"], as_of="2025-12-05")
    before = load_ledger(store, masked=False)
    with pytest.raises(ValidationError):
        record_inspections(
            store,
            [rows[1], {**rows[2], **bad}],
            loan_ids=book.loans["loan_id"],
            as_of="2025-12-05",
        )
    pd.testing.assert_frame_equal(load_ledger(store, masked=False), before)
    assert not store.has_table("risk_signals_manual")


def test_first_contact_counts_working_days_from_a_weekend_disbursement():
    loans = loan_rows(["sat", "mon"])
    loans["disbursement_date"] = pd.to_datetime(["2026-10-03", "2026-10-05"])  # Sat, Mon
    book = make_book(loans, [])
    plan = inspection_plan(book, "2026-10-01", "2026-10-31")
    fc = plan.table
    fc = fc[fc["reason"] == "first_contact"].set_index("loan_id")["due_by"]
    # Saturday: Mon..Fri are working days 1..5 -> Friday 9 Oct; Monday: next Monday 12 Oct
    assert fc["sat"] == pd.Timestamp("2026-10-09")
    assert fc["mon"] == pd.Timestamp("2026-10-12")
