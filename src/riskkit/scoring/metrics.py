"""Validation metrics for scorecards and PD models.

Conventions: ``y`` is 1 for bad. ``score`` arguments are *risk-ordered* by ``higher_is_bad``:
pass PDs or log-odds as they are, and credit scores (higher = better) with
``higher_is_bad=False``.

Examples
--------
>>> import numpy as np
>>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.4, 0.35, 0.8])
>>> auc(y, p), gini(y, p), ks(y, p)
(0.75, 0.5, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

PSI_EPS = 1e-4  # share used for a bin empty in one sample (documented smoothing)


def _risk(score, higher_is_bad: bool) -> np.ndarray:
    s = np.asarray(score, dtype=float)
    if np.isnan(s).any():
        raise ValueError("score contains NaN")
    return s if higher_is_bad else -s


def _y(y) -> np.ndarray:
    v = np.asarray(y, dtype=float)
    if not np.isin(v, (0.0, 1.0)).all():
        raise ValueError("y must be binary 0/1 (1 = bad)")
    return v


def auc(y, score, higher_is_bad: bool = True) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half."""
    yv, s = _y(y), _risk(score, higher_is_bad)
    r = stats.rankdata(s)
    n1 = yv.sum()
    n0 = len(yv) - n1
    if n1 == 0 or n0 == 0:
        raise ValueError(f"AUC needs both classes in y: got {int(n1)} bad and {int(n0)} good rows")
    return float((r[yv == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def gini(y, score, higher_is_bad: bool = True) -> float:
    """Gini (accuracy ratio) = 2 AUC - 1."""
    return 2.0 * auc(y, score, higher_is_bad) - 1.0


def ks(y, score, higher_is_bad: bool = True) -> float:
    """Kolmogorov-Smirnov: max distance between the score CDFs of bads and goods."""
    yv, s = _y(y), _risk(score, higher_is_bad)
    grid = np.unique(s)
    fb = np.searchsorted(np.sort(s[yv == 1]), grid, side="right") / (yv == 1).sum()
    fg = np.searchsorted(np.sort(s[yv == 0]), grid, side="right") / (yv == 0).sum()
    return float(np.max(np.abs(fb - fg)))


def gains_table(y, score, n_bands: int = 10, higher_is_bad: bool = True) -> pd.DataFrame:
    """Gains/lift by band of equal size, riskiest band first.

    Columns: band, n, n_bad, bad_rate, score_min, score_max, cum_bad_share (capture rate),
    cum_good_share, ks (cumulative bad share - good share), lift, cum_lift.
    """
    yv = _y(y)
    raw = np.asarray(score, dtype=float)
    s = _risk(raw, higher_is_bad)
    order = np.argsort(-s, kind="stable")
    band = np.empty(len(s), dtype=np.int64)
    band[order] = (np.arange(len(s)) * n_bands) // len(s)
    n = np.bincount(band, minlength=n_bands)
    nb = np.bincount(band, weights=yv, minlength=n_bands)
    df = pd.DataFrame(
        {
            "band": np.arange(1, n_bands + 1),
            "n": n,
            "n_bad": nb.astype(np.int64),
            "bad_rate": nb / np.maximum(n, 1),
            "score_min": pd.Series(raw).groupby(band).min().reindex(range(n_bands)).to_numpy(),
            "score_max": pd.Series(raw).groupby(band).max().reindex(range(n_bands)).to_numpy(),
        }
    )
    tb, tg = yv.sum(), len(yv) - yv.sum()
    df["cum_bad_share"] = np.cumsum(nb) / tb
    df["cum_good_share"] = np.cumsum(n - nb) / tg
    df["ks"] = df["cum_bad_share"] - df["cum_good_share"]
    overall = tb / len(yv)
    df["lift"] = df["bad_rate"] / overall
    df["cum_lift"] = (np.cumsum(nb) / np.cumsum(n)) / overall
    return df


# ----------------------------------------------------------------------------- stability


def _psi_edges(expected, bins):
    e = np.asarray(expected, dtype=float)
    e = e[~np.isnan(e)]
    if np.ndim(bins) == 0:
        q = np.quantile(e, np.linspace(0, 1, int(bins) + 1)[1:-1])
        return np.unique(q)
    return np.asarray(bins, dtype=float)


def _shares(v, edges):
    v = np.asarray(v, dtype=float)
    idx = np.where(np.isnan(v), len(edges) + 1, np.searchsorted(edges, v, side="right"))
    return np.bincount(idx, minlength=len(edges) + 2) / len(v)


def psi_from_shares(e, a) -> float:
    """PSI = sum (a - e) ln(a / e); an empty bin gets share ``PSI_EPS``."""
    e = np.where(np.asarray(e) == 0, PSI_EPS, e)
    a = np.where(np.asarray(a) == 0, PSI_EPS, a)
    both_empty = (np.asarray(e) == PSI_EPS) & (np.asarray(a) == PSI_EPS)
    terms = np.where(both_empty, 0.0, (a - e) * np.log(a / e))
    return float(terms.sum())


def psi(expected, actual, bins=10) -> float:
    """Population stability index of ``actual`` against ``expected``.

    ``bins``: number of quantile bins of ``expected`` or explicit edges. Missing values form
    their own bin. Rule of thumb (policy ``scorecard.stability``, see :func:`psi_status`):
    < 0.10 stable, 0.10-0.25 monitor, > 0.25 shifted.
    """
    edges = _psi_edges(expected, bins)
    return psi_from_shares(_shares(expected, edges), _shares(actual, edges))


def psi_status(values, policy=None) -> np.ndarray:
    """Stability status of PSI/CSI ``values``: "stable" below the policy's ``psi_monitor``
    (default 0.10), "shifted" above ``psi_shifted`` (default 0.25), "monitor" in between.

    ``policy``: path, mapping or Policy overriding ``scorecard.stability``.

    Examples
    --------
    >>> psi_status([0.02, 0.10, 0.25, 0.4]).tolist()
    ['stable', 'monitor', 'monitor', 'shifted']
    """
    from riskkit.policy import load_policy

    st = load_policy(policy)["scorecard"]["stability"]
    v = np.asarray(values, dtype=float)
    if np.isnan(v).any():
        raise ValueError("PSI values contain NaN; a stability status needs a number")
    out = np.where(v < st["psi_monitor"], "stable", "monitor")
    return np.where(v > st["psi_shifted"], "shifted", out).astype(object)


def _binning_of(model):
    """The fitted WoETransformer of a Scorecard (``binning_``) or the transformer itself, and
    the default features: the scorecard's model features or the transformer's selection."""
    if hasattr(model, "binning_") and hasattr(model, "features_"):
        return model.binning_, list(model.features_)
    if hasattr(model, "binnings_"):
        return model, list(model.selected_)
    raise TypeError(f"need a fitted Scorecard or WoETransformer, got {type(model).__name__}")


def csi(model, X_expected, X_actual, features=None) -> pd.Series:
    """Characteristic stability index per feature over its fitted bins.

    ``model``: a fitted :class:`~riskkit.scoring.Scorecard` (also one read from JSON) or
    :class:`~riskkit.scoring.WoETransformer`. ``features`` default to the scorecard's model
    features or the transformer's selected features; the samples need those columns only.
    Each feature's bins include its special, missing and unseen slots.
    """
    tr, default = _binning_of(model)
    feats = list(features) if features is not None else default
    Ie = tr.transform(X_expected, metric="indices", features=feats)
    Ia = tr.transform(X_actual, metric="indices", features=feats)
    out = {}
    for f in feats:
        K = tr.binnings_[f].n_all_bins_ + 1
        e = np.bincount(Ie[f], minlength=K) / len(Ie)
        a = np.bincount(Ia[f], minlength=K) / len(Ia)
        out[f] = psi_from_shares(e, a)
    return pd.Series(out, name="csi").sort_values(ascending=False)


def psi_by_period(
    df: pd.DataFrame, period_col: str, value_col: str, reference=None, bins=10, policy=None
) -> pd.DataFrame:
    """PSI of ``value_col`` in each period against a reference period (default: the first).

    ``reference`` may be a period label or an array of reference values. Returns period, n,
    psi and status (stable / monitor / shifted, thresholds from ``policy``, see
    :func:`psi_status`).
    """
    for c in (period_col, value_col):
        if c not in df.columns:
            raise KeyError(f"column {c!r} not in df; columns: {list(df.columns)}")
    periods = sorted(df[period_col].dropna().unique())
    if reference is None:
        reference = periods[0]
    if np.ndim(reference) == 0:
        ref = df.loc[df[period_col] == reference, value_col].to_numpy(dtype=float)
        if ref.size == 0:
            raise ValueError(f"reference period {reference!r} has no rows")
    else:
        ref = np.asarray(reference, dtype=float)
    edges = _psi_edges(ref, bins)
    e = _shares(ref, edges)
    rows = []
    for p, g in df.groupby(period_col, sort=True):
        v = psi_from_shares(e, _shares(g[value_col].to_numpy(dtype=float), edges))
        rows.append({period_col: p, "n": len(g), "psi": v})
    out = pd.DataFrame(rows, columns=[period_col, "n", "psi"])
    out["status"] = psi_status(out["psi"], policy)
    return out


# ----------------------------------------------------------------------------- calibration


def brier(y, pd_) -> float:
    """Brier score: mean squared error of the PDs."""
    yv, p = _y(y), np.asarray(pd_, dtype=float)
    return float(np.mean((p - yv) ** 2))


def hosmer_lemeshow(y, pd_, n_groups: int = 10) -> dict:
    """Hosmer-Lemeshow test over ``n_groups`` equal-size groups of sorted PD.

    ``H = sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))``, chi-square with ``g - 2`` df.
    """
    yv, p = _y(y), np.asarray(pd_, dtype=float)
    order = np.argsort(p, kind="stable")
    g = np.empty(len(p), dtype=np.int64)
    g[order] = (np.arange(len(p)) * n_groups) // len(p)
    n = np.bincount(g, minlength=n_groups)
    o = np.bincount(g, weights=yv, minlength=n_groups)
    e = np.bincount(g, weights=p, minlength=n_groups)
    degenerate = (n == 0) | (e <= 0) | (e >= n)
    if len(p) < n_groups or degenerate.any():
        raise ValueError(
            f"Hosmer-Lemeshow needs {n_groups} groups each with 0 < expected defaults < rows; "
            f"{int(degenerate.sum())} group(s) are empty or have PD 0 or 1 throughout "
            f"({len(p)} rows): use fewer groups or check the PDs"
        )
    h = float(np.sum((o - e) ** 2 / (e * (1 - e / n))))
    dof = n_groups - 2
    return {"statistic": h, "df": dof, "p_value": float(stats.chi2.sf(h, dof))}


def binomial_test(n, defaults, pd_) -> np.ndarray:
    """One-sided binomial p-value that the PD is not underestimated: ``P(D >= d | n, PD)``."""
    n, d, p = np.asarray(n), np.asarray(defaults), np.asarray(pd_, dtype=float)
    return stats.binom.sf(d - 1, n, p)


def jeffreys_test(n, defaults, pd_) -> np.ndarray:
    """Jeffreys test (ECB): p-value = CDF at PD of Beta(d + 1/2, n - d + 1/2).

    A small p-value means the observed default rate is high for the PD (PD underestimated).
    """
    n, d, p = np.asarray(n), np.asarray(defaults), np.asarray(pd_, dtype=float)
    return stats.beta.cdf(p, d + 0.5, n - d + 0.5)


def binomial_two_sided_test(n, defaults, pd_) -> np.ndarray:
    """Two-sided exact binomial p-value of ``defaults`` out of ``n`` against the PD (both
    over- and under-prediction), as :func:`scipy.stats.binomtest` (``alternative="two-sided"``).

    Examples
    --------
    >>> binomial_two_sided_test([100], [2], [0.10]).round(4).tolist()
    [0.0039]
    """
    n, d, p = (np.atleast_1d(np.asarray(v)) for v in (n, defaults, pd_))
    out = [
        stats.binomtest(int(k), int(m), float(q)).pvalue for k, m, q in zip(d, n, p, strict=True)
    ]
    return np.asarray(out, dtype=float)  # a loop over grades (ten or so), not loans


#: What each p-value of :func:`grade_tests` checks (for report text).
GRADE_TEST_DIRECTIONS = {
    "binomial_p": "one-sided: is the bad rate above the PD (PD too low)?",
    "jeffreys_p": "one-sided: is the bad rate above the PD (PD too low)?",
    "binomial_two_sided_p": "two-sided: is the bad rate different from the PD, above or below?",
}


def grade_tests(grades, y, pd_, alpha: float = 0.05) -> pd.DataFrame:
    """Per rating grade: n, defaults, observed default rate, mean PD and the calibration tests.

    ``binomial_p`` and ``jeffreys_p`` are one-sided (a small p-value: more bads than the PD
    predicts, the PD is too low); ``binomial_two_sided_p`` also flags a PD that is too high
    (:data:`GRADE_TEST_DIRECTIONS`). ``direction`` says which way the grade errs (``PD too
    low`` / ``PD too high``). ``rejected``: a one-sided test rejects at ``alpha``;
    ``rejected_two_sided``: the two-sided test does; ``rejected_holm``: still rejected after
    Holm's adjustment for testing every grade (on the smallest of the three p-values).

    Examples
    --------
    >>> g = grade_tests(["A"] * 100, [1] * 2 + [0] * 98, [0.10] * 100)
    >>> g[["grade", "defaults", "direction", "rejected", "rejected_two_sided"]].values.tolist()
    [['A', 2, 'PD too high', False, True]]
    """
    df = pd.DataFrame({"grade": np.asarray(grades), "y": _y(y), "pd": np.asarray(pd_, float)})
    g = df.groupby("grade", sort=True).agg(
        n=("y", "size"), defaults=("y", "sum"), pd_mean=("pd", "mean")
    )
    g["defaults"] = g["defaults"].astype(np.int64)
    g["default_rate"] = g["defaults"] / g["n"]
    g["direction"] = np.where(g["default_rate"] > g["pd_mean"], "PD too low", "PD too high")
    g["binomial_p"] = binomial_test(g["n"], g["defaults"], g["pd_mean"])
    g["jeffreys_p"] = jeffreys_test(g["n"], g["defaults"], g["pd_mean"])
    g["binomial_two_sided_p"] = binomial_two_sided_test(g["n"], g["defaults"], g["pd_mean"])
    g["rejected"] = (g["binomial_p"] < alpha) | (g["jeffreys_p"] < alpha)
    g["rejected_two_sided"] = g["binomial_two_sided_p"] < alpha
    smallest = np.minimum(np.minimum(g["binomial_p"], g["jeffreys_p"]), g["binomial_two_sided_p"])
    g["rejected_holm"] = holm(smallest, alpha)
    return g.reset_index()


def calibration_curve(y, pd_, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Mean predicted PD vs observed default rate per bin (non-empty bins only).

    Same binning as :func:`sklearn.calibration.calibration_curve` (``uniform`` or
    ``quantile``), plus the count per bin.
    """
    yv, p = _y(y), np.asarray(pd_, dtype=float)
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError("strategy must be 'quantile' or 'uniform'")
    idx = np.searchsorted(edges[1:-1], p)
    n = np.bincount(idx, minlength=len(edges))
    keep = n > 0
    mean_p = np.bincount(idx, weights=p, minlength=len(edges))[keep] / n[keep]
    obs = np.bincount(idx, weights=yv, minlength=len(edges))[keep] / n[keep]
    return pd.DataFrame({"pd_mean": mean_p, "default_rate": obs, "n": n[keep]})


def csi_by_period(model, df: pd.DataFrame, period_col: str, reference=None, features=None):
    """CSI of every model feature in each period against a reference period.

    ``model`` as in :func:`csi` (a Scorecard, also one read from JSON, or a WoETransformer);
    ``reference`` is a period label (default: the first period) or a DataFrame of reference
    rows. Columns of ``df`` the model does not use (ids, the target) are ignored. Returns a
    period x feature table.
    """
    if period_col not in df.columns:
        raise KeyError(f"column {period_col!r} not in df")
    _, default = _binning_of(model)
    feats = list(features) if features is not None else default
    missing = [f for f in feats if f not in df.columns]
    if missing:
        raise KeyError(f"df lacks the model features {missing}")
    X = df[feats]
    periods = sorted(df[period_col].dropna().unique())
    if reference is None:
        reference = periods[0]
    ref = (
        reference[feats] if isinstance(reference, pd.DataFrame) else X[df[period_col] == reference]
    )
    if len(ref) == 0:
        raise ValueError(f"reference period {reference!r} has no rows")
    rows = {p: csi(model, ref, X[df[period_col] == p], feats) for p in periods}
    out = pd.DataFrame(rows).T
    out.index.name = period_col
    return out


# ----------------------------------------------------------------------------- uncertainty


def _delong_components(y, s):
    """DeLong's structural components (V10 for bads, V01 for goods) of the AUC of ``s``."""
    yv = _y(y)
    pos, neg = s[yv == 1], s[yv == 0]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        raise ValueError("AUC needs both classes in y")
    r_all = stats.rankdata(np.r_[pos, neg])
    r_pos, r_neg = stats.rankdata(pos), stats.rankdata(neg)
    v10 = (r_all[:m] - r_pos) / n  # share of goods each bad outranks (ties half)
    v01 = 1.0 - (r_all[m:] - r_neg) / m  # share of bads that outrank each good
    return v10, v01


def auc_ci(y, score, higher_is_bad: bool = True, alpha: float = 0.05) -> dict:
    """AUC with DeLong's variance and a normal ``1 - alpha`` confidence interval.

    Examples
    --------
    >>> r = auc_ci([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.7])
    >>> round(r["auc"], 4), round(r["se"], 4)
    (0.8889, 0.1571)
    """
    s = _risk(score, higher_is_bad)
    v10, v01 = _delong_components(y, s)
    a = float(v10.mean())
    var = v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01)
    se = float(np.sqrt(var))
    z = stats.norm.ppf(1 - alpha / 2)
    return {
        "auc": a,
        "se": se,
        "lower": float(max(a - z * se, 0.0)),
        "upper": float(min(a + z * se, 1.0)),
    }


def delong_test(y, score_a, score_b, higher_is_bad: bool = True, alpha: float = 0.05) -> dict:
    """DeLong's test of two correlated AUCs on the same rows: ``auc_a - auc_b``, its CI and the
    two-sided p-value."""
    sa, sb = _risk(score_a, higher_is_bad), _risk(score_b, higher_is_bad)
    a10, a01 = _delong_components(y, sa)
    b10, b01 = _delong_components(y, sb)
    diff = float(a10.mean() - b10.mean())
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / len(a10)
    var += (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / len(a01)
    se = float(np.sqrt(max(var, 0.0)))
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else float(diff == 0) or 0.0
    return {"auc_a": float(a10.mean()), "auc_b": float(b10.mean()), "difference": diff,
            "se": se, "lower": float(diff - z * se), "upper": float(diff + z * se),
            "p_value": p}  # fmt: skip


def ks_ci(y, score, higher_is_bad: bool = True, alpha: float = 0.05, n_boot: int = 200, seed=0):
    """KS with a bootstrap percentile ``1 - alpha`` interval (``n_boot`` resamples of the rows,
    stratified by class, seeded)."""
    yv, s = _y(y), _risk(score, higher_is_bad)
    rng = np.random.default_rng(seed)
    bad, good = np.flatnonzero(yv == 1), np.flatnonzero(yv == 0)
    reps = np.empty(n_boot)
    for b in range(n_boot):  # a loop over resamples, each vectorised
        idx = np.r_[rng.choice(bad, len(bad)), rng.choice(good, len(good))]
        reps[b] = ks(yv[idx], s[idx])
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    return {"ks": ks(yv, s), "lower": float(lo), "upper": float(hi)}


def holm(p_values, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down adjustment: which of ``p_values`` are rejected at family-wise
    ``alpha`` (testing every grade at 5% rejects one in twenty by chance)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    k = len(p)
    thresholds = alpha / (k - np.arange(k))
    passed = p[order] <= thresholds
    first_fail = int(np.argmin(passed)) if not passed.all() else k
    out = np.zeros(k, dtype=bool)
    out[order[:first_fail]] = True
    return out
