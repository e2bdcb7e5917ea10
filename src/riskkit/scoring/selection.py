"""Feature selection on WoE-transformed features: IV, correlation, VIF and stepwise.

Each function takes the WoE matrix (a DataFrame) and returns the kept feature names plus a
log of ``(feature, step, reason)`` for the ones dropped, so the analyst sees why.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> a = rng.normal(size=500)
>>> W = pd.DataFrame({"a": a, "b": a + 0.01 * rng.normal(size=500), "c": rng.normal(size=500)})
>>> keep, log = select_by_correlation(W, {"a": 0.5, "b": 0.4, "c": 0.1}, max_corr=0.9)
>>> keep, log[0][:2]
(['a', 'c'], ('b', 'correlation'))
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def select_by_iv(iv: dict, min_iv=None, max_iv=None):
    """Keep features with ``min_iv <= IV <= max_iv`` (IV above ``max_iv`` is suspicious)."""
    keep, log = [], []
    for f, v in iv.items():
        if min_iv is not None and v < min_iv:
            log.append((f, "iv", f"IV {v:.4f} < min_iv {min_iv}"))
        elif max_iv is not None and v > max_iv:
            log.append((f, "iv", f"IV {v:.4f} > max_iv {max_iv} (suspiciously predictive)"))
        else:
            keep.append(f)
    return keep, log


def select_by_correlation(W: pd.DataFrame, iv: dict, max_corr: float):
    """Greedy by IV: keep a feature unless |Pearson corr| with an already kept one > max_corr."""
    order = sorted(W.columns, key=lambda f: -iv[f])
    C = np.corrcoef(W[order].to_numpy(dtype=float), rowvar=False)
    C = np.atleast_2d(C)
    kept_idx: list[int] = []
    log = []
    for i, f in enumerate(order):
        if kept_idx:
            c = np.abs(C[i, kept_idx])
            j = int(np.argmax(c))
            if c[j] > max_corr:
                other = order[kept_idx[j]]
                log.append((f, "correlation", f"|corr| {c[j]:.3f} with {other} > {max_corr}"))
                continue
        kept_idx.append(i)
    kept = {order[i] for i in kept_idx}
    return [f for f in W.columns if f in kept], log


def vif(W: pd.DataFrame) -> pd.Series:
    """Variance inflation factors: the diagonal of the inverse correlation matrix.

    ``VIF_j = 1 / (1 - R_j^2)`` where ``R_j^2`` is from regressing feature j on the others
    (with intercept); the two are identical (checked in the tests).
    """
    X = W.to_numpy(dtype=float)
    C = np.atleast_2d(np.corrcoef(X, rowvar=False))
    return pd.Series(np.diag(np.linalg.pinv(C)), index=W.columns, name="vif")


def select_by_vif(W: pd.DataFrame, max_vif: float):
    """Drop the feature with the highest VIF until every VIF <= max_vif."""
    cols = list(W.columns)
    log = []
    while len(cols) > 1:
        v = vif(W[cols])
        worst = v.idxmax()
        if v[worst] <= max_vif:
            break
        log.append((worst, "vif", f"VIF {v[worst]:.2f} > max_vif {max_vif}"))
        cols.remove(worst)
    return cols, log


def logit_fit(y, X):
    """statsmodels Logit of ``y`` on ``X`` plus an intercept (Newton, warnings silenced)."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.Logit(y, sm.add_constant(X, has_constant="add"), check_rank=False)
        return model.fit(disp=0, method="newton")


def stepwise(
    W: pd.DataFrame,
    y,
    direction: str = "forward",
    criterion: str = "pvalue",
    p_enter: float = 0.05,
    p_remove: float = 0.05,
    max_features=None,
):
    """Stepwise logistic regression (statsmodels Logit) on the WoE features.

    ``direction="forward"``: add the feature with the smallest p-value (``criterion="pvalue"``,
    while < ``p_enter``) or the largest AIC decrease (``criterion="aic"``, while AIC falls).
    ``direction="backward"``: start with all and drop the largest p-value (while > ``p_remove``)
    or the feature whose removal lowers AIC most (while AIC falls).
    """
    if direction not in ("forward", "backward"):
        raise ValueError(f"direction must be forward/backward, got {direction!r}")
    if criterion not in ("pvalue", "aic"):
        raise ValueError(f"criterion must be pvalue/aic, got {criterion!r}")
    y = np.asarray(y, dtype=float)
    if direction == "forward":
        return _forward(W, y, criterion, p_enter, max_features)
    return _backward(W, y, criterion, p_remove, max_features)


def _best_entry(W: pd.DataFrame, y, chosen: list[str], criterion: str):
    """The feature whose entry gives the smallest p-value or AIC: ``(key, feature, aic)``."""
    best = None
    for f in W.columns:
        if f in chosen:
            continue
        r = logit_fit(y, W[[*chosen, f]].to_numpy(dtype=float))
        key = r.pvalues[-1] if criterion == "pvalue" else r.aic
        if best is None or key < best[0]:
            best = (key, f, r.aic)
    return best


def _forward(W: pd.DataFrame, y, criterion: str, p_enter: float, max_features):
    """Forward selection: enter the best feature while it passes ``criterion``."""
    cols = list(W.columns)
    chosen: list[str] = []
    current_aic = logit_fit(y, np.empty((len(y), 0))).aic
    while len(chosen) < len(cols) and (max_features is None or len(chosen) < max_features):
        best = _best_entry(W, y, chosen, criterion)
        if criterion == "pvalue" and best[0] >= p_enter:
            break
        if criterion == "aic" and best[2] >= current_aic:
            break
        chosen.append(best[1])
        current_aic = best[2]
    log = [(f, "stepwise", f"not entered (forward, {criterion})") for f in cols if f not in chosen]
    return chosen, log


def _removal_by_pvalue(r, chosen: list[str], p_remove: float):
    """The feature with the largest p-value above ``p_remove``: ``(feature, reason)`` or None."""
    p = np.asarray(r.pvalues)[1:]
    j = int(np.argmax(p))
    if p[j] <= p_remove:
        return None
    return chosen[j], f"p-value {p[j]:.4f} > {p_remove} (backward)"


def _removal_by_aic(W: pd.DataFrame, y, r, chosen: list[str]):
    """The feature whose removal lowers AIC most: ``(feature, reason)``, None if none does."""
    trials = []
    for f in chosen:
        rest = [c for c in chosen if c != f]
        trials.append((logit_fit(y, W[rest].to_numpy(dtype=float)).aic, f))
    aic, f = min(trials)
    if aic >= r.aic:
        return None
    return f, f"AIC {r.aic:.2f} -> {aic:.2f} without it (backward)"


def _backward(W: pd.DataFrame, y, criterion: str, p_remove: float, max_features):
    """Backward elimination from all features, then down to ``max_features`` by p-value."""
    chosen = list(W.columns)
    log = []
    r = logit_fit(y, W[chosen].to_numpy(dtype=float))
    while len(chosen) > 1:
        if criterion == "pvalue":
            out = _removal_by_pvalue(r, chosen, p_remove)
        else:
            out = _removal_by_aic(W, y, r, chosen)
        if out is None:
            break
        log.append((out[0], "stepwise", out[1]))
        chosen.remove(out[0])
        r = logit_fit(y, W[chosen].to_numpy(dtype=float))
    while max_features is not None and len(chosen) > max_features:
        p = np.asarray(r.pvalues)[1:]
        j = int(np.argmax(p))
        log.append((chosen[j], "stepwise", f"max_features {max_features}"))
        chosen.pop(j)
        r = logit_fit(y, W[chosen].to_numpy(dtype=float))
    return chosen, log
