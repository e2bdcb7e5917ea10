"""Assembly of the portfolio-migration report from riskkit's packages.

Month-end classifications (:func:`riskkit.reports.post_loan.month_end_classification`) over the
history window make a classification history; :func:`riskkit.migration.panel_from_history`
turns it into a migration panel, :func:`riskkit.migration.cohort_matrix` estimates the monthly
count- and balance-weighted matrices (迁徙率) with confidence intervals, and
:class:`riskkit.migration.TransitionMatrix` gives the n-month matrices and lifetime PDs. The
balance path over the horizon applies the balance-weighted matrix to today's balances by
category (repaid and written-off balances leave the book); provisions on that path use
:func:`riskkit.provisions.specific_ratios` and the policy's general ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..categories import Category


def classification_history(book, as_of, months: int, policy=None, store=None) -> pd.DataFrame:
    """Per-loan classification at each of the ``months + 1`` month-ends up to ``as_of``."""
    from .post_loan import month_end_classification

    as_of = pd.Timestamp(as_of).normalize()
    end = as_of if as_of.is_month_end else as_of - pd.offsets.MonthEnd(1)
    dates = [end - pd.offsets.MonthEnd(k) for k in range(months, 0, -1)] + [end]
    frames = []
    for d in dates:  # a loop over months, not loans
        b = book.disbursed_by(d)
        if b.n_loans == 0:
            continue
        res, _ = month_end_classification(book, d, policy, store)
        frames.append(res.to_frame())
    if not frames:
        raise ValueError(f"no loans disbursed by {end.date()}")
    return pd.concat(frames, ignore_index=True)


@dataclass
class MigrationReport:
    """Tables and key figures of the portfolio-migration report."""

    as_of: pd.Timestamp
    history: pd.DataFrame
    count_matrix: object
    balance_matrix: object
    horizon_matrix: object
    lifetime_pd: pd.DataFrame
    path: pd.DataFrame
    metrics: dict = field(default_factory=dict)


def balance_path(matrix, start_balance: pd.Series, horizon: int, policy=None) -> pd.DataFrame:
    """Balances by state for months 0..``horizon`` under a (balance-weighted) monthly matrix,
    with the NPL ratio and required provisions of each month."""
    from ..policy import load_policy
    from ..provisions import specific_ratios

    pol = load_policy(policy)
    labels = matrix.labels
    v = start_balance.reindex(labels).fillna(0.0).to_numpy(dtype=float)
    rows = [v]
    for _ in range(int(horizon)):  # a loop over months
        v = v @ matrix.matrix
        rows.append(v)
    path = pd.DataFrame(rows, columns=labels)
    path.index.name = "month"
    cats = Category.codes()
    live = path[cats]
    npl = live[[c for c in cats if Category.parse(c).is_npl]].sum(axis=1)
    total = live.sum(axis=1)
    path["outstanding"] = total
    path["npl_ratio"] = np.where(total > 0, npl / total.where(total > 0, 1.0), 0.0)
    ratios = specific_ratios(pol)
    path["provisions"] = live.to_numpy() @ ratios + total * pol["provisions"]["general_ratio"]
    return path


def portfolio_migration(
    book,
    as_of,
    history_months: int = 12,
    horizon_months: int = 12,
    policy=None,
    store=None,
    ci: str = "goodman",
) -> MigrationReport:
    """Migration matrices, lifetime PD and the balance/NPL/provisions path.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like
    history_months : int
        Month-ends of history used for estimation (``history_months`` monthly steps).
    horizon_months : int
        Projection horizon.
    policy, store : optional
    ci : {"goodman", "wald", "wilson"}
        Analytic confidence intervals of the monthly count matrix.
    """
    from ..migration import cohort_matrix, panel_from_history

    hist = classification_history(book, as_of, history_months, policy, store)
    panel = panel_from_history(hist)
    pc = cohort_matrix(panel, 1, weight="count", ci=ci)
    pb = cohort_matrix(panel, 1, weight="balance")
    ph = pb.power(horizon_months)
    lpd = pc.lifetime_pd(horizon_months)
    last = hist[hist["as_of"] == hist["as_of"].max()]
    start = last.groupby(last["category"].astype(str))["outstanding_principal"].sum()
    path = balance_path(pb, start, horizon_months, policy)
    end = path.iloc[-1]
    metrics = {
        "as_of": pd.Timestamp(as_of).normalize(),
        "history_months": int(history_months),
        "horizon_months": int(horizon_months),
        "n_loans": int(last["loan_id"].nunique()),
        "transitions_observed": float(pc.counts.sum()),
        "npl_ratio_now": float(path["npl_ratio"].iloc[0]),
        "npl_ratio_horizon": float(end["npl_ratio"]),
        "provisions_now": float(path["provisions"].iloc[0]),
        "provisions_horizon": float(end["provisions"]),
        "outstanding_now": float(path["outstanding"].iloc[0]),
        "outstanding_horizon": float(end["outstanding"]),
        "monthly_matrix_count": pc.to_frame().round(10).to_dict(orient="index"),
        "lifetime_pd_normal": float(lpd.loc["normal"].iloc[-1]),
        "lifetime_pd_special_mention": float(lpd.loc["special_mention"].iloc[-1]),
    }
    return MigrationReport(
        as_of=pd.Timestamp(as_of).normalize(),
        history=hist,
        count_matrix=pc,
        balance_matrix=pb,
        horizon_matrix=ph,
        lifetime_pd=lpd,
        path=path,
        metrics=metrics,
    )
