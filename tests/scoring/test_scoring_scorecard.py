"""Scorecard: points add up to the model, scaling, sklearn API, selection, reason codes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from riskkit.errors import ValidationError
from riskkit.scoring import Scorecard, WoETransformer, select_by_vif, stepwise, vif


@pytest.fixture(scope="module")
def fitted(applicants):
    X, y = applicants
    sc = Scorecard(binning=WoETransformer(special_values=[-999], min_iv=0.02)).fit(X, y)
    return sc, X, y


def test_unrounded_points_sum_exactly_to_model_log_odds(fitted):
    sc, X, _ = fitted
    pts = sc.credit_score(X, integer=False)
    lo = sc.decision_function(X)
    # score = offset - factor * log-odds, to float precision
    np.testing.assert_allclose((sc.offset_ - pts) / sc.factor_, lo, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sc.pd_from_score(pts), sc.predict_proba(X)[:, 1], atol=1e-13)
    # log-odds recomputed independently from WoE and the coefficients
    W = sc.binning_.transform(X)
    np.testing.assert_allclose(lo, sc.intercept_ + W.to_numpy() @ sc.coef_, atol=1e-12)


def test_integer_points_rounding_bound(fitted):
    sc, X, _ = fitted
    exact = sc.credit_score(X, integer=False)
    integer = sc.credit_score(X, integer=True)
    assert integer.dtype.kind == "i"
    p = len(sc.features_)
    assert np.abs(integer - exact).max() <= p / 2 + 1e-9 == sc.rounding_bound_ + 1e-9
    lo_int = (sc.offset_ - integer) / sc.factor_
    assert np.abs(lo_int - sc.decision_function(X)).max() <= p / (2 * sc.factor_) + 1e-9


def test_scaling_from_policy():
    sc = Scorecard()
    sc.features_, sc.intercept_, sc.coef_ = [], 0.0, np.array([])
    sc._scale()
    assert sc.factor_ == pytest.approx(20 / math.log(2))
    # 600 points at good:bad odds of 50:1, +20 points doubles the odds
    assert sc.pd_from_score(600) == pytest.approx(1 / 51)
    assert sc.pd_from_score(620) == pytest.approx(1 / 101)
    assert sc.score_from_pd(1 / 51) == pytest.approx(600)
    sc2 = Scorecard(policy={"scorecard": {"base_score": 500, "pdo": 40}})
    sc2.features_, sc2.intercept_, sc2.coef_ = [], 0.0, np.array([])
    sc2._scale()
    assert sc2.pd_from_score(540) == pytest.approx(1 / 101)


def test_statsmodels_matches_unpenalised_sklearn(fitted):
    sc, X, y = fitted
    W = sc.binning_.transform(X).to_numpy()
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(W, y)
    np.testing.assert_allclose(sc.coef_, lr.coef_[0], atol=1e-4)
    assert sc.intercept_ == pytest.approx(lr.intercept_[0], abs=1e-4)
    assert list(sc.stats_.columns) == ["coef", "std_err", "z", "p_value"]
    assert (sc.stats_["std_err"] > 0).all()


def test_sklearn_estimator_with_regularisation(applicants):
    X, y = applicants
    b = WoETransformer(special_values=[-999], min_iv=0.02)
    weak = Scorecard(binning=b, estimator="sklearn", C=1e4).fit(X, y)
    strong = Scorecard(binning=b, estimator="sklearn", C=1e-3).fit(X, y)
    assert np.abs(strong.coef_).sum() < 0.5 * np.abs(weak.coef_).sum()
    assert weak.stats_ is None
    pts = weak.credit_score(X, integer=False)
    np.testing.assert_allclose(weak.pd_from_score(pts), weak.predict_proba(X)[:, 1], atol=1e-12)


def test_pipeline_and_grid_search(applicants):
    X, y = applicants
    pipe = Pipeline(
        [
            ("select", FunctionTransformer(lambda d: d.drop(columns=["noise"]))),
            ("sc", Scorecard(binning=WoETransformer(special_values=[-999]))),
        ]
    )
    pipe.fit(X, y)
    assert pipe.predict_proba(X).shape == (len(X), 2)
    assert set(np.unique(pipe.predict(X))) <= {0, 1}
    gs = GridSearchCV(
        Scorecard(binning=WoETransformer(special_values=[-999])),
        {"binning__min_bin_share": [0.05, 0.2], "binning__max_n_bins": [2, 5]},
        cv=3,
    )
    gs.fit(X, y)
    assert gs.best_params_["binning__max_n_bins"] == 5
    assert 0.6 < gs.best_score_ < 1.0
    # score() is ROC AUC
    from sklearn.metrics import roc_auc_score

    assert gs.best_estimator_.score(X, y) == pytest.approx(
        roc_auc_score(y, gs.best_estimator_.predict_proba(X)[:, 1])
    )


def test_reason_codes_by_hand(fitted):
    sc, X, _ = fitted
    rc = sc.reason_codes(X.head(20), n=3)
    P = sc.points_matrix(X.head(20))
    tab = sc.points_table()
    tab = tab[tab["count"] > 0]
    best = tab.groupby("feature")["points_int"].max()
    for i in range(20):
        lost = (best[P.columns] - P.iloc[i]).sort_values(ascending=False, kind="stable")
        lost = lost[lost > 0]
        for k in range(3):
            if k < len(lost):
                assert rc[f"reason_{k + 1}"].iloc[i] == lost.index[k]
                assert rc[f"points_lost_{k + 1}"].iloc[i] == lost.iloc[k]
            else:
                assert rc[f"reason_{k + 1}"].iloc[i] == ""


def test_repr_html_shows_points(fitted):
    sc = fitted[0]
    html = sc._repr_html_()
    assert "points_int" in html and sc.features_[0] in html
    assert "600 at 50:1" in repr(sc)
    assert "<table" in sc.binning_._repr_html_()


def test_scoring_input_errors(fitted):
    sc, X, _ = fitted
    with pytest.raises(ValidationError, match="income: feature used by the model is missing"):
        sc.predict_proba(X.drop(columns=["income"]))
    with pytest.raises(ValidationError, match="branch: column not seen at fit"):
        sc.predict_proba(X.assign(branch="x"))
    with pytest.raises(ValidationError, match="income: infinite value"):
        sc.credit_score(X.assign(income=np.r_[np.inf, X["income"].to_numpy()[1:]]))
    with pytest.raises(ValidationError, match="one class"):
        Scorecard().fit(X, np.zeros(len(X)))
    p = sc.predict_proba(X.assign(income=np.nan, segment=pd.NA))
    assert np.isfinite(p).all()


def test_vif_matches_auxiliary_regressions(fitted):
    sc, X, _ = fitted
    W = sc.binning_.transform(X, select=False)
    v = vif(W)
    for f in W.columns:
        others = W.drop(columns=[f])
        r2 = LinearRegression().fit(others, W[f]).score(others, W[f])
        assert v[f] == pytest.approx(1 / (1 - r2), rel=1e-6)
    W2 = W.assign(dup=W["income"] * 2 + 0.01 * np.random.default_rng(0).normal(size=len(W)))
    keep, log = select_by_vif(W2, max_vif=10)
    assert ("dup" not in keep) or ("income" not in keep)
    assert log and log[0][1] == "vif"


def test_selection_iv_corr_stepwise(applicants):
    X, y = applicants
    X = X.assign(income_copy=X["income"] * 1.01)
    wt = WoETransformer(special_values=[-999], min_iv=0.02, max_corr=0.9).fit(X, y)
    log = wt.selection_log_.set_index("feature")
    assert "noise" not in wt.selected_ and log.loc["noise", "step"] == "iv"
    assert ("income" in wt.selected_) != ("income_copy" in wt.selected_)
    W = wt.transform(X, select=False)
    fwd, _ = stepwise(W[["income", "utilisation", "noise", "age"]], y, "forward")
    assert "noise" not in fwd and {"income", "utilisation"} <= set(fwd)
    import statsmodels.api as sm

    res = sm.Logit(y.to_numpy(float), sm.add_constant(W[fwd].to_numpy())).fit(disp=0)
    assert (np.asarray(res.pvalues)[1:] < 0.05).all()
    bwd, _ = stepwise(W[["income", "utilisation", "noise", "age"]], y, "backward", "aic")

    def aic(cols):
        return sm.Logit(y.to_numpy(float), sm.add_constant(W[cols].to_numpy())).fit(disp=0).aic

    # stopping rule checked independently: dropping any kept feature does not lower the AIC
    full = aic(bwd)
    assert all(aic([c for c in bwd if c != f]) >= full for f in bwd)
    wt2 = WoETransformer(special_values=[-999], stepwise="forward", p_enter=0.01).fit(X, y)
    direct, _ = stepwise(W, y, "forward", p_enter=0.01)
    assert set(wt2.selected_) == set(direct)
    assert set(wt2.selection_log_["feature"]) == set(W.columns) - set(direct)


def test_scorecard_bad_inputs_name_the_feature(applicants):
    X, y = applicants
    bad = X.assign(empty=np.nan, flat=3.0)
    with pytest.raises(ValidationError) as ei:
        Scorecard().fit(bad, y)
    assert {p.column for p in ei.value.problems} == {"empty", "flat"}
    with pytest.raises(ValidationError, match="binary"):
        Scorecard().fit(X, y.map({0: "good", 1: "bad"}))
    with pytest.raises(ValidationError, match="Only binary classification"):
        Scorecard().fit(X, y.where(y.index % 7 > 0, 2))
    with pytest.raises(ValidationError, match="misaligned"):
        Scorecard().fit(X, y.iloc[:-5])
    with pytest.raises(ValidationError, match="utilisation: infinite"):
        Scorecard().fit(X.assign(utilisation=np.r_[-np.inf, X["utilisation"].to_numpy()[1:]]), y)


def test_any_two_labels_the_larger_is_the_event(applicants):
    """scikit-learn's convention: classes_ sorted, the second is the event (bad)."""
    X, y = applicants
    base = Scorecard().fit(X, y)
    for labels in ({0: 0, 1: 2}, {0: False, 1: True}, {0: "a_good", 1: "b_bad"}):
        yl = y.map(labels)
        sc = Scorecard().fit(X, yl)
        assert sc.classes_.tolist() == [labels[0], labels[1]]
        np.testing.assert_array_equal(sc.predict_proba(X), base.predict_proba(X))
        assert set(sc.predict(X)) <= {labels[0], labels[1]}
        assert sc.score(X, yl) == base.score(X, y)
        assert Scorecard.from_json(sc.to_json()).classes_.tolist() == sc.classes_.tolist()


def test_single_bin_features_are_dropped(german_data):
    X, y = german_data
    sc = Scorecard().fit(X, y)  # every feature, no IV filter
    log = sc.binning_.selection_log_.set_index("feature")
    single = [f for f, b in sc.binning_.binnings_.items() if b.n_bins_ == 1]
    assert single and all(log.loc[f, "step"] == "single_bin" for f in single)
    assert not set(single) & set(sc.features_)
    assert sc.score(X, y) > 0.8


def test_woe_transformer_in_sklearn_pipeline(german_data):
    X, y = german_data
    pipe = Pipeline(
        [("woe", WoETransformer(min_iv=0.02)), ("lr", LogisticRegression(max_iter=1000))]
    )
    pipe.fit(X, y)
    p = pipe.predict_proba(X)[:, 1]
    W = WoETransformer(min_iv=0.02).fit(X, y).transform(X)
    lr = LogisticRegression(max_iter=1000).fit(W, y)
    np.testing.assert_allclose(p, lr.predict_proba(W)[:, 1])
    assert list(pipe[:-1].get_feature_names_out()) == list(W.columns)


def test_perfectly_collinear_features_give_a_clear_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    y = (rng.random(2000) < 1 / (1 + np.exp(1 - x))).astype(int)
    X = pd.DataFrame({"a": x, "b": x.copy()})
    with pytest.raises(ValueError, match=r"singular.*\['a', 'b'\].*collinear"):
        Scorecard(rules=None).fit(X, y)
    sc = Scorecard(binning=WoETransformer(max_corr=0.95), rules=None).fit(X, y)
    assert sc.features_ == ["a"]
    # the policy's correlation limit (0.7) resolves it under the model rules, and says so
    ruled = Scorecard().fit(X, y)
    v = ruled.validation_.table
    assert ruled.features_ == ["a"]
    assert v.query("rule == 'max_corr' and feature == 'b'")["verdict"].tolist() == ["dropped"]


# --- issue 15 (11): scoring refuses what it cannot fit honestly -----------------------------


def test_a_separated_tiny_sample_is_refused_not_scored_0_and_1():
    from riskkit.scoring import InsufficientDataWarning

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=8), "b": rng.normal(size=8), "c": rng.normal(size=8)})
    y = np.array([0, 1] * 4)
    with pytest.warns(InsufficientDataWarning, match="only 4 rows of the smaller class for 3"):
        with pytest.raises(ValueError, match="cannot fit this sample honestly: the model separ"):
            Scorecard(rules=None).fit(X, y)
    with pytest.warns(InsufficientDataWarning), pytest.raises(ValueError, match="separates"):
        Scorecard().fit(X, y)  # under the policy's model rules too
    # regularised, the same sample gives PDs strictly inside (0, 1)
    with pytest.warns(InsufficientDataWarning):
        sc = Scorecard(estimator="sklearn").fit(X, y)
    p = sc.predict_proba(X)[:, 1]
    assert ((p > 1e-6) & (p < 1 - 1e-6)).all()


def test_too_few_events_per_feature_warns_with_the_policy_minimum(tmp_path):
    from riskkit.scoring import InsufficientDataWarning

    rng = np.random.default_rng(1)
    n = 300
    X = pd.DataFrame({"income": rng.normal(size=n), "age": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(3.2 + X["income"]))).astype(int)
    bads = int(y.sum())
    assert 10 <= bads < 20  # fewer than 10 per feature for 2 features, enough to fit
    with pytest.warns(InsufficientDataWarning, match=f"only {bads} rows of the smaller class"):
        sc = Scorecard().fit(X, y)
    assert len(sc.features_) == 2
    policy = tmp_path / "policy.yaml"
    policy.write_text("scorecard:\n  min_events_per_feature: 5\n")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", InsufficientDataWarning)
        Scorecard(policy=str(policy)).fit(X, y)  # the institution's own minimum: no warning


def test_a_mixed_type_numpy_array_keeps_numeric_columns_numeric():
    rng = np.random.default_rng(2)
    n = 3000
    income = rng.normal(size=n)
    segment = rng.choice(["trader", "farmer", "consumer"], n)
    y = (rng.random(n) < 1 / (1 + np.exp(2 + income))).astype(int)
    arr = np.empty((n, 2), dtype=object)
    arr[:, 0], arr[:, 1] = income, segment
    sc = Scorecard().fit(arr, y)
    kinds = {f: sc.binning_.binnings_[f].dtype for f in sc.binning_.binnings_}
    assert kinds == {"x0": "numerical", "x1": "categorical"}
    frame = pd.DataFrame({"x0": income, "x1": segment})
    np.testing.assert_array_equal(
        sc.predict_proba(arr), Scorecard().fit(frame, y).predict_proba(frame)
    )
