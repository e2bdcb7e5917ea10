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
from riskkit.workout import WriteOffRegister, validate_write_offs

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
    assert [(r["name"], r["status"]) for r in runs][:6] == [
        ("score_calibration", "ok"),
        ("model_validation", "ok"),
        ("post_loan_review", "ok"),
        ("portfolio_migration", "ok"),
        ("provisioning", "ok"),
        ("model_monitoring", "ok"),
    ]
    # the demo ends with an approved champion, approved by the demo's validator on record
    champion = ModelRegistry(Store(url)).champion("application")
    assert champion.label == "application_scorecard v1"
    assert champion.approved_by == cli.DEMO_APPROVER and champion.author != cli.DEMO_APPROVER
    for name in ("score_calibration", "model_validation", "model_monitoring", "post_loan_review"):
        html = (reports / AS_OF / name / f"{name}.html").read_text()
        assert "Model: application_scorecard v1 (developed on applications from" in html, name
    # then a sample month of applications through the credit process and the packs of the
    # committee's meetings (one decided, one left open for the committee's screen)
    packs = [r for r in runs[6:] if r["name"] == "committee_pack"]
    assert len(packs) == 2 and all(r["status"] == "ok" for r in packs)
    from riskkit.reports.committee_pack import committee_pack

    first = json.loads((reports / packs[0]["as_of"] / "committee_pack/metrics.json").read_text())
    direct_pack = committee_pack(Store(url), packs[0]["as_of"])
    assert first["metrics"]["decided"] == direct_pack.metrics["decided"] > 0
    assert first["metrics"]["applications"] == direct_pack.metrics["applications"]
    assert cli.ensure_demo_process(url) == sorted(r["as_of"] for r in packs)  # kept, not redone

    book = Store(url).load_book()
    assert book.n_loans == N_LOANS
    # write-offs reach the book only through the register, and every entry was eligible
    reg = WriteOffRegister(Store(url)).load()
    assert len(reg) > 0 and (reg["proposer"] != reg["approver"]).all()
    assert (reg["write_off_id"].diff().dropna() == 1).all()
    check = validate_write_offs(reg.drop(columns=["write_off_id", "recorded_at"]), book)
    assert check["principal"].tolist() == pytest.approx(reg["principal"].tolist())
    direct = Classifier().classify(
        book.disbursed_by(AS_OF), AS_OF, write_offs=reg[["loan_id", "write_off_date"]]
    )
    assert direct.table["written_off"].sum() == len(reg)
    plr = json.loads((reports / AS_OF / "post_loan_review/metrics.json").read_text())["metrics"]
    assert plr["n_loans"] == len(direct) == book.disbursed_by(AS_OF).n_loans
    assert plr["npl_ratio"] == pytest.approx(direct.npl_ratio, abs=1e-12)
    assert 0 < plr["npl_ratio"] < 0.5
    prov = provisions(direct).total()
    assert plr["provisions"] == pytest.approx(float(prov["provisions"]), rel=1e-12)
    html = (reports / AS_OF / "post_loan_review/post_loan_review.html").read_text()
    for col in ("id_number", "phone"):
        assert book.borrowers[col].iloc[0] not in html

    assert plr["n_written_off"] == len(reg)
    mig = json.loads((reports / AS_OF / "portfolio_migration/metrics.json").read_text())
    assert mig["metrics"]["npl_ratio_now"] == pytest.approx(direct.npl_ratio, abs=1e-9)
    # no recovery is counted as a repayment
    assert mig["metrics"]["npl_to_repaid_transitions"] == 0
    _check_provisioning(reports, direct, reg)
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
        "provisioning",
        "score_calibration",
    ]


def _check_provisioning(reports, direct, reg):
    """The provisioning report's figures recomputed from the direct classification."""
    pm = json.loads((reports / AS_OF / "provisioning/metrics.json").read_text())["metrics"]
    f = direct.table[~direct.table["paid_off"] & ~direct.table["written_off"]]
    npl = f.loc[f["category"].isin(["substandard", "doubtful", "loss"]), "outstanding_principal"]
    assert pm["npl_balance"] == pytest.approx(npl.sum(), rel=1e-12)
    assert pm["loans_balance"] == pytest.approx(f["outstanding_principal"].sum(), rel=1e-12)
    held = float(provisions(f).total()["provisions"])
    assert pm["provisions_held"] == pytest.approx(held, rel=1e-12)
    # the regulatory minimum is the larger of the floors and the category provisions
    floors = max(1.5 * npl.sum(), 0.025 * f["outstanding_principal"].sum(), held)
    assert pm["regulatory_minimum"] == pytest.approx(floors, rel=1e-12)
    assert pm["provisions_required"] == pytest.approx(max(floors, pm["ecl_total"]), rel=1e-12)
    assert pm["shortfall"] == pytest.approx(max(pm["provisions_required"] - held, 0), rel=1e-9)
    assert pm["provision_coverage_ratio"] == pytest.approx(held / npl.sum(), rel=1e-12)
    # ECL: the loans add up to the report total, stage by stage; the movement adds up
    assert pm["ecl_sum_of_loans"] == pytest.approx(pm["ecl_total"], rel=1e-12)
    stages = sum(pm[f"ecl_stage_{s}"] for s in (1, 2, 3))
    assert stages == pytest.approx(pm["ecl_total"], rel=1e-12)
    assert pm["loans_stage_3"] == len(npl)
    mv = pm["movement"]
    assert pm["movement_transfers_sum"] == pytest.approx(0.0, abs=1e-6)
    body = sum(v for k, v in mv.items() if k not in ("opening", "closing"))
    assert mv["opening"] + body == pytest.approx(mv["closing"], rel=1e-9)
    assert mv["closing"] == pytest.approx(pm["ecl_total"], rel=1e-12)
    assert pm["write_offs_total"] == len(reg)


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
    # the periodic re-review re-scores with the registry's champion, which only the SQLite
    # demo's batch approved: compared apart (the rest must be identical)
    model_dependent = {"rereview_model", "rereview_due", "rereview_actions", "rereview_by_reason"}
    assert on_sqlite["rereview_model"] == "application_scorecard v1"
    assert on_pg["rereview_model"] is None
    assert on_pg["rereview_by_reason"]["score_drift"] == 0
    for k in ("time", "signal", "category"):
        assert on_pg["rereview_by_reason"][k] == on_sqlite["rereview_by_reason"][k], k
    on_pg = {k: v for k, v in on_pg.items() if k not in model_dependent}
    on_sqlite = {k: v for k, v in on_sqlite.items() if k not in model_dependent}
    assert on_pg == on_sqlite
    assert on_pg["inspections_planned"] > 0 and on_pg["n_loans"] > 0
