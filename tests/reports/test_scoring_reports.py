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
from riskkit.scoring import Scorecard
from riskkit.scoring.calibration import MasterScale

from .scoring_data import synthetic_applications

pytestmark = pytest.mark.slow
AS_OF = "2026-10-31"


def test_calibration_then_monitoring(tmp_path, riskkit_kernel):
    df = synthetic_applications()
    csv = tmp_path / "apps.csv"
    df.to_csv(csv, index=False)
    reports = tmp_path / "reports"
    common = {"data_source": "file", "data_file": str(csv), "date_column": "application_date"}
    quiet = {"reports_dir": reports, "progress": False, "log": lambda m: None}

    # monitoring before any calibration: a clear failure
    r = run_report("model_monitoring", AS_OF, params=common, **quiet)
    assert not r.ok and "no scorecard" in r.error

    r = run_report(
        "score_calibration", AS_OF, params={**common, "seed": "7", "max_bins": 5}, **quiet
    )
    assert r.ok, r.error
    out = reports / AS_OF / "score_calibration"
    m = json.loads((out / "metrics.json").read_text())["metrics"]
    sc = Scorecard.from_json((out / "scorecard.json").read_text())
    X = df.drop(columns=["application_date", "bad", "phone"])  # PII never a feature
    y = df["bad"].to_numpy()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=7, stratify=y)
    assert m["n_test"] == len(y_te) and m["n_train"] == len(y_tr)
    assert m["bad_rate"] == pytest.approx(y.mean())
    assert m["auc_test"] == pytest.approx(roc_auc_score(y_te, -sc.credit_score(X_te)), abs=1e-12)
    assert m["auc_train"] == pytest.approx(roc_auc_score(y_tr, -sc.credit_score(X_tr)), abs=1e-12)
    assert m["auc_test"] > 0.6 and "phone" not in m["features"]
    assert "noise" not in m["features"]  # monitoring must cope with unselected inputs
    html = (out / "score_calibration.html").read_text()
    assert "Scorecard calibration as of 2026-10-31" in html and "data:image/png" in html
    assert "<Figure size" not in html  # every figure shows as an image, none as its repr
    # master scale: the open score edges of the best and worst grade are shown as ∞ / −∞
    ms_table = MasterScale().table(sc)
    assert ms_table["score_upper"].iloc[0] > 5_000 and ms_table["score_lower"].iloc[-1] < 0
    assert f"{ms_table['score_upper'].iloc[0]:.0f}</td>" not in html
    assert '<td class="num nw">∞</td>' in html and '<td class="num nw">−∞</td>' in html

    r = run_report("model_monitoring", AS_OF, params={**common, "freq": "Q"}, **quiet)
    assert r.ok, r.error
    mm = json.loads((reports / AS_OF / "model_monitoring/metrics.json").read_text())["metrics"]
    period = pd.PeriodIndex(df["application_date"], freq="Q").astype(str)
    s = sc.credit_score(X)
    for p, a in mm["auc_by_period"].items():
        sel = np.asarray(period == p)
        assert a == pytest.approx(roc_auc_score(y[sel], -s[sel]), abs=1e-12)
    # the income drift from 2025Q3 shows in PSI and CSI
    assert mm["psi_by_period"]["2025Q3"] > mm["psi_by_period"]["2024Q2"]
    assert mm["max_csi"] > 0.25
    assert [x["status"] for x in read_runs(reports)] == ["failed", "ok", "ok"]
    assert np.isfinite(mm["latest_auc"])
    # why the latest period is earlier than the as-of date
    last = df["application_date"].max()
    assert mm["latest_application_date"] == str(last.date())
    mhtml = (reports / AS_OF / "model_monitoring/model_monitoring.html").read_text()
    assert f"The latest period is {mm['latest_period']} (last application {last.date()})" in mhtml
    assert "only applications whose outcome is already observed" in mhtml
    # stability thresholds are the policy's, in the metrics and the text
    assert (mm["psi_monitor"], mm["psi_shifted"]) == (0.10, 0.25)
    assert "(below 0.10 stable, 0.10-0.25 monitor, above 0.25 shifted)" in mhtml


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
