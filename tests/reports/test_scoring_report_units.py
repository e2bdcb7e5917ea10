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


# ----------------------------------------------- validator findings (review of 2026-10-31)


def test_bad_rate_and_window_by_term_hand_counts():
    """Three 6-month loans (1 bad) and two 24-month loans (2 bad): bad rates 1/3 and 1, book
    3/5; the window is the policy's 15 months for both under the fixed rule, and under the
    to-maturity rule 24 + 3 = 27 months for the long term (90 days = 3 months)."""
    import pandas as pd

    from riskkit.reports.validation_report import _term_findings, outcome_by_term

    X = pd.DataFrame({"term_months": [6, 6, 6, 24, 24, 36]})
    X.attrs["outcome_window"] = {"window_months": 15, "window_rule": "fixed"}
    y = np.array([1.0, 0, 0, 1, 1, np.nan])
    t = outcome_by_term(X, y, ~np.isnan(y))
    assert t.index.tolist() == [6, 24]  # the 36-month loan has no outcome
    assert t["n"].tolist() == [3, 2] and t["bad_rate"].tolist() == pytest.approx([1 / 3, 1])
    assert t["to_book"].tolist() == pytest.approx([(1 / 3) / 0.6, 1 / 0.6])
    assert t["window_months"].tolist() == [15, 15]
    ((area, _, text, light),) = _term_findings(t, None)
    assert light == "green" and "window 15 months for every term" in text
    X.attrs["outcome_window"] = {"window_months": 15, "window_rule": "to_maturity"}
    t = outcome_by_term(X, y, ~np.isnan(y))
    assert t["window_months"].tolist() == [15, 27]
    ((area, _, text, light),) = _term_findings(t, None)
    # bad rate rises with the window: the longer-observed term looks riskier for that reason
    assert light == "red" and "window 15 to 27 months by term" in text and "+1.00" in text


def test_out_of_time_by_term_names_untested_terms():
    """Out of time holds 6-month loans only (two bad, two good): the 24-month term is
    untested. AUC on the four: bad scores 500 and 540, good 520 and 600 -> pairs where the
    bad scores lower: (500<520, 500<600, 540<600) = 3 of 4 -> 0.75."""
    import pandas as pd

    from riskkit.reports.validation_report import _term_findings, oot_by_term

    X = pd.DataFrame({"term_months": [6, 6, 6, 6, 24, 24]})
    y = np.array([1.0, 0, 1, 0, 1, 0])
    score = np.array([500.0, 520, 540, 600, 510, 590])
    dev = np.array([False, False, False, False, True, True])
    t = oot_by_term(X, y, score, dev, ~dev)
    assert t.loc[6, "auc_out_of_time"] == pytest.approx(0.75)
    assert t.loc[6, "bad_rate_out_of_time"] == pytest.approx(0.5)
    assert t["tested"].tolist() == [True, False] and t["n_out_of_time"].tolist() == [4, 0]
    ((_, _, text, light),) = _term_findings(None, t)
    assert light == "amber" and text.endswith("untested: 24")


def test_falling_auc_is_named_with_its_small_samples():
    """The validator's quarters: 0.745 -> 0.660 -> 0.631, the last on 158 applications."""
    import pandas as pd

    from riskkit.reports.scoring_report import auc_periods_summary, auc_trend_findings

    t = pd.DataFrame(
        {"reference": [True, False, False, False], "auc": [0.691, 0.745, 0.660, 0.631],
         "auc_lower": [0.67, 0.70, 0.60, 0.509], "auc_upper": [0.71, 0.79, 0.72, 0.753],
         "n_with_outcome": [8000, 700, 576, 158]},
        index=["reference", "2025Q2", "2025Q3", "2025Q4"],
    )  # fmt: skip
    ((check, subject, value, _, light, text),) = auc_trend_findings(t)
    assert (check, subject, light) == ("AUC trend", "2025Q4", "amber")
    assert value == pytest.approx(0.745 - 0.631)
    assert "0.745 -> 0.660 -> 0.631" in text and "2025Q4 n = 158" in text
    assert "0.509-0.753" in text
    s = auc_periods_summary(t)
    assert s["trend"].endswith("a downward trend") and "2025Q4 (n = 158" in s["small"]
    rising = t.assign(auc=[0.691, 0.60, 0.65, 0.70])
    assert auc_trend_findings(rising) == []
    assert auc_periods_summary(rising)["trend"] == "not falling in each of the last three periods"


def test_rules_sentence_names_each_dropped_feature():
    import pandas as pd

    from riskkit.reports.scoring_report import rules_verdict

    r = pd.DataFrame(
        {"rule": ["missing_share", "min_iv", "expected_sign", "min_iv"],
         "feature": ["loan_to_value", "age", "amount", "income"],
         "verdict": ["dropped", "dropped", "dropped", "pass"]}
    )  # fmt: skip
    key, v = rules_verdict(r)
    assert key == "rules.dropped" and v["n"] == 3
    assert v["dropped"] == "loan_to_value (missing_share), age (min_iv), amount (expected_sign)"
    assert rules_verdict(r[r["verdict"] == "pass"])[0] == "rules.all_pass"
    key, v = rules_verdict(r.assign(verdict=["fail", "pass", "pass", "pass"]))
    assert key == "rules.failing" and v["failing"] == "missing_share for loan_to_value"
