"""Formatting shared by reports, dashboards and notebooks: money, percentages, numbers and
compact HTML tables.

Examples
--------
>>> money(1234567.891), money(1234.5, 2), pct(0.04321), pct(0.04321, 2), number(0.76412)
('1,234,568', '1,234.50', '4.3%', '4.32%', '0.7641')
>>> money(float("nan"))
'–'
>>> import pandas as pd
>>> html = table_html(pd.DataFrame({"balance": [1234.5]}, index=["normal"]))
>>> "1,234.50" in html
True
"""

from __future__ import annotations

import html as _html
from collections.abc import Mapping

import numpy as np
import pandas as pd

#: Shown for a missing or undefined figure (NaN, infinite, None).
MISSING = "–"


def _finite(x) -> bool:
    return x is not None and bool(np.isfinite(x))


def money(x: float | None, digits: int = 0) -> str:
    """An amount with thousands separators (``1,234,568``); ``–`` when undefined."""
    return f"{x:,.{digits}f}" if _finite(x) else MISSING


def pct(x: float | None, digits: int = 1) -> str:
    """A share as a percentage (``4.3%``); ``–`` when undefined."""
    return f"{x:.{digits}%}" if _finite(x) else MISSING


def threshold_text(value: float) -> str:
    """A policy threshold as written in text: at least two decimals, more only when the value
    has them (0.1 -> "0.10", 0.125 -> "0.125").

    >>> threshold_text(0.1), threshold_text(0.25), threshold_text(0.125)
    ('0.10', '0.25', '0.125')
    """
    out = f"{float(value):.6f}".rstrip("0")
    decimals = len(out.split(".")[1])
    return out + "0" * max(0, 2 - decimals)


def points(x: float | None, digits: int = 2) -> str:
    """A change of a ratio in percentage points, signed (``0.0244`` -> ``+2.44``); ``–`` when
    undefined.

    >>> points(0.0244), points(-0.005)
    ('+2.44', '-0.50')
    """
    return f"{100 * x:+.{digits}f}" if x is not None and _finite(x) else MISSING


def number(x: float | None, digits: int = 4) -> str:
    """A ratio or statistic with fixed decimals (AUC, KS, PSI: ``0.7641``); ``–`` when undefined."""
    return f"{x:.{digits}f}" if _finite(x) else MISSING


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
