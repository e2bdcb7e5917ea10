"""Issue 15 (13): figures render Chinese with a CJK font found at run time, and fall back to
English for every figure text when none is installed."""

from __future__ import annotations

import io
import warnings

import matplotlib
import nbformat
import pandas as pd
import pytest

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402

from riskkit import plotting as figures  # noqa: E402
from riskkit.classification.plots import plot_by_category  # noqa: E402
from riskkit.reports.context import Report  # noqa: E402
from riskkit.reports.narrative import text  # noqa: E402
from riskkit.reports.runner import available_reports, default_notebooks_dir  # noqa: E402

HAS_CJK_FILE = any(
    any(h in p.lower().replace("-", "") for h in figures.CJK_FILE_HINTS)
    for p in font_manager.findSystemFonts()
)


@pytest.fixture
def stale_font_cache(monkeypatch):
    """matplotlib's font list as built before the CJK fonts were installed (the one font
    manager every backend uses, with its CJK entries taken out for the test)."""
    fm = font_manager.fontManager
    stale = [f for f in fm.ttflist if not any(f.name.startswith(c) for c in figures.CJK_FAMILIES)]
    monkeypatch.setattr(fm, "ttflist", stale)
    monkeypatch.setitem(matplotlib.rcParams, "font.sans-serif", ["DejaVu Sans"])
    fm._findfont_cached.cache_clear()  # matplotlib's lookups made with the full list
    figures.cjk_font.cache_clear()
    yield fm
    figures.cjk_font.cache_clear()
    monkeypatch.undo()
    fm._findfont_cached.cache_clear()


def _render(fig) -> list[str]:
    """Draw ``fig`` to PNG; the warnings matplotlib gave (missing glyphs among them)."""
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    return [str(w.message) for w in caught]


@pytest.mark.skipif(not HAS_CJK_FILE, reason="no CJK font installed (.ci/run installs Noto CJK)")
def test_a_cjk_font_installed_after_the_font_cache_is_found_and_used(stale_font_cache):
    assert figures.figure_language("zh") == "zh"  # found among the system's font files
    assert any(f.name.startswith("Noto Sans CJK") for f in stale_font_cache.ttflist)
    values = pd.Series({"normal": 10.0, "substandard": 2.0})
    fig = plot_by_category(values, "按五级分类的贷款余额", "元", "zh")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][:2] == ["正常", "关注"]
    missing = [m for m in _render(fig) if "missing from font" in m]
    assert missing == []


def test_without_a_cjk_font_every_figure_text_is_english(stale_font_cache, monkeypatch):
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert figures.cjk_font() is None
    rpt = Report("post_loan_review", {"as_of": pd.Timestamp("2026-10-31"), "language": "zh"})
    assert rpt.fig_lang == "en"
    assert rpt.ft("post_loan_review.fig_balance") == text("post_loan_review.fig_balance", "en")
    assert rpt.t("post_loan_review.fig_balance") == text("post_loan_review.fig_balance", "zh")
    fig = plot_by_category(
        pd.Series({"normal": 1.0}), rpt.ft("post_loan_review.fig_balance"), "RMB", rpt.fig_lang
    )
    assert fig.axes[0].get_xticklabels()[0].get_text() == "Normal"
    assert [m for m in _render(fig) if "missing from font" in m] == []


def test_report_notebooks_take_figure_text_in_the_figure_language():
    """Figure titles and labels come from ``rpt.ft`` / ``rpt.fig_lang``, never from the report
    language directly (which gave Chinese titles without a Chinese font: boxes)."""
    import re

    for name in available_reports():
        nb = nbformat.read(default_notebooks_dir() / f"{name}.ipynb", as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert not re.search(r"set_(title|xlabel|ylabel)\(rpt\.t\(", code), name
        for start in (m.end() for m in re.finditer(r"rpt\.figure\(", code)):
            depth, i = 1, start
            while depth:  # the whole rpt.figure(...) call
                depth += {"(": 1, ")": -1}.get(code[i], 0)
                i += 1
            call = code[start:i]
            assert "rpt.t(" not in call and "rpt.language" not in call, (name, call)
