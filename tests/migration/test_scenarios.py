"""Scenarios on an annual footing: a year's shock turned into monthly shifts that compound to
it; Z = 0 is the estimated matrix; words and return periods."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from riskkit.migration import TransitionMatrix
from riskkit.migration.scenarios import (
    Scenario,
    monthly_shift,
    return_period,
    scenario_path,
    scenarios_from_policy,
    shift_matrix,
    year_text,
)
from tests.migration.conftest import KNOWN

# A monthly matrix like the sample book's (normal .. loss, repaid, recovered, written off)
SAMPLE = np.array(
    [
        [0.9156, 0.0382, 0.0005, 0.0, 0.0, 0.0457, 0.0, 0.0],
        [0.2595, 0.6248, 0.0800, 0.0, 0.0, 0.0357, 0.0, 0.0],
        [0.0382, 0.0347, 0.6921, 0.2134, 0.0, 0.0, 0.0216, 0.0],
        [0.0012, 0.0020, 0.0006, 0.8853, 0.0370, 0.0, 0.0255, 0.0484],
        [0.0, 0.0, 0.0, 0.0357, 0.3536, 0.0, 0.0013, 0.6094],
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    ]
)
BOOK = np.array([0.86, 0.085, 0.018, 0.021, 0.016, 0, 0, 0])  # balance shares by state


def sample():
    return TransitionMatrix(SAMPLE, counts=SAMPLE * (BOOK * 5e8)[:, None])


def test_zero_shift_is_the_estimated_matrix():
    tm = sample()
    np.testing.assert_allclose(shift_matrix(tm, 0.0, 0.05).matrix, tm.matrix, atol=1e-12)
    m = monthly_shift(tm, 0.0, 0.05)
    assert m.z_month == 0.0 and m.max_abs_error < 1e-12


def test_shift_of_a_two_outcome_row_is_vasicek():
    # normal -> {normal, default}: the default probability moves as Vasicek's conditional PD
    # with the neutral year as Z = 0: Phi(Phi^-1(p) - sqrt(rho / (1 - rho)) z)
    p = np.eye(8)
    p[0, [0, 7]] = [0.96, 0.04]
    tm = TransitionMatrix(p)
    rho, z = 0.05, -2.0
    want = norm.cdf(norm.ppf(0.04) - np.sqrt(rho / (1 - rho)) * z)
    assert shift_matrix(tm, z, rho).prob("normal", "written_off") == pytest.approx(want)
    # repayment is not a credit outcome: held
    p[0, [0, 5, 7]] = [0.90, 0.06, 0.04]
    s = shift_matrix(TransitionMatrix(p), z, rho)
    assert s.prob("normal", "repaid") == pytest.approx(0.06)


@pytest.mark.parametrize("z", [-2.0, -1.0, 1.0])
def test_twelve_months_compound_to_the_annual_shift(z):
    tm = sample()
    m = monthly_shift(tm, z, 0.05)
    # the documented tolerance: no cell of the 12-month matrix off by more than 5 points
    assert m.max_abs_error < 0.05
    comp, target = m.compounded.matrix, m.annual_target.matrix
    np.testing.assert_allclose(comp.sum(axis=1), 1.0)
    # the book after 12 months: NPL share of the balance still on the book within 1 point
    b = BOOK * 5e8

    def npl(mat):
        after = b @ mat
        return after[2:5].sum() / after[:5].sum()

    assert npl(comp) == pytest.approx(npl(target), abs=0.01)
    # 12-month default rate of a normal loan within 1 point of the annual shift's
    d = [2, 3, 4, 6, 7]
    assert comp[0, d].sum() == pytest.approx(target[0, d].sum(), abs=0.01)
    # and the monthly shift is a milder factor than the year's (not Z every month)
    assert abs(m.z_month) < abs(z) and np.sign(m.z_month) == np.sign(z)


def test_worse_years_give_more_defaults():
    tm = TransitionMatrix(KNOWN)
    d = [2, 3, 4, 6, 7]
    rates = [monthly_shift(tm, z, 0.05).compounded.matrix[0, d].sum() for z in (1, 0, -1, -2)]
    assert rates == sorted(rates)


def test_scenarios_in_words_and_paths():
    assert return_period(-2.0) == pytest.approx(1 / norm.cdf(-2.0))
    assert round(return_period(-2.0)) == 44 and round(return_period(1.0)) == 6
    assert year_text(-2.0) == "a bad year, as bad as one year in 44 (Z = -2.00)"
    assert year_text(0.0, "zh") == "平常年份（Z = 0）"
    adverse = {s.name: s for s in scenarios_from_policy()}["adverse"]
    assert adverse.z == (-2.0, -1.0, 0.0) and adverse.weight == 0.0
    assert adverse.describe().startswith("year 1: a bad year, as bad as one year in 44")
    assert "44 年一遇" in adverse.describe("zh")
    ecl = scenarios_from_policy(ecl_only=True)
    assert [s.name for s in ecl] == ["baseline", "upside", "downside"]
    assert sum(s.weight for s in ecl) == pytest.approx(1.0)
    path = scenario_path(sample(), Scenario("x", (-2.0, 0.0)), 30, 0.05)
    assert len(path.years) == 3 and path.matrix(12) is path.years[0].monthly
    assert path.years[2].z_year == 0.0 and path.matrix(30).method != path.matrix(1).method


@settings(max_examples=40, deadline=None)
@given(z=st.floats(-3, 3), rho=st.floats(0.0, 0.3))
def test_shift_rows_sum_to_one_and_worse_years_default_more(z, rho):
    tm = sample()
    s = shift_matrix(tm, z, rho)
    np.testing.assert_allclose(s.matrix.sum(axis=1), 1.0, atol=1e-12)
    assert (s.matrix >= 0).all()
    worse = shift_matrix(tm, z - 0.5, rho)
    d = [2, 3, 4, 6, 7]  # non-performing, recovered, written off
    assert (worse.matrix[:2, d].sum(axis=1) >= s.matrix[:2, d].sum(axis=1) - 1e-12).all()
    # repayment is held whatever the year
    np.testing.assert_allclose(s.matrix[:, 5], tm.matrix[:, 5], atol=1e-12)
