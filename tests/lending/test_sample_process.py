"""The sample data end to end: a month of applications after the sample book, stored as staff
would, assessed, and one taken from admission through investigation, review and the committee
vote to disbursement, every step on record."""

from __future__ import annotations

import pandas as pd
import pytest

from riskkit.book.customers import CustomerRegister, register_from_book
from riskkit.datasets import make_microloan_book
from riskkit.datasets.applications import make_applications, store_sample
from riskkit.lending.committee import CreditCommittee
from riskkit.store import Store


@pytest.fixture(scope="module")
def sample_world():
    book = make_microloan_book(n_loans=3_000, months=30, seed=4)
    store = Store("sqlite://")
    store.save_book(book)
    register_from_book(store, book)
    sample = make_applications(book, n=150, seed=4)
    proc = store_sample(store, sample)
    return book, sample, proc, proc.assess()


def test_sample_applications_are_realistic(sample_world):
    book, sample, _, _ = sample_world
    a = sample.applications
    assert a["application_id"].is_unique and a["application_date"].is_monotonic_increasing
    assert (a["application_date"] > book.as_of_date).all()
    assert (a["application_date"].dt.day_of_week < 5).all()  # working days
    new = set(sample.new_customers["borrower_id"])
    assert not new & set(book.borrowers["borrower_id"])
    assert 0.4 < a["borrower_id"].isin(new).mean() < 0.8
    # joint groups: triples of new customers of one segment, and one group of two
    g = a.dropna(subset=["group_id"]).groupby("group_id")["borrower_id"].size()
    assert sorted(set(g)) == [2, 3] and (g == 2).sum() == 1
    assert (a.loc[a["group_id"].notna(), "guarantee_type"] == "joint").all()


def test_register_changes_are_on_record_by_the_officers(sample_world):
    _, sample, proc, _ = sample_world
    h = CustomerRegister(proc.store).history()
    new = h[(h["field"] == "(new customer)") & h["changed_by"].str.startswith("O")]
    assert set(new["borrower_id"]) == set(sample.new_customers["borrower_id"])
    upd = h[h["reason"].str.startswith("re-verified on application")]
    assert set(upd["field"]) >= {"income_verified_date", "credit_report_date"}
    assert set(upd["borrower_id"]) == set(sample.customer_updates["borrower_id"])


def test_every_admission_rule_has_cases_in_the_sample(sample_world):
    _, _, proc, a = sample_world
    failed = a.admission.by_rule()["failed"]
    for rule in ("age", "income_verified", "credit_report", "no_current_overdue", "residence",
                 "business_operating", "purpose_allowed"):  # fmt: skip
        assert failed[rule] > 0, rule
    declined = a.route.table["level"] == "declined"
    assert declined.sum() == (~a.admission.table["eligible"]).sum()
    # the two households left of a joint group: over the single guarantee's 500k
    over = a.groups.over_limit
    assert len(over) == 1 and over["households"].iloc[0] == 2
    gid = over.index[0]
    apps = proc.applications()
    members = apps.loc[apps["group_id"] == gid, "application_id"]
    ex = a.route.table.loc[members, "exceptions"]
    assert ex.str.contains("group_over_limit").all() | (a.route.table.loc[members, "level"]
                                                        == "declined").any()  # fmt: skip


def test_an_application_from_admission_to_disbursement(sample_world):
    _, _, proc, a = sample_world
    r = a.route.table
    app_id = r.index[(r["level"] == "credit_committee") & (r["exceptions"] == "no_risk_grade")][0]
    app = proc.application(app_id)
    staff = proc.staff()
    branch = staff[(staff["branch"] == app["branch"]) & (staff["role"] == "officer")]
    officers = [o for o in branch.index if pd.isna(branch.at[o, "approval_level"])][:2]
    reviewer = staff.index[(staff["branch"] == app["branch"]) & (staff["role"] == "reviewer")][0]
    day = app["application_date"]
    proc.investigate(app_id, officers, comment="on-site visit; business verified", at=day)
    proc.review(app_id, reviewer, "pass", comment="complete and compliant", at=day)
    com = CreditCommittee(proc)
    present = [m for m in com.members() if m != reviewer]
    meeting = com.open_meeting(day + pd.Timedelta(days=7), present, chair="C01", agenda=[app_id])
    votes = [{"member": m, "vote": "approve"} for m in present if m != "C03"]
    votes.append({"member": "C03", "vote": "approve_with_conditions",
                  "conditions": ["turnover statements for the last 6 months on file"]})  # fmt: skip
    com.record_votes(meeting.meeting_id, app_id, votes)
    d = com.decide(meeting.meeting_id, app_id)
    assert d.outcome.outcome == "approved_with_conditions"
    proc.meet_condition(app_id, d.outcome.conditions[0], officers[0], comment="statements filed",
                        at=day + pd.Timedelta(days=8))  # fmt: skip
    proc.sign_contract(app_id, officers[0], at=day + pd.Timedelta(days=9))
    check = proc.disburse(app_id, officers[0], at=day + pd.Timedelta(days=10))
    assert bool(check.table.loc[app_id, "ok"])
    f = proc.file(app_id)
    assert f.state.stage == "disbursed"
    assert f.table["what"].tolist() == [
        "application received", "admission check", "approval route", "investigation",
        "investigation", "independent review", "credit committee", "condition met", "contract",
        "disbursement",
    ]  # fmt: skip
    assert "no risk grade from the approved model" in f.table["why"].iloc[2]
    text = repr(f) + f._repr_html_()
    customer = CustomerRegister(proc.store).load([app["borrower_id"]]).iloc[0]
    assert customer["name"] not in text and customer["id_number"] not in text
