"""OptimalBinning takes optbinning's parameter names and values: the same code runs through
both libraries on the same data and gives the same bins (optbinning is run here, in the test)."""

from __future__ import annotations

import numpy as np
import pytest

from riskkit.scoring import OptimalBinning

optbinning = pytest.importorskip("optbinning")


def _data(shape: str, n: int = 8000, seed: int = 0):
    rng = np.random.default_rng(seed)
    if shape == "log":
        x = rng.lognormal(0, 0.7, n)
        lo = -2 + 0.9 * np.log(x) + 0.4 * np.log(x) ** 2
    else:  # a U: riskier at both ends
        x = rng.normal(size=n)
        lo = 1.2 * x**2 - 2.2
    y = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(int)
    return x, y


CASES = [
    ("log", {"monotonic_trend": "ascending"}),
    ("log", {"monotonic_trend": "auto_asc_desc", "max_n_bins": 4}),
    ("log", {"monotonic_trend": None, "min_bin_size": 0.1}),
    ("u", {"monotonic_trend": "valley"}),
    ("u", {"monotonic_trend": "valley", "min_n_bins": 6, "max_bin_size": 0.3}),
    ("u", {"monotonic_trend": "descending", "min_event_rate_diff": 0.02}),
    ("u", {"monotonic_trend": None, "max_n_prebins": 10, "split_digits": 2}),
]


@pytest.mark.parametrize(("shape", "kwargs"), CASES, ids=lambda v: str(v))
def test_same_code_same_bins_as_optbinning(shape, kwargs):
    x, y = _data(shape)
    # optbinning's own parameter names and values, passed unchanged to both
    params = {
        "name": "x",
        "dtype": "numerical",
        "prebinning_method": "cart",
        "solver": "cp",
        "max_n_prebins": 20,
        "min_prebin_size": 0.05,
        "min_bin_size": 0.05,  # riskkit's default; optbinning's is None (no minimum)
        **kwargs,
    }
    theirs = optbinning.OptimalBinning(**params).fit(x, y)
    ours = OptimalBinning(**params).fit(x, y)
    assert theirs.status == ours.status == "OPTIMAL"
    np.testing.assert_allclose(ours.splits, theirs.splits, rtol=0, atol=1e-12)
    assert len(ours.splits) > 0
    iv_theirs = float(theirs.binning_table.build().loc["Totals", "IV"])
    assert ours.iv_ == pytest.approx(iv_theirs, rel=1e-9)
    np.testing.assert_allclose(
        ours.transform(x, metric="woe"), theirs.transform(x, metric="woe"), rtol=1e-9
    )
    np.testing.assert_allclose(
        ours.transform(x, metric="event_rate"), theirs.transform(x, metric="event_rate")
    )


def test_user_splits_are_prebins_and_fixed_splits_stay():
    x, y = _data("u")
    pre = np.round(np.quantile(x, np.linspace(0.05, 0.95, 19)), 3)
    fixed = [i == 9 for i in range(len(pre))]  # keep the median split whatever the optimum
    params = {
        "user_splits": pre,
        "user_splits_fixed": fixed,
        "monotonic_trend": "valley",
        "min_bin_size": 0.03,
    }
    theirs = optbinning.OptimalBinning(name="x", **params).fit(x, y)
    ours = OptimalBinning(name="x", **params).fit(x, y)
    np.testing.assert_allclose(ours.splits, theirs.splits)
    assert pre[9] in ours.splits
    manual = OptimalBinning(name="x", user_splits=[-1.0, 1.0], user_splits_fixed=[True, True])
    assert manual.fit(x, y).splits.tolist() == [-1.0, 1.0] and manual.trend_ == "manual"


def test_riskkit_names_stay_aliases_and_unsupported_options_are_named():
    x, y = _data("log")
    a = OptimalBinning("x", n_prebins=10, min_bin_share=0.1, special_values=[-999]).fit(x, y)
    b = OptimalBinning("x", max_n_prebins=10, min_bin_size=0.1, special_codes=[-999]).fit(x, y)
    np.testing.assert_array_equal(a.splits, b.splits)
    assert a.special_values_ == b.special_values_ == [-999]
    assert OptimalBinning("x", dtype="numeric").fit(x, y).splits.tolist() == (
        OptimalBinning("x").fit(x, y).splits.tolist()
    )
    with pytest.raises(ValueError, match="'concave'/'convex' are not"):
        OptimalBinning("x", monotonic_trend="concave").fit(x, y)
    with pytest.raises(ValueError, match="max_pvalue=0.05 .* not implemented"):
        OptimalBinning("x", max_pvalue=0.05).fit(x, y)
    with pytest.raises(ValueError, match="divergence 'js'"):
        OptimalBinning("x", divergence="js").fit(x, y)
