"""Plots of the migration domain; each returns a :class:`matplotlib.figure.Figure` (no pyplot
state, so they work in report runs without a display).

Examples
--------
>>> import numpy as np
>>> from riskkit.migration.matrix import TransitionMatrix
>>> fig = plot_transition_matrix(TransitionMatrix(np.eye(8)))
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..deprecation import renamed
from ..plotting import figure_language
from .matrix import TransitionMatrix


def plot_transition_matrix(
    tm: TransitionMatrix,
    *,
    annotate: bool = True,
    title: str | None = None,
    figsize=(6.5, 5.5),
    labels=None,
    xlabel: str = "to",
    ylabel: str = "from",
    colorbar_label: str = "sqrt(probability)",
) -> Figure:
    """Transition matrix as a heatmap (rows: from, columns: to), cells annotated in %.

    ``labels`` replace the state codes on the axes (e.g. the categories in Chinese)."""
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    m = tm.matrix
    im = ax.imshow(np.sqrt(m), cmap="Reds", vmin=0, vmax=1)
    labs = list(labels) if labels is not None else tm.labels
    ax.set_xticks(range(len(labs)), labs, rotation=45, ha="right")
    ax.set_yticks(range(len(labs)), labs)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if annotate:
        for i in range(len(labs)):
            for j in range(len(labs)):
                if m[i, j] > 0:
                    ax.text(
                        j,
                        i,
                        f"{m[i, j]:.1%}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if m[i, j] > 0.5 else "black",
                    )
    fig.colorbar(im, ax=ax, label=colorbar_label)
    # over the whole figure: an axes title is cut where the colour bar starts
    fig.suptitle(title or f"{tm.period}-period transition matrix ({tm.weight}-weighted)")
    fig.tight_layout()
    return fig


def plot_category_shares(
    shares: pd.DataFrame, *, title: str = "Share of balance by category", figsize=(7, 4)
) -> Figure:
    """Stacked area of category shares over time (rows: time, columns: categories)."""
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    x = np.arange(len(shares)) if not np.issubdtype(shares.index.dtype, np.number) else shares.index
    ax.stackplot(x, shares.fillna(0).to_numpy().T, labels=[str(c) for c in shares.columns])
    ax.set_ylim(0, 1)
    ax.set_ylabel("share")
    ax.set_xlabel(shares.index.name or "step")
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_fan_chart(
    result,
    metric: str = "npl_ratio",
    *,
    quantiles=(0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99),
    title: str | None = None,
    figsize=(7, 4),
) -> Figure:
    """Fan chart of a Monte Carlo metric across scenarios (median and nested bands)."""
    arr = getattr(result, metric)
    qs = np.quantile(arr, quantiles, axis=0)
    x = np.arange(arr.shape[1])
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    k = len(quantiles)
    for i in range(k // 2):
        ax.fill_between(
            x,
            qs[i],
            qs[k - 1 - i],
            color="tab:red",
            alpha=0.15 + 0.15 * i,
            lw=0,
            label=f"{quantiles[i]:.0%}-{quantiles[k - 1 - i]:.0%}",
        )
    ax.plot(x, np.median(arr, axis=0), color="black", lw=1.5, label="median")
    ax.set_xlabel("months ahead")
    ax.set_ylabel(metric)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or f"{metric}: {arr.shape[0]} scenarios")
    fig.tight_layout()
    return fig


def plot_stress_comparison(
    frame: pd.DataFrame,
    metric: str = "npl_ratio",
    *,
    title: str | None = None,
    xlabel: str = "months ahead",
    percent: bool = False,
    lang: str = "en",
    figsize=(7, 4),
    labels=None,
) -> Figure:
    """Lines of ``metric`` per scenario from :func:`riskkit.migration.stress.compare`
    (``percent=True`` shows a ratio in %; ``lang="zh"`` sets a Chinese font for the texts;
    ``labels``: scenario name -> legend text, e.g. the scenario in words)."""
    figure_language(lang)
    fig = Figure(figsize=figsize, dpi=100)
    ax = fig.add_subplot()
    scale = 100.0 if percent else 1.0
    for name, s in frame[metric].items():
        baseline = name == "baseline"
        label = (labels or {}).get(name, str(name))
        ax.plot(s.index, scale * s.to_numpy(), label=label, marker="o",
                lw=2 if baseline else 1.5, ls="-" if baseline else "--")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel("%" if percent else metric)
    ax.legend()
    ax.grid(alpha=0.3)
    ax.set_title(title or f"{metric}: baseline vs stressed")
    fig.tight_layout()
    return fig


# former names, kept for one release
heatmap = renamed(plot_transition_matrix, "heatmap")
category_shares = renamed(plot_category_shares, "category_shares")
fan_chart = renamed(plot_fan_chart, "fan_chart")
stress_comparison = renamed(plot_stress_comparison, "stress_comparison")
