"""post_loan_review.ipynb through papermill on a hand-built book: figures checked by hand."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from riskkit import cli
from riskkit.classification import Classifier
from riskkit.reports import read_runs, run_report
from riskkit.reports.post_loan import post_loan_review

from .books import AS_OF

pytestmark = pytest.mark.slow

RATIO = {"normal": 0.0, "special_mention": 0.02, "substandard": 0.25, "doubtful": 0.5}


def hand_figures(exp):
    npl = exp["category"].isin(["substandard", "doubtful"])
    bal = exp["balance"]
    specific = (bal * exp["category"].map(RATIO)).sum()
    live = exp[~exp["repaid"]]  # category counts: outstanding loans only
    return {
        "n_loans": len(exp),
        "n_outstanding": len(live),
        "n_closed": int(exp["repaid"].sum()),
        "balance": bal.sum(),
        "npl_ratio": bal[npl].sum() / bal.sum(),
        "provisions": 0.01 * bal.sum() + specific,
        "loans_by_category": {
            c: int((live["category"] == c).sum())
            for c in ["normal", "special_mention", "substandard", "doubtful", "loss"]
        },
    }


def test_assembly_matches_hand_computation(repaid_store):
    _, book, exp, _ = repaid_store
    r = post_loan_review(book, AS_OF)
    assert (r.result.table["category"].astype(str) == exp["category"]).all()
    h = hand_figures(exp)
    assert r.metrics["npl_ratio"] == pytest.approx(h["npl_ratio"], abs=1e-12)
    assert r.metrics["provisions"] == pytest.approx(h["provisions"], abs=1e-6)
    # the six loans repaid in May are closed: not counted as normal, nor in any share
    assert (r.metrics["n_loans"], r.metrics["n_outstanding"], r.metrics["n_closed"]) == (54, 48, 6)
    assert r.metrics["loans_by_category"] == h["loans_by_category"]
    assert h["loans_by_category"]["normal"] == 27  # 33 in category normal minus 6 closed
    s = r.table
    assert s.at["total", "loans"] == 48
    assert s.at["normal", "loan_share"] == pytest.approx(27 / 48, abs=1e-12)
    assert s.at["special_mention", "loan_share"] == pytest.approx(9 / 48, abs=1e-12)
    # provision tables count outstanding loans too
    assert r.provisions_by_branch["loans"].sum() == 48
    # appendix: PII masked (family name only, ID and phone partly hidden)
    app = r.appendix
    assert app["name"].str.fullmatch(r"张\*").all()
    assert app["id_number"].str.fullmatch(r"110\*{11}\d{3}2").all()
    assert app["phone"].str.fullmatch(r"138\*{4}\d{4}").all()
    assert list(app["category"].iloc[:2]) == ["doubtful", "doubtful"]  # worst first


def test_unknown_branch_is_a_clear_error(hand_store):
    from riskkit.errors import ValidationError

    _, book, _, _ = hand_store
    with pytest.raises(ValidationError, match=r"parameters.branch: '42' matches no loan's branch"):
        post_loan_review(book, AS_OF, branch="42")
    # branch 0042 and officer O1 both exist, but no loan has both
    _, _, exp, _ = hand_store
    keep = exp.index[~((exp["branch"] == "0042") & (exp["officer_id"] == "O1"))]
    with pytest.raises(ValidationError, match=r"no loan is in branch '0042' and managed by"):
        post_loan_review(book.subset(keep), AS_OF, branch="0042", officer="O1")


def test_notebook_figures_and_failure_semantics(repaid_store, riskkit_kernel, capsys):
    url, book, exp, d = repaid_store
    reports = d / "reports"
    # whole book, English
    r = run_report(
        "post_loan_review",
        AS_OF,
        db_url=url,
        reports_dir=reports,
        progress=False,
        log=lambda m: None,
    )
    assert r.ok, r.error
    m = json.loads((reports / "2026-10-31/post_loan_review/metrics.json").read_text())
    h = hand_figures(exp)
    assert m["metrics"]["n_loans"] == h["n_loans"] == 54
    assert m["metrics"]["n_outstanding"] == h["n_outstanding"] == 48
    assert m["metrics"]["n_closed"] == h["n_closed"] == 6
    assert m["metrics"]["npl_ratio"] == pytest.approx(h["npl_ratio"], abs=1e-12)
    direct = Classifier().classify(book.disbursed_by(AS_OF), AS_OF)
    assert m["metrics"]["npl_ratio"] == pytest.approx(direct.npl_ratio, abs=1e-12)
    assert m["metrics"]["provisions"] == pytest.approx(h["provisions"], abs=1e-6)
    assert m["metrics"]["loans_by_category"] == h["loans_by_category"]
    # riskkit's direct computation on the loans still outstanding
    on_book = direct.table[~direct.table["paid_off"].to_numpy(dtype=bool)]
    direct_counts = on_book["category"].astype(str).value_counts()
    assert m["metrics"]["loans_by_category"] == {
        c: int(direct_counts.get(c, 0)) for c in h["loans_by_category"]
    }
    html = (reports / "2026-10-31/post_loan_review/post_loan_review.html").read_text()
    assert "Post-loan review as of 2026-10-31" in html and "data:image/png;base64" in html
    assert "<Figure size" not in html  # every figure shows as an image, none as its repr
    assert "54 loans were disbursed by 2026-10-31: 48 are still outstanding" in html
    assert "6 are closed (repaid, or recovered in full after default) and 0 written off" in html
    # adequacy against the regulator's floors: 150% of the NPL balance, 2.5% of loans
    mm = m["metrics"]
    npl_bal = on_book.loc[
        on_book["category"].isin(["substandard", "doubtful", "loss"]), "outstanding_principal"
    ].sum()
    need = max(1.5 * npl_bal, 0.025 * on_book["outstanding_principal"].sum(), h["provisions"])
    assert mm["regulatory_minimum"] == pytest.approx(need, rel=1e-12)
    assert mm["shortfall_vs_floors"] == pytest.approx(max(need - h["provisions"], 0), rel=1e-9)
    assert "provision_coverage_below_floor" in mm["adequacy_flags"]
    assert "Against the regulator's floors" in html
    assert '<td class="num nw">56.25%</td>' in html  # normal: 27 of 48 loans
    assert "start_report(" not in html  # no code
    for pii in (
        book.borrowers["id_number"].iloc[0],
        book.borrowers["phone"].iloc[0],
        book.borrowers["name"].iloc[0],
    ):
        assert pii not in html

    # one branch whose code has leading zeros, Chinese narrative, through the CLI
    base = [
        "report",
        "run",
        "post_loan_review",
        "--as-of",
        "2026-10-31",
        "--db-url",
        url,
        "--reports-dir",
        str(reports),
        "--no-progress",
    ]
    whole = (reports / "2026-10-31/post_loan_review/metrics.json").read_text()
    assert cli.main(base + ["-p", "branch=0042", "-p", "language=zh"]) == 0
    scoped = reports / "2026-10-31/post_loan_review@branch=0042"  # its own address
    m = json.loads((scoped / "metrics.json").read_text())
    sub = exp[exp["branch"] == "0042"]
    hb = hand_figures(sub)
    assert m["params"]["branch"] == "0042" and m["metrics"]["n_loans"] == hb["n_loans"] == 14
    assert m["metrics"]["n_outstanding"] == hb["n_outstanding"] == 12
    assert m["metrics"]["npl_ratio"] == pytest.approx(hb["npl_ratio"], abs=1e-12)
    assert m["metrics"]["loans_by_category"] == hb["loans_by_category"]
    html = (scoped / "post_loan_review.html").read_text()
    assert "贷后检查报告（截至 2026-10-31）" in html and "不良贷款率" in html
    # the all-branch report is not replaced by the scoped one
    assert (reports / "2026-10-31/post_loan_review/metrics.json").read_text() == whole

    # an unknown branch fails inside the notebook: failed run kept at its own address
    assert cli.main(base + ["-p", "branch=9999"]) == 1
    failed = reports / "2026-10-31/post_loan_review@branch=9999.failed/post_loan_review.ipynb"
    nb = nbformat.read(failed, as_version=4)
    errs = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errs and errs[0].ename == "ValidationError" and "9999" in errs[0].evalue
    m2 = json.loads((scoped / "metrics.json").read_text())
    assert m2 == m  # the branch-0042 report is untouched
    assert (reports / "2026-10-31/post_loan_review/metrics.json").read_text() == whole
    runs = read_runs(reports)
    assert [x["status"] for x in runs] == ["ok", "ok", "failed"]
    assert [x["scope"] for x in runs] == [{}, {"branch": "0042"}, {"branch": "9999"}]
    assert "matches no loan's branch" in runs[-1]["error"]
    index = (reports / "index.html").read_text()
    assert "post_loan_review%40branch%3D9999.failed/post_loan_review.ipynb" in index
    assert np.isfinite(runs[0]["duration_s"])
