"""The committee pack: a papermill report per meeting date, masked HTML, the agenda with its
facts and the decisions once recorded; figures equal riskkit's direct computation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskkit.reports import run_report
from riskkit.reports.committee_pack import committee_pack
from riskkit.store import Store


@pytest.fixture(scope="module")
def pack_db(tmp_path_factory):
    from tests.widgets.helpers import committee_store

    return committee_store(tmp_path_factory.mktemp("pack") / "riskkit.db")


@pytest.mark.slow
def test_pack_of_a_meeting_with_decisions(pack_db, tmp_path, riskkit_kernel):
    direct = committee_pack(Store(pack_db), "2026-11-13")
    assert direct.metrics["decided"] == direct.metrics["applications"] > 0
    r = run_report("committee_pack", "2026-11-13", db_url=pack_db, reports_dir=tmp_path,
                   progress=False)  # fmt: skip
    assert r.ok, r.error
    metrics = json.loads((tmp_path / "2026-11-13/committee_pack/metrics.json").read_text())
    m = metrics["metrics"]
    for k in ("applications", "decided", "approved", "declined", "deferred", "admission_failed"):
        assert m[k] == direct.metrics[k], k
    html = (tmp_path / "2026-11-13/committee_pack/committee_pack.html").read_text()
    assert "Credit committee pack, meeting of 2026-11-13" in html
    first = direct.items[0]
    assert first.application_id in html and "Decision of the committee" in html
    # personal data masked: the customer's name and ID number never appear in full
    from riskkit.book.customers import CustomerRegister

    row = direct.table.iloc[0]
    c = CustomerRegister(Store(pack_db)).load([row["borrower_id"]]).iloc[0]
    assert c["id_number"] not in html and c["name"] not in html
    assert row["name"] in html  # masked form


@pytest.mark.slow
def test_pack_in_chinese_and_an_open_meeting(pack_db, tmp_path):
    r = run_report("committee_pack", "2026-11-30", db_url=pack_db, reports_dir=tmp_path,
                   params={"language": "zh"}, progress=False)  # fmt: skip
    assert r.ok, r.error
    html = (tmp_path / "2026-11-30/committee_pack/committee_pack.html").read_text()
    assert "贷款审批委员会会议材料（2026-11-30）" in html and "尚未决议" in html
    assert "决策日年满18周岁" in html  # the rules in Chinese


def test_a_date_without_a_meeting_is_a_clear_error(pack_db):
    with pytest.raises(ValueError, match="no committee meeting on 2026-11-14"):
        committee_pack(Store(pack_db), "2026-11-14")


def test_pack_follows_the_rules_as_recorded_on_its_date(pack_db):
    """Each agenda item was reviewed by the meeting date; nothing after the date is shown; a
    request the rules decline is never 'approved with conditions' (counter-offer or declined,
    the amount approved in the table); a vote for against the rules has its reason; the
    amount at stake is min(request, what the rules allow), nothing when they decline."""
    from riskkit.lending.committee import CreditCommittee
    from riskkit.lending.process import CreditProcess

    store = Store(pack_db)
    proc = CreditProcess(store)
    com = CreditCommittee(proc)
    steps = proc.steps()
    for day in ("2026-11-13", "2026-11-30"):
        pack = committee_pack(store, day)
        t = pack.table
        end = pd.Timestamp(day) + pd.Timedelta(days=1)
        for item in pack.items:
            assert (pd.to_datetime(item.steps["decided_at"]) < end).all(), item.application_id
            s = steps[(steps["application_id"] == item.application_id)
                      & (steps["step"] == "review") & (steps["decision"] == "pass")]  # fmt: skip
            assert pd.to_datetime(s["decided_at"]).max() < end, item.application_id
        allowed = np.where(t["recommendation"] == "decline", 0.0, t["limit_allowed"])
        assert (t["limit_allowed"] == allowed).all()
        assert (t["at_stake"] == np.minimum(t["amount"], t["limit_allowed"])).all()
        declined = t[t["recommendation"].str.startswith("decline")]
        assert not declined["decision"].str.startswith("approved with conditions").any()
        for a, row in declined.iterrows():
            v = com.votes(None, a)
            assert not (
                v["vote"].str.startswith("approve") & (v["comment"].str.strip() == "")
            ).any()
            if row["decision"].startswith("declined as requested; counter-offer of"):
                offer = com.assessment(f"CM{day.replace('-', '')}", a).counter_offer
                amount = offer.application.amount
                assert (
                    row["decision"]
                    == f"declined as requested; counter-offer of {amount:,.0f} approved"
                )
                assert row["amount_approved"] == amount
        assert pack.metrics["amount_approved"] == t["amount_approved"].sum()
