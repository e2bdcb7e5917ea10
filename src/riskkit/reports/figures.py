"""Tables and figures for the rendered reports (HTML tables, matplotlib PNG figures).

Examples
--------
>>> import pandas as pd
>>> html = table_html(pd.DataFrame({"balance": [1234.5]}, index=["normal"]))
>>> "1,234.50" in html
True
"""

from __future__ import annotations

import html as _html
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from .narrative import threshold_text

# Selectors are scoped under div.rk-scroll so they outrank the notebook HTML template's
# ":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td" (right-aligns every cell).
_T = "div.rk-scroll table.rk-table"
TABLE_CSS = (
    "<style>div.rk-scroll{max-width:100%;overflow-x:auto}"
    f"{_T}{{border-collapse:collapse;margin:0.5em 0 1em 0;font-size:0.92em}}"
    f"{_T} th,{_T} td{{border:1px solid #ccd;padding:3px 8px;text-align:left;"
    "vertical-align:top}"
    f"{_T} th{{background:#eef1f6}}"
    f"{_T} th.num,{_T} td.num{{text-align:right;font-variant-numeric:tabular-nums}}"
    f"{_T} td.nw{{white-space:nowrap}}"
    f"{_T} td.wrap{{white-space:normal;min-width:18em}}"
    f"{_T} caption{{caption-side:top;text-align:left;font-weight:600;padding:4px 0}}"
    "</style>"
)

#: Text cells up to this length stay on one line (codes, names, dates, masked IDs, branches);
#: longer text and lists (joined with ", ") wrap.
NOWRAP_MAX_CHARS = 32


def _is_list(v) -> bool:
    return isinstance(v, list | tuple | set | np.ndarray)


def _fmt(v, fmt: str | None) -> tuple[str, bool]:
    """Formatted cell text and whether it is numeric (lists joined with ", ", infinite
    numbers as ∞ / −∞ for open-ended bands)."""
    if _is_list(v):
        return ", ".join(str(x) for x in v), False
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return "", False
    if isinstance(v, float | np.floating) and np.isinf(v):
        return ("∞" if v > 0 else "−∞"), True
    if fmt is not None:
        return fmt.format(v), True
    if isinstance(v, bool | np.bool_):
        return str(bool(v)), False
    if isinstance(v, int | np.integer):
        return f"{int(v):,}", True
    if isinstance(v, float | np.floating):
        return f"{float(v):,.2f}", True
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d"), False
    return str(v), False


def table_html(
    df: pd.DataFrame,
    caption: str | None = None,
    *,
    index: bool = True,
    formats: Mapping | None = None,
    max_rows: int | None = None,
) -> str:
    """A compact HTML table: thousands separators, right-aligned numbers, left-aligned text,
    escaped text; short text (codes, dates, names, masked IDs) kept on one line, lists joined
    with ", " and long text wrapped; wide tables scroll in their own container.

    Parameters
    ----------
    df : DataFrame
    caption : str, optional
    index : bool, default True
        Show the index as the first column(s).
    formats : mapping, optional
        Column -> format string, e.g. ``{"share": "{:.2%}"}``.
    max_rows : int, optional
        Show only the first rows and say how many were left out.
    """
    formats = {str(k): v for k, v in (formats or {}).items()}
    shown = df if max_rows is None else df.head(max_rows)
    if index:
        if not isinstance(shown.index, pd.MultiIndex) and shown.index.name is None:
            shown = shown.rename_axis("")
        shown = shown.reset_index()
    cols = [str(c) for c in shown.columns]
    columns = [shown.iloc[:, j].tolist() for j in range(shown.shape[1])]
    cells = [[_fmt(v, formats.get(c)) for v in columns[j]] for j, c in enumerate(cols)]
    lists = [any(_is_list(v) for v in columns[j]) for j in range(len(cols))]
    # a column is numeric (right-aligned header) when every non-empty cell is a number
    numeric = [all(num for s, num in col if s) and any(s for s, _ in col) for col in cells]
    out = [TABLE_CSS, "<div class='rk-scroll'><table class='rk-table'>"]
    if caption:
        out.append(f"<caption>{_html.escape(caption)}</caption>")
    head = [
        f"<th class='{'num' if numeric[j] else 'text'}'>{_html.escape(c)}</th>"
        for j, c in enumerate(cols)
    ]
    out.append("<thead><tr>" + "".join(head) + "</tr>")
    out.append("</thead><tbody>")
    for i in range(len(shown)):
        row = []
        for j in range(len(cols)):
            s, num = cells[j][i]
            if num:
                cls = "num nw"
            elif lists[j] or len(s) > NOWRAP_MAX_CHARS:
                cls = "wrap"
            else:
                cls = "nw"
            row.append(f"<td class='{cls}'>{_html.escape(s)}</td>")
        out.append("<tr>" + "".join(row) + "</tr>")
    out.append("</tbody></table></div>")
    if max_rows is not None and len(df) > max_rows:
        out.append(f"<p><i>… {len(df) - max_rows:,} more rows not shown.</i></p>")
    return "".join(out)


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


def bar_by_category(values: pd.Series, title: str, ylabel: str, lang: str = "en", colors=None):
    """Bar chart of a value per five-category class, in category order."""
    import matplotlib.pyplot as plt

    from ..categories import Category

    lang = figure_language(lang)
    cats = list(Category)
    v = values.reindex([c.code for c in cats]).fillna(0.0)
    colors = colors or ["#3a7d44", "#d9b310", "#e07b39", "#c0392b", "#6c3483"]
    fig, ax = plt.subplots(figsize=(7, 3.4), dpi=100)
    ax.bar([c.label(lang) for c in cats], v.to_numpy(), color=colors)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.0f}"))
    for i, x in enumerate(v.to_numpy()):
        ax.annotate(f"{x:,.0f}", (i, x), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig


def score_histogram(scores, y, title: str, lang: str = "en"):
    """Overlaid score histograms of good (y=0) and bad (y=1) rows."""
    import matplotlib.pyplot as plt

    lang = figure_language(lang)
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y)
    bins = np.histogram_bin_edges(s, bins=30)
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
    ax.hist(s[y == 0], bins=bins, alpha=0.6, density=True, label="good" if lang == "en" else "好")
    ax.hist(s[y == 1], bins=bins, alpha=0.6, density=True, label="bad" if lang == "en" else "坏")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def calibration_plot(curve: pd.DataFrame, title: str, lang: str = "en"):
    """Observed default rate against mean predicted PD per bin, with the diagonal.

    ``curve`` has the columns of :func:`riskkit.scoring.metrics.calibration_curve`; the first
    two numeric columns other than the count are taken as (predicted, observed) when the
    standard names are absent.
    """
    import matplotlib.pyplot as plt

    figure_language(lang)
    pred_col = next(c for c in ("pd_mean", "mean_predicted", "prob_pred") if c in curve.columns)
    obs_col = next(c for c in ("observed", "default_rate", "prob_true") if c in curve.columns)
    fig, ax = plt.subplots(figsize=(4.5, 4), dpi=100)
    hi = float(max(curve[pred_col].max(), curve[obs_col].max())) * 1.05
    ax.plot([0, hi], [0, hi], color="#999", lw=1, ls="--")
    ax.plot(curve[pred_col], curve[obs_col], marker="o")
    ax.set_xlabel("PD")
    ax.set_ylabel("bad rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def psi_auc_figure(by_period: pd.DataFrame, title: str, lang: str = "en", thresholds=(0.10, 0.25)):
    """PSI (bars, with the stability thresholds) and AUC (line) by period in two panels
    sharing the period axis, so each threshold line plainly belongs to the PSI scale.

    ``by_period`` is :attr:`riskkit.reports.scoring_report.Monitoring.by_period` (index =
    period; columns ``psi``, ``auc``, ``reference``).
    """
    import matplotlib.pyplot as plt

    lang = figure_language(lang)
    zh = lang == "zh"
    bp = by_period
    x = np.arange(len(bp))
    ref = bp["reference"].to_numpy(dtype=bool)
    fig, (ax1, ax2) = plt.subplots(
        2, 1, sharex=True, figsize=(7.5, 4.6), dpi=100, gridspec_kw={"height_ratios": [3, 2]}
    )
    ax1.bar(x[ref], bp["psi"].to_numpy()[ref], color="#999", label="基准期" if zh else "reference")
    ax1.bar(x[~ref], bp["psi"].to_numpy()[~ref], color="#4a7ab5", label="PSI")
    lo, hi = thresholds
    ax1.axhline(
        lo,
        color="#d9b310",
        ls="--",
        lw=1.2,
        label=f"{threshold_text(lo)}: " + ("需关注" if zh else "monitor"),
    )
    ax1.axhline(
        hi,
        color="#c0392b",
        ls="--",
        lw=1.2,
        label=f"{threshold_text(hi)}: " + ("显著偏移" if zh else "shifted"),
    )
    top = np.nanmax(np.r_[bp["psi"].to_numpy(dtype=float), hi])
    ax1.set_ylim(0, top * 1.15)
    ax1.set_ylabel("PSI")
    ax1.set_title(title)
    ax1.legend(loc="upper left", fontsize=8, ncol=4)
    ax1.grid(axis="y", alpha=0.3)
    ax2.plot(x, bp["auc"].to_numpy(dtype=float), color="#3a7d44", marker="o", label="AUC")
    ax2.set_ylabel("AUC")
    ax2.grid(alpha=0.3)
    ax2.set_xticks(x, [str(p) for p in bp.index], rotation=45)
    fig.tight_layout()
    return fig
