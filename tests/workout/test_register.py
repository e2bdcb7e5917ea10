"""Write-off eligibility by policy and the append-only write-off register: the only way a loan
becomes written off."""

import pandas as pd
import pytest

from riskkit.classification import Classifier
from riskkit.errors import ValidationError
from riskkit.store import Store
from riskkit.workout import WriteOffRegister, required_role, write_off_eligibility
from tests.classification.helpers import loan_rows, make_book, on_time

LATE = pd.Timestamp("2026-03-31")


def book():
    """exh: 9 of 14 due missed, recovery exhausted on 2026-02-10 (loss by status);
    old: nothing paid since disbursement, over 360 days past due on 2026-03-31, in collection
    since 2025-06-01 (small-balance rule); fresh: in collection for 2 months only;
    sec: like old but mortgage (collateral still to be sold: not the small-balance rule);
    good: paid on time."""
    ids = ["exh", "old", "fresh", "sec", "good"]
    loans = loan_rows(ids)
    loans.loc[loans["loan_id"] == "sec", "guarantee_type"] = "mortgage"
    pays = on_time("exh", 3) + on_time("good", 12) + on_time("fresh", 11)
    rec = [
        ("exh", "2025-07-01", "collection"),
        ("exh", "2025-09-01", "legal_action"),
        ("exh", "2026-02-10", "exhausted"),
        ("old", "2025-06-01", "collection"),
        ("fresh", "2026-02-01", "collection"),
        ("sec", "2025-06-01", "legal_action"),
    ]
    b = make_book(loans, pays, recovery_status=rec)
    b.as_of_date = LATE
    return b


def entries(*ids, date="2026-03-31", **kw):
    rows = []
    for lid in ids:
        row = {
            "loan_id": lid,
            "write_off_date": pd.Timestamp(date),
            "proposer": "O1",
            "approver": "RC-01",
            "approver_role": "risk_committee",
            "reason": "recovery exhausted",
        }
        row.update(kw)
        rows.append(row)
    return pd.DataFrame(rows)


def test_eligibility_by_rule():
    b = book()
    res = Classifier().classify(b, LATE)
    el = write_off_eligibility(b, res)
    assert el.loc["exh", "category"] == "loss" and el.loc["exh", "rule"] == "recovery_exhausted"
    assert el.loc["old", "rule"] == "small_balance" and el.loc["old", "days_past_due"] > 360
    assert el.loc["old", "recovery_days"] == (LATE - pd.Timestamp("2025-06-01")).days
    # fresh: not 180 days of recovery effort; sec: collateral not yet sold; good: performing
    assert el["eligible"].to_dict() == {
        "exh": True,
        "old": True,
        "fresh": False,
        "sec": False,
        "good": False,
    }
    assert el.loc["exh", "required_role"] == "risk_committee"
    assert required_role(pd.Series([100_000.0, 100_000.01])).tolist() == [
        "risk_committee",
        "general_manager",
    ]
    # a policy that disables the small-balance rule
    off = {"write_off": {"rules": {"small_balance": {"enabled": False}}}}
    assert not write_off_eligibility(b, res, off).loc["old", "eligible"]


def test_register_is_the_only_way_to_write_off(tmp_path):
    b = book()
    store = Store(f"sqlite:///{tmp_path}/r.db")
    reg = WriteOffRegister(store)
    before = Classifier().classify(b, LATE, write_offs=reg.written_off(LATE))
    assert not before.table["written_off"].any()
    rows = reg.record(entries("exh", "old"), b)
    assert rows["write_off_id"].tolist() == [1, 2]
    assert rows["rule"].tolist() == ["recovery_exhausted", "small_balance"]
    # the principal written off is the outstanding principal on the date: 9 of 12 x 1,000
    # for exh (3 paid), all 12,000 for old
    assert rows["principal"].tolist() == [9_000.0, 12_000.0]
    assert rows["amount"].tolist() == [9_000.0, 12_000.0]
    assert rows["basis"].str.contains("财金〔2017〕90号").all()
    back = reg.load()
    assert back["loan_id"].tolist() == ["exh", "old"] and len(back) == 2
    after = Classifier().classify(b, LATE, write_offs=reg.written_off(LATE)).table
    assert after.loc[["exh", "old"], "written_off"].all()
    assert after.loc[["exh", "old"], "outstanding_principal"].sum() == 0.0
    # the day before, nothing was written off
    assert (
        not Classifier()
        .classify(b, "2026-03-30", write_offs=reg.written_off())
        .table["written_off"]
        .any()
    )
    # append-only: a second write-off of the same loan is refused, nothing is added
    with pytest.raises(ValidationError, match="already written off"):
        reg.record(entries("exh"), b)
    assert len(reg.load()) == 2


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (entries("good"), "not eligible for write-off"),
        (entries("fresh"), "not eligible for write-off"),
        (entries("zz"), "unknown loan"),
        (entries("exh", "exh"), "loan listed twice"),
        (entries("exh", proposer="RC-01"), "may not approve their own write-off"),
        (entries("exh", reason=" "), "reason is required"),
        (entries("exh", approver_role="clerk"), "unknown role"),
        (entries("exh", date="2026-04-30"), "after the book's date"),
        (entries("exh", date="2024-12-31"), "before disbursement"),
        (entries("exh", principal=8_000.0), "not the outstanding principal"),
        (entries("exh", rule="small_balance"), "that rule does not hold then"),
        (entries("exh", date="2025-12-31"), "not eligible"),  # exhausted only in Feb 2026
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(tmp_path, rows, message):
    b = book()
    reg = WriteOffRegister(Store(f"sqlite:///{tmp_path}/r.db"))
    with pytest.raises(ValidationError, match=message):
        reg.record(rows, b)
    assert len(reg.load()) == 0


def test_authority_limits_are_policy(tmp_path):
    b = book()
    reg = WriteOffRegister(Store(f"sqlite:///{tmp_path}/r.db"))
    tight = {"write_off": {"authority": {"risk_committee": 5_000}}}
    with pytest.raises(ValidationError, match="above the approver role's authority"):
        reg.record(entries("exh"), b, policy=tight)
    ok = reg.record(
        entries("exh", approver="GM-01", approver_role="general_manager"), b, policy=tight
    )
    assert ok["approver_role"].tolist() == ["general_manager"]


def test_record_inside_the_callers_transaction(tmp_path):
    b = book()
    store = Store(f"sqlite:///{tmp_path}/r.db")
    reg = WriteOffRegister(store)
    with pytest.raises(ValidationError, match="already written off"):
        with store.transaction() as conn:
            reg.record(entries("exh"), b, conn=conn)
            reg.record(entries("exh"), b, conn=conn)  # sees the row written in this transaction
    assert len(reg.load()) == 0  # the failed transaction rolled back the first write too
    with store.transaction() as conn:
        reg.record(entries("exh"), b, conn=conn)
    assert reg.load()["loan_id"].tolist() == ["exh"]
