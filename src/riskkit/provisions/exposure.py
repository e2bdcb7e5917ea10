"""Exposure at default over a loan's remaining life, from its repayment schedule.

For month ``m = 1 .. H`` after the as-of date, the exposure if the loan defaults in month
``m`` is its principal outstanding at the start of that month: today's outstanding principal
less the principal the schedule still has falling due before month ``m`` (so arrears stay
until they are paid; a loan never goes below zero). Month ``m`` is the interval
``(as_of + (m - 1) months, as_of + m months]``. The loan's **remaining life** is the number of
months until its last scheduled installment (at least 1: an overdue loan past maturity can
still default next month), capped at ``H``. Vectorised over loans: one ``np.bincount`` over
the schedule rows, no loop over loans or months.

Examples
--------
>>> import pandas as pd
>>> from riskkit.book import LoanBook, make_schedule
>>> loans = pd.DataFrame({"loan_id": ["L1"], "borrower_id": ["B1"], "product": ["p"],
...     "amount": [3000.0], "disbursement_date": [pd.Timestamp("2026-01-15")],
...     "term_months": [3], "annual_rate": [0.0], "repayment_method": ["equal_principal"],
...     "guarantee_type": ["credit"], "purpose": ["x"], "officer_id": ["O1"], "branch": ["b"]})
>>> book = LoanBook(loans, make_schedule(loans), pd.DataFrame(
...     {"loan_id": [], "payment_date": pd.to_datetime([]), "amount": []}), validate=False)
>>> ead, life = exposure_profile(book.schedule_index, "2026-01-31", [3000.0], horizon=4)
>>> ead.tolist(), life.tolist()
([[3000.0, 2000.0, 1000.0, 0.0]], [3])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..book.delinquency import ScheduleIndex, day_numbers
from ..book.schedule import add_months


def month_buckets(as_of, due_days: np.ndarray, horizon: int) -> np.ndarray:
    """Bucket of each due day: 0 = on or before ``as_of``, ``m`` = in month ``m`` after it
    (``1 .. horizon``), ``horizon + 1`` = later."""
    a = np.datetime64(pd.Timestamp(as_of).date(), "D")
    edges = add_months(np.full(horizon + 1, a), np.arange(horizon + 1))
    return np.searchsorted(day_numbers(edges), due_days, side="left")


def exposure_profile(
    ix: ScheduleIndex, as_of, outstanding, horizon: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exposure at the start of each of the next ``horizon`` months and remaining life.

    Parameters
    ----------
    ix : ScheduleIndex
        ``book.schedule_index``.
    as_of : date-like
    outstanding : array (n_loans,)
        Outstanding principal today per loan of ``ix`` (or of ``rows``).
    horizon : int
    rows : int array, optional
        Positions (in ``ix.loan_ids``) of the loans wanted; default all.

    Returns
    -------
    ead : ndarray (n, horizon)
        A view of :func:`exposure_by_month`'s month-major array.
    life : ndarray (n,) int
        Remaining life in months (1 .. horizon).
    """
    ead, life = exposure_by_month(ix, as_of, outstanding, horizon, rows)
    return ead.T, life


def exposure_by_month(
    ix: ScheduleIndex, as_of, outstanding, horizon: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`exposure_profile` month-major: ``ead[m - 1, i]`` for month ``m`` and loan ``i``
    (the layout that sums over loans fastest)."""
    n_all = len(ix.loan_ids)
    rows = np.arange(n_all) if rows is None else np.asarray(rows, dtype=np.int64)
    n = len(rows)
    a = int(day_numbers(np.datetime64(pd.Timestamp(as_of).date())))
    # only the installments still to fall due, of the loans wanted
    sel = np.full(n_all, -1, dtype=np.int64)
    sel[rows] = np.arange(n)
    future = np.flatnonzero(ix.due > a)
    r = sel[ix.code[future]]
    keep = r >= 0
    future, r = future[keep], r[keep]
    k = month_buckets(as_of, ix.due[future], horizon)  # 1 .. horizon + 1
    due = np.bincount((k - 1) * n + r, weights=ix.principal[future], minlength=(horizon + 1) * n)
    due = due.reshape(horizon + 1, n)
    # exposure at the start of month m: today's outstanding less the scheduled principal of
    # months 1 .. m-1 (arrears stay until paid)
    ead = np.empty((horizon, n))
    ead[0] = np.asarray(outstanding, dtype=float)
    for m in range(1, horizon):  # a loop over months (each a vector over all loans)
        np.subtract(ead[m - 1], due[m - 1], out=ead[m])
    np.maximum(ead, 0.0, out=ead)
    # remaining life: the month of the last installment (rows are in schedule order)
    life = np.ones(n, dtype=np.int64)
    if len(r):
        last = np.r_[r[1:] != r[:-1], True]
        life[r[last]] = np.minimum(k[last], horizon)
    return ead, life
