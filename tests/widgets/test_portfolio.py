"""Portfolio what-if callbacks, headless, on a hand-made monthly matrix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from riskkit.migration import FIVE_CATEGORY, TransitionMatrix
from riskkit.widgets.portfolio import category_balances, portfolio_dashboard

#       normal  SM    SS    D     L    repaid recov  w/off
P = np.array(
    [
        [0.90, 0.05, 0.00, 0.00, 0.00, 0.05, 0.00, 0.00],
        [0.20, 0.60, 0.20, 0.00, 0.00, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.70, 0.30, 0.00, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.80, 0.20, 0.00, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.50, 0.00, 0.00, 0.50],
        [0.00, 0.00, 0.00, 0.00, 0.00, 1.00, 0.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.00, 0.00],
        [0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.00],
    ]
)
BOOK = pd.Series({"normal": 1_000_000.0, "special_mention": 100_000.0, "substandard": 50_000.0})


def _row(html, label):
    m = re.search(rf"<th[^>]*>{label}</th>((?:<td[^>]*>[^<]*</td>)+)", html)
    assert m, label
    return re.findall(r"<td[^>]*>([^<]*)</td>", m.group(1))


def double_down(matrix, kind, value):
    """A scenario for the test: SM -> SS and SS -> D doubled (taken from staying put)."""
    m = matrix.matrix.copy()
    m[1, 2], m[1, 1] = 0.40, 0.40
    m[2, 3], m[2, 2] = 0.60, 0.40
    return TransitionMatrix(m, matrix.states, method="test-stress")


@pytest.fixture
def tm():
    return TransitionMatrix(P, FIVE_CATEGORY)


def test_baseline_and_real_multiplier_stress_hand_computed(tm):
    """riskkit.migration's projection and down-multiplier stress, month 1, by hand."""
    d = portfolio_dashboard(tm, BOOK, horizon=1)  # policy: down-migration x2
    assert d.multiplier.value == 2.0 and d.stress_kind.value == "multiplier"
    # baseline: normal 900k + 20k; SM 50k + 60k; SS 20k + 35k; D 15k; repaid 50k
    base, scen, change = _row(d.summary_out.value, "NPL ratio")
    assert base == f"{70_000 / 1_100_000:.2%}"
    # 1% general + 2% SM + 25% SS + 50% D
    assert _row(d.summary_out.value, "Provisions")[0] == "34,450"
    # LGD 45% of the balance defaulting for the first time (SM -> SS: 20k)
    assert _row(d.summary_out.value, "Expected loss")[0] == "9,000"
    # stressed x2: normal row 0.9/0.05/0.05 -> SM 0.10, rest 0.95 rescaled to 0.90;
    # SM row -> SS 0.40, normal 0.15, SM 0.45; SS row -> D 0.60, SS 0.40
    normal = 1e6 * 0.9 * 0.90 / 0.95 + 100_000 * 0.15
    sm, ss, dd = 100_000 + 45_000, 40_000 + 20_000, 30_000
    out = normal + sm + ss + dd
    assert scen == f"{(ss + dd) / out:.2%}"
    assert change == f"{((ss + dd) / out - 70_000 / 1_100_000) * 100:+.2f} pp"
    prov = 0.01 * out + 0.02 * sm + 0.25 * ss + 0.5 * dd
    assert _row(d.summary_out.value, "Provisions")[1] == f"{prov:,.0f}"
    assert _row(d.summary_out.value, "Expected loss")[1] == f"{0.45 * 40_000:,.0f}"


def test_z_stress_is_riskkit_migrations_bsf(tm):
    from riskkit.migration import bsf_stress, project

    d = portfolio_dashboard(tm, BOOK, horizon=6)
    d.stress_kind.value = "z"
    d.z.value = -2.5
    ref = project(bsf_stress(tm, z=-2.5), dict(BOOK), 6).table.iloc[-1]
    assert _row(d.summary_out.value, "NPL ratio")[1] == f"{ref['npl_ratio']:.2%}"
    assert d.scenario["provisions"].iloc[-1] == pytest.approx(ref["provisions"])
    assert ref["npl_ratio"] > d.baseline["npl_ratio"].iloc[-1]  # Z < 0 is a bad period


def test_balances_from_a_classification_frame(tm):
    frame = pd.DataFrame(
        {
            "category": ["normal", "关注", "substandard", "normal"],
            "outstanding_principal": [600_000.0, 100_000.0, 50_000.0, 400_000.0],
        }
    )
    assert category_balances(frame, tm.states).tolist() == [1e6, 1e5, 5e4, 0, 0, 0, 0, 0]


def test_dashboard_baseline_vs_scenario(tm):
    d = portfolio_dashboard(tm, BOOK, horizon=1, stress=double_down)
    assert d.horizon.continuous_update is False and d.multiplier.continuous_update is False
    base, scen, _ = _row(d.summary_out.value, "NPL ratio")
    assert base == "6.36%"  # 70k / 1.1m
    # scenario month 1: SS 40k + 20k = 60k; D 30k -> NPL 90k / 1.1m
    assert scen == "8.18%"
    base, scen, change = _row(d.summary_out.value, "Provisions")
    assert base == "34,450"
    # scenario month 1 (double_down): SM 50k from normal + 40% of 100k; SS 40% of 100k +
    # 40% of 50k; D 60% of 50k
    sm, ss, dd = 40_000 + 50_000, 20_000 + 40_000, 30_000
    assert scen == f"{11_000 + 0.02 * sm + 0.25 * ss + 0.5 * dd:,.0f}"
    before = d.chart.value
    d.specific["substandard"].value = 30.0  # scenario ratio 30% instead of 25%
    _, scen2, _ = _row(d.summary_out.value, "Provisions")
    assert scen2 == f"{11_000 + 0.02 * sm + 0.30 * ss + 0.5 * dd:,.0f}"
    assert d.chart.value != before
    d.horizon.value = 3
    assert "After 3 month(s)" in d.summary_out.value
    assert len(d.scenario) == 4


def test_stress_kind_switches_control(tm):
    seen = []

    def record(matrix, kind, value):
        seen.append((kind, value))
        return matrix

    d = portfolio_dashboard(tm, BOOK, stress=record)
    d.stress_kind.value = "z"
    d.z.value = -2.0
    assert seen[-1] == ("z", -2.0) and d.multiplier.disabled and not d.z.disabled
    assert "Z = -2.0" in d.summary_out.value
