"""Repayment schedules for the four repayment methods, vectorised over loans.

Examples
--------
>>> import pandas as pd
>>> from riskkit.book import make_schedule
>>> s = make_schedule(pd.DataFrame({
...     "loan_id": ["L1"], "amount": [100_000.0], "annual_rate": [0.12], "term_months": [12],
...     "repayment_method": ["annuity"], "disbursement_date": [pd.Timestamp("2026-01-15")]}))
>>> round(float((s.principal_due + s.interest_due).iloc[0]), 2)
8884.88
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from .enums import RepaymentMethod


def add_months(dates: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Same day of month ``months`` later, clipped to the month's last day (vectorised)."""
    d = np.asarray(dates, dtype="datetime64[D]")
    m0 = d.astype("datetime64[M]")
    day = (d - m0.astype("datetime64[D]")).astype(np.int64)
    target = m0 + np.asarray(months, dtype=np.int64)
    last = ((target + 1).astype("datetime64[D]") - np.timedelta64(1, "D")) - target.astype(
        "datetime64[D]"
    )
    return target.astype("datetime64[D]") + np.minimum(day, last.astype(np.int64)).astype(
        "timedelta64[D]"
    )


def months_between(start: np.ndarray, end) -> np.ndarray:
    """Whole months from ``start`` to ``end``: the largest ``k`` with
    ``add_months(start, k) <= end`` (so 31 May -> 30 June is one month, as the schedule has it).
    """
    s = np.asarray(start, dtype="datetime64[D]")
    e = np.broadcast_to(np.asarray(end, dtype="datetime64[D]"), s.shape)
    k = (e.astype("datetime64[M]") - s.astype("datetime64[M]")).astype(np.int64)
    # the calendar-month difference overshoots by one when the anniversary is after ``end``
    return k - (add_months(s, k) > e)


def make_schedule(loans: pd.DataFrame) -> pd.DataFrame:
    """Contractual schedule for each loan.

    Parameters
    ----------
    loans : DataFrame
        Columns ``loan_id, amount, annual_rate, term_months, repayment_method,
        disbursement_date``.

    Returns
    -------
    DataFrame
        ``loan_id, period, due_date, principal_due, interest_due`` sorted by loan and period.
        Monthly rate is ``annual_rate / 12``; amounts are rounded to cents and the last period
        absorbs rounding so principal adds up to the amount exactly.

        * ``annuity`` (等额本息): equal installments ``A r / (1 - (1 + r)^-n)``, rounded.
        * ``equal_principal`` (等额本金): principal ``A / n`` a month plus interest on the balance.
        * ``interest_only`` (按月付息、到期还本): interest monthly, all principal at maturity.
        * ``bullet`` (到期一次还本付息): one payment at maturity, simple interest ``A r n``.
    """
    errors = ProblemCollector("schedule input")
    need = ["loan_id", "amount", "annual_rate", "term_months", "repayment_method"]
    need.append("disbursement_date")
    errors.require("loans", loans, need)
    errors.raise_if_any()
    method = loans["repayment_method"].astype(object).to_numpy()
    errors.check(
        "loans",
        "repayment_method",
        ~np.isin(method, RepaymentMethod.values()),
        loans["loan_id"],
        f"unknown value; allowed: {RepaymentMethod.values()}",
    )
    term = loans["term_months"].to_numpy()
    if not pd.api.types.is_integer_dtype(term.dtype):
        errors.add("loans", "term_months", f"must be an integer dtype, got {term.dtype}")
        errors.raise_if_any()
    errors.check("loans", "term_months", term < 1, loans["loan_id"], "must be at least 1")
    for col, rule in (("amount", "must be a positive number"), ("annual_rate", "must be >= 0")):
        v = pd.to_numeric(loans[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | ((v <= 0) if col == "amount" else (v < 0))
        errors.check("loans", col, bad | loans[col].isna().to_numpy(), loans["loan_id"], rule)
    errors.raise_if_any()

    n_loans = len(loans)
    amount = loans["amount"].to_numpy(dtype=float)
    r = loans["annual_rate"].to_numpy(dtype=float) / 12.0
    term = term.astype(np.int64)
    bullet = method == RepaymentMethod.BULLET.value
    annuity = method == RepaymentMethod.ANNUITY.value
    eqp = method == RepaymentMethod.EQUAL_PRINCIPAL.value
    n_per = np.where(bullet, 1, term)
    T = int(n_per.max()) if n_loans else 0

    with np.errstate(divide="ignore", invalid="ignore"):
        inst = np.where(r > 0, amount * r / (1 - (1 + r) ** (-term)), amount / term)
    inst = np.round(inst, 2)
    eq_prin = np.round(amount / term, 2)

    prin = np.zeros((n_loans, T))
    intr = np.zeros((n_loans, T))
    bal = amount.copy()
    for k in range(T):
        active = k < n_per
        last = k == n_per - 1
        i_k = np.round(bal * r, 2)
        p_k = np.where(annuity, inst - i_k, np.where(eqp, eq_prin, 0.0))
        p_k = np.where(last, bal, np.minimum(np.maximum(p_k, 0.0), bal))
        i_k = np.where(bullet, np.round(amount * r * term, 2), i_k)
        p_k = np.where(active, p_k, 0.0)
        i_k = np.where(active, i_k, 0.0)
        prin[:, k] = np.round(p_k, 2)
        intr[:, k] = i_k
        bal = np.round(bal - p_k, 2)

    mask = np.arange(T)[None, :] < n_per[:, None]
    rows, cols = np.nonzero(mask)
    months = np.where(bullet[rows], term[rows], cols + 1)
    disb = loans["disbursement_date"].to_numpy().astype("datetime64[D]")
    due = add_months(disb[rows], months)
    return pd.DataFrame(
        {
            "loan_id": loans["loan_id"].to_numpy()[rows],
            "period": (cols + 1).astype(np.int64),
            "due_date": due.astype("datetime64[ns]"),
            "principal_due": prin[rows, cols],
            "interest_due": intr[rows, cols],
        }
    )
