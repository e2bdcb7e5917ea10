"""The committee decides under the rules (REVIEW.md "Decisions"): a request the rules decline
as requested is declined, and the counter-offer approved (never 'approved with conditions');
an approval of what the rules decline outright is the committee's exception with its reasons;
a vote for against the rules carries a reason; pricing below the risk-based floor is repriced
or waived with a reason, and a floor above the legal rate cap cannot be priced; the agenda
holds reviewed files only."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskkit.errors import ValidationError
from riskkit.lending.committee import CreditCommittee
from riskkit.lending.process import ProcessError
from tests.lending.helpers import DAY, application, customer, world

MEMBERS = ["A01", "C01", "C02", "C03", "C04", "C05", "R01"]
FOR = ("A01", "C01", "C02", "C03", "C05")


def _committee(apps, customers=None, policy=None, review_at=DAY, grade="R3"):
    ids = [a["application_id"] for a in apps]
    customers = customers or [customer(a["borrower_id"]) for a in apps]
    grades = dict.fromkeys(ids, grade) if grade else None  # no grade: the committee decides
    proc, _ = world(customers, apps, grades=grades, policy=policy)
    for a in ids:
        proc.investigate(a, ["O02", "O03"], comment="site visit", at=DAY)
        proc.review(a, "R01", "pass", comment="file complete", at=review_at)
    return CreditCommittee(proc)


def _votes(reason=""):
    return [{"member": m, "vote": "approve", "comment": reason} for m in FOR] + [
        {"member": "C04", "vote": "decline", "comment": "too much for the income"},
        {"member": "R01", "vote": "recused", "comment": "reviewed it"},
    ]


def test_approving_a_request_declined_as_requested_approves_the_counter_offer():
    """400,000 over 12 months at 15% on a 20,000 income: installment/income above 50%. The
    income carries 10,000 a month: 10,000 x (1 - 1.0125^-12) / 0.0125 = 110,793 -> 110,000."""
    com = _committee([application("A3", "B3", 400_000, "mortgage")])
    m = com.open_meeting("2026-11-20", MEMBERS, chair="C01")
    assert com.assessment(m.meeting_id, "A3").recommendation == "decline as requested"
    with pytest.raises(ValidationError, match="application A3: a vote for against the rules' "
                       "recommendation \\(decline as requested\\) needs its reason "
                       "\\[5 row\\(s\\); member A01, C01, C02, C03, C05\\]"):  # fmt: skip
        com.record_votes(m.meeting_id, "A3", _votes())
    assert com.votes().empty
    com.record_votes(m.meeting_id, "A3", _votes("for the counter-offer only"))
    d = com.decide(m.meeting_id, "A3")
    assert d.outcome.outcome == "counter_offer_approved"
    assert d.outcome.text == "counter offer approved: 5 of 6 members voting for, 4 needed (2/3)"
    step = com.process.steps("A3").iloc[-1]
    detail = json.loads(step["detail"])
    assert (step["decision"], detail["amount"]) == ("counter_offer_approved", 110_000.0)
    assert detail["note"].startswith("declined as requested (installment/income ")
    assert detail["note"].endswith("; counter-offer of 110,000 approved")
    proc = com.process
    assert proc.state("A3").stage == "offer"
    with pytest.raises(ProcessError, match="a contract needs the applicant's acceptance of the "
                       "counter-offer of 110,000 first"):  # fmt: skip
        proc.sign_contract("A3", "O02", at="2026-11-21")
    proc.accept_offer("A3", "O02", comment="accepted in writing", at="2026-11-21")
    proc.sign_contract("A3", "O02", at="2026-11-22")
    proc.disburse("A3", "O02", at="2026-11-23")
    assert json.loads(proc.steps("A3").iloc[-1]["detail"])["amount"] == 110_000.0
    with pytest.raises(ValidationError, match="amount 150,000 above the counter-offer of 110,000"):
        from riskkit.lending.committee import _granted

        _granted("A3", 110_000.0, 150_000.0)


def test_approving_what_the_rules_decline_is_the_committees_exception():
    """Other debts of 12,000 on a 20,000 income leave nothing within 50%: the rules decline."""
    com = _committee([application("A5", "B5", 400_000, "mortgage", other_debt_service=12_000.0)])
    m = com.open_meeting("2026-11-20", MEMBERS, chair="C01")
    assert com.assessment(m.meeting_id, "A5").recommendation == "decline"
    com.record_votes(m.meeting_id, "A5", _votes("debts repaid from the sale of a shop"))
    com.decide(m.meeting_id, "A5")
    step = com.process.steps("A5").iloc[-1]
    note = json.loads(step["detail"])["note"]
    assert step["decision"] == "approved"
    assert note == (
        "approved as the committee's exception to the rules (income 20,000 leaves no room for "
        "an installment within 50% of income): debts repaid from the sale of a shop"
    )


def test_a_rate_below_the_floor_is_repriced_or_waived_with_a_reason():
    """No model: PD 0, floor = 4.5% + 3% + 2% = 9.50% above the 8.00% asked."""
    apps = [application(a, b, 30_000, annual_rate=0.08) for a, b in (("A1", "B1"), ("A2", "B2"))]
    com = _committee(apps, grade=None)
    m = com.open_meeting("2026-11-20", MEMBERS, chair="C01")
    assert m.agenda == ("A1", "A2")
    for a in m.agenda:
        com.record_votes(m.meeting_id, a, _votes())
    d = com.decide(m.meeting_id, "A1")
    assert d.outcome.outcome == "approved_with_conditions"
    assert d.outcome.conditions == ("reprice to at least the risk-based floor 9.50% (rate 8.00%)",)
    with pytest.raises(ValidationError, match="application A1: not waiting for the committee "
                       "\\(stage: conditions\\); decided once"):  # fmt: skip
        com.decide(m.meeting_id, "A1")
    d = com.decide(m.meeting_id, "A2", waivers={"rate_below_floor": "staff loan programme"})
    assert (d.outcome.outcome, d.outcome.conditions) == ("approved", ())
    waived = json.loads(com.process.steps("A2").iloc[-1]["detail"])["waivers"]
    assert waived == {"rate_below_floor": "rate 8.00% below risk-based floor 9.50%: reprice -- "
                      "waived: staff loan programme"}  # fmt: skip


def test_a_floor_above_the_legal_rate_cap_declines():
    """Cost of funds 20%: floor 20% + 3% + 2% = 25.00% above the 24% cap."""
    pol = {"limits": {"cost_of_funds": 0.20}}
    com = _committee([application("A3", "B3", 400_000, "mortgage")],
                     [customer("B3", monthly_income=100_000.0)], policy=pol)  # fmt: skip
    m = com.open_meeting("2026-11-20", MEMBERS, chair="C01")
    a = com.assessment(m.meeting_id, "A3")
    assert a.recommendation == "decline" and a.counter_offer is None
    assert [r.text for r in a.reasons if r.code == "floor_above_rate_cap"] == [
        "risk-based price floor 25.00% above the legal rate cap 24%: cannot be priced legally"
    ]


def test_only_files_reviewed_by_the_meeting_date_go_on_its_agenda():
    com = _committee([application("A3", "B3", 400_000, "mortgage")],
                     review_at=pd.Timestamp("2026-11-16"))  # fmt: skip
    with pytest.raises(ValidationError, match="meeting CM20261113 on 2026-11-13: A3 not yet "
                       "through the independent review by the meeting date"):  # fmt: skip
        com.open_meeting("2026-11-13", MEMBERS, chair="C01", agenda=["A3"])
    assert com.open_meeting("2026-11-14", MEMBERS, chair="C01").agenda == ()
    assert com.open_meeting("2026-11-16", MEMBERS, chair="C01").agenda == ("A3",)
