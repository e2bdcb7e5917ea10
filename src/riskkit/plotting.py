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


#: Font families with Chinese glyphs, preferred first.
CJK_FAMILIES = (
    "Noto Sans CJK",
    "Source Han Sans",
    "WenQuanYi",
    "SimHei",
    "Microsoft YaHei",
    "PingFang",
    "Heiti",
    "AR PL",
    "Noto Serif CJK",
    "Droid Sans Fallback",
)
#: Parts of font file names of those families (for fonts matplotlib's cache does not know).
CJK_FILE_HINTS = (
    "notosanscjk",
    "sourcehansans",
    "wqy",
    "simhei",
    "msyh",
    "pingfang",
    "stheiti",
    "uming",
    "ukai",
    "notoserifcjk",
    "droidsansfallback",
)


def _cached_cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        found = sorted(n for n in names if n.startswith(family))
        if found:
            return found[0]
    return None


def register_cjk_fonts() -> list[str]:
    """Add the system's CJK font files to matplotlib's font list: a font installed after
    matplotlib built its font cache is otherwise unknown to it (Chinese text as boxes).
    Returns the files added."""
    from matplotlib import font_manager

    known = {f.fname for f in font_manager.fontManager.ttflist}
    added = []
    for path in sorted(font_manager.findSystemFonts()):
        name = path.rsplit("/", 1)[-1].lower().replace("-", "").replace("_", "")
        if path not in known and any(h in name for h in CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: skip it
                continue
            added.append(path)
    return added


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, or None. Looks in matplotlib's font
    list first, then registers the system's CJK font files (once per process)."""
    return _cached_cjk_font() or (register_cjk_fonts() and _cached_cjk_font()) or None


def figure_language(lang: str) -> str:
    """Language for text inside figures: Chinese only when a CJK font is available (then set
    as matplotlib's sans-serif font); English otherwise, for every label and title alike."""
    if lang == "zh" and cjk_font() is not None:
        import matplotlib

        matplotlib.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
        matplotlib.rcParams["axes.unicode_minus"] = False
        return "zh"
    return "en"
