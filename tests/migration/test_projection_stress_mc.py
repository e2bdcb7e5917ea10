import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from riskkit import load_policy
from riskkit.migration import TransitionMatrix
from riskkit.migration.montecarlo import simulate_book, simulate_states
from riskkit.migration.projection import project
from riskkit.migration.stress import bsf_stress, compare, down_multiplier_stress, fit_z


def test_projection_hand_computed(known_tm):
    pr = project(
        known_tm,
        {"normal": 1000.0, "substandard": 100.0},
        horizon=1,
        lgd=0.5,
        amortisation={"normal": 0.1},
    )
    f = pr.table
    # step 1 before amortisation: normal = 1000*0.9 + 100*0.05 = 905, then x 0.9
    assert f.loc[1, "normal"] == pytest.approx(905 * 0.9)
    assert f.loc[1, "special_mention"] == pytest.approx(1000 * 0.04 + 100 * 0.05)
    assert f.loc[1, "substandard"] == pytest.approx(1000 * 0.005 + 100 * 0.55)
    # repaid only from performing loans; the substandard balance that closes is recovered
    assert f.loc[1, "repaid"] == pytest.approx(1000 * 0.055)
    assert f.loc[1, "recovered"] == pytest.approx(100 * 0.03)
    # first-time default: only the never-defaulted normal balance reaching substandard+
    assert f.loc[1, "expected_loss"] == pytest.approx(0.5 * 1000 * 0.005)
    prov = load_policy()["provisions"]
    live = f.loc[1, ["normal", "special_mention", "substandard", "doubtful", "loss"]]
    spec = prov["specific_ratio"]
    expected = prov["general_ratio"] * live.sum() + sum(live[k] * spec[k] for k in live.index)
    assert f.loc[1, "provisions"] == pytest.approx(expected)
    npl = live[["substandard", "doubtful", "loss"]].sum() / live.sum()
    assert f.loc[1, "npl_ratio"] == pytest.approx(npl)
    assert f.loc[1, "amortised"] == pytest.approx(905 * 0.1)


def test_projection_new_disbursements_and_counts(known_tm):
    pr = project(
        known_tm,
        np.r_[100.0, 0, 0, 0, 0, 0, 0, 0],
        horizon=3,
        counts={"normal": 10},
        new_disbursements=[50, 50, 50],
        new_loans=5,
    )
    f = pr.table
    assert f.loc[1, "normal"] == pytest.approx(100 * 0.9 + 50)
    assert f.loc[1, "count_normal"] == pytest.approx(10 * 0.9 + 5)
    # mass conservation: on book + exits = start + disbursed (no amortisation)
    tot = f[known_tm.labels].sum(axis=1)
    np.testing.assert_allclose(tot, 100 + f["disbursed"])
    np.testing.assert_allclose(pr.shares().sum(axis=1), 1.0)
    assert "Projection(3 steps)" in repr(pr)


def test_monte_carlo_mean_matches_projection(known_tm):
    n = 20_000
    rng = np.random.default_rng(0)
    states = rng.choice(5, size=n, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    bal = rng.uniform(1e3, 5e4, n)
    kw = dict(horizon=12, n_scenarios=8, rho=0.0, lgd=0.4, amortisation=0.02, seed=3)
    mc = simulate_book(known_tm, states, bal, **kw)
    start = np.bincount(states, weights=bal, minlength=8)
    pr = project(known_tm, start, horizon=12, lgd=0.4, amortisation=0.02).table
    np.testing.assert_allclose(mc.outstanding.mean(0), pr["outstanding"], rtol=0.01)
    np.testing.assert_allclose(mc.npl_ratio.mean(0)[1:], pr["npl_ratio"][1:], rtol=0.03)
    np.testing.assert_allclose(mc.losses.mean(0)[-1], pr["expected_loss"].iloc[-1], rtol=0.03)
    np.testing.assert_allclose(mc.provisions.mean(0), pr["provisions"], rtol=0.02)
    # seeded: same numbers again
    mc2 = simulate_book(known_tm, states, bal, **kw)
    np.testing.assert_array_equal(mc.npl_ratio, mc2.npl_ratio)


def test_simulated_one_step_frequencies_match_matrix(known_tm):
    n = 200_000
    init = np.repeat(np.arange(5), n // 5)
    path = simulate_states(known_tm, init, 1, seed=9)
    for i in range(5):
        freq = np.bincount(path[1][init == i], minlength=8) / (n // 5)
        se = np.sqrt(known_tm.matrix[i] * (1 - known_tm.matrix[i]) / (n // 5))
        assert (np.abs(freq - known_tm.matrix[i]) <= 5 * se + 1e-12).all()


def test_systematic_factor_widens_quantiles(known_tm):
    states = np.zeros(5000, int)
    bal = np.full(5000, 1e4)
    indep = simulate_book(known_tm, states, bal, horizon=12, n_scenarios=60, rho=0.0, seed=1)
    corr = simulate_book(known_tm, states, bal, horizon=12, n_scenarios=60, rho=0.2, seed=1)
    spread = lambda r: np.subtract(*np.quantile(r.npl_ratio[:, -1], [0.99, 0.5]))  # noqa: E731
    assert spread(corr) > 3 * spread(indep)
    q = corr.quantiles()
    assert list(q.columns) == [0.5, 0.95, 0.99]
    assert (q.loc["npl_ratio"][0.99] >= q.loc["npl_ratio"][0.95]).all()
    assert "MonteCarloResult(60 scenarios x 12 months" in repr(corr)
    # mean over the factor is still the unconditional matrix: MC mean ~ projection
    pr = project(known_tm, {"normal": 5e7}, horizon=12).table
    assert corr.npl_ratio[:, -1].mean() == pytest.approx(pr["npl_ratio"].iloc[-1], rel=0.15)


def test_bsf_integrates_back_to_baseline(known_tm):
    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    avg = sum(wi * bsf_stress(known_tm, z=xi, rho=0.15).matrix for xi, wi in zip(x, w, strict=True))
    np.testing.assert_allclose(avg, known_tm.matrix, atol=1e-8)
    same = bsf_stress(known_tm, z=1.3, rho=0.0)
    np.testing.assert_allclose(same.matrix, known_tm.matrix, atol=1e-12)


def test_bsf_direction_and_fit_z(known_tm):
    bad, good = bsf_stress(known_tm, z=-2, rho=0.1), bsf_stress(known_tm, z=2, rho=0.1)
    pd_b = bad.lifetime_pd(12).loc["normal", 12]
    pd_g = good.lifetime_pd(12).loc["normal", 12]
    pd_0 = known_tm.lifetime_pd(12).loc["normal", 12]
    assert pd_g < pd_0 < pd_b
    assert bad.prob("repaid", "repaid") == 1.0
    assert fit_z(bsf_stress(known_tm, z=-1.37, rho=0.1), known_tm, 0.1) == pytest.approx(
        -1.37, abs=1e-6
    )
    # default stress from policy
    pol = bsf_stress(known_tm)
    np.testing.assert_allclose(pol.matrix, bsf_stress(known_tm, z=-2.0, rho=0.1).matrix)


def test_down_multiplier_hand(known_tm):
    s = down_multiplier_stress(known_tm, {"doubtful": 2.0})
    # substandard row: to doubtful 0.30 -> 0.60; rest (0.70 - 0.02 down to loss) rescaled
    row = known_tm.matrix[2]
    down_old = row[3] + row[4]  # doubtful, loss (written_off 0)
    down_new = 0.6 + row[4]
    scale = (1 - down_new) / (1 - down_old)
    np.testing.assert_allclose(s.matrix[2, 3], 0.6)
    np.testing.assert_allclose(s.matrix[2, [0, 1, 2, 5]], row[[0, 1, 2, 5]] * scale)
    np.testing.assert_allclose(s.matrix.sum(axis=1), 1)
    with pytest.raises(ValueError, match="exceeds 1"):
        down_multiplier_stress(known_tm, 10.0)


def test_compare_side_by_side(known_tm):
    df = compare(
        known_tm,
        {"bsf": bsf_stress(known_tm), "x2": down_multiplier_stress(known_tm)},
        {"normal": 1e6},
        horizon=12,
    )
    assert list(df.columns.get_level_values(0).unique()) == [
        "npl_ratio",
        "provisions",
        "expected_loss",
        "outstanding",
    ]
    last = df.iloc[-1]
    assert last[("npl_ratio", "bsf")] > last[("npl_ratio", "baseline")]
    assert last[("expected_loss", "x2")] > last[("expected_loss", "baseline")]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4), min_size=4, max_size=4),
    st.floats(-4, 4),
    st.floats(0, 0.9),
    st.floats(0, 3),
)
def test_stressed_rows_sum_to_one(rows, z, rho, m):
    from riskkit.migration import StateSpace

    a = np.array(rows) + 1e-3
    a /= a.sum(axis=1, keepdims=True)
    tm = TransitionMatrix(a, StateSpace.generic(["a", "b", "c", "d"]))
    b = bsf_stress(tm, z=z, rho=rho)
    np.testing.assert_allclose(b.matrix.sum(axis=1), 1, atol=1e-12)
    assert (b.matrix >= 0).all()
    try:
        d = down_multiplier_stress(tm, m)
    except ValueError:
        return
    np.testing.assert_allclose(d.matrix.sum(axis=1), 1, atol=1e-12)
    assert (d.matrix >= 0).all()


def test_bsf_holds_repayment_fixed_and_stresses_credit_states(known_tm):
    """Repayment is not a credit outcome: a bad Z moves mass within the credit states only."""
    bad = bsf_stress(known_tm, z=-2.0, rho=0.1)
    sp = known_tm.states
    r = sp.states.index("repaid")
    np.testing.assert_allclose(bad.matrix[:, r], known_tm.matrix[:, r], atol=1e-12)
    # conditional on not being repaid, the normal row follows the plain BSF formula
    n = sp.states.index("normal")
    row = known_tm.matrix[n]
    credit = [sp.states.index(s) for s in reversed(sp.severity) if s != "repaid"]
    cond = row[credit] / row[credit].sum()
    g = np.clip(np.cumsum(cond), 0, 1)
    g[-1] = 1.0
    gz = norm.cdf((norm.ppf(g) + np.sqrt(0.1) * 2.0) / np.sqrt(0.9))
    gz[-1] = 1.0
    expected = np.diff(gz, prepend=0.0) * row[credit].sum()
    np.testing.assert_allclose(bad.matrix[n, credit], expected, atol=1e-12)
