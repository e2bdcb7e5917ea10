"""Former home of the report tables and figures, kept for one release.

Tables and number formats live in :mod:`riskkit.formatting`, fonts in :mod:`riskkit.plotting`,
and each plot in its domain's plotting module: :func:`riskkit.scoring.plots.plot_score_distribution`,
:func:`~riskkit.scoring.plots.plot_calibration_curve`, :func:`~riskkit.scoring.plots.plot_psi_auc`
and :func:`riskkit.classification.plots.plot_by_category`. The old plot names here warn.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ..classification.plots import plot_by_category
from ..deprecation import renamed
from ..formatting import NOWRAP_MAX_CHARS, TABLE_CSS, table_html
from ..plotting import cjk_font, figure_language
from ..scoring.plots import plot_calibration_curve, plot_psi_auc, plot_score_distribution

__all__ = [
    "NOWRAP_MAX_CHARS",
    "TABLE_CSS",
    "cjk_font",
    "figure_language",
    "table_html",
]


def _score_histogram(scores, y, title: str, lang: str = "en") -> Figure:
    return plot_score_distribution(scores, y, 30, title=title, lang=lang, figsize=(7, 3.2))


def _calibration_plot(curve: pd.DataFrame, title: str, lang: str = "en") -> Figure:
    return plot_calibration_curve(curve, title=title, lang=lang, figsize=(4.5, 4))


_score_histogram.__name__ = "plot_score_distribution"
_calibration_plot.__name__ = "plot_calibration_curve"
score_histogram = renamed(_score_histogram, "score_histogram")
calibration_plot = renamed(_calibration_plot, "calibration_plot")
bar_by_category = renamed(plot_by_category, "bar_by_category")
psi_auc_figure = renamed(plot_psi_auc, "psi_auc_figure")
