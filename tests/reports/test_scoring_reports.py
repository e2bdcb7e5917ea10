"""score_calibration and model_monitoring notebooks through papermill on a synthetic sample;
recorded figures checked against scikit-learn on the saved scorecard JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from riskkit.reports import read_runs, run_report
from riskkit.reports.scoring_report import development_split
from riskkit.scoring import ModelRegistry, Scorecard
from riskkit.scoring.calibration import MasterScale
from riskkit.store import Store

from .scoring_data import synthetic_applications

pytestmark = pytest.mark.slow
AS_OF = "2026-10-31"


def test_calibration_validation_approval_then_monitoring(tmp_path, riskkit_kernel):
    df = synthetic_applications()
    csv = tmp_path / "apps.csv"
    df.to_csv(csv, index=False)
    reports = tmp_path / "reports"
    url = f"sqlite:///{tmp_path / 'store.db'}"
    common = {"data_source": "file", "data_file": str(csv), "date_column": "application_date"}
    quiet = {"reports_dir": reports, "progress": False, "log": lambda m: None, "db_url": url}

    # monitoring before any approved model: a clear failure naming the way out
    r = run_report("model_monitoring", AS_OF, params=common, **quiet)
    assert not r.ok and "no approved application champion" in r.error

    r = run_report(
        "score_calibration", AS_OF, params={**common, "seed": "7", "max_bins": 5}, **quiet
    )
    assert r.ok, r.error
    out = reports / AS_OF / "score_calibration"
    m = json.loads((out / "metrics.json").read_text())["metrics"]
    reg = ModelRegistry(Store(url))
    draft = reg.get("application_scorecard", 1)
    assert (draft.status, m["model_version"]) == ("draft", 1)
    sc = draft.scorecard()
    X = df.drop(columns=["application_date", "bad", "phone"])  # PII never a feature
    y = df["bad"].to_numpy()
    saved = Scorecard.from_json((out / "scorecard.json").read_text())
    assert (sc.predict_proba(X) == saved.predict_proba(X)).all()
    inside, window = development_split(df["application_date"], 6)
    assert (draft.development_start, draft.development_end) == window
    X_tr, X_te, y_tr, y_te = train_test_split(
        X[inside], y[inside], test_size=0.3, random_state=7, stratify=y[inside]
    )
    assert m["n_test"] == len(y_te) and m["n_train"] == len(y_tr) and m["n_oot"] == (~inside).sum()
    assert m["auc_test"] == pytest.approx(roc_auc_score(y_te, -sc.credit_score(X_te)), abs=1e-12)
    assert m["auc_oot"] == pytest.approx(
        roc_auc_score(y[~inside], -sc.credit_score(X[~inside])), abs=1e-12
    )
    assert m["auc_test_lower"] < m["auc_test"] < m["auc_test_upper"]
    assert m["auc_test"] > 0.6 and "phone" not in m["features"]
    html = (out / "score_calibration.html").read_text()
    assert "Registered in the model registry as application_scorecard v1, status draft" in html
    assert "2. Model rules" in html and "data:image/png" in html
    assert "<Figure size" not in html  # every figure shows as an image, none as its repr
    # master scale: the open score edges of the best and worst grade are shown as ∞ / −∞
    ms_table = MasterScale().table(sc)
    assert ms_table["score_upper"].iloc[0] > 5_000 and ms_table["score_lower"].iloc[-1] < 0
    assert '<td class="num nw">∞</td>' in html and '<td class="num nw">−∞</td>' in html

    r = run_report("model_validation", AS_OF, params=common, **quiet)
    assert r.ok, r.error
    vm = json.loads((reports / AS_OF / "model_validation/metrics.json").read_text())["metrics"]
    assert vm["model"] == "application_scorecard v1" and vm["status"] == "draft"
    assert vm["auc_oot"] == pytest.approx(m["auc_oot"], abs=1e-12)
    assert {f["area"] for f in vm["findings"]} >= {"benchmark", "calibration", "model rules"}

    reg.approve("application_scorecard", 1, approver="validator", reason="validated")
    r = run_report("model_monitoring", AS_OF, params={**common, "freq": "Q"}, **quiet)
    assert r.ok, r.error
    mm = json.loads((reports / AS_OF / "model_monitoring/metrics.json").read_text())["metrics"]
    assert mm["model"] == "application_scorecard v1"
    period = pd.PeriodIndex(df["application_date"], freq="Q").astype(str)
    s = sc.credit_score(X)
    after = df["application_date"] > window[1]
    assert mm["n"] == after.sum()  # out of time only
    for p, a in mm["auc_by_period"].items():
        sel = np.asarray((period == p) & after)
        assert a == pytest.approx(roc_auc_score(y[sel], -s[sel]), abs=1e-12)
    # the income drift from 2025Q3 shows in PSI and CSI, and the narrative names it in red
    assert max(mm["psi_by_period"].values()) > 0.1 and mm["max_csi"] > 0.25
    mhtml = (reports / AS_OF / "model_monitoring/model_monitoring.html").read_text()
    assert "<strong>Red</strong>: CSI of income up to" in mhtml
    assert "Model: application_scorecard v1" in mhtml

    # the next month-end run refits the same document: no new draft, the reports keep naming v1
    r = run_report(
        "score_calibration", AS_OF, params={**common, "seed": "7", "max_bins": 5}, **quiet
    )
    assert r.ok, r.error
    assert reg.versions()["version"].tolist() == [1]
    m2 = json.loads((out / "metrics.json").read_text())["metrics"]
    assert m2["model_version"] == 1
    html = (out / "score_calibration.html").read_text()
    assert "status approved champion" in html and "no new draft is registered" in html
    assert "status draft" not in html
    assert [x["status"] for x in read_runs(reports)] == ["failed", "ok", "ok", "ok", "ok"]


def test_file_target_missing_is_an_error_and_numeric_targets_work(tmp_path):
    from riskkit.errors import ValidationError
    from riskkit.reports.scoring_report import load_scoring_data

    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(40)],
            "x": rng.normal(size=40),
            "phone": ["13812345678"] * 40,
            "bad": [1, 0] * 20,
        }
    )
    ok = tmp_path / "ok.csv"
    df.to_csv(ok, index=False)
    X, y, _ = load_scoring_data("file", data_file=ok, target="bad")
    assert y.sum() == 20 and "phone" not in X.columns and "x" in X.columns
    holes = tmp_path / "holes.csv"
    df.assign(bad=[1.0, 0.0, None, 0.0] * 10).to_csv(holes, index=False)  # read back as float
    with pytest.raises(ValidationError, match=r"sample.bad: missing target value.*L2"):
        load_scoring_data("file", data_file=holes, target="bad")
