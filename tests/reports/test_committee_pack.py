"""The committee pack: a papermill report per meeting date, masked HTML, the agenda with its
facts and the decisions once recorded; figures equal riskkit's direct computation."""

from __future__ import annotations

import json

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
