"""Metrics and calibration, each checked against scikit-learn/scipy or a hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from riskkit.scoring import WoETransformer
from riskkit.scoring.calibration import MasterScale, PDCalibrator, shift_to_target
from riskkit.scoring.metrics import (
    auc,
    binomial_test,
    brier,
    calibration_curve,
    csi,
    gains_table,
    gini,
    grade_tests,
    hosmer_lemeshow,
    jeffreys_test,
    ks,
    psi,
    psi_by_period,
    psi_status,
)


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(3)
    n = 3000
    score = np.round(rng.normal(600, 40, n))  # ties on purpose
    pd_true = 1 / (1 + np.exp((score - 560) / 25))
    y = (rng.random(n) < pd_true).astype(int)
    return score, pd_true, y


def test_auc_gini_ks(sample):
    score, p, y = sample
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert auc(y, score, higher_is_bad=False) == pytest.approx(roc_auc_score(y, -score), 1e-12)
    assert gini(y, p) == pytest.approx(2 * roc_auc_score(y, p) - 1)
    assert ks(y, score, higher_is_bad=False) == pytest.approx(
        stats.ks_2samp(score[y == 1], score[y == 0]).statistic, abs=1e-12
    )


def test_gains_table_by_hand(sample):
    score, _, y = sample
    g = gains_table(y, score, n_bands=5, higher_is_bad=False)
    order = np.argsort(score, kind="stable")  # riskiest (lowest score) first
    ys = y[order]
    bands = np.array_split(ys, 5)
    assert g["n"].tolist() == [len(b) for b in bands]
    assert g["n_bad"].tolist() == [int(b.sum()) for b in bands]
    assert g["cum_bad_share"].iloc[-1] == pytest.approx(1.0)
    assert g["lift"].iloc[0] == pytest.approx(bands[0].mean() / y.mean())
    assert g["score_max"].iloc[0] <= g["score_min"].iloc[1]
    assert g["ks"].max() <= ks(y, score, higher_is_bad=False) + 1e-12


def test_psi_by_hand():
    e = np.r_[np.repeat([1.0, 2.0, 3.0, 4.0], 25)]  # 25% each
    a = np.r_[np.repeat([1.0, 2.0, 3.0, 4.0], [10, 20, 30, 40])]
    shares_e = np.array([0.25] * 4)
    shares_a = np.array([0.1, 0.2, 0.3, 0.4])
    want = float(np.sum((shares_a - shares_e) * np.log(shares_a / shares_e)))
    assert psi(e, a, bins=[1.5, 2.5, 3.5]) == pytest.approx(want, rel=1e-12)
    assert psi(e, e) == 0.0
    # missing values form their own bin
    a2 = np.r_[e[:90], [np.nan] * 10]
    assert psi(e, a2, bins=[1.5, 2.5, 3.5]) > 0


def test_psi_by_period():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "month": np.repeat(["2026-01", "2026-02", "2026-03"], 2000),
            "score": np.r_[rng.normal(600, 40, 4000), rng.normal(630, 40, 2000)],
        }
    )
    out = psi_by_period(df, "month", "score")
    ref = df.loc[df.month == "2026-01", "score"]
    assert out["psi"].iloc[0] == 0.0
    for m in ("2026-02", "2026-03"):
        got = out.set_index("month").loc[m, "psi"]
        assert got == pytest.approx(psi(ref, df.loc[df.month == m, "score"]))
    assert out["status"].tolist()[0] == "stable" and out["status"].iloc[2] != "stable"
    with pytest.raises(KeyError, match="nope"):
        psi_by_period(df, "nope", "score")


def test_psi_status_thresholds_come_from_policy():
    v = [0.0, 0.0999, 0.10, 0.25, 0.2501]
    assert psi_status(v).tolist() == ["stable", "stable", "monitor", "monitor", "shifted"]
    strict = {"scorecard": {"stability": {"psi_monitor": 0.05, "psi_shifted": 0.10}}}
    assert psi_status(v, strict).tolist() == ["stable", "monitor", "monitor", "shifted", "shifted"]
    df = pd.DataFrame(
        {"m": np.repeat([1, 2], 500), "s": np.r_[np.arange(500), np.arange(500) + 40]}
    )
    # period 2 is shifted by a PSI between the strict and the default thresholds
    by = psi_by_period(df, "m", "s", policy=strict).set_index("m")
    assert 0.10 < by.loc[2, "psi"] < 0.25
    assert by["status"].tolist() == ["stable", "shifted"]
    assert psi_by_period(df, "m", "s")["status"].tolist() == ["stable", "monitor"]
    empty = psi_by_period(df.iloc[:0], "m", "s", reference=df["s"].to_numpy())
    assert empty.empty and list(empty.columns) == ["m", "n", "psi", "status"]
    with pytest.raises(ValueError, match="psi_monitor < psi_shifted"):
        psi_status(v, {"scorecard": {"stability": {"psi_monitor": 0.3}}})
    with pytest.raises(ValueError, match="NaN"):
        psi_status([0.1, np.nan])


def test_csi_on_fitted_bins(applicants):
    X, y = applicants
    wt = WoETransformer(special_values=[-999]).fit(X, y)
    X2 = X.assign(income=X["income"] * 1.5)
    c = csi(wt, X, X2)
    ie = wt.binnings_["income"].transform(X["income"], metric="indices")
    ia = wt.binnings_["income"].transform(X2["income"], metric="indices")
    K = wt.binnings_["income"].n_all_bins_ + 1
    e, a = np.bincount(ie, minlength=K) / len(X), np.bincount(ia, minlength=K) / len(X)
    m = (e > 0) | (a > 0)
    e, a = np.where(e == 0, 1e-4, e)[m], np.where(a == 0, 1e-4, a)[m]
    assert c["income"] == pytest.approx(np.sum((a - e) * np.log(a / e)))
    assert c["segment"] == 0.0


def test_hosmer_lemeshow_by_hand(sample):
    _, p, y = sample
    res = hosmer_lemeshow(y, p, n_groups=10)
    order = np.argsort(p, kind="stable")
    h = 0.0
    for grp in np.array_split(order, 10):
        o, e, n = y[grp].sum(), p[grp].sum(), len(grp)
        h += (o - e) ** 2 / (e * (1 - e / n))
    assert res["statistic"] == pytest.approx(h)
    assert res["p_value"] == pytest.approx(stats.chi2.sf(h, 8))
    assert res["p_value"] > 0.01  # true PDs: well calibrated


def test_binomial_and_jeffreys():
    for n, d, p in [(100, 5, 0.03), (1000, 12, 0.01), (50, 0, 0.02)]:
        assert binomial_test(n, d, p) == pytest.approx(
            stats.binomtest(d, n, p, alternative="greater").pvalue
        )
        assert jeffreys_test(n, d, p) == pytest.approx(special.betainc(d + 0.5, n - d + 0.5, p))
    g = grade_tests(["A", "A", "B", "B", "B"], [0, 1, 0, 0, 1], [0.1, 0.2, 0.3, 0.3, 0.3])
    assert g["n"].tolist() == [2, 3] and g["defaults"].tolist() == [1, 1]
    assert g["pd_mean"].iloc[0] == pytest.approx(0.15)
    assert g["binomial_p"].iloc[0] == pytest.approx(1 - 0.85**2)


def test_brier_and_calibration_curve(sample):
    _, p, y = sample
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))
    for strategy in ("uniform", "quantile"):
        c = calibration_curve(y, p, n_bins=8, strategy=strategy)
        prob_true, prob_pred = sk_calibration_curve(y, p, n_bins=8, strategy=strategy)
        np.testing.assert_allclose(c["default_rate"], prob_true)
        np.testing.assert_allclose(c["pd_mean"], prob_pred)
        assert c["n"].sum() == len(y)


def test_shift_to_target_and_calibrators(sample):
    score, _, y = sample
    shifted, delta = shift_to_target(np.full(10, 0.1), 0.05)
    assert shifted.mean() == pytest.approx(0.05, abs=1e-12)
    assert delta == pytest.approx(special.logit(0.05) - special.logit(0.1), abs=1e-10)
    cal = PDCalibrator().fit(score, y)
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit((score - 600)[:, None], y)
    np.testing.assert_allclose(
        cal.predict(score), lr.predict_proba((score - 600)[:, None])[:, 1], rtol=1e-4
    )
    cal_t = PDCalibrator(target_rate=0.04).fit(score, y)
    assert cal_t.predict(score).mean() == pytest.approx(0.04, abs=1e-10)
    iso = PDCalibrator(method="isotonic").fit(score, y)
    ref = IsotonicRegression(increasing=False, out_of_bounds="clip").fit(score, y)
    np.testing.assert_allclose(iso.predict(score), np.clip(ref.predict(score), 1e-6, 1 - 1e-6))
    assert (np.diff(iso.predict(np.sort(score))) <= 1e-15).all()
    iso_t = PDCalibrator(method="isotonic", target_rate=0.04).fit(score, y)
    assert iso_t.predict(score).mean() == pytest.approx(0.04, abs=1e-10)


def test_master_scale():
    ms = MasterScale()  # policy defaults
    t = ms.table()
    assert len(t) == 10 and t["pd_lower"].iloc[0] == 0 and t["pd_upper"].iloc[-1] == 1
    ratios = t["pd_upper"].iloc[1:-1].to_numpy() / t["pd_lower"].iloc[1:-1].to_numpy()
    np.testing.assert_allclose(ratios, ratios[0])  # geometric bands
    assert ms.assign([0.0, 0.003, 0.0029999, 0.3, 0.99]).tolist() == [
        "R1",
        "R2",
        "R1",
        "R10",
        "R10",
    ]
    with pytest.raises(ValueError, match="NaN"):
        ms.assign([np.nan])
    ms5 = MasterScale(policy={"scorecard": {"master_scale": {"n_grades": 5}}})
    assert ms5.n_grades == 5 and len(ms5.table()) == 5
    assert "<table" in ms._repr_html_()


def test_csi_by_period(applicants):
    from riskkit.scoring import csi_by_period

    X, y = applicants
    wt = WoETransformer(special_values=[-999]).fit(X, y)
    df = X.assign(month=np.where(np.arange(len(X)) < 2000, "2026-01", "2026-02"))
    late = df["month"] == "2026-02"
    df.loc[late, "income"] = df.loc[late, "income"] * 2
    out = csi_by_period(wt, df, "month")
    assert (out.loc["2026-01"] == 0).all()
    direct = csi(wt, X[~late.to_numpy()], df.loc[late, X.columns])
    assert out.loc["2026-02", "income"] == pytest.approx(direct["income"])
    assert out.loc["2026-02", "income"] > out.loc["2026-02", "segment"]


def test_scorecard_recalibration_master_scale_and_grade_tests(german_data):
    from riskkit.scoring import Scorecard

    X, y = german_data
    sc = Scorecard(binning=WoETransformer(min_iv=0.02)).fit(X, y)
    assert sc.predict_proba(X)[:, 1].mean() == pytest.approx(y.mean(), abs=1e-6)  # MLE
    rc = sc.recalibrated(X, target_rate=0.05)
    pd_new = rc.predict_proba(X)[:, 1]
    assert pd_new.mean() == pytest.approx(0.05, abs=1e-10)
    shift = rc.credit_score(X, integer=False) - sc.credit_score(X, integer=False)
    np.testing.assert_allclose(shift, -sc.factor_ * rc.intercept_shift_, atol=1e-9)
    np.testing.assert_allclose(rc.pd_from_score(rc.credit_score(X, integer=False)), pd_new)
    assert auc(y, pd_new) == pytest.approx(auc(y, sc.predict_proba(X)[:, 1]))
    ms = MasterScale()
    grades = ms.assign(sc.predict_proba(X)[:, 1])
    g = grade_tests(grades, y, sc.predict_proba(X)[:, 1])
    assert g["n"].sum() == len(X) and g["defaults"].sum() == y.sum()
    # in-sample PDs are calibrated: no grade rejected at 1%
    assert not (grade_tests(grades, y, sc.predict_proba(X)[:, 1], alpha=0.01)["rejected"]).any()
    # under-stated PDs (recalibrated to 5% vs 30% observed): most populated grades rejected
    g5 = grade_tests(ms.assign(pd_new), y, pd_new)
    big = g5[g5["n"] >= 30]
    assert big["rejected"].mean() >= 0.8 and g5["rejected"].sum() > g["rejected"].sum()
    t = ms.table(scorecard=sc)
    assert (t["score_lower"] < t["score_upper"]).all()


def test_degenerate_inputs_are_errors_not_nan():
    from riskkit.scoring.metrics import hosmer_lemeshow

    with pytest.raises(ValueError, match="both classes"):
        auc(np.zeros(10), np.linspace(0, 1, 10))
    with pytest.raises(ValueError, match="Hosmer-Lemeshow needs 10 groups"):
        hosmer_lemeshow(np.r_[np.zeros(50), np.ones(50)], np.zeros(100))
    with pytest.raises(ValueError, match="Hosmer-Lemeshow needs 10 groups"):
        hosmer_lemeshow([0, 1, 0], [0.1, 0.2, 0.3])


def _delong_brute(y, s):
    """DeLong's components by comparing every bad with every good (O(m n), independent)."""
    y = np.asarray(y)
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def test_delong_auc_ci_and_test_against_pairwise_computation():
    from scipy import stats

    from riskkit.scoring.metrics import auc_ci, delong_test, holm, ks_ci

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 400)
    a = np.round(y + rng.normal(size=400), 1)  # ties on purpose
    b = 0.5 * y + rng.normal(size=400)
    v10, v01 = _delong_brute(y, a)
    se = np.sqrt(v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01))
    r = auc_ci(y, a)
    assert r["auc"] == pytest.approx(v10.mean(), abs=1e-12)
    assert r["se"] == pytest.approx(se, rel=1e-10)
    assert r["lower"] == pytest.approx(v10.mean() - 1.959964 * se, abs=1e-6)
    w10, w01 = _delong_brute(y, b)
    var = (np.var(v10 - w10, ddof=1) / len(v10)) + (np.var(v01 - w01, ddof=1) / len(v01))
    t = delong_test(y, a, b)
    assert t["difference"] == pytest.approx(v10.mean() - w10.mean(), abs=1e-12)
    assert t["se"] == pytest.approx(np.sqrt(var), rel=1e-10)
    assert t["p_value"] == pytest.approx(2 * stats.norm.sf(abs(t["difference"]) / t["se"]))
    k = ks_ci(y, a)
    assert k["lower"] < k["ks"] < k["upper"]
    # Holm: sorted p 0.01 <= 0.05/4, then 0.03 > 0.05/3 stops (0.04 not rejected either)
    assert holm([0.01, 0.04, 0.03, 0.5]).tolist() == [True, False, False, False]
    assert holm([0.001, 0.012, 0.02, 0.5]).tolist() == [True, True, True, False]


def test_grade_tests_two_sided_against_scipy():
    """R8 of the review: 63 of 601 bad (10.5%) against a PD of 12.6%. The one-sided tests
    only ask "PD too low?" (p near 1); the two-sided binomial test is scipy's binomtest."""
    from scipy import stats

    y = np.r_[np.ones(63), np.zeros(601 - 63)]
    g = grade_tests(["R8"] * 601, y, np.full(601, 0.126)).iloc[0]
    assert g["binomial_p"] == pytest.approx(stats.binom.sf(62, 601, 0.126), rel=1e-12)
    assert g["binomial_p"] > 0.9 and g["direction"] == "PD too high"
    want = stats.binomtest(63, 601, 0.126, alternative="two-sided").pvalue
    assert g["binomial_two_sided_p"] == pytest.approx(want, rel=1e-12)
    assert g["rejected_two_sided"] == (want < 0.05) and not g["rejected"]
    # 40 of 200 against 10%: PD too low, both kinds reject
    y = np.r_[np.ones(40), np.zeros(160)]
    g = grade_tests(["R9"] * 200, y, np.full(200, 0.10)).iloc[0]
    assert g["direction"] == "PD too low" and g["rejected"] and g["rejected_two_sided"]
    assert g["binomial_two_sided_p"] == pytest.approx(stats.binomtest(40, 200, 0.1).pvalue)
