from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

from riskkit.migration import StateSpace
from riskkit.migration.generator import Generator, GeneratorEstimator, matrix_log, regularise
from riskkit.migration.montecarlo import simulate_panel

SP = Path(__file__).parent / "fixtures" / "sp_global_corporate_1y_transition_1981_2016.csv"
SP_STATES = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC/C", "D"]


def sp_matrix(block: int = 0) -> np.ndarray:
    """S&P 1981-2016 average matrix (block 0 = 1 year), NR removed pro rata, D absorbing."""
    raw = pd.read_csv(SP, skiprows=2, header=None).iloc[:, :9].to_numpy(float) / 100
    m = raw[7 * block : 7 * block + 7]
    m = m[:, :8] / m[:, :8].sum(axis=1, keepdims=True)  # drop NR (column 8), renormalise
    return np.vstack([m, np.eye(8)[7]])


@pytest.mark.parametrize("method", ["diagonal", "weighted", "quasi_optimisation"])
def test_sp_one_year_generator(method):
    p = sp_matrix(0)
    np.testing.assert_allclose(p.sum(axis=1), 1)
    lg = matrix_log(p)
    off = ~np.eye(8, dtype=bool)
    assert (lg[off] < 0).any()  # the S&P matrix is not embeddable: regularisation needed
    space = StateSpace.generic(SP_STATES, absorbing=["D"], default=["D"])
    g = Generator.from_matrix(p, space, method=method)
    assert g.is_valid()
    assert (g.matrix[off] >= 0).all()
    np.testing.assert_allclose(g.matrix.sum(axis=1), 0, atol=1e-12)
    # expm of the regularised generator reproduces the published 1-year matrix closely
    assert g.distance() < 5e-4  # measured 1.34e-4 .. 1.38e-4
    # 1-year PDs (column D) to within 5 bp for every grade
    np.testing.assert_allclose(expm(g.matrix)[:, 7], p[:, 7], atol=5e-4)
    # the 2-year power from the generator is close to the published 2-year cumulative matrix
    p2 = sp_matrix(1)
    assert np.abs(g.transition_matrix(2).matrix - p2).max() < 0.03  # measured 0.0198


def test_quasi_optimisation_is_the_nearest_valid_generator():
    p = sp_matrix(0)
    lg = matrix_log(p)
    d = {
        m: np.linalg.norm(regularise(lg, m) - lg)
        for m in ("diagonal", "weighted", "quasi_optimisation")
    }
    assert d["quasi_optimisation"] <= d["diagonal"] + 1e-15
    assert d["quasi_optimisation"] <= d["weighted"] + 1e-15
    # hand check of the projection on one row: l = (-0.1 | 0.08, 0.05, -0.03)
    row = np.array([[-0.1, 0.08, 0.05, -0.03], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    q = regularise(row, "quasi_optimisation")[0]
    # mu solves (-0.1 - mu) + (0.08 - mu) + (0.05 - mu) = 0 -> mu = 0.01 (and -0.03 < mu)
    np.testing.assert_allclose(q, [-0.11, 0.07, 0.04, 0.0], atol=1e-15)
    # diagonal adjustment: zero the negative, diagonal = -(0.08 + 0.05)
    np.testing.assert_allclose(regularise(row, "diagonal")[0], [-0.13, 0.08, 0.05, 0.0])
    # weighted: B = 0.03, G = 0.1 + 0.08 + 0.05 = 0.23
    w = regularise(row, "weighted")[0]
    np.testing.assert_allclose(w[1:3], [0.08 * (1 - 0.03 / 0.23), 0.05 * (1 - 0.03 / 0.23)])
    np.testing.assert_allclose(w.sum(), 0, atol=1e-15)


def test_embeddable_matrix_recovered_exactly():
    q = np.array([[-0.2, 0.15, 0.05], [0.1, -0.3, 0.2], [0, 0, 0]])
    p = expm(q)
    for m in ("diagonal", "weighted", "quasi_optimisation"):
        g = Generator.from_matrix(p, method=m)
        np.testing.assert_allclose(g.matrix, q, atol=1e-10)
    g2 = Generator.from_json(Generator.from_matrix(p).to_json())
    np.testing.assert_allclose(g2.matrix, q, atol=1e-10)
    assert "valid=True" in repr(g2)


def test_duration_mle_recovers_generator_from_continuous_data():
    # simulate a two-state-plus-absorbing CTMC exactly (exponential holding times)
    q = np.array([[-0.3, 0.2, 0.1], [0.4, -0.6, 0.2], [0, 0, 0]])
    rng = np.random.default_rng(7)
    n, horizon = 4000, 5.0
    ids, times, states = [], [], []
    for i in range(n):  # test-only data generation
        t, s = 0.0, 0
        ids.append(i), times.append(t), states.append(s)
        while s != 2:
            t += rng.exponential(1 / -q[s, s])
            if t > horizon:
                break
            s = rng.choice(3, p=np.r_[q[s, :s], 0, q[s, s + 1 :]] / -q[s, s])
            ids.append(i), times.append(t), states.append(s)
        if s != 2:
            ids.append(i), times.append(horizon), states.append(s)
    df = pd.DataFrame({"id": ids, "t": times, "s": states})
    est = GeneratorEstimator(
        method="duration_mle",
        continuous=True,
        id_col="id",
        time_col="t",
        state_col="s",
        states=StateSpace.generic([0, 1, 2], absorbing=[2]),
    ).fit(df)
    np.testing.assert_allclose(est.matrix_, q, atol=0.03)


def test_generator_from_monthly_panel(known_tm):
    df = simulate_panel(known_tm, 5000, 12, seed=1, initial=np.r_[0.5, 0.2, 0.1, 0.1, 0.1, 0, 0, 0])
    est = GeneratorEstimator(method="quasi_optimisation").fit(df)
    assert est.generator_.is_valid()
    assert np.abs(est.generator_.transition_matrix(1).matrix - known_tm.matrix).max() < 0.05
