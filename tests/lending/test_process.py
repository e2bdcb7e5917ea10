"""The credit process on record: route by the authority matrix, the steps in order, separation of
duties (errors naming both people), conditions, contract and disbursement conditions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskkit.lending.approval import SeparationOfDutiesError, approval_route
from riskkit.lending.process import ProcessError
from tests.lending.helpers import DAY, application, customer, world

CUSTOMERS = [
    customer("B1"),
    customer("B2"),
    customer("B3"),
    customer("B4", id_expiry_date=pd.Timestamp("2026-10-01")),
    customer("B5"),
    customer("B6", id_expiry_date=pd.Timestamp("2026-10-01")),
]
APPS = [
    application("A1", "B1", 30_000),
    application("A2", "B2", 250_000, "guaranteed"),
    application("A3", "B3", 400_000, "mortgage"),
    application("A4", "B4", 20_000),
    application("A5", "B5", 20_000),
    application("A6", "B6", 20_000, admission_override=True),
]
GRADES = {"A1": "R2", "A2": "R5", "A3": "R3", "A4": "R2", "A6": "R2"}  # A5: no score


@pytest.fixture
def proc():
    p, _ = world(CUSTOMERS, APPS, grades=GRADES)
    return p


def test_route_follows_the_authority_matrix_and_exceptions():
    _, a = world(CUSTOMERS, APPS, grades=GRADES)
    r = a.route.table
    assert r["level"].to_dict() == {
        "A1": "officer",
        "A2": "branch_approver",
        "A3": "credit_committee",
        "A4": "declined",
        "A5": "credit_committee",
        "A6": "credit_committee",
    }
    assert r.loc["A1", "reasons"] == (
        "exposure 30,000 (request 30,000) within the officer authority of 30,000 for credit "
        "loans; grade within R4"
    )
    assert r.loc["A3", "reasons"] == (
        "exposure 400,000 (request 400,000) above the branch approver authority of 300,000 "
        "for mortgage loans"
    )
    assert r.loc["A4", "reasons"] == "declined as requested: failed id_valid"
    assert r.loc["A5", "exceptions"] == "no_risk_grade"
    assert r.loc["A6", "exceptions"] == "admission_override"
    assert (r["investigators"] == 2).all()
    # a worse grade than the branch approver's R7 goes to the committee
    worse = approval_route(pd.DataFrame([APPS[1]]), grade=["R8"]).table.loc["A2"]
    assert worse["level"] == "credit_committee"
    assert worse["reasons"] == "grade R8 worse than the branch approver's R7"
    # the borrower's outstanding counts: 10,000 more on the book lifts A1 above 30,000
    exp = pd.DataFrame({"outstanding": [10_000.0]}, index=["B1"])
    r2 = approval_route(pd.DataFrame([APPS[0]]), grade=["R2"], exposure=exp).table.loc["A1"]
    assert r2["level"] == "branch_approver" and r2["exposure"] == 40_000


def test_each_assessment_is_on_record(proc):
    s = proc.steps("A4")
    assert s["step"].tolist() == ["application", "admission", "route"]
    adm = s.iloc[1]
    assert adm["decision"] == "fail" and adm["actor"] == "riskkit"
    assert json.loads(adm["detail"])["facts"] == [
        "ID expired on 2026-10-01 (must be valid at the decision date)"
    ]
    assert proc.state("A4").closed == "declined"
    with pytest.raises(ProcessError, match="application A4: the file is closed"):
        proc.investigate("A4", ["O02", "O03"], comment="visited")


def _to_approval(proc, app="A1", officers=("O02", "O03"), reviewer="R01"):
    proc.investigate(app, list(officers), comment="site visit: shop turnover checked", at=DAY)
    proc.review(app, reviewer, "pass", comment="file complete and compliant", at=DAY)


def test_officer_level_application_from_investigation_to_disbursement(proc):
    _to_approval(proc)
    proc.approve("A1", "O01", "approve", comment="within authority", at=DAY)
    assert proc.disbursement_check(["A1"], at=DAY).explain("A1")[-1] == (
        "[fail] contract_signed: loan contract signed -- the contract is not signed"
    )
    proc.sign_contract("A1", "O02", contract_id="HT-A1", at=DAY)
    check = proc.disburse("A1", "O02", loan_id="L9000001", at=DAY)
    assert bool(check.table.loc["A1", "ok"])
    f = proc.file("A1")
    assert f.state.stage == "disbursed"
    assert f.table["what"].tolist() == [
        "application received", "admission check", "approval route", "investigation",
        "investigation", "independent review", "approval", "contract", "disbursement",
    ]  # fmt: skip
    assert f.table["actor"].tolist()[3:] == ["O02", "O03", "R01", "O01", "O02", "O02"]
    assert f.table["why"].iloc[-1] == "loan L9000001 of 30,000"
    assert "approval: approve by O01 (approver)" in repr(f)


def test_steps_must_come_in_order(proc):
    with pytest.raises(ProcessError, match="A1: review needs the investigation first"):
        proc.review("A1", "R01", "pass", comment="ok")
    proc.investigate("A1", ["O02", "O03"], comment="visited")
    with pytest.raises(ProcessError, match="approval needs a passed independent review first"):
        proc.approve("A1", "O01", "approve")
    with pytest.raises(ProcessError) as exc:
        proc.disburse("A1", "O02")
    msg = str(exc.value)
    assert "application A1: not approved (stage: review)" in msg
    assert "the contract is not signed" in msg
    with pytest.raises(ProcessError, match="the on-site investigation takes 2 officers; got 1"):
        proc.investigate("A2", ["O02"], comment="visited")


def test_separation_of_duties_violations_name_both_people(proc):
    # the lead officer O01 holds officer-level authority: he may approve A1, but not when he
    # investigated it
    proc.investigate("A1", ["O01", "O02"], comment="visited")
    proc.review("A1", "R01", "pass", comment="ok")
    with pytest.raises(SeparationOfDutiesError) as exc:
        proc.approve("A1", "O01", "approve")
    assert str(exc.value).endswith(
        "application A1: approver 'O01' is the investigating officer 'O01' of this application; "
        "the investigating officers, the reviewer and the approver must be different people "
        "(审贷分离)"
    )
    assert proc.state("A1").decision is None  # nothing written
    with pytest.raises(SeparationOfDutiesError, match="investigating officers 'O04' and 'O04' "
                       "are the same person"):  # fmt: skip
        proc.investigate("A2", ["O04", "O04"], comment="visited")
    proc.investigate("A2", ["O03", "O04"], comment="visited")
    with pytest.raises(ProcessError, match="reviewer must be a reviewer: O02 \\(officer\\)"):
        proc.review("A2", "O02", "pass", comment="ok")


def test_a_person_with_two_hats_cannot_use_both_on_one_application(proc):
    """Someone who is both reviewer and approver (a small lender) reviews or approves, not
    both; the vectorised check over the records says who and what."""
    from riskkit.lending.approval import check_separation

    staff = proc.staff().reset_index()
    staff.loc[staff["staff_id"] == "R01", ["role", "approval_level"]] = ["reviewer,approver",
                                                                          "branch_approver"]  # fmt: skip
    proc.set_staff(staff)
    _to_approval(proc, "A2")
    with pytest.raises(SeparationOfDutiesError, match="approver 'R01' is the reviewer 'R01'"):
        proc.approve("A2", "R01", "approve")
    roles = pd.DataFrame(
        {"application_id": ["A9", "A9", "A9"], "person": ["O05", "O06", "O05"],
         "role": ["investigating officer", "investigating officer", "approver"]}
    )  # fmt: skip
    with pytest.raises(SeparationOfDutiesError, match="application A9: investigating officer "
                       "'O05' and approver 'O05' are the same person"):  # fmt: skip
        check_separation(roles)


def test_approver_needs_the_authority_the_route_requires(proc):
    _to_approval(proc, "A2")
    with pytest.raises(SeparationOfDutiesError, match="'O01' holds officer authority; the route "
                       "requires the branch approver"):  # fmt: skip
        proc.approve("A2", "O01", "approve")
    proc.approve("A2", "A01", "approve", comment="ok")
    assert proc.state("A2").approved


def test_conditions_must_be_met_before_disbursement(proc):
    _to_approval(proc, "A2")
    with pytest.raises(ProcessError, match="an approval with conditions must state them"):
        proc.approve("A2", "A01", "approve_with_conditions")
    cond = ["spouse co-signs the contract", "monthly turnover statement for 6 months"]
    proc.approve("A2", "A01", "approve_with_conditions", comment="ok", conditions=cond)
    proc.sign_contract("A2", "O02")
    with pytest.raises(ProcessError, match="open conditions: spouse co-signs the contract; "
                       "monthly turnover statement for 6 months"):  # fmt: skip
        proc.disburse("A2", "O02")
    with pytest.raises(ProcessError, match="'collateral' is not an open condition"):
        proc.meet_condition("A2", "collateral", "O02")
    proc.meet_condition("A2", cond[0], "O02", comment="signed 2026-11-06")
    proc.meet_condition("A2", cond[1], "O02", comment="statement on file")
    assert proc.state("A2").stage == "disbursement"
    proc.disburse("A2", "O02")
    assert proc.status().loc["A2", "stage"] == "disbursed"


def test_admission_is_checked_again_at_disbursement(proc):
    from riskkit.book.customers import CustomerRegister

    _to_approval(proc)
    proc.approve("A1", "O01", "approve", comment="ok", at=DAY)
    proc.sign_contract("A1", "O02", at=DAY)
    CustomerRegister(proc.store).update(
        "B1", "O02", "ID card renewal date entered", id_expiry_date=pd.Timestamp("2026-11-10"),
        changed_at="2026-11-08",
    )  # fmt: skip
    with pytest.raises(
        ProcessError, match="not admitted at disbursement: ID expired on 2026-11-10"
    ):
        proc.disburse("A1", "O02", at="2026-11-12")
    assert bool(proc.disbursement_check(["A1"], at="2026-11-09").table.loc["A1", "ok"])


def test_a_return_sends_the_file_back_to_investigation(proc):
    _to_approval(proc, "A2")
    proc.approve("A2", "A01", "return", comment="collateral photos missing")
    assert proc.state("A2").stage == "investigation"
    _to_approval(proc, "A2")
    proc.approve("A2", "A01", "approve", comment="photos on file")
    assert proc.state("A2").approved


def test_process_results_share_the_result_convention(proc):
    import dataclasses

    from riskkit.lending.approval import approval_route
    from riskkit.results import TableResult

    _to_approval(proc)
    proc.approve("A1", "O01", "approve", comment="ok")
    a = proc.assess(ids=["A1"])  # a second assessment, on record as such
    objects = [a.admission, a.route, a.groups, proc.file("A1"), proc.disbursement_check(["A1"])]
    objects.append(approval_route(proc.applications(["A2"]), grade=["R1"]))
    for obj in objects:
        assert dataclasses.is_dataclass(obj) and isinstance(obj, TableResult), type(obj)
        assert isinstance(obj.table, pd.DataFrame) and obj.to_frame() is not obj.table
        assert repr(obj).startswith(type(obj).__name__)
        assert obj._repr_html_().startswith("<")


def test_steps_come_in_order_by_date_and_nothing_is_written_otherwise(proc):
    """received 11-05 <= investigation <= review <= approval <= contract <= disbursement."""
    with pytest.raises(ProcessError, match="application A1: investigation dated 2026-11-01 "
                       "is before the application of 2026-11-05"):  # fmt: skip
        proc.investigate("A1", ["O02", "O03"], comment="site visit", at="2026-11-01")
    proc.investigate("A1", ["O02", "O03"], comment="site visit", at="2026-11-16")
    n = len(proc.steps("A1"))
    with pytest.raises(ProcessError, match="application A1: review dated 2026-11-13 is before "
                       "the investigation of 2026-11-16"):  # fmt: skip
        proc.review("A1", "R01", "pass", comment="complete", at="2026-11-13")
    assert len(proc.steps("A1")) == n
    proc.review("A1", "R01", "pass", comment="complete", at="2026-11-16")  # same day is fine
    proc.approve("A1", "O01", "approve", comment="within authority", at="2026-11-17")
    with pytest.raises(ProcessError, match="contract dated 2026-11-16 is before the approval of "
                       "2026-11-17"):  # fmt: skip
        proc.sign_contract("A1", "O02", at="2026-11-16")
    proc.sign_contract("A1", "O02", at="2026-11-18")
    with pytest.raises(ProcessError, match="disbursement dated 2026-11-17 is before the "
                       "contract of 2026-11-18"):  # fmt: skip
        proc.disburse("A1", "O02", at="2026-11-17")


def test_admission_is_judged_on_the_register_as_it_stood_at_the_date(proc):
    """A credit report pulled on 11-16 is not known at a decision on 11-13 (the report of
    10-30 was then 14 days old: valid); one stale at 11-13 is not cured by a later refresh."""
    from riskkit.book.customers import CustomerRegister
    from riskkit.lending.admission import check_admission

    reg = CustomerRegister(proc.store)
    reg.update("B1", "O02", "fresh report", changed_at="2026-11-16",
               credit_report_date=pd.Timestamp("2026-11-16"))  # fmt: skip
    reg.update("B2", "O02", "old report entered", changed_at="2026-11-01",
               credit_report_date=pd.Timestamp("2026-09-01"))  # fmt: skip
    reg.update("B2", "O02", "fresh report", changed_at="2026-11-16",
               credit_report_date=pd.Timestamp("2026-11-16"))  # fmt: skip
    apps = proc.applications(["A1", "A2"])
    c = proc.context(apps, pd.Timestamp("2026-11-13"))["customers"].set_index("borrower_id")
    assert c.loc[["B1", "B2"], "credit_report_date"].tolist() == [
        pd.Timestamp("2026-10-30"), pd.Timestamp("2026-09-01")
    ]  # fmt: skip
    adm = check_admission(apps, c.reset_index(), pd.Timestamp("2026-11-13"))
    assert adm.failed_codes("A1") == []
    f = adm.failures
    assert f.loc[f["application_id"] == "A2", "explanation_en"].tolist() == [
        "credit report older than 30 days: 2026-09-01"
    ]
    now = proc.context(apps, pd.Timestamp("2026-11-16"))["customers"]
    assert now["credit_report_date"].tolist() == [pd.Timestamp("2026-11-16")] * 2
