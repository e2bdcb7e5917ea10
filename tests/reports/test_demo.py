"""`riskkit demo` end to end on a small sample book: the month-end batch on SQLite, checked
against riskkit computing the same figures directly; then the store on PostgreSQL, once,
through the report that reads the most from it (book, overrides, ledger, signals)."""

from __future__ import annotations

import json

import pytest

from riskkit import cli
from riskkit.classification import Classifier
from riskkit.provisions import provisions
from riskkit.reports import read_runs, run_report
from riskkit.scoring import ModelRegistry
from riskkit.store import Store

pytestmark = pytest.mark.slow
AS_OF = "2026-10-31"
N_LOANS = 1200


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory, riskkit_kernel):
    """The whole demo batch, once, on an SQLite store: (store url, reports folder, stdout)."""
    import contextlib
    import io

    tmp = tmp_path_factory.mktemp("demo")
    url, reports = f"sqlite:///{tmp / 'rk.db'}", tmp / "reports"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(
            [
                "demo",
                "--as-of",
                AS_OF,
                "--n-loans",
                str(N_LOANS),
                "--db-url",
                url,
                "--reports-dir",
                str(reports),
                "--no-progress",
            ]
        )
    assert code == 0, out.getvalue()
    return url, reports, out.getvalue()


def test_demo_batch_on_sample_book(sqlite_demo):
    url, reports, out = sqlite_demo
    assert f"Reports index: {(reports / 'index.html').resolve()}" in out
    runs = read_runs(reports)
    assert [(r["name"], r["status"]) for r in runs] == [
        ("score_calibration", "ok"),
        ("model_validation", "ok"),
        ("post_loan_review", "ok"),
        ("portfolio_migration", "ok"),
        ("model_monitoring", "ok"),
    ]
    # the demo ends with an approved champion, approved by the demo's validator on record
    champion = ModelRegistry(Store(url)).champion("application")
    assert champion.label == "application_scorecard v1"
    assert champion.approved_by == cli.DEMO_APPROVER and champion.author != cli.DEMO_APPROVER
    for name in ("score_calibration", "model_validation", "model_monitoring", "post_loan_review"):
        html = (reports / AS_OF / name / f"{name}.html").read_text()
        assert "Model: application_scorecard v1 (developed on applications from" in html, name

    book = Store(url).load_book()
    assert book.n_loans == N_LOANS
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
    assert Store(url).load_book().n_loans == N_LOANS
    assert sorted(p.name for p in (reports / AS_OF).iterdir()) == [
        "model_monitoring",
        "model_validation",
        "portfolio_migration",
        "post_loan_review",
        "score_calibration",
    ]


def test_demo_store_on_postgresql_gives_the_same_review(sqlite_demo, postgres_server, tmp_path):
    """The demo's store on PostgreSQL: the same sample book and ledger, saved and read back by
    the post-loan review's kernel, give exactly the SQLite run's key figures."""
    _, sqlite_reports, _ = sqlite_demo
    url = postgres_server.new_database()
    assert cli.ensure_demo_book(url, AS_OF, n_loans=N_LOANS) is True
    res = run_report(
        "post_loan_review", AS_OF, db_url=url, reports_dir=tmp_path / "reports", progress=False
    )
    assert res.ok, res.error
    name = "post_loan_review/metrics.json"
    on_pg = json.loads((tmp_path / "reports" / AS_OF / name).read_text())["metrics"]
    on_sqlite = json.loads((sqlite_reports / AS_OF / name).read_text())["metrics"]
    assert on_pg == on_sqlite
    assert on_pg["inspections_planned"] > 0 and on_pg["n_loans"] > 0
