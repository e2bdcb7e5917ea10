"""portfolio_migration.ipynb through papermill: migration rates checked against the hand book.

In the hand book (tests/reports/books.py) a loan with ``k`` missed periods at 2026-10-31 had
``max(0, k - t)`` missed periods ``t`` month-ends earlier, so every monthly transition, and the
whole count matrix, is known by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskkit.reports import run_report

from .books import AS_OF, expected_category

pytestmark = pytest.mark.slow

CATS = ["normal", "special_mention", "substandard", "doubtful", "loss"]


def hand_matrix(k, steps):
    counts = pd.DataFrame(0, index=CATS, columns=CATS)
    for t in range(steps):  # transition from t+1 month-ends back to t month-ends back
        before = expected_category(np.maximum(0, k - t - 1))
        after = expected_category(np.maximum(0, k - t))
        for b, a in zip(before, after, strict=True):
            counts.loc[b, a] += 1
    return counts


def test_migration_notebook_matches_hand_matrix(hand_store, riskkit_kernel):
    url, book, exp, d = hand_store
    reports = d / "reports_mig"
    r = run_report(
        "portfolio_migration",
        AS_OF,
        params={"history_months": "6", "horizon_months": 6, "amortisation": "0.0"},
        db_url=url,
        reports_dir=reports,
        progress=False,
        log=lambda m: None,
    )
    assert r.ok, r.error
    m = json.loads((reports / "2026-10-31/portfolio_migration/metrics.json").read_text())
    mm = m["metrics"]
    assert m["params"]["history_months"] == 6  # "6" restored to an int
    counts = hand_matrix(exp["k"].to_numpy(), 6)
    assert mm["transitions_observed"] == counts.to_numpy().sum() == 48 * 6
    got = pd.DataFrame(mm["monthly_matrix_count"]).T.loc[CATS, CATS]
    rows = counts.sum(axis=1) > 0
    expected = counts[rows].div(counts[rows].sum(axis=1), axis=0)
    np.testing.assert_allclose(got[rows].to_numpy(), expected.to_numpy(), atol=1e-9)
    bal = exp["balance"]
    npl = bal[exp["category"].isin(["substandard", "doubtful"])].sum() / bal.sum()
    assert mm["npl_ratio_now"] == pytest.approx(npl, abs=1e-12)
    # doubtful never cures in the hand book, so the NPL ratio cannot fall on the path
    assert mm["npl_ratio_horizon"] >= mm["npl_ratio_now"]
    # stress scenarios (policy defaults: downside and adverse years) are worse than baseline
    sc = mm["scenarios"]
    assert set(sc) == {"baseline", "downside", "adverse"}
    assert sc["baseline"]["npl_ratio_horizon"] == pytest.approx(mm["npl_ratio_horizon"])
    for name in ("downside", "adverse"):
        assert sc[name]["npl_ratio_horizon"] > sc["baseline"]["npl_ratio_horizon"]
        assert sc[name]["expected_loss_horizon"] > sc["baseline"]["expected_loss_horizon"]
    assert sc["adverse"]["npl_ratio_horizon"] > sc["downside"]["npl_ratio_horizon"]
    html = (reports / "2026-10-31/portfolio_migration/portfolio_migration.html").read_text()
    assert "Monthly migration matrix" in html and html.count("data:image/png;base64") >= 2
    assert "<Figure size" not in html  # every figure shows as an image, none as its repr
    # each scenario is stated on an annual footing, in words
    d = mm["scenario_definitions"]
    assert d["adverse"]["z"] == [-2.0, -1.0, 0.0] and d["downside"]["z"] == [-1.0, -0.5, 0.0]
    assert -2.0 < d["adverse"]["monthly_z"][0] < d["downside"]["monthly_z"][0] < 0
    assert "year 1: a bad year, as bad as one year in 44 (Z = -2.00)" in html
    assert "Adverse (stress)" in html and "one_factor_z" not in html
    # the NPL-ratio change split into numerator and denominator adds up
    for row in mm["npl_change"].values():
        assert row["numerator"] + row["denominator"] == pytest.approx(row["change"], abs=1e-12)
        assert row["end"] - row["start"] == pytest.approx(row["change"], abs=1e-12)
    base = mm["npl_change"]["baseline"]
    assert base["start"] == pytest.approx(mm["npl_ratio_now"])
    assert base["end"] == pytest.approx(mm["npl_ratio_horizon"])
    assert "Why the NPL ratio moves by" in html
    assert mm["npl_to_repaid_transitions"] == 0
