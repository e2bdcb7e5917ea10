"""Notebook plots for scorecards (matplotlib). Every function returns a Figure; none shows it.

Examples
--------
>>> import numpy as np
>>> from riskkit.scoring.plots import plot_roc_ks
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 200); p = np.clip(0.3 * y + rng.random(200) * 0.7, 0, 1)
>>> fig = plot_roc_ks(y, p)
>>> len(fig.axes)
2
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from .metrics import auc, calibration_curve, ks


def plot_bins(binning, title: str | None = None) -> Figure:
    """Bars of event rate per bin (missing/special included) with the WoE as a line."""
    t = binning.table_
    fig = Figure(figsize=(max(6, 0.7 * len(t)), 4))
    ax = fig.add_subplot(111)
    x = np.arange(len(t))
    colors = ["tab:blue"] * binning.n_bins_ + ["tab:gray"] * (len(t) - binning.n_bins_)
    ax.bar(x, t["event_rate"].fillna(0).to_numpy(), color=colors, alpha=0.8)
    ax.set_ylabel("event (bad) rate")
    ax.set_xticks(x, t["bin"].tolist(), rotation=45, ha="right", fontsize=8)
    ax2 = ax.twinx()
    ax2.plot(x, t["woe"].to_numpy(), "o-", color="tab:red")
    ax2.set_ylabel("WoE", color="tab:red")
    ax.set_title(title or f"{binning.name}: IV {binning.iv_:.3f} ({binning.trend_})")
    fig.tight_layout()
    return fig


def plot_score_distribution(score, y, bins: int = 40) -> Figure:
    """Histograms of the credit score for goods and bads."""
    s, yv = np.asarray(score, dtype=float), np.asarray(y)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot(111)
    edges = np.histogram_bin_edges(s, bins=bins)
    ax.hist(s[yv == 0], bins=edges, alpha=0.6, density=True, label="good", color="tab:green")
    ax.hist(s[yv == 1], bins=edges, alpha=0.6, density=True, label="bad", color="tab:red")
    ax.set_xlabel("score")
    ax.set_ylabel("density")
    ax.legend()
    ax.set_title("Score distribution: good vs bad")
    fig.tight_layout()
    return fig


def plot_roc_ks(y, pd_) -> Figure:
    """ROC curve (with AUC/Gini) and the KS plot of cumulative bad/good shares."""
    yv, p = np.asarray(y), np.asarray(pd_, dtype=float)
    fpr, tpr, _ = roc_curve(yv, p)
    a = auc(yv, p)
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.add_subplot(121), fig.add_subplot(122)
    ax1.plot(fpr, tpr, label=f"AUC {a:.3f}, Gini {2 * a - 1:.3f}")
    ax1.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax1.set_xlabel("false positive rate (goods)")
    ax1.set_ylabel("true positive rate (bads)")
    ax1.legend(loc="lower right")
    ax1.set_title("ROC")
    order = np.argsort(-p, kind="stable")
    ys = yv[order]
    share = np.arange(1, len(ys) + 1) / len(ys)
    cb, cg = np.cumsum(ys) / ys.sum(), np.cumsum(1 - ys) / (1 - ys).sum()
    ax2.plot(share, cb, label="bads")
    ax2.plot(share, cg, label="goods")
    k = int(np.argmax(cb - cg))
    ax2.vlines(share[k], cg[k], cb[k], colors="k", linestyles=":", label=f"KS {ks(yv, p):.3f}")
    ax2.set_xlabel("share of population (riskiest first)")
    ax2.set_ylabel("cumulative share")
    ax2.legend(loc="lower right")
    ax2.set_title("KS")
    fig.tight_layout()
    return fig


def plot_calibration(y, pd_, n_bins: int = 10, strategy: str = "quantile") -> Figure:
    """Observed default rate vs mean PD per bin, with the diagonal."""
    c = calibration_curve(y, pd_, n_bins=n_bins, strategy=strategy)
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot(111)
    hi = float(max(c["pd_mean"].max(), c["default_rate"].max())) * 1.05
    ax.plot([0, hi], [0, hi], "k--", lw=0.8)
    ax.plot(c["pd_mean"], c["default_rate"], "o-")
    ax.set_xlabel("mean predicted PD")
    ax.set_ylabel("observed default rate")
    ax.set_title("Calibration")
    fig.tight_layout()
    return fig
