"""The committee's screen, driven headless: what it shows for an agenda item, recusal of the
member who reviewed it, the confirmation step, and the decision landing in the store."""

from __future__ import annotations

import json

import pytest

from riskkit.lending.committee import CreditCommittee
from riskkit.widgets.committee import CommitteeScreen
from tests.lending.helpers import DAY, application, customer, world

MEMBERS = ["A01", "C01", "C02", "C03", "C04", "C05", "R01"]


@pytest.fixture
def screen():
    proc, _ = world(
        [customer("B3"), customer("B4", worst_delinquency_days=120)],
        [
            application("A3", "B3", 400_000, "mortgage"),
            application("A4", "B4", 20_000, admission_override=True),
        ],  # fmt: skip
        grades={"A3": "R3", "A4": "R2"},
    )
    for app in ("A3", "A4"):
        proc.investigate(app, ["O02", "O03"], comment="site visit", at=DAY)
        proc.review(app, "R01", "pass", comment="file complete", at=DAY)
    m = CreditCommittee(proc).open_meeting("2026-11-20", MEMBERS, chair="C01")
    return CommitteeScreen(proc, m.meeting_id)


def test_the_screen_shows_what_the_committee_decides_on(screen):
    assert [v for _, v in screen.agenda.options] == ["A3", "A4"]
    assert "CM20261120 on 2026-11-20, chair C01" in screen.header.value
    assert "no approved champion" in screen.header.value
    assert "张*" in screen.application_out.value and "张三丰" not in screen.application_out.value
    assert "EB3" not in screen.application_out.value  # the ID number is masked
    assert "[pass] age" in screen.admission_out.value
    assert "exposure 400,000 (request 400,000) above the branch approver" in screen.route_out.value
    assert "Guarantee structure limit" in screen.limit_out.value
    assert "Not in a joint-guarantee group" in screen.group_out.value
    # R01 reviewed it: recused and locked; the others choose
    vote, _, why = screen.votes["R01"]
    assert vote.value == "recused" and vote.disabled and why.value == "reviewer of this application"
    assert screen.votes["C02"][0].value == "" and not screen.votes["C02"][0].disabled
    screen.agenda.value = "A4"
    assert "[fail] worst_delinquency" in screen.admission_out.value
    assert (
        "[condition] worst_delinquency: worst past delinquency 120 days" in screen.limit_out.value
    )
    assert "admission override requested" in screen.route_out.value


def test_recording_asks_for_confirmation_and_lands_in_the_store(screen):
    screen.record.click()
    assert "no vote chosen for A01, C01, C02, C03, C04, C05" in screen.error_out.value
    for m in ("A01", "C01", "C03", "C05"):
        screen.votes[m][0].value = "approve"
    screen.votes["C02"][0].value = "approve_with_conditions"
    screen.votes["C02"][1].value = "property insurance assigned; spouse co-signs"
    screen.votes["C04"][0].value = "decline"
    screen.votes["C04"][2].value = "loan-to-value too high"
    screen.record.click()
    assert screen.error_out.value == ""
    assert "approved with conditions: 5 of 6 members voting for, 4 needed (2/3)" in (
        screen.confirm_out.value
    )
    assert screen.confirm.layout.display is None  # shown
    # 400,000 on a 20,000 income breaks the affordability rule: declined as requested, the
    # counter-offer approved
    offer = screen._current.counter_offer.application.amount
    assert f"declined as requested and the counter-offer of {offer:,.0f} approved" in (
        screen.confirm_out.value
    )
    assert CreditCommittee(screen.process).votes().empty  # nothing written before confirming
    screen.confirm.click()  # votes for what the rules decline, without a reason: refused
    assert "recommendation (decline as requested) needs its reason [5 row(s); member A01, " \
        "C01, C02, C03, C05]" in screen.error_out.value  # fmt: skip
    assert CreditCommittee(screen.process).votes().empty
    for m in ("A01", "C01", "C02", "C03", "C05"):
        screen.votes[m][2].value = f"for the counter-offer of {offer:,.0f} only"
    screen.record.click()
    screen.confirm.click()
    step = screen.process.steps("A3").iloc[-1]
    assert (step["step"], step["decision"]) == ("committee", "counter_offer_approved")
    assert json.loads(step["conditions"]) == ["property insurance assigned", "spouse co-signs"]
    assert json.loads(step["detail"])["amount"] == offer
    assert screen.process.state("A3").amount_approved == offer
    assert screen.process.state("A3").stage == "offer"  # the applicant accepts it next
    assert "counter_offer_approved" in screen.decision_out.value
    assert f"Amount approved: {offer:,.0f}" in screen.decision_out.value
    assert "loan-to-value too high" in screen.decision_out.value
    assert screen.record.disabled and screen.votes["C01"][0].disabled
    assert screen.agenda.options[0][0].endswith("— counter offer approved")


def test_cancel_writes_nothing(screen):
    for m in ("A01", "C01", "C02", "C03", "C04", "C05"):
        screen.votes[m][0].value = "approve"
    screen.record.click()
    screen.cancel.click()
    assert screen.confirm_out.value == "" and screen.confirm.layout.display == "none"
    assert CreditCommittee(screen.process).votes().empty
