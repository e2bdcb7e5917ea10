"""provisioning.ipynb through papermill on a small sample book with its write-off register:
the figures recomputed directly, floors from an institution's policy file, Chinese text."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskkit import cli
from riskkit.provisions import ECLModel
from riskkit.reports import run_report
from riskkit.reports.migration_report import classification_history
from riskkit.reports.post_loan import month_end_classification
from riskkit.store import Store
from riskkit.workout import realised_lgd

pytestmark = pytest.mark.slow
AS_OF = "2026-10-31"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("prov")
    url = f"sqlite:///{d / 'book.db'}"
    assert cli.ensure_demo_book(url, AS_OF, n_loans=1500)
    return url, d


def test_provisioning_report_in_chinese_with_policy_floors(sample_store, riskkit_kernel):
    url, d = sample_store
    pol = d / "policy.yaml"
    pol.write_text(
        "adequacy:\n  provision_coverage_floor: 1.2\n  loan_provision_ratio_floor: 0.015\n",
        encoding="utf-8",
    )
    reports = d / "reports"
    r = run_report(
        "provisioning",
        AS_OF,
        params={"language": "zh", "policy_file": str(pol), "lgd_history_months": 35},
        db_url=url,
        reports_dir=reports,
        progress=False,
        log=lambda m: None,
    )
    assert r.ok, r.error
    out = reports / AS_OF / "provisioning"
    m = json.loads((out / "metrics.json").read_text())["metrics"]
    assert m["provision_coverage_floor"] == 1.2 and m["loan_provision_ratio_floor"] == 0.015
    floors = max(1.2 * m["npl_balance"], 0.015 * m["loans_balance"], m["category_provisions"])
    assert m["regulatory_minimum"] == pytest.approx(floors, rel=1e-12)
    assert m["shortfall"] == pytest.approx(
        max(max(floors, m["ecl_total"]) - m["provisions_held"], 0.0), rel=1e-9
    )
    # the ECL recomputed directly with riskkit equals the report's
    store = Store(url)
    book = store.load_book()
    hist = classification_history(book, AS_OF, 35, store=store)
    lgd = realised_lgd(book, hist, AS_OF)
    recent = hist[hist["as_of"] >= pd.Timestamp(AS_OF) - pd.offsets.MonthEnd(12)]
    model = ECLModel().fit(recent, book)
    res, b = month_end_classification(book, AS_OF, store=store)
    ecl = model.measure(b, res, lgd)
    assert m["ecl_total"] == pytest.approx(ecl.total, rel=1e-9)
    assert m["ecl_stage_3"] == pytest.approx(ecl.table.loc[3, "ecl"], rel=1e-9)
    assert m["lgd_used"] == pytest.approx(lgd.table["lgd_used"].to_dict())
    html = (out / "provisioning.html").read_text()
    for words in ("拨备覆盖率", "贷款拨备率", "第一阶段", "违约损失率", "核销", "预期信用损失"):
        assert words in html, words
    assert "6 年一遇" in html  # the downside scenario in words
    assert html.count("data:image/png;base64") >= 2
