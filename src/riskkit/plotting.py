"""Plot helpers shared by the domain plotting modules (:mod:`riskkit.scoring.plots`,
:mod:`riskkit.classification.plots`, :mod:`riskkit.migration.plots`): Chinese fonts and new
pyplot-free figures.

Examples
--------
>>> fig, ax = new_figure(4, 3)
>>> type(fig).__name__, figure_language("en")
('Figure', 'en')
"""

from __future__ import annotations

from functools import lru_cache

from matplotlib.axes import Axes
from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure with one axes, without pyplot state (safe in report kernels and threads)."""
    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.add_subplot()


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, or None."""
    from matplotlib import font_manager

    wanted = (
        "Noto Sans CJK",
        "Source Han Sans",
        "WenQuanYi",
        "SimHei",
        "Microsoft YaHei",
        "PingFang",
        "Heiti",
        "AR PL",
    )
    for f in font_manager.fontManager.ttflist:
        if any(f.name.startswith(w) for w in wanted):
            return f.name
    return None


def figure_language(lang: str) -> str:
    """Language for text inside figures: Chinese only when a CJK font is installed."""
    if lang == "zh" and cjk_font() is not None:
        import matplotlib

        matplotlib.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
        matplotlib.rcParams["axes.unicode_minus"] = False
        return "zh"
    return "en"
