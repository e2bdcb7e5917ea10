"""The credit committee: quorum, the voting rule (two thirds, tie, chair's veto), recusal,
dissent and conditions on record, and the outcome as the application's committee step."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskkit.errors import ValidationError
from riskkit.lending.approval import SeparationOfDutiesError
from riskkit.lending.committee import CreditCommittee, QuorumError, committee_outcome
from tests.lending.helpers import DAY, application, customer, world

MEMBERS = ["A01", "C01", "C02", "C03", "C04", "C05", "R01"]  # 7: quorum 2/3 -> 5


def test_outcome_rule_two_thirds_of_members_voting():
    # 4 of 6 for reaches 2/3 exactly (fractions, no rounding trouble)
    o = committee_outcome(["approve"] * 4 + ["decline"] * 2, chair_vote="approve")
    assert (o.outcome, o.votes_for, o.required, o.rule) == ("approved", 4, 4, "share")
    # 3 for, 1 against, 2 abstentions: an abstention is not a vote for
    o = committee_outcome(["approve"] * 3 + ["decline"] + ["abstain"] * 2)
    assert (o.outcome, o.required, o.abstain) == ("declined", 4, 2)
    # 5 of 7 >= 14/3
    assert committee_outcome(["approve"] * 5 + ["decline"] * 2).outcome == "approved"
    assert committee_outcome(["approve"] * 4 + ["decline"] * 3).outcome == "declined"


def test_tie_follows_the_policy():
    votes = ["approve"] * 3 + ["decline"] * 3
    o = committee_outcome(votes, chair_vote="approve")
    assert (o.outcome, o.rule, o.text) == (
        "deferred",
        "tie",
        "deferred: a tie, 3 for and 3 against",
    )
    pol = {"committee": {"on_tie": "declined"}}
    assert committee_outcome(votes, policy=pol).outcome == "declined"
    # with a simple majority rule a 2-2 tie with one abstention is still a tie
    simple = {"committee": {"approve_share": "1/2"}}
    o = committee_outcome(["approve", "approve", "decline", "decline", "abstain"], policy=simple)
    assert o.outcome == "deferred"
    assert committee_outcome(["approve"] * 3 + ["decline"] * 2, policy=simple).outcome == "approved"


def test_chair_veto_and_conditions():
    votes = ["approve"] * 5 + ["decline"]
    assert committee_outcome(votes, chair_vote="decline").outcome == "declined"
    assert committee_outcome(votes, chair_vote="decline").rule == "veto"
    no_veto = {"committee": {"chair_veto": False}}
    assert committee_outcome(votes, chair_vote="decline", policy=no_veto).outcome == "approved"
    o = committee_outcome(
        ["approve_with_conditions", "approve", "approve_with_conditions", "approve", "decline"],
        conditions=[["A"], [], ["B", "A"], [], []],
    )
    assert o.outcome == "approved_with_conditions" and o.conditions == ("A", "B")


@pytest.fixture
def committee():
    # incomes that carry the amounts asked: the rules approve both (the committee's rule
    # is what these tests are about; see test_committee_rules.py for requests the rules decline)
    proc, _ = world(
        [customer("B3", monthly_income=100_000.0), customer("B4", monthly_income=100_000.0)],
        [application("A3", "B3", 400_000, "mortgage"), application("A4", "B4", 350_000, "pledge")],
        grades={"A3": "R3", "A4": "R4"},
    )
    for app in ("A3", "A4"):
        proc.investigate(app, ["O02", "O03"], comment="site visit", at=DAY)
        proc.review(app, "R01", "pass", comment="file complete", at=DAY)
    return CreditCommittee(proc)


def test_a_meeting_without_quorum_is_an_error_naming_the_absent(committee):
    assert committee.members() == MEMBERS
    with pytest.raises(QuorumError) as exc:
        committee.open_meeting("2026-11-20", ["C01", "C02", "C03", "A01"], chair="C01")
    assert str(exc.value).endswith(
        "meeting CM20261120: 4 of 7 members present, quorum is 5 (2/3); absent: C04, C05, R01"
    )
    assert committee.meetings().empty  # nothing on record
    with pytest.raises(ValidationError, match="the chair 'C01' is not present"):
        committee.open_meeting("2026-11-20", ["C02", "C03", "C04", "C05", "A01"], chair="C01")


def test_votes_dissent_and_conditions_land_on_record(committee):
    m = committee.open_meeting("2026-11-20", MEMBERS, chair="C01")
    assert m.agenda == ("A3", "A4")
    # R01 reviewed A3: a vote other than recused breaks the separation of duties
    with pytest.raises(SeparationOfDutiesError, match="committee member 'R01' is the reviewer "
                       "'R01' of this application and must be recused"):  # fmt: skip
        committee.record_votes(m.meeting_id, "A3", {"R01": "approve"})
    with pytest.raises(ValidationError, match="a decline \\(dissent\\) needs its reason"):
        committee.record_votes(m.meeting_id, "A3", {"C04": "decline"})
    votes = [
        {"member": "C01", "vote": "approve"},
        {"member": "C02", "vote": "approve_with_conditions",
         "conditions": ["reduce the amount to 350,000", "property insurance assigned"]},
        {"member": "C03", "vote": "approve"},
        {"member": "C04", "vote": "decline", "comment": "sector in decline; LTV too high"},
        {"member": "C05", "vote": "approve_with_conditions",
         "conditions": ["property insurance assigned"]},
        {"member": "A01", "vote": "approve"},
        {"member": "R01", "vote": "recused", "comment": "reviewed this application"},
    ]  # fmt: skip
    committee.record_votes(m.meeting_id, "A3", votes, at=DAY)
    with pytest.raises(
        ValidationError,
        match="has already voted on this application \\[1 row\\(s\\); member C01\\]",
    ):
        committee.record_votes(m.meeting_id, "A3", [{"member": "C01", "vote": "abstain"}])
    d = committee.decide(m.meeting_id, "A3")
    assert d.outcome.outcome == "approved_with_conditions"
    assert d.outcome.text == ("approved with conditions: 5 of 6 members voting for, 4 needed (2/3)")
    assert d.outcome.conditions == ("reduce the amount to 350,000", "property insurance assigned")
    assert d.dissent["member"].tolist() == ["C04"]
    step = committee.process.steps("A3").iloc[-1]
    assert (step["step"], step["actor"], step["decision"]) == (
        "committee", "C01", "approved_with_conditions",
    )  # fmt: skip
    detail = json.loads(step["detail"])
    assert detail["dissent"] == [
        {"member": "C04", "vote": "decline", "comment": "sector in decline; LTV too high"}
    ]
    assert "dissent C04: sector in decline; LTV too high" in step["comment"]
    st = committee.process.state("A3")
    assert st.stage == "conditions" and len(st.open_conditions) == 2
    minutes = committee.minutes(m.meeting_id)
    assert minutes.loc["A3", "outcome"] == "approved_with_conditions"
    assert pd.isna(minutes.loc["A4", "outcome"])  # not decided yet


def test_recusals_can_break_the_quorum_of_an_item(committee):
    m = committee.open_meeting("2026-11-20", ["C01", "C02", "C03", "C04", "R01"], chair="C01")
    committee.record_votes(
        m.meeting_id, "A3",
        {"C01": "approve", "C02": "approve", "C03": "approve", "C04": "approve",
         "R01": "recused"},
    )  # fmt: skip
    with pytest.raises(QuorumError, match="application A3 at CM20261120: 4 members voting "
                       "\\(recused: R01\\), quorum 5 of 7"):  # fmt: skip
        committee.decide(m.meeting_id, "A3")
    assert committee.process.state("A3").decision is None


def test_a_missing_vote_is_named(committee):
    m = committee.open_meeting("2026-11-20", MEMBERS, chair="C01")
    committee.record_votes(m.meeting_id, "A4", {"C01": "approve", "C02": "approve"})
    with pytest.raises(ValidationError, match="no vote yet from A01, C03, C04, C05, R01"):
        committee.decide(m.meeting_id, "A4")


def test_a_tie_defers_to_the_next_meeting(committee):
    m = committee.open_meeting("2026-11-20", ["C01", "C02", "C03", "C04", "C05", "A01"],
                               chair="C01")  # fmt: skip
    committee.record_votes(
        m.meeting_id, "A4",
        [{"member": x, "vote": "approve"} for x in ("C01", "C02", "C03")]
        + [{"member": x, "vote": "decline", "comment": "weak cash flow"}
           for x in ("C04", "C05", "A01")],
    )  # fmt: skip
    d = committee.decide(m.meeting_id, "A4")
    assert d.outcome.outcome == "deferred" and d.outcome.rule == "tie"
    assert committee.process.state("A4").stage == "committee"
    m2 = committee.open_meeting("2026-11-27", MEMBERS, chair="C01", agenda=["A4"])
    committee.record_votes(
        m2.meeting_id, "A4",
        {"C01": "approve", "C02": "approve", "C03": "approve", "C04": "approve",
         "C05": "approve", "A01": "approve", "R01": "recused"},
    )  # fmt: skip
    assert committee.decide(m2.meeting_id, "A4").outcome.outcome == "approved"
    assert committee.process.state("A4").stage == "contract"


def test_chair_veto_declines_and_closes_the_file(committee):
    m = committee.open_meeting("2026-11-20", MEMBERS, chair="C01")
    votes = {x: "approve" for x in ("C02", "C03", "C04", "C05", "A01")}
    committee.record_votes(m.meeting_id, "A4", {**votes, "R01": "recused"})
    committee.record_votes(m.meeting_id, "A4", [{"member": "C01", "vote": "decline",
                                                   "comment": "related-party exposure"}])  # fmt: skip
    d = committee.decide(m.meeting_id, "A4")
    assert d.outcome.outcome == "declined" and d.outcome.rule == "veto"
    assert d.dissent["member"].tolist() == ["C02", "C03", "C04", "C05", "A01"]
    assert committee.process.state("A4").closed == "declined"


def test_the_whole_process_on_sqlite_and_postgresql(db_url):
    """Register, assessment, steps, committee votes and the decision on a real database, read
    back as written (the same test runs on SQLite and on PostgreSQL)."""
    from riskkit.book.customers import CustomerRegister

    proc, a = world([customer("B3", monthly_income=100_000.0)],
                    [application("A3", "B3", 400_000, "mortgage")],
                    grades={"A3": "R3"}, url=db_url)  # fmt: skip
    assert a.route.table.loc["A3", "level"] == "credit_committee"
    CustomerRegister(proc.store).update("B3", "O02", "phone changed", phone="13900001111")
    assert CustomerRegister(proc.store).history("B3")["field"].tolist()[-1] == "phone"
    proc.investigate("A3", ["O02", "O03"], comment="site visit", at=DAY)
    proc.review("A3", "R01", "pass", comment="file complete", at=DAY)
    com = CreditCommittee(proc)
    m = com.open_meeting("2026-11-20", MEMBERS, chair="C01")
    com.record_votes(
        m.meeting_id, "A3",
        [{"member": x, "vote": "approve"} for x in ("A01", "C01", "C02", "C03", "C05")]
        + [{"member": "C04", "vote": "decline", "comment": "LTV"},
           {"member": "R01", "vote": "recused"}],
    )  # fmt: skip
    d = com.decide(m.meeting_id, "A3", amount=350_000)
    assert d.outcome.outcome == "approved"
    st = proc.state("A3")
    assert st.amount_approved == 350_000 and st.stage == "contract"
    assert proc.steps("A3")["step_id"].is_monotonic_increasing
    assert com.minutes(m.meeting_id).loc["A3", "dissent"] == "C04 (decline): LTV"
