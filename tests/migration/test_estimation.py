import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.errors import ValidationError
from riskkit.migration import (
    FIVE_CATEGORY,
    AalenJohansenEstimator,
    CohortEstimator,
    TransitionMatrix,
    build_panel,
    cohort_matrix,
    multinomial_ci,
)
from riskkit.migration.montecarlo import simulate_panel

FIX = Path(__file__).parent / "fixtures"


def _tm_fixture():
    return json.loads((FIX / "tm_cohort_fixture.json").read_text())


def _tm_data(name):
    with gzip.open(FIX / (name + ".gz"), "rt") as f:
        return pd.read_csv(f)


@pytest.mark.parametrize(
    "name", ["synthetic_data4.csv", "synthetic_data5.csv", "synthetic_data6.csv"]
)
def test_cohort_equals_transitionmatrix_on_its_bundled_data(name):
    fx = _tm_fixture()["datasets"][name]
    data = _tm_data(name)
    s = fx["n_states"]
    est = CohortEstimator(id_col="ID", time_col="Time", state_col="State", states=list(range(s)))
    est.fit(data)
    ours = est.cohort_counts_
    theirs = np.array(fx["count_set"], dtype=float)
    assert ours.shape == theirs.shape
    # every interval but the last: identical transition counts and matrices
    np.testing.assert_array_equal(ours[:-1], theirs[:-1])
    pop = np.array(fx["count_normalization"], dtype=float)  # (K+1, S)
    tm_mats = np.array(fx["matrix_set"])
    for k in range(len(ours) - 1):
        has = pop[k] > 0
        np.testing.assert_allclose(est.cohort_matrices_[k][has], tm_mats[k][has], atol=1e-9, rtol=0)
    # transitionMatrix double-counts the final record of the file in the last interval
    # (its boundary case re-adds the last transition and puts the last population one
    # interval early); reproduce exactly that and nothing else
    srt = data.sort_values(["ID", "Time"])
    s_prev, s_last = srt["State"].iloc[-2], srt["State"].iloc[-1]
    bug = np.zeros((s, s))
    bug[s_prev, s_last] = 1
    np.testing.assert_array_equal(ours[-1] + bug, theirs[-1])
    # count-averaged matrix: ours = pooled counts / pooled exposure; equal to theirs to 1e-9
    # on every row the phantom record does not touch, and on that row once it is added
    avg = np.array(fx["average_matrix"])
    rows = [r for r in range(s) if r != s_prev and r != s_last]
    np.testing.assert_allclose(est.matrix_[rows], avg[rows], atol=1e-9, rtol=0)
    counts = est.counts_.copy()
    den = counts.sum(axis=1)
    counts[s_prev, s_last] += 1
    den[s_last] += 1
    np.testing.assert_allclose(counts / den[:, None], avg, atol=1e-9, rtol=0)


def test_goodman_intervals_equal_transitionmatrix():
    fx = _tm_fixture()["datasets"]["synthetic_data4.csv"]
    lower, upper = np.array(fx["confint_lower"]), np.array(fx["confint_upper"])
    counts = np.array(fx["count_set"], dtype=float)
    for k in range(lower.shape[2]):
        lo, hi = multinomial_ci(counts[k], method="goodman", alpha=0.05)
        has = counts[k].sum(axis=1) > 0
        np.testing.assert_allclose(lo[has], lower[has, :, k], atol=1e-9)
        np.testing.assert_allclose(hi[has], upper[has, :, k], atol=1e-9)


def test_hand_computed_cohort_count_and_balance():
    # quarter: loan A normal -> special_mention, B normal -> repaid (exits in month 2),
    # C special_mention -> substandard; balances at the start of the quarter 100, 300, 50
    df = pd.DataFrame(
        {
            "loan_id": ["A"] * 4 + ["B"] * 2 + ["C"] * 4,
            "as_of": pd.to_datetime(
                ["2023-12-31", "2024-01-31", "2024-02-29", "2024-03-31"]
                + ["2023-12-31", "2024-01-31"]
                + ["2023-12-31", "2024-01-31", "2024-02-29", "2024-03-31"]
            ),
            "category": ["normal", "normal", "关注", "special_mention", "normal", "repaid"]
            + ["special_mention", 2, "次级", "substandard"],
            "balance": [100.0, 90, 80, 70, 300, 0, 50, 50, 50, 50],
        }
    )
    df["category"] = df["category"].astype(object)
    panel = build_panel(df, balance_col="balance")
    q = cohort_matrix(panel, period=3, anchor="calendar")
    assert q.prob("normal", "special_mention") == 0.5
    assert q.prob("normal", "repaid") == 0.5
    assert q.prob("special_mention", "substandard") == 1.0
    qb = cohort_matrix(panel, period=3, anchor="calendar", weight="balance")
    assert qb.prob("normal", "special_mention") == pytest.approx(100 / 400)
    assert qb.prob("normal", "repaid") == pytest.approx(300 / 400)
    # monthly: normal row has 4 starts (A x3 before SM? A: Dec N, Jan N, Feb SM) ->
    # A Dec->Jan N->N, A Jan->Feb N->SM, B Dec->Jan N->repaid
    m = cohort_matrix(panel, period=1)
    np.testing.assert_allclose(m.counts[0, [0, 1, 5]], [1, 1, 1])
    assert m.prob("repaid", "repaid") == 1.0


def test_aj_equals_product_of_monthly_cohort_matrices(known_tm):
    df = simulate_panel(
        known_tm,
        3000,
        18,
        seed=3,
        censor_rate=0.03,
        initial=np.r_[0.8, 0.1, 0.05, 0.03, 0.02, 0, 0, 0],
    )
    # late entries: drop the first 3 months of a third of the loans
    late = (df["loan_id"] % 3 == 0) & (df["as_of"] < pd.Timestamp("2024-04-30"))
    df = df.loc[~late]
    est = CohortEstimator(period=1).fit(df)
    prod = np.eye(8)
    for mat in est.cohort_matrices_:
        prod = prod @ mat
    aj = AalenJohansenEstimator().fit(df)
    np.testing.assert_allclose(aj.matrix_, prod, atol=1e-12)
    # and at an intermediate time
    t6 = est.cohort_starts_[6]
    prod6 = np.linalg.multi_dot(list(est.cohort_matrices_[:6]))
    np.testing.assert_allclose(aj.matrix_at(t6), prod6, atol=1e-12)


def test_aj_at_risk_before_jump_hand_example():
    # three loans in A at 0; loan 1 -> B at 1; loan 2 -> B at 2; loan 3 stays A (censored at 2)
    df = pd.DataFrame(
        {
            "id": [1, 1, 2, 2, 2, 3, 3, 3],
            "t": [0, 1, 0, 1, 2, 0, 1, 2],
            "s": ["A", "B", "A", "A", "B", "A", "A", "A"],
        }
    )
    aj = AalenJohansenEstimator(id_col="id", time_col="t", state_col="s", states=["A", "B"])
    aj.fit(df)
    np.testing.assert_allclose(aj.matrix_at(1)[0], [2 / 3, 1 / 3])  # Y_A(1-) = 3, not 2
    np.testing.assert_allclose(aj.matrix_[0], [1 / 3, 2 / 3])  # (2/3) * (1 - 1/2)
    np.testing.assert_array_equal(aj.at_risk_[:, 0], [3, 2])


def test_aj_continuous_no_censoring_equals_empirical_proportions():
    rng = np.random.default_rng(5)
    n, horizon = 400, 5.0
    rows = []
    ids = np.repeat(np.arange(n), 4)
    times = np.sort(rng.uniform(0, horizon, size=(n, 4)), axis=1)
    times[:, 0] = 0.0
    times[:, -1] = horizon
    states = rng.integers(0, 3, size=(n, 4))
    df = pd.DataFrame({"id": ids, "t": times.ravel(), "s": states.ravel()})
    rows = df
    aj = AalenJohansenEstimator(
        continuous=True, id_col="id", time_col="t", state_col="s", states=[0, 1, 2]
    ).fit(rows)
    # without censoring, AJ state-occupation probabilities p(0)' P(0, T) are the empirical
    # distribution of states at T (the rows themselves pool starting states: Markov)
    p0 = np.bincount(states[:, 0], minlength=3) / n
    pt = np.bincount(states[:, -1], minlength=3) / n
    np.testing.assert_allclose(p0 @ aj.matrix_, pt, atol=1e-12)
    mid = 2.5
    p_mid = np.bincount(states[np.arange(n), (times <= mid).sum(axis=1) - 1], minlength=3) / n
    np.testing.assert_allclose(p0 @ aj.matrix_at(mid), p_mid, atol=1e-12)


def test_known_matrix_recovered_within_ci(known_tm):
    df = simulate_panel(
        known_tm, 20_000, 12, seed=11, initial=np.r_[0.6, 0.15, 0.1, 0.1, 0.05, 0, 0, 0]
    )
    est = CohortEstimator(ci="goodman", alpha=0.01).fit(df)
    tm = est.transition_matrix_
    assert (tm.ci_lower <= known_tm.matrix + 1e-12).all()
    assert (known_tm.matrix <= tm.ci_upper + 1e-12).all()
    assert np.abs(tm.matrix - known_tm.matrix).max() < 0.02


def test_validation_names_loan_and_rule():
    df = pd.DataFrame(
        {
            "loan_id": ["L1", "L1", "L2", "L2", "L3", "L3", "L4", "L4"],
            "as_of": pd.to_datetime(
                [
                    "2024-01-31",
                    "2024-01-31",
                    "2024-01-31",
                    "2024-03-31",
                    "2024-01-31",
                    "2024-02-29",
                    "2024-01-31",
                    "2024-02-29",
                ]
            ),
            "category": [
                "normal",
                "normal",
                "normal",
                "normal",
                "bogus",
                "normal",
                "repaid",
                "normal",
            ],
            "bal": [1.0, 1, 1, 1, 1, -5, 1, 1],
        }
    )
    with pytest.raises(ValidationError) as err:
        build_panel(df, balance_col="bal")
    msg = str(err.value)
    assert "unknown state value(s) ['bogus']" in msg and "L3" in msg
    assert "balance must be >= 0" in msg
    # structural problems are reported once the values are clean
    df2 = df.assign(category=["normal"] * 6 + ["repaid", "normal"], bal=1.0)
    with pytest.raises(ValidationError) as err:
        build_panel(df2, balance_col="bal")
    msg = str(err.value)
    assert "duplicate observation" in msg and "L1" in msg
    assert "gap in observations" in msg and "L2" in msg
    assert "after an absorbing exit" in msg and "L4" in msg
    with pytest.raises(ValidationError, match="required column"):
        build_panel(df.drop(columns="category"))
    with pytest.raises(ValidationError, match="dtype"):
        build_panel(df.assign(as_of=df["as_of"].astype(str)))


def test_json_roundtrip_and_display(known_tm):
    df = simulate_panel(known_tm, 500, 6, seed=2)
    tm = CohortEstimator(ci="wilson").fit(df).transition_matrix_
    back = TransitionMatrix.from_json(tm.to_json())
    np.testing.assert_array_equal(back.matrix, tm.matrix)
    np.testing.assert_array_equal(back.counts, tm.counts)
    assert back.states == FIVE_CATEGORY
    assert "special_mention" in repr(tm) and "<table" in tm._repr_html_()
    assert "CI " in tm._repr_html_()


def test_sklearn_api(known_tm):
    from sklearn.base import clone

    est = CohortEstimator(period=3, weight="balance", balance_col="balance")
    assert clone(est).get_params()["period"] == 3
    df = simulate_panel(known_tm, 300, 6, seed=4)
    est.fit(df)
    proba = est.predict_proba(["normal", "doubtful", "normal"])
    np.testing.assert_array_equal(proba[0], est.matrix_[0])
    np.testing.assert_array_equal(proba[1], est.matrix_[3])


@st.composite
def panels(draw):
    n_loans = draw(st.integers(1, 12))
    rows = []
    for i in range(n_loans):
        start = draw(st.integers(0, 4))
        length = draw(st.integers(1, 6))
        states = draw(st.lists(st.integers(0, 4), min_size=length, max_size=length))
        if draw(st.booleans()):
            states[-1] = draw(st.sampled_from([5, 6]))
        bal = draw(st.lists(st.floats(0, 1e6), min_size=length, max_size=length))
        for k in range(length):
            rows.append((i, start + k, FIVE_CATEGORY.states[states[k]], bal[k]))
    return pd.DataFrame(rows, columns=["loan_id", "as_of", "category", "balance"])


@settings(max_examples=60, deadline=None)
@given(
    panels(),
    st.integers(1, 4),
    st.sampled_from(["count", "balance"]),
    st.sampled_from(["first", "rolling"]),
)
def test_rows_sum_to_one(df, period, weight, anchor):
    panel = build_panel(df, balance_col="balance")
    tm = cohort_matrix(panel, period, weight=weight, anchor=anchor)
    assert (tm.matrix >= 0).all()
    np.testing.assert_allclose(tm.matrix.sum(axis=1), 1.0, atol=1e-12)
    aj = AalenJohansenEstimator().fit(panel)
    assert (aj.matrix_ >= -1e-12).all()
    np.testing.assert_allclose(aj.matrix_.sum(axis=1), 1.0, atol=1e-12)
    # exits stay exits
    assert tm.prob("repaid", "repaid") == 1.0 and tm.prob("written_off", "written_off") == 1.0


def test_bootstrap_by_loan(known_tm):
    from riskkit.migration import bootstrap_ci, bootstrap_matrices

    df = simulate_panel(
        known_tm, 4000, 6, seed=21, initial=np.r_[0.6, 0.2, 0.1, 0.05, 0.05, 0, 0, 0]
    )
    panel = build_panel(df, balance_col="balance")
    reps = bootstrap_matrices(panel, 1, n_boot=200, seed=1)
    np.testing.assert_allclose(reps.sum(axis=2), 1.0)
    lo, hi = bootstrap_ci(panel, 1, n_boot=200, alpha=0.01, seed=1)
    inside = (lo <= known_tm.matrix + 1e-12) & (known_tm.matrix <= hi + 1e-12)
    assert inside.mean() >= 0.95
    # with one row per loan-month, loan resampling is close to the multinomial (Wald) width
    tm = cohort_matrix(panel, 1, ci="wald", alpha=0.01)
    big = tm.matrix > 0.05
    big[5:] = False  # exits: identity rows, zero width
    ratio = (hi - lo)[big] / (tm.ci_upper - tm.ci_lower)[big]
    assert 0.7 < np.median(ratio) < 1.5
    # seeded
    np.testing.assert_array_equal(reps, bootstrap_matrices(panel, 1, n_boot=200, seed=1))
    b = bootstrap_matrices(panel, 3, weight="balance", n_boot=20, seed=2)
    np.testing.assert_allclose(b.sum(axis=2), 1.0)
