"""Out-of-sample calibration (Scorecard.cv_calibrated) and scoring with a JSON-loaded scorecard.

The calibration gap reported on the sample book: fitted on ~1,600 applications (~150 bads),
the committee scorecard's PDs were too spread out; at a 50% approval cut-off its approved half
had an expected bad rate of 2.6% but went bad at 6.5% on the validation sample. Not a PD
mapping bug (predict_proba == pd_from_score of the unrounded score to 1e-15, in-sample mean PD
== bad rate) and not drift (a random stratified split): overfitting of binning + selection +
regression on a small sample, calibration slope ~0.35-0.7 out of sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split

from riskkit.errors import ValidationError
from riskkit.scoring import Scorecard, WoETransformer, csi, csi_by_period
from riskkit.scoring.metrics import jeffreys_test


def _dgp(n, seed, n_noise=8):
    """Two real drivers and noise features (numeric and categorical): easy to overfit."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, n_noise + 2)), columns=[f"x{i}" for i in range(10)])
    X["region"] = pd.array(rng.choice(list("ABCDEFGHIJ"), n), dtype="str")
    lo = -2.4 + 0.7 * X["x0"] - 0.5 * X["x1"]
    y = pd.Series((rng.random(n) < expit(lo)).astype(np.int64), name="bad")
    return X, y


def _approved_half(sc, X, y):
    """Mean PD, bads and size of the better-scoring half (score >= median)."""
    s = sc.credit_score(X, integer=False)
    a = s >= np.median(s)
    return sc.predict_proba(X[a])[:, 1].mean(), int(y[a].sum()), int(a.sum())


@pytest.fixture(scope="module")
def overfit():
    X, y = _dgp(1200, 1)
    Xh, yh = _dgp(40_000, 2)
    raw = Scorecard(binning=WoETransformer(min_bin_share=0.03)).fit(X, y)
    return X, y, Xh, yh, raw, raw.cv_calibrated(X, y)


def test_raw_scorecard_is_overconfident_out_of_sample(overfit):
    X, y, Xh, yh, raw, _ = overfit
    pd_in, d_in, n_in = _approved_half(raw, X, y)
    pd_out, d_out, n_out = _approved_half(raw, Xh, yh)
    # in sample the approved half looks right, out of sample its PD is far too low
    assert jeffreys_test(n_in, d_in, pd_in) > 0.05
    assert d_out / n_out > 1.5 * pd_out
    assert jeffreys_test(n_out, d_out, pd_out) < 1e-6


def test_cv_calibrated_pd_matches_held_out_bad_rate(overfit):
    X, y, Xh, yh, raw, cal = overfit
    assert 0.2 < cal.calibration_slope_ < 0.9
    pd_a, d_a, n_a = _approved_half(cal, Xh, yh)
    p = jeffreys_test(n_a, d_a, pd_a)  # two-sided: neither under- nor overestimated
    assert 0.005 < p < 0.995, (pd_a, d_a / n_a)
    # the whole held-out sample: mean PD within a binomial tolerance of the bad rate
    mean_pd = cal.predict_proba(Xh)[:, 1].mean()
    lo, hi = stats.binom.interval(0.99, len(yh), mean_pd)
    assert lo <= yh.sum() <= hi
    # and the worst decile is no longer overstated by more than the sampling noise
    s = cal.credit_score(Xh, integer=False)
    worst = s <= np.quantile(s, 0.1)
    assert abs(yh[worst].mean() - cal.predict_proba(Xh[worst])[:, 1].mean()) < 0.04


def test_cv_calibrated_properties(overfit):
    X, y, _, _, raw, cal = overfit
    # in sample the mean PD equals the bad rate: MLE score equation (raw), by construction (cal)
    assert raw.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=1e-8)
    assert cal.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=1e-10)
    # PD is exactly the PD of the unrounded score; ranking and bins unchanged
    for sc in (raw, cal):
        exact = sc.credit_score(X, integer=False)
        np.testing.assert_allclose(sc.pd_from_score(exact), sc.predict_proba(X)[:, 1], atol=1e-14)
    np.testing.assert_allclose(cal.coef_, raw.coef_ * cal.calibration_slope_, rtol=1e-12)
    lo_raw, lo_cal = raw.decision_function(X), cal.decision_function(X)
    np.testing.assert_allclose(
        lo_cal,
        cal.calibration_slope_ * lo_raw + lo_cal[0] - (cal.calibration_slope_ * lo_raw[0]),
        atol=1e-10,
    )
    # the slope, independently: sklearn's unpenalised logistic regression on out-of-fold
    # log-odds of scorecards refitted on the same folds
    oof = np.empty(len(X))
    for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        oof[b] = (
            Scorecard(binning=WoETransformer(min_bin_share=0.03))
            .fit(X.iloc[a], y.iloc[a])
            .decision_function(X.iloc[b])
        )
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(oof[:, None], y)
    assert cal.calibration_slope_raw_ == pytest.approx(float(lr.coef_[0, 0]), rel=1e-5)
    assert cal.calibration_slope_ == pytest.approx(min(cal.calibration_slope_raw_, 1.0))
    # a target rate moves the mean PD, not the slope
    tgt = raw.cv_calibrated(X, y, target_rate=0.05)
    assert tgt.predict_proba(X)[:, 1].mean() == pytest.approx(0.05, abs=1e-10)
    assert tgt.calibration_slope_ == pytest.approx(cal.calibration_slope_)


def test_cv_calibrated_json_round_trip(overfit):
    X, _, _, _, _, cal = overfit
    again = Scorecard.from_json(cal.to_json())
    assert again.calibration_slope_ == cal.calibration_slope_
    assert (again.predict_proba(X) == cal.predict_proba(X)).all()
    assert (again.credit_score(X) == cal.credit_score(X)).all()


def test_cv_calibrated_rejects_a_model_without_out_of_sample_signal():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    y = pd.Series((rng.random(600) < 0.1).astype(int))
    sc = Scorecard(binning=WoETransformer(min_bin_share=0.02)).fit(X, y)
    with pytest.raises(ValueError, match="calibration slope"):
        sc.cv_calibrated(X, y, random_state=4)


@pytest.mark.slow  # fits on a whole sample book
def test_sample_book_committee_scorecard_calibrated_on_validation():
    """The reported gap on the sample book, before and after, with the committee settings."""
    from riskkit.datasets import make_microloan_book
    from riskkit.scoring import application_sample
    from riskkit.scoring.sample import OUTCOME_COLUMNS

    sample = application_sample(make_microloan_book(n_loans=4000, seed=0))
    tr, va = train_test_split(sample, test_size=0.3, random_state=0, stratify=sample["bad"])
    # application-time features, as riskkit.widgets.app.scorecard_features picks them
    skip = {"disbursement_date", "name", "id_number", "phone", *OUTCOME_COLUMNS}
    feats = [c for c in sample.columns if c not in skip and not c.endswith("_id")]
    binning = WoETransformer(min_iv=0.02, max_corr=0.6, stepwise="forward")
    raw = Scorecard(binning=binning, rules=None).fit(tr[feats], tr["bad"])  # as reported
    cal = raw.cv_calibrated(tr[feats], tr["bad"])
    pd_r, d_r, n_r = _approved_half(raw, va[feats], va["bad"])
    pd_c, d_c, n_c = _approved_half(cal, va[feats], va["bad"])
    assert d_r / n_r > 1.5 * pd_r  # the gap: observed well above expected (2.5x in 2025)
    assert jeffreys_test(n_r, d_r, pd_r) < 0.01  # rejected at 1%
    assert jeffreys_test(n_c, d_c, pd_c) > 0.02  # no longer rejected
    assert pd_c > 1.5 * pd_r


# ------------------------------------------------------------------- JSON scorecard + CSI


@pytest.fixture(scope="module")
def selected(applicants):
    X, y = applicants
    sc = Scorecard(binning=WoETransformer(special_values=[-999], min_iv=0.05)).fit(X, y)
    assert set(sc.features_) < set(X.columns)  # some features not selected
    return X, y, sc, Scorecard.from_json(sc.to_json())


def test_json_scorecard_scores_frames_without_unselected_columns(selected):
    X, _, sc, loaded = selected
    only = X[loaded.features_]
    np.testing.assert_array_equal(loaded.credit_score(only), sc.credit_score(X))
    np.testing.assert_array_equal(sc.predict_proba(only), loaded.predict_proba(X))
    with pytest.raises(ValidationError, match="missing from X") as ei:
        loaded.predict_proba(X.drop(columns=[loaded.features_[0]]))
    assert ei.value.problems[0].column == loaded.features_[0]
    with pytest.raises(ValidationError, match="unseen column") as ei:
        loaded.predict_proba(only.assign(bad=0))
    assert ei.value.problems[0].column == "bad"


def test_csi_with_json_scorecard(selected):
    X, _, sc, loaded = selected
    X2 = X.assign(income=X["income"] * 1.7)
    c_loaded = csi(loaded, X[loaded.features_], X2[loaded.features_])
    pd.testing.assert_series_equal(c_loaded, csi(sc, X, X2))
    pd.testing.assert_series_equal(c_loaded, csi(sc.binning_, X, X2, features=sc.features_))
    assert list(c_loaded.sort_index().index) == sorted(sc.features_)
    # by hand for income
    ob = loaded.binning_.binnings_["income"]
    K = ob.n_all_bins_ + 1
    e = np.bincount(ob.bin_index(X["income"]), minlength=K) / len(X)
    a = np.bincount(ob.bin_index(X2["income"]), minlength=K) / len(X)
    m = (e > 0) | (a > 0)
    e, a = np.where(e == 0, 1e-4, e)[m], np.where(a == 0, 1e-4, a)[m]
    assert c_loaded["income"] == pytest.approx(np.sum((a - e) * np.log(a / e)))
    with pytest.raises(KeyError, match="no fitted bins"):
        csi(loaded, X, X2, features=["noise"] if "noise" not in loaded.features_ else ["zz"])


def test_csi_by_period_with_json_scorecard(selected):
    X, y, sc, loaded = selected
    df = X.assign(month=np.where(np.arange(len(X)) < 1500, "2026-01", "2026-02"), bad=y)
    late = df["month"] == "2026-02"
    df.loc[late, "income"] = df.loc[late, "income"] * 2
    out = csi_by_period(loaded, df, "month")  # id/target columns in df are ignored
    assert list(out.columns) and set(out.columns) == set(loaded.features_)
    assert (out.loc["2026-01"] == 0).all()
    direct = csi(loaded, df.loc[~late, loaded.features_], df.loc[late, loaded.features_])
    assert out.loc["2026-02", "income"] == pytest.approx(direct["income"])
    assert out.loc["2026-02", "income"] > 0.1
    with pytest.raises(KeyError, match="lacks the model features"):
        csi_by_period(loaded, df.drop(columns=["income"]), "month")
