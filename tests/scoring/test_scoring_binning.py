"""Optimal binning: exactness of the DP, constraints, missing/special/unseen, manual bins."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskkit.errors import ValidationError
from riskkit.scoring import OptimalBinning, UnseenCategoryWarning, WoETransformer, woe_iv
from riskkit.scoring.binning import BinLimits, _Prebins, _solve_dp


def _brute(pre, tn, te, trend, min_n, maxb, min_bins=1, max_n=np.inf, fixed=(), diff=0.0):
    P = len(pre.n)
    best, best_cuts = -np.inf, None
    for m in range(P):
        for c in itertools.combinations(range(1, P), m):
            cuts = [0, *c, P]
            n = np.array([pre.n[a:b].sum() for a, b in itertools.pairwise(cuts)])
            e = np.array([pre.e[a:b].sum() for a, b in itertools.pairwise(cuts)])
            if (n < min_n).any() or (e < 1).any() or (n - e < 1).any() or (n > max_n).any():
                continue
            if (maxb and len(n) > maxb) or len(n) < min_bins or not set(fixed) <= set(c):
                continue
            r = e / n

            def up(a):
                return bool((np.diff(a) >= diff).all() if diff else (np.diff(a) > 0).all())

            def down(a):
                return bool((-np.diff(a) >= diff).all() if diff else (np.diff(a) < 0).all())

            ok = {
                "ascending": up(r),
                "descending": down(r),
                "none": True,
                "peak": any(up(r[: k + 1]) and down(r[k:]) for k in range(len(r))),
                "valley": any(down(r[: k + 1]) and up(r[k:]) for k in range(len(r))),
            }[trend]
            if not ok:
                continue
            iv = woe_iv(n - e, e, tn - te, te)[1].sum()
            if iv > best + 1e-12:
                best, best_cuts = iv, cuts
    return best_cuts, best


def test_dp_is_exact_against_brute_force():
    rng = np.random.default_rng(7)
    checked = 0
    for trial in range(25):
        P = int(rng.integers(3, 9))
        n = rng.integers(5, 60, P).astype(float)
        e = rng.binomial(n.astype(int), rng.random(P)).astype(float)
        pre = _Prebins(n, e)
        tn, te = n.sum() + 10, e.sum() + 3
        for trend in ("ascending", "descending", "peak", "valley", "none"):
            min_n = int(rng.integers(1, 40))
            maxb = [None, 2, 3][trial % 3]
            # optbinning's extra limits: fewest bins, largest bin, kept splits, rate gap
            extra = [{}, {"min_bins": 2, "max_n": 150.0}, {"fixed": (1,)}, {"diff": 0.05}][
                trial % 4
            ]
            lim = BinLimits(
                min_n=min_n,
                min_e=1,
                min_ne=1,
                max_bins=maxb,
                min_bins=extra.get("min_bins", 1),
                max_n=extra.get("max_n", np.inf),
                fixed=extra.get("fixed", ()),
                min_rate_diff=extra.get("diff", 0.0),
            )
            cuts, iv = _solve_dp(pre, tn, te, trend, lim)
            bcuts, biv = _brute(pre, tn, te, trend, min_n, maxb, **extra)
            if bcuts is None:
                assert cuts is None
            else:
                assert iv == pytest.approx(biv, rel=1e-12)
                checked += 1
    assert checked > 50


def _data(n=20000, seed=0, shape="u"):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    lo = 1.5 * x**2 - 2.5 if shape == "u" else -1.5 + 1.2 * x
    y = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(np.int64)
    return x, y


@pytest.mark.parametrize("trend", ["ascending", "descending", "peak", "valley"])
def test_trend_and_size_constraints_hold(trend):
    x, y = _data(shape="u")
    ob = OptimalBinning("x", monotonic_trend=trend, min_bin_share=0.07, max_n_bins=6).fit(x, y)
    t = ob.table_.iloc[: ob.n_bins_]
    r = t["event_rate"].to_numpy()
    d = np.diff(r)
    if trend == "ascending":
        assert (d > 0).all()
    elif trend == "descending":
        assert (d < 0).all()
    else:
        k = int(np.argmax(r) if trend == "peak" else np.argmin(r))
        sgn = 1 if trend == "peak" else -1
        assert (sgn * d[:k] > 0).all() and (sgn * d[k:] < 0).all()
    assert ob.n_bins_ <= 6
    assert (t["count"] >= 0.07 * len(x)).all()
    assert (t["n_event"] >= 1).all()


def test_auto_finds_u_shape_and_monotone():
    x, y = _data(shape="u")
    assert OptimalBinning("x").fit(x, y).trend_ == "valley"
    x, y = _data(shape="mono")
    assert OptimalBinning("x").fit(x, y).trend_ == "ascending"


def test_min_events_per_bin():
    x, y = _data(n=3000, shape="mono")
    ob = OptimalBinning("x", min_bin_n_event=40, min_bin_share=0.01).fit(x, y)
    assert (ob.table_["n_event"].iloc[: ob.n_bins_] >= 40).all()


def test_missing_and_special_bins_and_their_woe_at_transform():
    x, y = _data(n=5000, shape="mono")
    x = x.copy()
    x[:300] = np.nan
    x[300:500] = -999.0
    y = y.copy()
    y[:300] = 1  # missing rows are all bad -> smoothing kicks in
    ob = OptimalBinning("x", special_values=[-999]).fit(x, y)
    t = ob.table_
    B = ob.n_bins_
    assert t["bin"].iloc[B] == "special -999" and t["bin"].iloc[B + 1] == "missing"
    assert t["count"].iloc[B] == 200 and t["count"].iloc[B + 1] == 300
    G, Bd = (y == 0).sum(), y.sum()
    # special bin: plain WoE by hand
    g, b = (y[300:500] == 0).sum(), y[300:500].sum()
    assert t["woe"].iloc[B] == pytest.approx(np.log((g / G) / (b / Bd)))
    # missing bin: zero non-events -> documented 0.5 smoothing on both counts
    assert t["woe"].iloc[B + 1] == pytest.approx(np.log((0.5 / G) / (300.5 / Bd)))
    w = ob.transform(np.array([np.nan, -999.0, 0.0]))
    assert w[0] == t["woe"].iloc[B + 1] and w[1] == t["woe"].iloc[B]
    assert w[2] == t["woe"].iloc[int(np.searchsorted(ob.splits_, 0.0, side="right"))]
    # totals row sums
    tab = ob.binning_table()
    assert tab["count"].iloc[-1] == 5000 and tab["iv"].iloc[-1] == pytest.approx(ob.iv_)


def test_woe_by_hand_on_german_credit(german_data):
    X, y = german_data
    levels = sorted(X["housing"].unique())
    ob = OptimalBinning("housing", dtype="categorical", user_groups=[[v] for v in levels])
    ob.fit(X["housing"], y)
    G, B = (y == 0).sum(), (y == 1).sum()
    iv = 0.0
    for k, v in enumerate(levels):
        g = ((X["housing"] == v) & (y == 0)).sum()
        b = ((X["housing"] == v) & (y == 1)).sum()
        woe = np.log((g / G) / (b / B))
        iv += (g / G - b / B) * woe
        assert ob.woe_[k] == pytest.approx(woe, rel=1e-12)
    assert ob.iv_ == pytest.approx(iv, rel=1e-12)
    # published value: own housing has 713 applicants, 186 of them bad
    own = ob.table_.set_index("bin").loc["own"]
    assert (own["count"], own["n_event"]) == (713, 186)


def test_categorical_groups_follow_event_rate_and_unseen(german_data):
    X, y = german_data
    ob = OptimalBinning("purpose", dtype="categorical").fit(X["purpose"], y)
    r = ob.table_["event_rate"].iloc[: ob.n_bins_].to_numpy()
    assert (np.diff(r) > 0).all()
    assert sorted(v for g in ob.categories_ for v in g) == sorted(X["purpose"].unique())
    s = pd.Series(["new purpose", X["purpose"].iloc[0], None], dtype="str")
    with pytest.warns(UnseenCategoryWarning, match="new purpose"):
        w = ob.transform(s)
    assert w[0] == 0.0 and w[2] == 0.0  # neutral; missing bin empty at fit -> 0
    ob_m = OptimalBinning("purpose", dtype="categorical", unseen="missing").fit(X["purpose"], y)
    with pytest.warns(UnseenCategoryWarning):
        assert ob_m.transform(s, metric="bins")[0] == "missing"
    ob_e = OptimalBinning("purpose", dtype="categorical", unseen="error").fit(X["purpose"], y)
    with pytest.raises(ValidationError, match="purpose.*not seen at fit"):
        ob_e.transform(s)


def test_manual_bins_are_kept_on_refit(applicants):
    X, y = applicants
    wt = WoETransformer(special_values=[-999]).fit(X, y)
    wt.edit_bins("age", [30, 45, 60]).edit_bins("segment", [["farmer", "trader"]])
    assert wt.manual_bins == {"age": [30, 45, 60], "segment": [["farmer", "trader"]]}
    for seed in (1, 2):  # refit on new data re-applies the edits
        X2, y2 = (X.sample(frac=0.8, random_state=seed), None)
        y2 = y.loc[X2.index]
        wt.fit(X2, y2)
        assert wt.binnings_["age"].splits_.tolist() == [30.0, 45.0, 60.0]
        assert wt.binnings_["age"].trend_ == "manual"
        cats = wt.binnings_["segment"].categories_
        assert cats[0] == ["farmer", "trader"]
        assert sorted(cats[1]) == ["consumer", "micro_enterprise"]
    wt.edit_bins("age", None)
    assert "age" not in wt.manual_bins


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan"))),
        min_size=1,
        max_size=30,
    )
)
def test_transform_never_nan_and_index_matches_splits(values):
    x, y = _data(n=2000, shape="u")
    x = x.copy()
    x[:50] = np.nan
    ob = OptimalBinning("x").fit(x, y)
    v = np.asarray(values)
    w = ob.transform(v)
    assert np.isfinite(w).all()
    idx = ob.transform(v, metric="indices")
    edges = np.r_[-np.inf, ob.splits_, np.inf]
    for xi, k in zip(v, idx, strict=True):
        if np.isnan(xi):
            assert k == ob.n_bins_
        else:
            assert edges[k] <= xi < edges[k + 1]


def test_bad_feature_inputs():
    x, y = _data(n=500)
    with pytest.raises(ValidationError, match="x: infinite value"):
        OptimalBinning("x").fit(np.r_[x[:-1], np.inf], y)
    with pytest.raises(ValidationError, match="const.*constant"):
        OptimalBinning("const").fit(np.ones(500), y)
    with pytest.raises(ValidationError, match="gone.*all missing"):
        OptimalBinning("gone").fit(np.full(500, np.nan), y)
    with pytest.raises(ValidationError, match="binary"):
        OptimalBinning("x").fit(x, np.r_[y[:-1], 2])
    with pytest.raises(ValidationError, match="one class"):
        OptimalBinning("x").fit(x, np.zeros(500))
    with pytest.raises(ValidationError, match="missing"):
        OptimalBinning("x").fit(x, np.r_[y[:-1], np.nan])


def test_woe_transformer_collects_every_bad_feature():
    x, y = _data(n=500)
    X = pd.DataFrame({"good": x, "const": 1.0, "gone": np.nan, "s": "same"})
    with pytest.raises(ValidationError) as ei:
        WoETransformer().fit(X, y)
    cols = {p.column for p in ei.value.problems}
    assert cols == {"const", "gone", "s"}


def test_woe_transformer_misaligned_and_columns():
    x, y = _data(n=500)
    X = pd.DataFrame({"a": x, "b": -x + np.random.default_rng(99).normal(size=500)})
    with pytest.raises(ValidationError, match="misaligned"):
        WoETransformer().fit(X, pd.Series(y, index=np.arange(500) + 1))
    with pytest.raises(ValidationError, match="misaligned"):
        WoETransformer().fit(X, y[:-1])
    wt = WoETransformer().fit(X, y)
    with pytest.raises(ValidationError, match="b: feature used by the model is missing"):
        wt.transform(X[["a"]])
    with pytest.raises(ValidationError, match="c: column not seen at fit"):
        wt.transform(X.assign(c=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(wt.transform(X).to_numpy()).all()


def test_global_special_values_follow_column_type(applicants):
    X, y = applicants
    X = X.assign(segment=X["segment"].where(X.index % 50 != 0, "unknown"))
    wt = WoETransformer(special_values=[-999, "unknown"]).fit(X, y)
    assert wt.binnings_["income"].special_values_ == [-999]
    assert wt.binnings_["segment"].special_values_ == ["unknown"]
    t = wt.binning_table("segment").set_index("bin")
    assert t.loc["special 'unknown'", "count"] == (X["segment"] == "unknown").sum()
