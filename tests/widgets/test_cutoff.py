"""Cut-off what-if callbacks, headless."""

from __future__ import annotations

import numpy as np
import pytest

from riskkit.widgets import cutoff_dashboard
from tests.widgets.helpers import FEATURES, cell, number

LGD = {"credit": 0.65, "guaranteed": 0.45, "joint": 0.40}


@pytest.fixture(scope="module")
def dash(scorecard, applications):
    return cutoff_dashboard(scorecard, applications, cutoff=560)


def _by_hand(scorecard, applications, c):
    X = applications[FEATURES]
    s = scorecard.credit_score(X)
    p = scorecard.predict_proba(X)[:, 1]
    ok = s >= c
    lgd = applications["guarantee_type"].map(LGD).to_numpy()
    e = applications["amount"].to_numpy()
    return ok, p, lgd, e


@pytest.mark.parametrize("c", [560, 540, 590])
def test_numbers_match_a_direct_computation(dash, scorecard, applications, c):
    dash.cutoff.value = c
    ok, p, lgd, e = _by_hand(scorecard, applications, c)
    assert cell(dash.approval_out.value, "Approved") == f"{ok.sum():,} of {len(ok):,}"
    assert number(dash.approval_out.value, "Approval rate") == pytest.approx(ok.mean(), abs=5e-4)
    assert number(dash.risk_out.value, "Expected bad rate") == pytest.approx(p[ok].mean(), abs=5e-5)
    assert number(dash.risk_out.value, "Observed bad rate") == pytest.approx(
        applications["bad"].to_numpy()[ok].mean(), abs=5e-5
    )
    assert number(dash.risk_out.value, "Expected loss") == round((p * lgd * e)[ok].sum())
    assert number(dash.volume_out.value, "Volume approved") == e[ok].sum()
    assert number(dash.volume_out.value, "Volume declined") == e[~ok].sum()


def test_chart_changes_with_the_cutoff(dash):
    dash.cutoff.value = 560
    before = dash.chart.value
    assert before.startswith("<img data-rk-figure='1'")
    dash.cutoff.value = 575
    assert dash.chart.value != before
    assert dash.cutoff.continuous_update is False


def test_raising_the_cutoff_lowers_approval_monotonically(dash):
    t = dash.table
    assert np.all(np.diff(t["approval_rate"].to_numpy()) <= 0)
    assert t["approval_rate"].iloc[0] == 1.0 and t["approval_rate"].iloc[-1] == 0.0


def test_needs_the_amount_column(scorecard, applications):
    with pytest.raises(KeyError, match="amount"):
        cutoff_dashboard(scorecard, applications, amount="loan_amount")
