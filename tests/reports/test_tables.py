"""Report tables: alignment, wrapping, lists, open-ended bands and labels in both languages."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from riskkit.categories import CATEGORY_DTYPE
from riskkit.formatting import TABLE_CSS, table_html
from riskkit.reports import start_report


def cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r"<td class='([^']*)'>([^<]*)</td>", html)


def test_table_html_alignment_wrapping_lists_and_infinities():
    df = pd.DataFrame(
        {
            "branch": ["城关支行", "东部支行"],
            "id_number": ["411***********065X", "411***********1884"],
            "rules": [["missed_doubtful", "dpd_overdue", "signal_enforcement_started"], []],
            "note": ["x" * 40, "short"],
            "score_upper": [np.inf, 655.0],
            "score_lower": [655.0, -np.inf],
            "date": [pd.Timestamp("2026-10-31"), pd.Timestamp("2026-09-30")],
        }
    )
    html = table_html(df, index=False, formats={"score_upper": "{:.0f}", "score_lower": "{:.0f}"})
    got = cells(html)
    assert got[:7] == [
        ("nw", "城关支行"),
        ("nw", "411***********065X"),
        ("wrap", "missed_doubtful, dpd_overdue, signal_enforcement_started"),
        ("wrap", "x" * 40),
        ("num nw", "∞"),
        ("num nw", "655"),
        ("nw", "2026-10-31"),
    ]
    assert got[9] == ("wrap", "") and got[12] == ("num nw", "−∞")
    heads = re.findall(r"<th class='(\w+)'>([^<]*)</th>", html)
    assert heads[0] == ("text", "branch") and heads[4] == ("num", "score_upper")
    # the table scrolls inside its own container; text left-aligned with a selector that
    # outranks nbconvert's ":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td" (0,2,1)
    assert "<div class='rk-scroll'><table class='rk-table'>" in html
    assert "div.rk-scroll{max-width:100%;overflow-x:auto}" in TABLE_CSS
    assert "div.rk-scroll table.rk-table th,div.rk-scroll table.rk-table td{" in TABLE_CSS
    assert "td.nw{white-space:nowrap}" in TABLE_CSS


def test_report_tables_use_category_labels_in_the_report_language():
    matrix = pd.DataFrame(
        [[814, 0, 0], [0, 6530, 449]],
        index=pd.Index(["new", "normal"], name="previous"),
        columns=["normal", "special_mention", "repaid"],
    )
    changes = pd.DataFrame(
        {
            "previous_category": pd.Categorical(
                ["normal", "special_mention"], dtype=CATEGORY_DTYPE
            ),
            "category": pd.Categorical(["special_mention", "substandard"], dtype=CATEGORY_DTYPE),
            "change": ["downgrade", "downgrade"],
            "rules": ["missed_doubtful,dpd_overdue", ""],
        },
        index=pd.Index(["L1", "L2"], name="loan_id"),
    )
    for lang, want in (
        ("en", (["New", "Normal"], ["Normal", "Special mention", "Repaid"], "Downgrade")),
        ("zh", (["新发放", "正常"], ["正常", "关注", "已结清"], "下调")),
    ):
        rpt = start_report("post_loan_review", as_of="2026-10-31", language=lang, display=False)
        m, fmt = rpt._labelled(matrix, {"special_mention": "{:.2%}"})
        assert list(m.index) == want[0] and list(m.columns) == want[1]
        assert fmt == {want[1][1]: "{:.2%}"}  # formats follow the relabelled columns
        c, _ = rpt._labelled(changes, None)
        assert list(c.iloc[:, 1]) == [want[1][1], "Substandard" if lang == "en" else "次级"]
        assert list(c.iloc[:, 2]) == [want[2], want[2]]
        assert c.iloc[0, 3] == ["missed_doubtful", "dpd_overdue"] and c.iloc[1, 3] == []
        html = table_html(c)
        assert "missed_doubtful, dpd_overdue" in html and "special_mention" not in html


def test_psi_thresholds_belong_to_the_psi_panel():
    from riskkit.scoring.plots import plot_psi_auc

    bp = pd.DataFrame(
        {"psi": [0.0, 0.05, 0.31], "auc": [0.71, 0.70, 0.66], "reference": [True, False, False]},
        index=pd.Index(["2024Q1", "2024Q2", "2024Q3"], name="period"),
    )
    fig = plot_psi_auc(bp, "PSI and AUC by period")
    psi_ax, auc_ax = fig.axes  # two panels, no twin axis
    assert psi_ax.get_ylabel() == "PSI" and auc_ax.get_ylabel() == "AUC"
    flat = {ln.get_label(): set(ln.get_ydata()) for ln in psi_ax.get_lines()}
    assert flat == {"0.10: monitor": {0.10}, "0.25: shifted": {0.25}}
    assert [set(ln.get_ydata()) for ln in auc_ax.get_lines()] == [{0.71, 0.70, 0.66}]
    assert psi_ax.get_ylim()[1] >= 0.31 and auc_ax.get_ylim()[1] < 1.0
    assert [t.get_text() for t in auc_ax.get_xticklabels()] == list(bp.index)
    with_ci = bp.assign(auc_lower=bp["auc"] - 0.02, auc_upper=bp["auc"] + 0.03)
    auc_ax = plot_psi_auc(with_ci).axes[1]
    assert auc_ax.get_ylabel() == "AUC (95% CI)"
    (bars,) = [c for c in auc_ax.collections if c.get_segments()]
    assert [tuple(s[:, 1].round(2)) for s in bars.get_segments()] == [
        (0.69, 0.74),
        (0.68, 0.73),
        (0.64, 0.69),
    ]
