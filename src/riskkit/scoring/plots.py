"""Plots of the scoring domain (matplotlib): bins, score distributions, ROC/KS, calibration,
stability by period. Every function returns a :class:`~matplotlib.figure.Figure` without
pyplot state; none shows it. ``lang="zh"`` labels in Chinese where a CJK font is installed.

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
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from ..formatting import threshold_text
from ..plotting import figure_language, new_figure
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


def plot_score_distribution(
    score,
    y,
    bins: int = 40,
    *,
    title: str | None = None,
    lang: str = "en",
    figsize: tuple[float, float] = (7, 4),
) -> Figure:
    """Overlaid density histograms of the credit score for goods (``y == 0``) and bads."""
    zh = figure_language(lang) == "zh"
    s, yv = np.asarray(score, dtype=float), np.asarray(y)
    fig, ax = new_figure(*figsize)
    edges = _score_edges(s, bins)
    for value, en, cn, color in ((0, "good", "好", "tab:green"), (1, "bad", "坏", "tab:red")):
        ax.hist(s[yv == value], bins=edges, alpha=0.6, density=True, label=cn if zh else en,
                color=color)  # fmt: skip
    ax.set_xlabel("评分" if zh else "score")
    ax.set_ylabel("密度" if zh else "density")
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(title or "Score distribution: good vs bad")
    fig.tight_layout()
    return fig


def _score_edges(s: np.ndarray, bins: int) -> list[float]:
    """``bins`` equal bins; for whole-number scores, bins of a whole number of points centred
    on integers (equal bins over integers otherwise hold 2 or 3 values in turn: a comb)."""
    if not len(s) or not np.all(s == np.round(s)):
        return np.histogram_bin_edges(s, bins=bins).tolist()
    step = max(1, int(np.ceil((s.max() - s.min() + 1) / bins)))
    return (np.arange(s.min() - 0.5, s.max() + step, step)).tolist()


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


def plot_calibration(y, pd_, n_bins: int = 10, strategy: str = "quantile", **kwargs) -> Figure:
    """Observed default rate vs mean PD per bin, with the diagonal (the curve of
    :func:`~riskkit.scoring.metrics.calibration_curve`, drawn by :func:`plot_calibration_curve`;
    ``kwargs`` go there)."""
    return plot_calibration_curve(
        calibration_curve(y, pd_, n_bins=n_bins, strategy=strategy), **kwargs
    )


def plot_calibration_curve(
    curve: pd.DataFrame,
    *,
    title: str | None = None,
    lang: str = "en",
    figsize: tuple[float, float] = (5, 5),
) -> Figure:
    """A calibration curve (``pd_mean`` against ``default_rate`` per bin, as
    :func:`~riskkit.scoring.metrics.calibration_curve` gives it) with the diagonal."""
    zh = figure_language(lang) == "zh"
    fig, ax = new_figure(*figsize)
    hi = float(max(curve["pd_mean"].max(), curve["default_rate"].max())) * 1.05
    ax.plot([0, hi], [0, hi], "k--", lw=0.8)
    ax.plot(curve["pd_mean"], curve["default_rate"], "o-")
    ax.set_xlabel("平均预测违约概率" if zh else "mean predicted PD")
    ax.set_ylabel("实际违约率" if zh else "observed default rate")
    ax.grid(alpha=0.3)
    ax.set_title(title or "Calibration")
    fig.tight_layout()
    return fig


def plot_psi_auc(
    by_period: pd.DataFrame,
    title: str | None = None,
    lang: str = "en",
    thresholds: tuple[float, float] = (0.10, 0.25),
) -> Figure:
    """PSI (bars, with the stability thresholds) and AUC (line) by period in two panels
    sharing the period axis, so each threshold line plainly belongs to the PSI scale.

    ``by_period`` is :attr:`riskkit.reports.scoring_report.Monitoring.table` (index =
    period; columns ``psi``, ``auc``, ``reference``; ``auc_lower`` and ``auc_upper``, when
    present, are drawn as the AUC's interval).
    """
    zh = figure_language(lang) == "zh"
    bp = by_period
    x = np.arange(len(bp))
    ref = bp["reference"].to_numpy(dtype=bool)
    fig = Figure(figsize=(7.5, 4.6), dpi=100)
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    ax1.bar(x[ref], bp["psi"].to_numpy()[ref], color="#999", label="基准期" if zh else "reference")
    ax1.bar(x[~ref], bp["psi"].to_numpy()[~ref], color="#4a7ab5", label="PSI")
    lo, hi = thresholds
    for value, color, en, cn in (
        (lo, "#d9b310", "monitor", "需关注"),
        (hi, "#c0392b", "shifted", "显著偏移"),
    ):
        ax1.axhline(value, color=color, ls="--", lw=1.2,
                    label=f"{threshold_text(value)}: " + (cn if zh else en))  # fmt: skip
    top = np.nanmax(np.r_[bp["psi"].to_numpy(dtype=float), hi])
    ax1.set_ylim(0, top * 1.15)
    ax1.set_ylabel("PSI")
    ax1.set_title(title or "PSI and AUC by period")
    ax1.legend(loc="upper left", fontsize=8, ncol=4)
    ax1.grid(axis="y", alpha=0.3)
    auc_ = bp["auc"].to_numpy(dtype=float)
    with_ci = {"auc_lower", "auc_upper"} <= set(bp.columns)
    if with_ci:  # the 95% interval, so a dip is read against the sampling noise
        err = np.abs(bp[["auc_lower", "auc_upper"]].to_numpy(dtype=float).T - auc_)
        ax2.errorbar(x, auc_, yerr=err, fmt="none", ecolor="#3a7d44", alpha=0.5, capsize=3)
    ax2.plot(x, auc_, color="#3a7d44", marker="o", label="AUC")
    ci = (" (95% CI)" if not zh else "（95% 置信区间）") if with_ci else ""
    ax2.set_ylabel("AUC" + ci)
    ax2.grid(alpha=0.3)
    ax2.set_xticks(x, [str(p) for p in bp.index], rotation=45)
    fig.tight_layout()
    return fig
