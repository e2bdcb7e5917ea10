"""Plots of the provisions domain; each returns a :class:`matplotlib.figure.Figure` (no
pyplot state, so they work in report runs without a display).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"lgd_mean": [0.3, None], "ci_lower": [0.25, None],
...                   "ci_upper": [0.36, None], "policy_lgd": [0.65, 0.10],
...                   "resolved": [120, 0]}, index=["credit", "pledge"])
>>> type(plot_lgd_evidence(t)).__name__
'Figure'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..plotting import figure_language, new_figure


def plot_lgd_evidence(
    table: pd.DataFrame,
    *,
    title: str = "Realised LGD (95% CI) and the policy constant",
    labels=None,
    realised_label: str = "Realised LGD",
    policy_label: str = "Policy LGD",
    lang: str = "en",
) -> Figure:
    """Realised LGD per segment with its confidence interval beside the policy constant
    (rows of :attr:`riskkit.workout.LGDResult.table`; segments without resolved defaults
    show the policy constant only). ``labels``: segment -> axis text."""
    figure_language(lang)
    fig, ax = new_figure(7, 3.4)
    x = np.arange(len(table))
    ok = (table["resolved"] > 0).to_numpy() & table["lgd_mean"].notna().to_numpy()
    mean = 100 * table["lgd_mean"].to_numpy(dtype=float)
    lo = 100 * table["ci_lower"].to_numpy(dtype=float)
    hi = 100 * table["ci_upper"].to_numpy(dtype=float)
    err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])[:, ok]
    ax.errorbar(x[ok], mean[ok], yerr=err, fmt="o", capsize=4, label=realised_label)
    ax.scatter(x, 100 * table["policy_lgd"].to_numpy(dtype=float), marker="_", s=400,
               color="tab:red", label=policy_label)  # fmt: skip
    names = [(labels or {}).get(k, str(k)) for k in table.index]
    ax.set_xticks(x, names)
    ax.set_ylabel("LGD, %")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_pd_term_structure(
    term: pd.DataFrame,
    *,
    title: str = "Cumulative PD (weighted scenarios)",
    xlabel: str = "months ahead",
    lang: str = "en",
    skip=("__pooled__",),
) -> Figure:
    """Cumulative PD by months ahead, one line per (segment, state) row of ``term`` (e.g.
    ``ProvisioningReport.pd_term``); normal solid, special mention dashed."""
    figure_language(lang)
    fig, ax = new_figure(7, 3.4)
    for (seg, state), row in term.iterrows():  # a loop over segments and states
        if seg in skip:
            continue
        ax.plot(row.index, 100 * row.to_numpy(), ls="-" if state == "normal" else "--",
                label=f"{seg} / {state}")  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel("%")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title)
    fig.tight_layout()
    return fig
