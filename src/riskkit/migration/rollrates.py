"""Roll rates between delinquency buckets (current, 1-30, 31-60, 61-90, 90+ days past due).

A roll-rate matrix is a monthly cohort matrix over the bucket state space (plus the exits
``repaid`` / ``written_off``); the *roll-forward rates* are its first super-diagonal per month
(current -> 1-30, 1-30 -> 31-60, 31-60 -> 61-90, 61-90 -> 90+), the collections view of
migration.

Examples
--------
>>> dpd_bucket([0, 1, 30, 31, 90, 91]).tolist()
['current', 'dpd_1_30', 'dpd_1_30', 'dpd_31_60', 'dpd_61_90', 'dpd_90_plus']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from .estimation import cohort_counts, cohort_matrix
from .matrix import TransitionMatrix
from .panel import MigrationPanel, StateSpace, panel_with_exits

BUCKETS = ("current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_90_plus")
EDGES = np.array([1, 31, 61, 91])

#: Delinquency buckets plus absorbing exits.
BUCKET_STATES = StateSpace(
    states=(*BUCKETS, "repaid", "written_off"),
    absorbing=("repaid", "written_off"),
    npl=("dpd_90_plus",),
    default=("dpd_90_plus", "written_off"),
    exits=("repaid", "written_off"),
    severity=("repaid", *BUCKETS, "written_off"),
)


def dpd_bucket(days) -> np.ndarray:
    """Bucket label per days-past-due value (vectorised)."""
    d = np.asarray(days, dtype=float)
    return np.asarray(BUCKETS, dtype=object)[np.digitize(d, EDGES)]


def bucket_panel(
    history: pd.DataFrame,
    *,
    id_col: str = "loan_id",
    time_col: str = "as_of",
    dpd_col: str = "days_past_due",
    balance_col: str | None = "outstanding_principal",
    paid_off_col: str | None = "paid_off",
) -> MigrationPanel:
    """Panel over :data:`BUCKET_STATES` from a delinquency history (e.g.
    :func:`riskkit.book.delinquency_history`): a loan's first row of its final run of paid-off
    rows becomes ``repaid`` (see :func:`~riskkit.migration.panel.panel_with_exits`)."""
    pc = ProblemCollector("delinquency history")
    for c in (id_col, time_col, dpd_col):
        if c not in history.columns:
            pc.add("delinquency history", c, "required column missing")
    pc.raise_if_any()
    dpd = history[dpd_col]
    if not pd.api.types.is_numeric_dtype(dpd.dtype):
        pc.add("delinquency history", dpd_col, f"days past due must be numeric, got {dpd.dtype}")
    else:
        pc.check(
            "delinquency history",
            dpd_col,
            dpd.isna() | (dpd < 0),
            history[id_col],
            "days past due must be a number >= 0",
        )
    pc.raise_if_any()
    labels = dpd_bucket(dpd.to_numpy(dtype=float))
    return panel_with_exits(
        history,
        labels,
        {"repaid": paid_off_col},
        id_col=id_col,
        time_col=time_col,
        balance_col=balance_col,
        states=BUCKET_STATES,
        table="delinquency history",
    )


def roll_rate_matrix(
    panel: MigrationPanel, *, weight: str = "count", period: int = 1, ci: str | None = None
) -> TransitionMatrix:
    """Pooled roll-rate matrix between buckets (cohort estimator on the bucket panel)."""
    return cohort_matrix(panel, period, weight=weight, ci=ci)


def roll_forward_rates(panel: MigrationPanel, *, weight: str = "count") -> pd.DataFrame:
    """Per month, the share of each bucket rolling one bucket worse by the next month.

    Index: month of the start observation; columns ``current->dpd_1_30`` ... and the
    ``dpd_90_plus`` -> ``written_off`` rate; NaN where a bucket was empty.
    """
    counts, starts, _ = cohort_counts(panel, 1, weight=weight)
    sp = panel.states
    pairs = list(zip(BUCKETS[:-1], BUCKETS[1:], strict=True)) + [("dpd_90_plus", "written_off")]
    out = {}
    for a, b in pairs:
        i, j = sp.index(a), sp.index(b)
        tot = counts[:, i, :].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{a}->{b}"] = np.where(
                tot > 0, counts[:, i, j] / np.where(tot > 0, tot, 1), np.nan
            )
    idx = pd.Index([panel.time_label(t) for t in starts], name="month")
    return pd.DataFrame(out, index=idx)
