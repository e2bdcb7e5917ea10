"""`riskkit demo` end to end on a small sample book: the month-end batch, checked against
riskkit computing the same figures directly."""

from __future__ import annotations

import json

import pytest

from riskkit import cli
from riskkit.classification import Classifier
from riskkit.provisions import provisions
from riskkit.reports import read_runs
from riskkit.store import Store

pytestmark = pytest.mark.slow
AS_OF = "2026-10-31"


def test_demo_batch_on_sample_book(tmp_path, riskkit_kernel, capsys, db_url):
    url = db_url  # SQLite, then PostgreSQL: the report kernels read the same store URL
    reports = tmp_path / "reports"
    code = cli.main(
        [
            "demo",
            "--as-of",
            AS_OF,
            "--n-loans",
            "1200",
            "--db-url",
            url,
            "--reports-dir",
            str(reports),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Reports index: {(reports / 'index.html').resolve()}" in out
    runs = read_runs(reports)
    assert [(r["name"], r["status"]) for r in runs] == [
        ("score_calibration", "ok"),
        ("post_loan_review", "ok"),
        ("portfolio_migration", "ok"),
        ("model_monitoring", "ok"),
    ]

    book = Store(url).load_book()
    assert book.n_loans == 1200
    direct = Classifier().classify(book.disbursed_by(AS_OF), AS_OF)
    plr = json.loads((reports / AS_OF / "post_loan_review/metrics.json").read_text())["metrics"]
    assert plr["n_loans"] == len(direct) == book.disbursed_by(AS_OF).n_loans
    assert plr["npl_ratio"] == pytest.approx(direct.npl_ratio, abs=1e-12)
    assert 0 < plr["npl_ratio"] < 0.5
    prov = provisions(direct).total()
    assert plr["provisions"] == pytest.approx(float(prov["provisions"]), rel=1e-12)
    html = (reports / AS_OF / "post_loan_review/post_loan_review.html").read_text()
    for col in ("id_number", "phone"):
        assert book.borrowers[col].iloc[0] not in html

    mig = json.loads((reports / AS_OF / "portfolio_migration/metrics.json").read_text())
    assert mig["metrics"]["npl_ratio_now"] == pytest.approx(direct.npl_ratio, abs=1e-9)
    sc = reports / AS_OF / "score_calibration"
    assert (sc / "scorecard.json").exists()
    m = json.loads((sc / "metrics.json").read_text())["metrics"]
    assert 0.5 < m["auc_test"] <= 1.0
    mon = json.loads((reports / AS_OF / "model_monitoring/metrics.json").read_text())["metrics"]
    assert len(mon["periods"]) >= 2

    # a second demo keeps the stored book (it is built only when absent)
    assert cli.ensure_demo_book(url, AS_OF, n_loans=50) is False
    assert Store(url).load_book().n_loans == 1200
    assert sorted(p.name for p in (reports / AS_OF).iterdir()) == [
        "model_monitoring",
        "portfolio_migration",
        "post_loan_review",
        "score_calibration",
    ]
