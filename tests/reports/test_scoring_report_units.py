"""The score-calibration report tests the PDs the registered scorecard serves (decisions and
monitoring read ``predict_proba`` of the registry's document), not a separate PD map."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from riskkit.reports.scoring_report import calibrate_scorecard, development_split
from riskkit.scoring import Scorecard
from riskkit.scoring.calibration import MasterScale

from .scoring_data import synthetic_applications


@pytest.mark.parametrize("target_rate", [None, 0.05])
def test_report_pds_are_the_registered_scorecards(target_rate):
    df = synthetic_applications()
    X, y = df[["income", "age", "segment"]], df["bad"].to_numpy()
    cal = calibrate_scorecard(X, y, dates=df["application_date"], target_rate=target_rate)
    sc = Scorecard.from_json(cal.scorecard.to_json())  # what the registry stores
    inside, _ = development_split(df["application_date"], 6)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X[inside], y[inside], test_size=0.3, random_state=0, stratify=y[inside]
    )
    pd_te = sc.predict_proba(X_te)[:, 1]
    assert cal.metrics["pd_mean_test"] == pytest.approx(pd_te.mean(), abs=1e-12)
    rate = y_tr.mean() if target_rate is None else target_rate  # the fit sample's mean PD
    assert sc.predict_proba(X_tr)[:, 1].mean() == pytest.approx(rate, abs=1e-9)
    grades = MasterScale().assign(pd_te)
    expected = {g: int((grades == g).sum()) for g in np.unique(grades)}
    assert dict(zip(cal.grades["grade"], cal.grades["n"], strict=True)) == expected
    assert cal.calibration["n"].sum() == len(y_te)


def test_monitoring_names_the_last_period_with_outcomes():
    """Applications after 2025-09-30 have no outcome yet: the out-of-time AUC covers 2024Q3
    to 2025Q3, and the narrative names 2025Q3, not the last period (2025Q4)."""
    from riskkit.reports.scoring_report import monitor_scorecard

    df = synthetic_applications()
    X, d = df[["income", "age", "segment"]], df["application_date"]
    y = df["bad"].astype(float).where(d <= "2025-09-30").to_numpy()
    first = (d <= "2024-06-30").to_numpy()
    sc = Scorecard().fit(X[first], df["bad"][first])
    m = monitor_scorecard(sc, X, y, d, development_window=("2024-01-01", "2024-06-30")).metrics
    assert (m["latest_period"], m["latest_outcome_period"]) == ("2025Q4", "2025Q3")
    known = ~np.isnan(y) & (d > "2024-06-30").to_numpy()
    assert m["n_with_outcome"] == known.sum()
