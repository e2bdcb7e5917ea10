"""Plots of the five-category classification; each returns a
:class:`~matplotlib.figure.Figure` without pyplot state.

Examples
--------
>>> import pandas as pd
>>> fig = plot_by_category(pd.Series({"normal": 90.0, "loss": 2.0}), "Loans", "count")
>>> [t.get_text() for t in fig.axes[0].get_xticklabels()][:2]
['Normal', 'Special mention']
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..categories import Category
from ..plotting import figure_language, new_figure

#: Bar colours of the five categories, normal to loss.
CATEGORY_COLORS = ("#3a7d44", "#d9b310", "#e07b39", "#c0392b", "#6c3483")


def plot_by_category(
    values: pd.Series,
    title: str,
    ylabel: str,
    lang: str = "en",
    colors: list[str] | None = None,
) -> Figure:
    """Bar chart of a value per category (index: category codes), in category order; categories
    without a value show 0. Labels in English or, with ``lang="zh"``, Chinese."""
    lang = figure_language(lang)
    cats = list(Category)
    v = values.reindex([c.code for c in cats]).fillna(0.0)
    fig, ax = new_figure(7, 3.4)
    ax.bar([c.label(lang) for c in cats], v.to_numpy(), color=list(colors or CATEGORY_COLORS))
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.0f}"))
    for i, x in enumerate(v.to_numpy()):
        ax.annotate(f"{x:,.0f}", (i, x), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig
